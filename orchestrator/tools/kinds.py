"""The Kubernetes kinds the tools know, kubectl-style aliases for them, and entity references.

Models write kinds the way people type them (`deploy`, `Deployments`, `svc`, `deployment.apps`), so every
kind argument goes through `resolve_kind`. The API class and method stem are what the official client
names its generated methods by (`AppsV1Api.read_namespaced_deployment`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ToolError


@dataclass(frozen=True)
class KindInfo:
    kind: str
    api: str  # kubernetes.client class name
    stem: str  # snake_case method stem: read_namespaced_<stem>, list_<stem>_for_all_namespaces
    namespaced: bool = True
    aliases: tuple[str, ...] = ()
    # A kind found through discovery (a custom resource, or one the table below lacks) has no client
    # class: it is read by its API path, "apis/GROUP/VERSION/PLURAL" or "api/v1/PLURAL".
    api_path: str = ""  # "apis/GROUP/VERSION" or "api/v1"
    plural: str = ""

    @property
    def discovered(self) -> bool:
        return not self.api

    @property
    def group(self) -> str:
        if self.discovered:
            parts = self.api_path.split("/")
            return parts[1] if parts[0] == "apis" else ""
        return GROUPS.get(self.api, "")

    @property
    def key(self) -> str:
        """How per-kind tables name it: the kind, qualified by its group when found by discovery
        (`PodMetrics.metrics.k8s.io`), so a custom kind never takes a built-in kind's summary."""
        return f"{self.kind}.{self.group}" if self.discovered else self.kind


KINDS: dict[str, KindInfo] = {
    k.kind: k
    for k in (
        KindInfo("Pod", "CoreV1Api", "pod", aliases=("po", "pods")),
        KindInfo("Service", "CoreV1Api", "service", aliases=("svc", "services")),
        KindInfo("Endpoints", "CoreV1Api", "endpoints", aliases=("ep", "endpoint")),
        KindInfo("Event", "CoreV1Api", "event", aliases=("ev", "events")),
        KindInfo("ConfigMap", "CoreV1Api", "config_map", aliases=("cm", "configmaps")),
        KindInfo("Secret", "CoreV1Api", "secret", aliases=("secrets",)),
        KindInfo("PersistentVolumeClaim", "CoreV1Api", "persistent_volume_claim", aliases=("pvc", "pvcs")),
        KindInfo("ResourceQuota", "CoreV1Api", "resource_quota", aliases=("quota", "quotas", "resourcequotas")),
        KindInfo("Node", "CoreV1Api", "node", namespaced=False, aliases=("no", "nodes")),
        KindInfo("Namespace", "CoreV1Api", "namespace", namespaced=False, aliases=("ns", "namespaces")),
        KindInfo("Deployment", "AppsV1Api", "deployment", aliases=("deploy", "deployments")),
        KindInfo("ReplicaSet", "AppsV1Api", "replica_set", aliases=("rs", "replicasets")),
        KindInfo("StatefulSet", "AppsV1Api", "stateful_set", aliases=("sts", "statefulsets")),
        KindInfo("DaemonSet", "AppsV1Api", "daemon_set", aliases=("ds", "daemonsets")),
        KindInfo("ControllerRevision", "AppsV1Api", "controller_revision", aliases=("controllerrevisions",)),
        KindInfo("NetworkPolicy", "NetworkingV1Api", "network_policy", aliases=("netpol", "networkpolicies")),
        KindInfo(
            "HorizontalPodAutoscaler",
            "AutoscalingV2Api",
            "horizontal_pod_autoscaler",
            aliases=("hpa", "hpas", "horizontalpodautoscalers"),
        ),
        KindInfo(
            "PriorityClass", "SchedulingV1Api", "priority_class", namespaced=False, aliases=("pc", "priorityclasses")
        ),
        KindInfo("Job", "BatchV1Api", "job", aliases=("jobs",)),
        KindInfo("CronJob", "BatchV1Api", "cron_job", aliases=("cj", "cronjobs")),
        KindInfo("Ingress", "NetworkingV1Api", "ingress", aliases=("ing", "ingresses")),
        KindInfo("IngressClass", "NetworkingV1Api", "ingress_class", namespaced=False, aliases=("ingressclasses",)),
        KindInfo(
            "PersistentVolume", "CoreV1Api", "persistent_volume", namespaced=False, aliases=("pv", "persistentvolumes")
        ),
        KindInfo("StorageClass", "StorageV1Api", "storage_class", namespaced=False, aliases=("sc", "storageclasses")),
        KindInfo("ServiceAccount", "CoreV1Api", "service_account", aliases=("sa", "serviceaccounts")),
        KindInfo("Role", "RbacAuthorizationV1Api", "role", aliases=("roles",)),
        KindInfo("RoleBinding", "RbacAuthorizationV1Api", "role_binding", aliases=("rolebindings",)),
        KindInfo("ClusterRole", "RbacAuthorizationV1Api", "cluster_role", namespaced=False, aliases=("clusterroles",)),
        KindInfo(
            "ClusterRoleBinding",
            "RbacAuthorizationV1Api",
            "cluster_role_binding",
            namespaced=False,
            aliases=("clusterrolebindings",),
        ),
    )
}

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
# The API group of each client class: a kind written with another group (`jobs.batch.volcano.sh`) is
# someone else's kind of the same name, left to discovery.
GROUPS = {
    "CoreV1Api": "",
    "AppsV1Api": "apps",
    "BatchV1Api": "batch",
    "NetworkingV1Api": "networking.k8s.io",
    "AutoscalingV2Api": "autoscaling",
    "SchedulingV1Api": "scheduling.k8s.io",
    "StorageV1Api": "storage.k8s.io",
    "RbacAuthorizationV1Api": "rbac.authorization.k8s.io",
}
VERSION_PATTERN = re.compile(r"^v\d+((alpha|beta)\d+)?$")

_ALIASES: dict[str, str] = {}
for _info in KINDS.values():
    _ALIASES[_info.kind.lower()] = _info.kind
    for _alias in _info.aliases:
        _ALIASES[_alias] = _info.kind


class UnknownKind(ToolError):
    """A kind the table does not know; discovery may still find it on the cluster (discovery.py)."""


def resolve_kind(text: str, allowed: tuple[str, ...] | None = None) -> KindInfo:
    """`deploy`, `Deployments`, `deployment.apps`, `apps/v1/Deployment` -> the Deployment KindInfo."""
    raw = str(text).strip()
    key = raw.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    kind = _ALIASES.get(key)
    group = written_group(raw)
    if kind is not None and group is not None and group != GROUPS.get(KINDS[kind].api):
        kind = None
    if kind is None:
        known = ", ".join(allowed or tuple(KINDS))
        raise UnknownKind(f"unknown kind {raw!r}; known kinds: {known}")
    if allowed is not None and kind not in allowed:
        raise ToolError(f"kind {kind} is not supported here; use one of: {', '.join(allowed)}")
    return KINDS[kind]


def written_group(text: str) -> str | None:
    """The API group a kind is qualified with, if any: `apps/v1/Deployment` and `deployment.v1.apps` ->
    "apps", `v1/Pod` -> "" (core), `Deployment` -> None."""
    parts = text.split("/")
    if len(parts) > 1:
        return "" if VERSION_PATTERN.match(parts[0]) else parts[0]
    if "." not in text:
        return None
    rest = text.split(".", 1)[1]
    head, _, tail = rest.partition(".")
    if VERSION_PATTERN.match(head):
        return tail
    return rest


def ref(kind: str, namespace: str | None, name: str) -> str:
    """The entity name used in targets and reports: `namespace/Kind/name` (`/Node/x` when cluster-scoped)."""
    return f"{namespace or ''}/{kind}/{name}"


def who(kind: str, namespace: str | None, name: str) -> str:
    """How errors name an object, as the API server does: `deployment otel-demo/ad`, `node worker-1`."""
    return f"{kind.lower()} {namespace}/{name}" if namespace else f"{kind.lower()} {name}"


def split_object(text: str, default_kind: str | None = None) -> tuple[KindInfo, str]:
    """Parse a `Kind/name` argument (also `ns/Kind/name`); a bare name takes default_kind if given."""
    parts = [p for p in str(text).strip().split("/") if p != ""]
    if len(parts) == 1 and default_kind:
        return KINDS[default_kind], parts[0]
    if len(parts) == 3:
        parts = parts[1:]
    if len(parts) != 2:
        raise ToolError(f"expected Kind/name (e.g. Deployment/ad), got {text!r}")
    return resolve_kind(parts[0]), parts[1]
