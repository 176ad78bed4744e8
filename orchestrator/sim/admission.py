"""The admission chain: defaulting and validation on every write, as the API server does it.

Defaults matter beyond looks: a Deployment's pod template is stored defaulted, so the template that
`kubectl rollout undo` copies back compares equal to the original and the old ReplicaSet is reused.
"""

from __future__ import annotations

import base64
import copy
import re
from typing import TYPE_CHECKING

from .admission_kinds import KIND_HANDLERS, global_default_class
from .errors import ApiError, invalid
from .objects import quantity_text
from .resources import ResourceType
from .selectors import selector_from_spec

if TYPE_CHECKING:
    from .cluster import Cluster

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
WORKLOADS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")


def drop_nulls(value: object) -> object:
    """Go clients' omitempty: a null field is an absent field (kubectl sends `creationTimestamp: null`)."""
    # Scalars are taken as they are without a call each: a pod has dozens of them.
    if isinstance(value, dict):
        return {k: drop_nulls(v) if isinstance(v, dict | list) else v for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) if isinstance(v, dict | list) else v for v in value]
    return value


def admit(cluster: Cluster, op: str, rt: ResourceType, obj: dict, old: dict | None, namespace: str | None) -> dict:
    if op == "DELETE":
        return obj
    obj = drop_nulls(obj)  # type: ignore[assignment]
    meta = obj.setdefault("metadata", {})
    name = meta.get("name")
    if name and not DNS1123_SUBDOMAIN.match(name) and rt.kind not in ("Event",):
        raise invalid(
            rt.kind,
            name,
            "metadata.name",
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
            "characters, '-' or '.', and must start and end with an alphanumeric character",
        )
    handler = _HANDLERS.get(rt.kind) or KIND_HANDLERS.get(rt.kind)
    if handler is not None:
        handler(cluster, op, obj, old)
    return obj


# --------------------------------------------------------------------------------------------- pods
def default_pod_spec(spec: dict) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    if spec.get("serviceAccountName") or spec.get("serviceAccount"):
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount")
        spec["serviceAccountName"] = spec["serviceAccount"] = sa
    else:
        spec["serviceAccountName"] = spec["serviceAccount"] = "default"
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        image = c.get("image", "")
        c.setdefault(
            "imagePullPolicy",
            "Always" if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1] else "IfNotPresent",
        )
        resources = c.setdefault("resources", {})
        for bound in ("requests", "limits"):
            amounts = resources.get(bound)
            if isinstance(amounts, dict):
                resources[bound] = {k: quantity_text(v) for k, v in amounts.items()}
        for p in c.get("ports") or []:
            p.setdefault("protocol", "TCP")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            pr = c.get(probe)
            if pr:
                pr.setdefault("timeoutSeconds", 1)
                pr.setdefault("periodSeconds", 10)
                pr.setdefault("successThreshold", 1)
                pr.setdefault("failureThreshold", 3)
                if "httpGet" in pr:
                    pr["httpGet"].setdefault("scheme", "HTTP")
                    pr["httpGet"].setdefault("path", "/")


def validate_pod_spec(kind: str, name: str, spec: dict, path: str) -> None:
    containers = spec.get("containers")
    if not containers:
        raise invalid(kind, name, f"{path}.containers", "Required value")
    seen = set()
    for i, c in enumerate((spec.get("initContainers") or []) + containers):
        cname = c.get("name")
        if not cname:
            raise invalid(kind, name, f"{path}.containers[{i}].name", "Required value")
        if cname in seen:
            raise invalid(kind, name, f"{path}.containers[{i}].name", f'Duplicate value: "{cname}"')
        seen.add(cname)
        if not c.get("image"):
            raise invalid(kind, name, f"{path}.containers[{i}].image", "Required value")


def _pod(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    name = obj["metadata"].get("name") or obj["metadata"].get("generateName", "")
    if op == "CREATE":
        default_pod_spec(spec)
        validate_pod_spec("Pod", name, spec, "spec")
        pc_name = spec.get("priorityClassName")
        if pc_name:
            pc = cluster.store.find(cluster.rt("PriorityClass"), "", pc_name)
            if pc is None:
                raise ApiError(403, f'pods "{name}" is forbidden: no PriorityClass with name {pc_name} was found')
            spec["priority"] = pc.get("value", 0)
            spec.setdefault("preemptionPolicy", pc.get("preemptionPolicy", "PreemptLowerPriority"))
        elif spec.get("priority") is None and (default := global_default_class(cluster)) is not None:
            # The Priority admission plugin gives class-less pods the globalDefault class.
            spec["priorityClassName"] = default["metadata"]["name"]
            spec["priority"] = default.get("value", 0)
            spec.setdefault("preemptionPolicy", default.get("preemptionPolicy", "PreemptLowerPriority"))
        else:
            spec.setdefault("priority", 0)
        obj.setdefault("status", {"phase": "Pending", "qosClass": _qos(spec)})
        from .controllers.quota import check_pod_admission

        rejection = check_pod_admission(cluster, obj)
        if rejection:
            raise ApiError(403, rejection)
    elif old is not None:
        before, after = copy.deepcopy(old.get("spec") or {}), copy.deepcopy(spec)
        for s in (before, after):
            for c in (s.get("containers") or []) + (s.get("initContainers") or []):
                c.pop("image", None)
            s.pop("activeDeadlineSeconds", None)
            s.pop("tolerations", None)
        if after.get("nodeName") and not before.get("nodeName"):
            before["nodeName"] = after["nodeName"]
        if before != after:
            raise invalid(
                "Pod",
                obj["metadata"]["name"],
                "spec",
                "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
                "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions "
                "to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                "previously negative)",
            )


def _qos(spec: dict) -> str:
    containers = spec.get("containers") or []
    requests = [c.get("resources", {}).get("requests") or {} for c in containers]
    limits = [c.get("resources", {}).get("limits") or {} for c in containers]
    if not any(requests) and not any(limits):
        return "BestEffort"
    guaranteed = all(
        lim.get("cpu")
        and lim.get("memory")
        and req.get("cpu", lim.get("cpu")) == lim.get("cpu")
        and req.get("memory", lim.get("memory")) == lim.get("memory")
        for req, lim in zip(requests, limits, strict=True)
    )
    return "Guaranteed" if guaranteed else "Burstable"


# --------------------------------------------------------------------------------------------- workloads
def _workload(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    kind = obj.get("kind") or (old or {}).get("kind") or "Deployment"
    name = obj["metadata"].get("name", "")
    spec = obj.setdefault("spec", {})
    if kind != "DaemonSet":
        spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    if kind == "Deployment":
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy["type"] = "RollingUpdate"
            ru = strategy.setdefault("rollingUpdate", {})
            ru.setdefault("maxSurge", "25%")
            ru.setdefault("maxUnavailable", "25%")
        spec.setdefault("progressDeadlineSeconds", 600)
    elif kind == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        spec.setdefault("serviceName", "")
    elif kind == "DaemonSet":
        spec.setdefault(
            "updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
        )
    template = spec.get("template")
    if not isinstance(template, dict):
        raise invalid(kind, name, "spec.template", "Required value")
    tspec = template.setdefault("spec", {})
    template.setdefault("metadata", {})
    default_pod_spec(tspec)
    validate_pod_spec(kind, name, tspec, "spec.template.spec")
    selector = spec.get("selector")
    if not selector:
        raise invalid(kind, name, "spec.selector", "Required value")
    labels = template["metadata"].get("labels") or {}
    if not selector_from_spec(selector).matches(labels):
        raise invalid(
            kind,
            name,
            "spec.template.metadata.labels",
            f"Invalid value: {labels}: `selector` does not match template `labels`",
        )
    if op == "UPDATE" and old is not None and old.get("spec", {}).get("selector") != selector:
        raise invalid(kind, name, "spec.selector", f"Invalid value: {selector}: field is immutable")
    if isinstance(spec.get("replicas"), int) and spec["replicas"] < 0:
        raise invalid(
            kind, name, "spec.replicas", f"Invalid value: {spec['replicas']}: must be greater than or equal to 0"
        )


# --------------------------------------------------------------------------------------------- services
def _service(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    name = obj["metadata"].get("name", "")
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    if old is not None and old.get("spec", {}).get("clusterIP"):
        if spec.get("clusterIP") not in (None, "", old["spec"]["clusterIP"]):
            raise invalid(
                "Service", name, "spec.clusterIP", f'Invalid value: "{spec["clusterIP"]}": field is immutable'
            )
        spec["clusterIP"] = old["spec"]["clusterIP"]
        spec["clusterIPs"] = old["spec"].get("clusterIPs", [spec["clusterIP"]])
    elif spec.get("clusterIP") != "None":
        spec["clusterIP"] = spec.get("clusterIP") or cluster.allocate_ip("svc")
        spec["clusterIPs"] = [spec["clusterIP"]]
    ports = spec.get("ports") or []
    if not ports and spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
        raise invalid("Service", name, "spec.ports", "Required value")
    node_ports = 30000 + sum(ord(ch) for ch in name) % 2000
    for i, p in enumerate(ports):
        if not isinstance(p.get("port"), int):
            raise invalid("Service", name, f"spec.ports[{i}].port", "Required value")
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p["port"])
        if spec["type"] in ("NodePort", "LoadBalancer"):
            p.setdefault("nodePort", node_ports + i)
        if len(ports) > 1 and not p.get("name"):
            raise invalid("Service", name, f"spec.ports[{i}].name", "Required value")
    obj.setdefault("status", {"loadBalancer": {}})


# --------------------------------------------------------------------------------------------- misc
def _secret(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None) or {}
    data = obj.setdefault("data", {}) or {}
    obj["data"] = data
    for k, v in string_data.items():
        data[k] = base64.b64encode(str(v).encode()).decode()
    for k, v in data.items():
        try:
            base64.b64decode(v, validate=True)
        except (ValueError, TypeError) as err:
            raise invalid(
                "Secret", obj["metadata"].get("name", ""), f"data[{k}]", "Invalid value: illegal base64 data"
            ) from err


def _namespace(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    name = obj["metadata"].get("name", "")
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    if op == "CREATE":
        obj["status"] = {"phase": "Active"}


def _crd(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group")
    if not group or not names.get("plural") or not names.get("kind") or not spec.get("versions"):
        raise invalid(
            "CustomResourceDefinition",
            obj["metadata"].get("name", ""),
            "spec",
            "group, names.plural, names.kind and versions are required",
        )
    expected = f"{names['plural']}.{group}"
    if obj["metadata"].get("name") != expected:
        raise invalid(
            "CustomResourceDefinition",
            obj["metadata"].get("name", ""),
            "metadata.name",
            f'Invalid value: must be spec.names.plural+"."+spec.group ({expected})',
        )
    complete_crd(obj)


def complete_crd(obj: dict) -> None:
    """Defaulted names and the status the apiextensions server reports for an accepted CRD."""
    spec = obj["spec"]
    names = spec["names"]
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", names["kind"] + "List")
    obj["status"] = {
        "acceptedNames": copy.deepcopy(names),
        "storedVersions": [v["name"] for v in spec["versions"] if v.get("storage")],
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ],
    }


def _hpa(cluster: Cluster, op: str, obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    name = obj["metadata"].get("name", "")
    if not spec.get("scaleTargetRef"):
        raise invalid("HorizontalPodAutoscaler", name, "spec.scaleTargetRef", "Required value")
    spec.setdefault("minReplicas", 1)
    if not isinstance(spec.get("maxReplicas"), int) or spec["maxReplicas"] < spec["minReplicas"]:
        raise invalid(
            "HorizontalPodAutoscaler",
            name,
            "spec.maxReplicas",
            "Invalid value: must be greater than or equal to minReplicas",
        )
    # autoscaling/v1 bodies carry targetCPUUtilizationPercentage: store the v2 shape.
    if "targetCPUUtilizationPercentage" in spec:
        pct = spec.pop("targetCPUUtilizationPercentage")
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": pct}},
            }
        ]


_HANDLERS = {
    "Pod": _pod,
    "Deployment": _workload,
    "ReplicaSet": _workload,
    "StatefulSet": _workload,
    "DaemonSet": _workload,
    "Service": _service,
    "Secret": _secret,
    "Namespace": _namespace,
    "CustomResourceDefinition": _crd,
    "HorizontalPodAutoscaler": _hpa,
}


def register_store_hooks(cluster: Cluster) -> None:
    """Keep the registry in step with CustomResourceDefinitions (served as soon as they are stored)."""

    def on_change(etype: str, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if rt.kind != "CustomResourceDefinition":
            return
        if etype == "DELETED":
            spec = obj.get("spec") or {}
            custom = cluster.store.registry.by_key(spec.get("group", ""), spec.get("names", {}).get("plural", ""))
            if custom is not None:
                for o in cluster.store.list(custom):
                    cluster.store.delete(custom, o["metadata"].get("namespace", ""), o["metadata"]["name"])
            cluster.store.registry.remove_crd(obj)
        else:
            if old is not None:
                cluster.store.registry.remove_crd(old)  # versions dropped or no longer served go
            cluster.store.registry.add_crd(obj)

    cluster.store.on_change(on_change)
