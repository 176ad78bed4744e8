"""Admission for the batch, ingress, storage and priority kinds: the API server's defaults and checks.

Kept apart from admission.py so each kind's rules read in one place; admission.py looks a kind up here
when it has no handler of its own.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import ApiError, invalid

if TYPE_CHECKING:
    from .cluster import Cluster

Handler = Callable[["Cluster", str, dict, "dict | None"], None]

JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")
CONTROLLER_UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
HIGHEST_USER_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASSES = ("system-cluster-critical", "system-node-critical")
# 5 fields, or one of the macros the cron library accepts.
CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
IANA_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def _name(obj: dict) -> str:
    return obj["metadata"].get("name") or obj["metadata"].get("generateName", "")


# --------------------------------------------------------------------------------------------- batch
def _job_spec(cluster: Cluster, kind: str, name: str, spec: dict, path: str, uid: str | None) -> None:
    """Defaults and checks shared by a Job and a CronJob's jobTemplate."""
    from .admission import default_pod_spec, validate_pod_spec

    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    if spec["completionMode"] not in ("NonIndexed", "Indexed"):
        raise invalid(
            kind,
            name,
            f"{path}.completionMode",
            f'Unsupported value: "{spec["completionMode"]}": supported values: "NonIndexed", "Indexed"',
        )
    if spec["completionMode"] == "Indexed" and spec.get("completions") is None:
        raise invalid(kind, name, f"{path}.completions", "Required value: when completion mode is Indexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    for fld in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        value = spec.get(fld)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise invalid(kind, name, f"{path}.{fld}", f"Invalid value: {value}: must be greater than or equal to 0")
    if spec.get("activeDeadlineSeconds") == 0:
        raise invalid(kind, name, f"{path}.activeDeadlineSeconds", "Invalid value: 0: must be greater than 0")
    template = spec.get("template")
    if not isinstance(template, dict):
        raise invalid(kind, name, f"{path}.template", "Required value")
    tspec = template.setdefault("spec", {})
    tmeta = template.setdefault("metadata", {})
    default_pod_spec(tspec)
    validate_pod_spec(kind, name, tspec, f"{path}.template.spec")
    if tspec["restartPolicy"] not in ("OnFailure", "Never"):
        raise invalid(
            kind,
            name,
            f"{path}.template.spec.restartPolicy",
            f'Unsupported value: "{tspec["restartPolicy"]}": supported values: "OnFailure", "Never"',
        )
    if uid is None or spec.get("manualSelector"):
        return
    # The API server generates the selector from the Job's own uid and labels the template to match.
    labels = tmeta.setdefault("labels", {})
    for key in CONTROLLER_UID_LABELS:
        labels[key] = uid
    for key in JOB_NAME_LABELS:
        labels[key] = name
    spec["selector"] = {"matchLabels": {CONTROLLER_UID_LABELS[0]: uid}}


def _job(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    name = _name(obj)
    if op == "CREATE":
        uid = cluster.store.reserve_uid()
        obj["metadata"]["uid"] = uid
        _job_spec(cluster, "Job", name, spec, "spec", uid)
        obj["status"] = {}  # the API server drops a status sent with a create
        return
    assert old is not None
    old_spec = old.get("spec") or {}
    # These are fixed once the Job exists (parallelism, suspend, deadlines and backoffLimit may change;
    # the template only while suspended upstream, which is not modelled).
    for fld in ("completions", "selector", "template", "completionMode"):
        if fld in spec and spec.get(fld) != old_spec.get(fld):
            if fld == "template" and _same_template(spec.get(fld), old_spec.get(fld)):
                continue
            raise invalid("Job", name, f"spec.{fld}", "Invalid value: field is immutable")
    for fld in ("selector", "template", "completions", "completionMode", "podReplacementPolicy"):
        if fld not in spec and fld in old_spec:
            spec[fld] = copy.deepcopy(old_spec[fld])


def _same_template(new: object, old: object) -> bool:
    """A template sent back without the defaults the server added is the same template."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return new == old
    from .admission import default_pod_spec

    candidate = copy.deepcopy(new)
    default_pod_spec(candidate.setdefault("spec", {}))
    labels = (old.get("metadata") or {}).get("labels") or {}
    cand_labels = candidate.setdefault("metadata", {}).setdefault("labels", {})
    for key in CONTROLLER_UID_LABELS + JOB_NAME_LABELS:
        if key in labels:
            cand_labels.setdefault(key, labels[key])
    return bool(candidate == old)


def valid_schedule(schedule: str) -> bool:
    from .controllers.cron import CronError, parse_cron

    try:
        parse_cron(schedule)
    except CronError:
        return False
    return True


def _cronjob(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    name = _name(obj)
    schedule = spec.get("schedule")
    if not schedule:
        raise invalid("CronJob", name, "spec.schedule", "Required value")
    if not valid_schedule(str(schedule)):
        raise invalid("CronJob", name, "spec.schedule", f'Invalid value: "{schedule}": unparseable schedule')
    if spec.get("timeZone"):
        from .controllers.cron import zone

        if zone(spec["timeZone"]) is None:
            raise invalid("CronJob", name, "spec.timeZone", f'Invalid value: "{spec["timeZone"]}": unknown time zone')
    policy = spec.setdefault("concurrencyPolicy", "Allow")
    if policy not in ("Allow", "Forbid", "Replace"):
        raise invalid(
            "CronJob",
            name,
            "spec.concurrencyPolicy",
            f'Unsupported value: "{policy}": supported values: "Allow", "Forbid", "Replace"',
        )
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    template = spec.get("jobTemplate")
    if not isinstance(template, dict):
        raise invalid("CronJob", name, "spec.jobTemplate", "Required value")
    template.setdefault("metadata", {})
    _job_spec(cluster, "CronJob", name, template.setdefault("spec", {}), "spec.jobTemplate.spec", None)
    if op == "CREATE":
        obj["status"] = {}


# --------------------------------------------------------------------------------------------- ingress
def _backend(name: str, backend: object, path: str) -> None:
    if not isinstance(backend, dict):
        raise invalid("Ingress", name, path, "Required value")
    service, resource = backend.get("service"), backend.get("resource")
    if service and resource:
        raise invalid("Ingress", name, path, "Invalid value: cannot set both service and resource backends")
    if resource:
        return
    if not isinstance(service, dict):
        raise invalid("Ingress", name, path, "Invalid value: resource or service backend is required")
    if not service.get("name"):
        raise invalid("Ingress", name, f"{path}.service.name", "Required value")
    port = service.get("port") or {}
    has_name, has_number = bool(port.get("name")), port.get("number") is not None
    if has_name == has_number:
        raise invalid(
            "Ingress", name, f"{path}.service.port", "Invalid value: exactly one of name or number is required"
        )
    if has_number and not (isinstance(port["number"], int) and 1 <= port["number"] <= 65535):
        raise invalid(
            "Ingress",
            name,
            f"{path}.service.port.number",
            f"Invalid value: {port['number']}: must be between 1 and 65535",
        )
    if has_name and not IANA_PORT_NAME.match(str(port["name"])):
        raise invalid("Ingress", name, f"{path}.service.port.name", f'Invalid value: "{port["name"]}"')


def _ingress(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    name = _name(obj)
    rules = spec.get("rules") or []
    if not rules and not spec.get("defaultBackend"):
        raise invalid("Ingress", name, "spec", "Invalid value: either `defaultBackend` or `rules` must be specified")
    if spec.get("defaultBackend"):
        _backend(name, spec["defaultBackend"], "spec.defaultBackend")
    for i, rule in enumerate(rules):
        http = rule.get("http")
        if http is None:
            continue
        paths = http.get("paths") or []
        if not paths:
            raise invalid("Ingress", name, f"spec.rules[{i}].http.paths", "Required value")
        for j, p in enumerate(paths):
            where = f"spec.rules[{i}].http.paths[{j}]"
            path_type = p.get("pathType")
            if not path_type:
                raise invalid("Ingress", name, f"{where}.pathType", "Required value: pathType must be specified")
            if path_type not in PATH_TYPES:
                raise invalid(
                    "Ingress",
                    name,
                    f"{where}.pathType",
                    f'Unsupported value: "{path_type}": supported values: "Exact", "ImplementationSpecific", "Prefix"',
                )
            value = p.get("path", "")
            if path_type in ("Exact", "Prefix") and not str(value).startswith("/"):
                raise invalid("Ingress", name, f"{where}.path", f'Invalid value: "{value}": must be an absolute path')
            _backend(name, p.get("backend"), f"{where}.backend")
    if op == "CREATE" and not spec.get("ingressClassName"):
        # The DefaultIngressClass admission plugin names the class marked default, if there is one.
        for ic in cluster.store.list(cluster.rt("IngressClass")):
            if (ic["metadata"].get("annotations") or {}).get(DEFAULT_INGRESS_CLASS) == "true":
                spec["ingressClassName"] = ic["metadata"]["name"]
                break
    if op == "CREATE":
        obj["status"] = {"loadBalancer": {}}
    elif old is not None and "status" not in obj:
        obj["status"] = copy.deepcopy(old.get("status") or {"loadBalancer": {}})


def _ingress_class(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    if not spec.get("controller"):
        raise invalid("IngressClass", _name(obj), "spec.controller", "Required value")
    if old is not None and spec["controller"] != (old.get("spec") or {}).get("controller"):
        raise invalid("IngressClass", _name(obj), "spec.controller", "Invalid value: field is immutable")


# --------------------------------------------------------------------------------------------- storage
def default_storage_class(cluster: Cluster) -> dict | None:
    """The class marked default (the newest wins when several are, as upstream picks)."""
    marked = [
        sc
        for sc in cluster.store.list(cluster.rt("StorageClass"))
        if any((sc["metadata"].get("annotations") or {}).get(a) == "true" for a in DEFAULT_CLASS_ANNOTATIONS)
    ]
    if not marked:
        return None
    return max(marked, key=lambda sc: (sc["metadata"].get("creationTimestamp", ""), sc["metadata"]["name"]))


def _storage_class(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    name = _name(obj)
    if not obj.get("provisioner"):
        raise invalid("StorageClass", name, "provisioner", "Required value")
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")
    if obj["volumeBindingMode"] not in ("Immediate", "WaitForFirstConsumer"):
        raise invalid(
            "StorageClass",
            name,
            "volumeBindingMode",
            f'Unsupported value: "{obj["volumeBindingMode"]}": supported values: "Immediate", "WaitForFirstConsumer"',
        )
    if old is not None:
        for fld in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"):
            if obj.get(fld) != old.get(fld):
                raise invalid("StorageClass", name, fld, f"Forbidden: updates to {fld} are forbidden.")


def _storage_request(spec: dict) -> object:
    return ((spec.get("resources") or {}).get("requests") or {}).get("storage")


def _pvc(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    name = _name(obj)
    if op == "CREATE":
        if not spec.get("accessModes"):
            raise invalid(
                "PersistentVolumeClaim", name, "spec.accessModes", "Required value: at least 1 access mode is required"
            )
        for mode in spec["accessModes"]:
            if mode not in ACCESS_MODES:
                raise invalid(
                    "PersistentVolumeClaim",
                    name,
                    "spec.accessModes",
                    f'Unsupported value: "{mode}": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
                )
        if _storage_request(spec) is None:
            raise invalid("PersistentVolumeClaim", name, "spec.resources[storage]", "Required value")
        spec.setdefault("volumeMode", "Filesystem")
        if "storageClassName" not in spec:
            # The DefaultStorageClass admission plugin; "" asks for no class and stays as written.
            default = default_storage_class(cluster)
            if default is not None:
                spec["storageClassName"] = default["metadata"]["name"]
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if PVC_PROTECTION not in finalizers:
            finalizers.append(PVC_PROTECTION)
        obj["status"] = {"phase": "Pending"}
        return
    assert old is not None
    old_spec = old.get("spec") or {}
    # Bound claims carry the controller's volumeName; a client's stale copy may still omit it.
    if old_spec.get("volumeName") and not spec.get("volumeName"):
        spec["volumeName"] = old_spec["volumeName"]
    for fld in ("accessModes", "storageClassName", "volumeMode", "selector"):
        if fld in old_spec and spec.get(fld, old_spec[fld]) != old_spec[fld]:
            raise invalid(
                "PersistentVolumeClaim",
                name,
                "spec",
                "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName "
                "for bound claims",
            )
        if fld in old_spec:
            spec[fld] = old_spec[fld]


def _pv(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    name = _name(obj)
    if not (spec.get("capacity") or {}).get("storage"):
        raise invalid("PersistentVolume", name, "spec.capacity", "Required value")
    if not spec.get("accessModes"):
        raise invalid(
            "PersistentVolume", name, "spec.accessModes", "Required value: at least 1 access mode is required"
        )
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")
    if op == "CREATE":
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if PV_PROTECTION not in finalizers:
            finalizers.append(PV_PROTECTION)
        obj["status"] = {"phase": "Pending"}


# --------------------------------------------------------------------------------------------- priority
def global_default_class(cluster: Cluster) -> dict | None:
    for pc in cluster.store.list(cluster.rt("PriorityClass")):
        if pc.get("globalDefault"):
            return pc
    return None


def _priority_class(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    name = _name(obj)
    value = obj.get("value")
    if not isinstance(value, int):
        raise invalid("PriorityClass", name, "value", "Required value")
    if name.startswith("system-") and name not in SYSTEM_PRIORITY_CLASSES:
        raise invalid(
            "PriorityClass",
            name,
            "metadata.name",
            f"Invalid value: \"{name}\": priority class names with 'system-' prefix are reserved",
        )
    if name not in SYSTEM_PRIORITY_CLASSES and value > HIGHEST_USER_PRIORITY:
        raise invalid(
            "PriorityClass",
            name,
            "value",
            f"Invalid value: {value}: maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}",
        )
    obj.setdefault("preemptionPolicy", "PreemptLowerPriority")
    if obj["preemptionPolicy"] not in ("PreemptLowerPriority", "Never"):
        raise invalid(
            "PriorityClass",
            name,
            "preemptionPolicy",
            f'Unsupported value: "{obj["preemptionPolicy"]}": supported values: "Never", "PreemptLowerPriority"',
        )
    obj.setdefault("globalDefault", False)
    if old is not None:
        for fld in ("value", "preemptionPolicy"):
            if obj.get(fld) != old.get(fld):
                raise invalid("PriorityClass", name, fld, "Forbidden: may not be changed in an update.")
    if obj["globalDefault"]:
        current = global_default_class(cluster)
        if current is not None and current["metadata"]["name"] != name:
            raise ApiError(
                403,
                f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: PriorityClass '
                f"{current['metadata']['name']} is already marked as default. Only one default can exist",
            )


KIND_HANDLERS: dict[str, Handler] = {
    "Job": _job,
    "CronJob": _cronjob,
    "Ingress": _ingress,
    "IngressClass": _ingress_class,
    "StorageClass": _storage_class,
    "PersistentVolumeClaim": _pvc,
    "PersistentVolume": _pv,
    "PriorityClass": _priority_class,
}
