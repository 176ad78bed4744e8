"""Which pods a deleted Service fronted, read from what the namespace still holds.

One Service often fronts several workloads: versions of one service (reviews-v1, -v2, -v3 behind
`reviews`), each with a label of its own beside the ones they share. Restoring the Service with one
workload's full matchLabels would leave the others unreachable. The workloads it fronted are the ones no
remaining Service selects that serve the same container port and share labels with the named one; the
restored selector is the labels they all share, as long as it selects no workload another Service fronts.
"""

from __future__ import annotations

from typing import Any

from .context import ToolContext
from .kinds import KINDS

FRONTED_KINDS = ("Deployment", "StatefulSet")


def _template_labels(workload: dict[str, Any]) -> dict[str, str]:
    labels = (((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def _ports(workload: dict[str, Any]) -> set[int]:
    containers = (((workload.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return {int(p["containerPort"]) for c in containers for p in c.get("ports") or [] if p.get("containerPort")}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(str(k)) == str(v) for k, v in selector.items())


async def fronted_selector(
    ctx: ToolContext, namespace: str, workload: dict[str, Any], selector: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The selector for the restored Service and the names of the other workloads it brings back; the
    workload's own selector, and none, when no other workload was fronted with it."""
    services = await ctx.kube.list(KINDS["Service"], namespace)
    selectors = [(s.get("spec") or {}).get("selector") or {} for s in services]
    own = (workload.get("kind", "Deployment"), workload["metadata"]["name"])
    ports = _ports(workload)
    fronted_elsewhere: list[dict[str, str]] = []
    siblings: list[tuple[str, dict[str, str]]] = []
    for kind in FRONTED_KINDS:
        for obj in await ctx.kube.list(KINDS[kind], namespace):
            if (kind, obj["metadata"]["name"]) == own:
                continue
            labels = _template_labels(obj)
            if any(_selects(s, labels) for s in selectors):
                fronted_elsewhere.append(labels)
            elif ports & _ports(obj) and any(labels.get(k) == v for k, v in selector.items()):
                siblings.append((obj["metadata"]["name"], labels))
    shared = {k: v for k, v in selector.items() if siblings and all(labels.get(k) == v for _, labels in siblings)}
    if not shared or any(_selects(shared, labels) for labels in fronted_elsewhere):
        return selector, []
    return shared, sorted(n for n, _ in siblings)
