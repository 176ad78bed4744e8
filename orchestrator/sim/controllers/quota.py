"""ResourceQuota: the controller that keeps `status.used` current, and the admission check for pods.

The pod resource helpers here (`pod_amount`, `container_amount`, `format_quantity`) are the API
server's accounting rules, shared with the scheduler and the HPA so all three agree on what a pod
requests: the sum over app containers, or the largest init container if that is bigger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..objects import quantity
from ..resources import ResourceType

if TYPE_CHECKING:
    from ..cluster import Cluster

# Quota resource name -> (requests|limits, resource) for compute resources.
COMPUTE: dict[str, tuple[str, str]] = {
    "cpu": ("requests", "cpu"),
    "memory": ("requests", "memory"),
    "ephemeral-storage": ("requests", "ephemeral-storage"),
    "requests.cpu": ("requests", "cpu"),
    "requests.memory": ("requests", "memory"),
    "requests.ephemeral-storage": ("requests", "ephemeral-storage"),
    "limits.cpu": ("limits", "cpu"),
    "limits.memory": ("limits", "memory"),
    "limits.ephemeral-storage": ("limits", "ephemeral-storage"),
}
# Resources every container must declare once a quota covers them (the API server's old rule).
MUST_SPECIFY = {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
# Plain object-count names -> (group, plural).
OBJECT_COUNTS: dict[str, tuple[str, str]] = {
    "pods": ("", "pods"),
    "services": ("", "services"),
    "secrets": ("", "secrets"),
    "configmaps": ("", "configmaps"),
    "persistentvolumeclaims": ("", "persistentvolumeclaims"),
    "replicationcontrollers": ("", "replicationcontrollers"),
    "resourcequotas": ("", "resourcequotas"),
}
TERMINAL_PHASES = ("Succeeded", "Failed")


# ---------------------------------------------------------------------------------------- quantities
def format_quantity(value: float, resource: str) -> str:
    """Canonical-looking quantity text: 250m / 2 for CPU, 768Mi / 1Gi / 1G for bytes, plain counts."""
    if resource.endswith("cpu"):
        milli = round(value * 1000)
        return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"
    if not any(resource.endswith(r) for r in ("memory", "storage")):
        return str(round(value))
    n = round(value)
    if n == 0:
        return "0"
    for suffix, size in (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n % size == 0:
            return f"{n // size}{suffix}"
    for suffix, size in (("E", 10**18), ("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


# ---------------------------------------------------------------------------------------- pod accounting
def container_amount(container: dict, kind: str, resource: str) -> float | None:
    """A container's request or limit; requests default to limits, as API defaulting does."""
    res = container.get("resources") or {}
    value = (res.get(kind) or {}).get(resource)
    if value is None and kind == "requests":
        value = (res.get("limits") or {}).get(resource)
    return None if value is None else quantity(value)


def pod_amount(pod: dict, kind: str, resource: str) -> float:
    """Effective pod request/limit: max(sum of containers, largest init container) plus overhead."""
    spec = pod.get("spec") or {}
    total = sum(container_amount(c, kind, resource) or 0.0 for c in spec.get("containers") or [])
    init = max((container_amount(c, kind, resource) or 0.0 for c in spec.get("initContainers") or []), default=0.0)
    return max(total, init) + quantity((spec.get("overhead") or {}).get(resource))


def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def is_best_effort(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        res = c.get("resources") or {}
        if res.get("requests") or res.get("limits"):
            return False
    return True


def pod_usage(pod: dict, names: list[str]) -> dict[str, float]:
    """What one pod charges against each quota resource in `names`."""
    out: dict[str, float] = {}
    for name in names:
        if name in COMPUTE:
            out[name] = pod_amount(pod, *COMPUTE[name])
        elif name in ("pods", "count/pods"):
            out[name] = 1.0
    return out


# ---------------------------------------------------------------------------------------- scopes
def _scope_matches(scope: str, pod: dict) -> bool:
    spec = pod.get("spec") or {}
    terminating = spec.get("activeDeadlineSeconds") is not None
    return {
        "Terminating": terminating,
        "NotTerminating": not terminating,
        "BestEffort": is_best_effort(pod),
        "NotBestEffort": not is_best_effort(pod),
    }.get(scope, True)


def _scope_expression_matches(expr: dict, pod: dict) -> bool:
    scope, op, values = expr.get("scopeName", ""), expr.get("operator", "Exists"), expr.get("values") or []
    if scope != "PriorityClass":
        matched = _scope_matches(scope, pod)
        return matched if op in ("Exists", "In") else not matched
    name = (pod.get("spec") or {}).get("priorityClassName")
    return {
        "In": name in values,
        "NotIn": name not in values,
        "Exists": bool(name),
        "DoesNotExist": not name,
    }.get(op, False)


def quota_covers_pod(quota: dict, pod: dict) -> bool:
    spec = quota.get("spec") or {}
    if not all(_scope_matches(s, pod) for s in spec.get("scopes") or []):
        return False
    exprs = (spec.get("scopeSelector") or {}).get("matchExpressions") or []
    return all(_scope_expression_matches(e, pod) for e in exprs)


# ---------------------------------------------------------------------------------------- usage
def _count_objects(cluster: Cluster, namespace: str, name: str) -> float | None:
    """Usage of an object-count quota (`services`, `count/deployments.apps`), None if unknown."""
    if name in OBJECT_COUNTS:
        group, plural = OBJECT_COUNTS[name]
    elif name.startswith("count/"):
        plural, _, group = name[len("count/") :].partition(".")
    else:
        return None
    rt = cluster.store.registry.by_key(group, plural)
    if rt is None:
        return 0.0
    return float(sum(1 for _ in cluster.store.entries(rt, namespace)))


def _service_usage(cluster: Cluster, namespace: str, name: str) -> float:
    kind = {"services.loadbalancers": "LoadBalancer", "services.nodeports": "NodePort"}[name]
    svcs = cluster.store.list(cluster.rt("Service"), namespace)
    return float(sum(1 for s in svcs if (s.get("spec") or {}).get("type") == kind))


def _storage_usage(cluster: Cluster, namespace: str) -> float:
    pvcs = cluster.store.list(cluster.rt("PersistentVolumeClaim"), namespace)
    return sum(
        quantity(((p.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")) for p in pvcs
    )


def quota_used(cluster: Cluster, quota: dict, exclude_uid: str | None = None) -> dict[str, float]:
    """Current usage of every resource the quota limits, from the objects in its namespace."""
    ns = quota["metadata"]["namespace"]
    names = list(((quota.get("spec") or {}).get("hard") or {}).keys())
    pods = [
        p
        for p in cluster.store.list(cluster.rt("Pod"), ns)
        if not is_terminal(p) and p["metadata"].get("uid") != exclude_uid and quota_covers_pod(quota, p)
    ]
    used: dict[str, float] = {}
    for name in names:
        if name in COMPUTE:
            used[name] = sum(pod_amount(p, *COMPUTE[name]) for p in pods)
        elif name in ("pods", "count/pods"):
            used[name] = float(len(pods))
        elif name in ("services.loadbalancers", "services.nodeports"):
            used[name] = _service_usage(cluster, ns, name)
        elif name == "requests.storage":
            used[name] = _storage_usage(cluster, ns)
        else:
            counted = _count_objects(cluster, ns, name)
            used[name] = counted if counted is not None else 0.0
    return used


def _format_map(values: dict[str, float], names: list[str]) -> str:
    return ",".join(f"{n}={format_quantity(values.get(n, 0.0), n)}" for n in sorted(names))


# ---------------------------------------------------------------------------------------- admission
def _missing_constraints(quota: dict, pod: dict) -> str | None:
    """'must specify limits.memory for: app' when a covered compute resource is left unset."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    required = sorted(set(hard) & MUST_SPECIFY)
    spec = pod.get("spec") or {}
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    missing: dict[str, list[str]] = {}
    for name in required:
        kind, resource = COMPUTE[name]
        for c in containers:
            if container_amount(c, kind, resource) is None:
                missing.setdefault(name, []).append(c.get("name", ""))
    if not missing:
        return None
    parts = [f"{name} for: {','.join(sorted(set(who)))}" for name, who in sorted(missing.items())]
    return "must specify " + "; ".join(parts)


def _forbidden(cluster: Cluster, meta: dict) -> str:
    # The API server names a generateName pod before admission, so its rejection shows a full name.
    name = meta.get("name") or (meta.get("generateName") or "") + cluster.store.random_suffix()
    return f'pods "{name}" is forbidden: '


def check_pod_admission(cluster: Cluster, pod: dict) -> str | None:
    """The API server's quota rejection for a pod CREATE, or None when every quota admits it."""
    meta = pod.get("metadata") or {}
    ns = meta.get("namespace") or "default"
    quotas = sorted(cluster.store.list(cluster.rt("ResourceQuota"), ns), key=lambda q: q["metadata"]["name"])
    quotas = [q for q in quotas if quota_covers_pod(q, pod)]
    if not quotas:
        return None
    for q in quotas:
        problem = _missing_constraints(q, pod)
        if problem:
            return f"{_forbidden(cluster, meta)}failed quota: {q['metadata']['name']}: {problem}"
    for q in quotas:
        hard = {k: quantity(v) for k, v in ((q.get("spec") or {}).get("hard") or {}).items()}
        delta = pod_usage(pod, list(hard))
        used = quota_used(cluster, q, exclude_uid=meta.get("uid"))
        exceeded = [n for n, d in delta.items() if d > 0 and used.get(n, 0.0) + d > hard[n] + 1e-9]
        if exceeded:
            return (
                f"{_forbidden(cluster, meta)}exceeded quota: {q['metadata']['name']}, requested: {_format_map(delta, exceeded)}, "
                f"used: {_format_map(used, exceeded)}, limited: {_format_map(hard, exceeded)}"
            )
    return None


# ---------------------------------------------------------------------------------------- controller
class ResourceQuotaController:
    """Recomputes status.hard/status.used; writes only when a number changed."""

    def reconcile(self, cluster: Cluster) -> None:
        rt = cluster.rt("ResourceQuota")
        for quota in cluster.store.list(rt):
            self._sync(cluster, rt, quota)

    def _sync(self, cluster: Cluster, rt: ResourceType, quota: dict) -> None:
        hard = dict((quota.get("spec") or {}).get("hard") or {})
        used = quota_used(cluster, quota)
        desired = {"hard": hard, "used": {n: format_quantity(v, n) for n, v in used.items()}}
        status = quota.get("status") or {}
        if status.get("hard") == desired["hard"] and status.get("used") == desired["used"]:
            return

        def write(q: dict) -> None:
            q.setdefault("status", {}).update(desired)

        meta = quota["metadata"]
        cluster.store.mutate(rt, meta["namespace"], meta["name"], write, status=True)
