"""An Incident object in the cluster → the engine's Incident, and the few API calls the operator makes on it
(read it, write its status, post a Kubernetes Event about it).

An Incident runs against the cluster the operator watches (or, for trying the operator out, an embedded
simulator it names in `spec.cluster.simulate`): a kubeconfig path or context in the object would name files
of the operator's pod, so such an Incident is refused. An empty scope means the Incident's own namespace;
the operator's `--write-namespace` list, when given, bounds where any run may write.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..incident import API_VERSION, KIND, Incident, IncidentError
from .crd import CRD_NAME, GROUP, PLURAL, VERSION
from .status import IncidentStatus, now_iso

EVENT_SOURCE = "sre-agent-operator"


class Refused(Exception):
    """An Incident the operator will not run; `str()` is the one-line reason shown in its status."""


@dataclass(frozen=True)
class Target:
    """The cluster the operator's runs investigate and where its alerts and metrics are."""

    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False
    alertmanager: str | None = None
    prometheus: str | None = None
    write_namespaces: tuple[str, ...] | None = None  # None: wherever each Incident allows

    def cluster(self) -> dict[str, Any]:
        if self.in_cluster:
            return {"inCluster": True}
        out: dict[str, Any] = {}
        if self.kubeconfig is not None:
            out["kubeconfig"] = str(self.kubeconfig.expanduser().resolve())
        if self.context:
            out["context"] = self.context
        return out


@dataclass(frozen=True)
class Ref:
    """An Incident by namespace and name (and uid, so a re-created namesake is another Incident)."""

    namespace: str
    name: str
    uid: str = ""

    @classmethod
    def of(cls, obj: dict[str, Any]) -> Ref:
        meta = obj.get("metadata") or {}
        return cls(str(meta.get("namespace") or "default"), str(meta.get("name") or ""), str(meta.get("uid") or ""))

    @classmethod
    def parse(cls, text: str) -> Ref:
        """NAMESPACE/NAME, as `sre-agent operator execute` takes it."""
        namespace, sep, name = text.partition("/")
        if not sep or not namespace or not name or "/" in name:
            raise ValueError(f"expected NAMESPACE/NAME, not {text!r}")
        return cls(namespace, name)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def scope_of(obj: dict[str, Any]) -> set[str]:
    """The namespaces an Incident object is about (its scope, else its own namespace)."""
    scope = ((obj.get("spec") or {}).get("scope") or {}).get("namespaces") or []
    return {str(n) for n in scope} or {Ref.of(obj).namespace}


def engine_incident(obj: dict[str, Any], target: Target) -> Incident:
    """The engine's Incident for a stored Incident object; Refused (one line) when it cannot be run."""
    from ..cluster import parse_checked_incident

    ref = Ref.of(obj)
    spec = copy.deepcopy(obj.get("spec") or {})
    cluster = spec.get("cluster") or {}
    named = [k for k in ("kubeconfig", "context") if cluster.get(k)]
    if named:
        raise Refused(
            f"spec.cluster.{named[0]} names a file or context of the operator's own configuration; an Incident "
            "runs against the cluster the operator watches (leave spec.cluster out)"
        )
    if not cluster.get("simulate"):
        spec["cluster"] = target.cluster()
    observability = {k: v for k, v in (spec.get("observability") or {}).items() if v}
    for key, url in (("alertmanager", target.alertmanager), ("prometheus", target.prometheus)):
        if url and key not in observability and not cluster.get("simulate"):
            observability[key] = url
    spec["observability"] = observability
    scope = spec.setdefault("scope", {})
    if not scope.get("namespaces"):
        scope["namespaces"] = [ref.namespace]
    meta = obj.get("metadata") or {}
    doc = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": ref.name, "labels": meta.get("labels") or {}},
           "spec": spec}  # fmt: skip
    try:
        incident = parse_checked_incident(yaml.safe_dump(doc, sort_keys=False), source=str(ref))
    except IncidentError as err:
        raise Refused(err.by_field()) from None
    if target.write_namespaces is not None:
        allowed = incident.spec.remediation.allowed_namespaces or []
        incident.spec.remediation.allowed_namespaces = [n for n in allowed if n in target.write_namespaces]
    return incident


class IncidentApi:
    """The operator's calls on Incidents, through the official client (blocking: call them in a thread)."""

    def __init__(self, api: Any) -> None:
        from kubernetes import client

        self.api = api
        self.custom: Any = client.CustomObjectsApi(api)  # returns plain dicts for custom objects
        self.core: Any = client.CoreV1Api(api)

    def get(self, ref: Ref) -> dict[str, Any]:
        obj: dict[str, Any] = self.custom.get_namespaced_custom_object(GROUP, VERSION, ref.namespace, PLURAL, ref.name)
        return obj

    def list(self, namespaces: list[str] | None, label_selector: str | None = None) -> list[dict[str, Any]]:
        """Every Incident in `namespaces` (None: all namespaces), only those `label_selector` selects if given."""
        query = {"label_selector": label_selector} if label_selector else {}
        if namespaces is None:
            listed = self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL, **query)
            items: list[dict[str, Any]] = listed["items"]
            return items
        return [
            obj
            for ns in namespaces
            for obj in self.custom.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, **query)["items"]
        ]

    def served_problem(self, namespace: str | None) -> str | None:
        """Why this client cannot use Incidents in `namespace` (None: in every namespace): the CRD not
        applied, the API server refusing the list, no API server; None when it can."""
        from kubernetes.client.exceptions import ApiException

        from ..kube import api_message

        try:
            if namespace is None:
                self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL, limit=1)
            else:
                self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, limit=1)
        except ApiException as err:
            if err.status == 404:
                return f"the cluster has no {CRD_NAME} CRD: install it with `sre-agent crd | kubectl apply -f -`"
            where = f"in {namespace}" if namespace else "in every namespace"
            return f"cannot list Incidents {where}: {err.status} {api_message(err) or err.reason}"
        except OSError as err:  # urllib3's connection errors are OSErrors
            return f"cannot reach the Kubernetes API: {err}"
        return None

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create the Incident `obj` (a 409 ApiException when its name is taken)."""
        ref = Ref.of(obj)
        out: dict[str, Any] = self.custom.create_namespaced_custom_object(GROUP, VERSION, ref.namespace, PLURAL, obj)
        return out

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Replace the Incident with `obj` if `obj` carries the stored resourceVersion (a 409 ApiException
        otherwise)."""
        ref = Ref.of(obj)
        out: dict[str, Any] = self.custom.replace_namespaced_custom_object(
            GROUP, VERSION, ref.namespace, PLURAL, ref.name, obj
        )
        return out

    def write_status(self, ref: Ref, status: IncidentStatus) -> dict[str, Any]:
        """Merge-patch the whole status (a cleared field is sent as null, so it goes)."""
        obj: dict[str, Any] = self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, ref.namespace, PLURAL, ref.name, {"status": status.dump()}
        )
        return obj

    def replace_status(self, obj: dict[str, Any], status: IncidentStatus) -> dict[str, Any]:
        """Write the status only if `obj` is still the stored version (a 409 ApiException otherwise): how a
        claim is taken, so two operators never both take one."""
        ref = Ref.of(obj)
        body = {**obj, "status": status.dump()}
        out: dict[str, Any] = self.custom.replace_namespaced_custom_object_status(
            GROUP, VERSION, ref.namespace, PLURAL, ref.name, body
        )
        return out

    def post_event(self, obj: dict[str, Any], reason: str, message: str, warning: bool = False) -> None:
        """A Kubernetes Event about the Incident (`kubectl describe inc` lists them)."""
        ref = Ref.of(obj)
        at = now_iso()
        self.core.create_namespaced_event(
            ref.namespace,
            {
                "metadata": {"generateName": f"{ref.name}.", "namespace": ref.namespace},
                "involvedObject": {
                    "apiVersion": API_VERSION,
                    "kind": KIND,
                    "name": ref.name,
                    "namespace": ref.namespace,
                    "uid": ref.uid,
                },  # fmt: skip
                "reason": reason,
                "message": message[:1024],
                "type": "Warning" if warning else "Normal",
                "source": {"component": EVENT_SOURCE},
                "reportingComponent": EVENT_SOURCE,
                "firstTimestamp": at,
                "lastTimestamp": at,
                "count": 1,
            },
        )
