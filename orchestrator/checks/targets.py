"""What a check looks at: a namespace, or one object named "namespace/Kind/name" (ITBench's entity names).

Kinds are spelled loosely by models and people ("deploy", "svc", "hpa"): they normalise to the API kind.
Cluster-scoped objects are written "Kind/name" (or "/Kind/name").
"""

from __future__ import annotations

from dataclasses import dataclass

KIND_ALIASES: dict[str, str] = {}
for _kind, _aliases in {
    "Deployment": ("deploy", "deployment", "deployments"),
    "StatefulSet": ("sts", "statefulset", "statefulsets"),
    "DaemonSet": ("ds", "daemonset", "daemonsets"),
    "ReplicaSet": ("rs", "replicaset", "replicasets"),
    "Pod": ("po", "pod", "pods"),
    "Service": ("svc", "service", "services"),
    "Endpoints": ("ep", "endpoints"),
    "NetworkPolicy": ("netpol", "networkpolicy", "networkpolicies"),
    "ResourceQuota": ("quota", "resourcequota", "resourcequotas"),
    "HorizontalPodAutoscaler": ("hpa", "horizontalpodautoscaler", "horizontalpodautoscalers"),
    "Node": ("no", "node", "nodes"),
    "Secret": ("secret", "secrets"),
    "ConfigMap": ("cm", "configmap", "configmaps"),
    "PersistentVolumeClaim": ("pvc", "persistentvolumeclaim", "persistentvolumeclaims"),
    "PriorityClass": ("pc", "priorityclass", "priorityclasses"),
}.items():
    for _alias in _aliases:
        KIND_ALIASES[_alias] = _kind

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
CLUSTER_SCOPED = frozenset({"Node", "PriorityClass"})


class TargetError(ValueError):
    """A target string that names nothing a check can read."""


@dataclass(frozen=True)
class Target:
    namespace: str | None = None
    kind: str | None = None  # None: the whole namespace
    name: str | None = None

    @property
    def is_namespace(self) -> bool:
        return self.kind is None

    @property
    def is_workload(self) -> bool:
        return self.kind in WORKLOAD_KINDS

    def __str__(self) -> str:
        if self.kind is None:
            return self.namespace or ""
        if self.kind in CLUSTER_SCOPED:
            return f"{self.kind}/{self.name}"
        return f"{self.namespace}/{self.kind}/{self.name}"


def normalise_kind(kind: str) -> str:
    return KIND_ALIASES.get(kind.strip().lower(), kind.strip())


def parse_target(text: str) -> Target:
    """ "otel-demo" → namespace; "otel-demo/Deployment/cart" → object; "Node/worker-1" → cluster-scoped object."""
    raw = text.strip()
    parts = raw.split("/")
    if parts and parts[0] == "" and len(parts) == 3:  # "/Node/name"
        parts = parts[1:]
    if any(not p for p in parts) or len(parts) > 3:
        raise TargetError(f"target {text!r}: expected a namespace, namespace/Kind/name or Kind/name")
    if len(parts) == 1:
        return Target(namespace=parts[0])
    if len(parts) == 2:
        kind = normalise_kind(parts[0])
        if kind not in CLUSTER_SCOPED:
            raise TargetError(f"target {text!r}: {kind} is namespaced, write namespace/{kind}/{parts[1]}")
        return Target(kind=kind, name=parts[1])
    kind = normalise_kind(parts[1])
    if kind in CLUSTER_SCOPED:
        return Target(kind=kind, name=parts[2])
    return Target(namespace=parts[0], kind=kind, name=parts[2])
