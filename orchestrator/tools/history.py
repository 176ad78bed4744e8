"""Rollout history: a workload's revisions and what each one changed in the pod template.

Deployments keep history in their ReplicaSets (`deployment.kubernetes.io/revision`), StatefulSets and
DaemonSets in ControllerRevisions (`revision`, template under `data.spec.template`). The rollback write
in workload_writes.py reads the same history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .context import ToolContext
from .diff import template_changes
from .errors import ToolError
from .kinds import KINDS, KindInfo, ref, resolve_kind
from .rows import REVISION, images
from .schema import params, prop
from .spec import ToolSpec

ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass
class Revision:
    number: int
    created: str | None
    template: dict
    source: dict  # the ReplicaSet or ControllerRevision holding it


@dataclass
class History:
    workload: dict
    current: int | None
    revisions: list[Revision]  # oldest first

    def get(self, number: int) -> Revision | None:
        return next((r for r in self.revisions if r.number == number), None)

    def previous(self) -> Revision | None:
        """The newest revision before the current one (what `kubectl rollout undo` goes back to)."""
        older = [r for r in self.revisions if self.current is None or r.number < self.current]
        return older[-1] if older else None


def _owned(obj: dict, uid: str) -> bool:
    return any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])


async def history(ctx: ToolContext, kind: KindInfo, name: str, namespace: str) -> History:
    workload = await ctx.kube.get(kind, name, namespace)
    uid = workload["metadata"].get("uid", "")
    revisions: list[Revision] = []
    if kind.kind == "Deployment":
        for rs in await ctx.kube.list(KINDS["ReplicaSet"], namespace):
            number = _int((rs["metadata"].get("annotations") or {}).get(REVISION))
            if _owned(rs, uid) and number:
                revisions.append(
                    Revision(number, rs["metadata"].get("creationTimestamp"), rs["spec"].get("template") or {}, rs)
                )
        current = _int((workload["metadata"].get("annotations") or {}).get(REVISION))
    else:
        update = (workload.get("status") or {}).get("updateRevision")
        current = None
        for cr in await ctx.kube.list(KINDS["ControllerRevision"], namespace):
            if not _owned(cr, uid):
                continue
            number = _int(cr.get("revision")) or 0
            template = ((cr.get("data") or {}).get("spec") or {}).get("template") or {}
            revisions.append(Revision(number, cr["metadata"].get("creationTimestamp"), template, cr))
            if cr["metadata"]["name"] == update:
                current = number
        if current is None and revisions:
            current = max(r.number for r in revisions)
    revisions.sort(key=lambda r: r.number)
    return History(workload, current, revisions)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def rollout_history(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    kind = resolve_kind(args["kind"], ROLLOUT_KINDS)
    name, namespace = args["name"], args["namespace"]
    h = await history(ctx, kind, name, namespace)
    if not h.revisions:
        raise ToolError(f"{kind.kind.lower()} {namespace}/{name} has no rollout history")
    rows = []
    before: dict | None = None
    for r in h.revisions:
        rows.append(
            {
                "revision": r.number,
                "created": r.created,
                "images": images(r.template.get("spec") or {}),
                "change": template_changes(before, r.template) if before is not None else [],
            }
        )
        before = r.template
    return {"object": ref(kind.kind, namespace, name), "current_revision": h.current, "revisions": rows}


TOOLS = [
    ToolSpec(
        "rollout_history",
        "A workload's revisions, oldest first, each with its images and what its pod template changed from "
        "the revision before (e.g. 'containers[ad].image: old -> new'), and the current revision.",
        params(
            ["kind", "name", "namespace"],
            kind=prop("string", "Deployment, StatefulSet or DaemonSet"),
            name=prop("string", "workload name"),
            namespace=prop("string", "namespace"),
        ),
        "read",
        rollout_history,
        order=60,
        category="inspect",
    )
]
