"""Fault injection, by ITBench fault id.

Each fault family lives in its own module in this package and registers its faults with
`@fault(id, index, targets)`; every module here is loaded, so a new family is one new module.
An injector changes the cluster only through the same objects a person would change (Deployments,
Services, NetworkPolicies, Secrets, ...), so the symptoms, the alerts and the healing all come from the
simulated controllers and traffic model, never from bookkeeping about which fault is active.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..cluster import Cluster

Injector = Callable[["Cluster", dict], list[str]]


class FaultError(ValueError):
    """A fault that cannot be injected: unknown id, bad arguments or a missing target."""


@dataclass(frozen=True)
class Fault:
    id: str
    index: int
    targets: tuple[str, ...]  # kinds accepted in args.kubernetesObject.kind
    requires: tuple[str, ...]  # dotted argument paths that must be present
    inject: Injector


FAULTS: dict[str, Fault] = {}

# ITBench faults outside plain Kubernetes: Istio (3, 22, 23), Chaos Mesh (21), feature flags (18) and the
# API server request surge (10).
NOT_SIMULATED = {
    "disabled-istio-ambient-mode-kubernetes-namespace": "needs Istio",
    "strict-mutual-tls-istio-service-mesh-enforcement": "needs Istio",
    "traffic-denying-istio-gateway-authorization-policy": "needs Istio",
    "scheduled-chaos-mesh-experiment": "needs Chaos Mesh",
    "opentelemetry-demo-feature-flag": "needs the demo's flagd feature flags",
    "kubernetes-api-server-request-surge": "needs a real API server under load",
}


def fault(
    fid: str, index: int, targets: tuple[str, ...] = ("Deployment", "StatefulSet"), requires: tuple[str, ...] = ()
) -> Callable[[Injector], Injector]:
    def register(fn: Injector) -> Injector:
        FAULTS[fid] = Fault(fid, index, targets, ("kubernetesObject.metadata.name", *requires), fn)
        return fn

    return register


def _lookup(args: dict, path: str) -> Any:
    cur: Any = args
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _load_families() -> None:
    # Importing a family's module registers its faults.
    for module in pkgutil.iter_modules(__path__):
        import_module(f"{__name__}.{module.name}")


def simulated_faults() -> list[Fault]:
    """Every fault the simulator injects, in ITBench's order."""
    _load_families()
    return sorted(FAULTS.values(), key=lambda f: f.index)


def validate_fault(fid: str | None, args: dict) -> Fault:
    _load_families()
    if not fid:
        raise FaultError("a fault needs an id")
    if fid in NOT_SIMULATED:
        raise FaultError(f"fault {fid!r} is not simulated: it {NOT_SIMULATED[fid]}")
    f = FAULTS.get(fid)
    if f is None:
        raise FaultError(f"unknown fault id {fid!r}; known: {', '.join(sorted(FAULTS))}")
    for path in f.requires:
        if _lookup(args, path) in (None, ""):
            raise FaultError(f"fault {fid}: args.{path} is required")
    kind = _lookup(args, "kubernetesObject.kind")
    if kind and kind not in f.targets:
        raise FaultError(f"fault {fid}: args.kubernetesObject.kind must be one of {', '.join(f.targets)}, not {kind}")
    return f


def inject(cluster: Cluster, fid: str, args: dict) -> dict:
    f = validate_fault(fid, args)
    since = cluster.store.resource_version
    changes = f.inject(cluster, args)
    record = {
        "id": fid,
        "index": f.index,
        "target": target_name(args),
        "changes": changes,
        "clusterObjects": _cluster_scoped_writes(cluster, since),
        "at": cluster.now(),
    }
    cluster.injected.append(record)
    cluster.reconcile()
    return record


def _cluster_scoped_writes(cluster: Cluster, since: int) -> list[str]:
    """`Kind/name` of the cluster-scoped objects written after resourceVersion `since`: what an injector
    changed outside any namespace (a cordoned Node), which an incident may allow its run to change back."""
    written = {
        f"{rt.kind}/{event.obj['metadata']['name']}"
        for rt in cluster.store.registry.types
        if not rt.namespaced
        for event in cluster.store.events_since(rt, since, None, lambda _: True)
    }
    return sorted(written)


def target_name(args: dict) -> str:
    obj = args.get("kubernetesObject") or {}
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{obj.get('kind', '')}/{meta.get('name', '')}".lstrip("/")
