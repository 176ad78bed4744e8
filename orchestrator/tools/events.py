"""Kubernetes events: `get_events`, and the event rows `describe` shows.

Asking about a Deployment includes the events of its ReplicaSets and their Pods (where image pulls,
scheduling and crashes are reported), also of pods that are already gone.
"""

from __future__ import annotations

from typing import Any

from .context import ToolContext
from .kinds import KINDS, KindInfo, ref, split_object
from .rows import capped, parse_time
from .schema import params, prop
from .spec import ToolSpec


def event_row(ev: dict) -> dict[str, Any]:
    obj = ev.get("involvedObject") or {}
    return {
        "type": ev.get("type"),
        "reason": ev.get("reason"),
        "object": f"{obj.get('kind')}/{obj.get('name')}",
        "message": ev.get("message"),
        "count": ev.get("count") or (ev.get("series") or {}).get("count") or 1,
        "last_seen": last_seen(ev),
    }


def last_seen(ev: dict) -> str | None:
    series = ev.get("series") or {}
    return (
        ev.get("lastTimestamp")
        or series.get("lastObservedTime")
        or ev.get("eventTime")
        or ev.get("firstTimestamp")
        or (ev.get("metadata") or {}).get("creationTimestamp")
    )


def newest_first(events: list[dict]) -> list[dict]:
    def key(ev: dict) -> tuple[float, int]:
        rv = str((ev.get("metadata") or {}).get("resourceVersion") or "0")
        return (parse_time(last_seen(ev)) or 0.0, int(rv) if rv.isdigit() else 0)

    return sorted(events, key=key, reverse=True)


async def object_events(ctx: ToolContext, kind: KindInfo, namespace: str | None, name: str) -> list[dict]:
    """Events whose involvedObject is exactly this object, newest first."""
    selector = f"involvedObject.kind={kind.kind},involvedObject.name={name}"
    events = await ctx.kube.list(KINDS["Event"], namespace, field_selector=selector)
    return newest_first(events)


async def _related_names(ctx: ToolContext, kind: KindInfo, namespace: str, name: str) -> tuple[set, tuple]:
    """(exact (kind, name) pairs, pod name prefixes) whose events belong to the object."""
    exact = {(kind.kind, name)}
    prefixes: tuple[str, ...] = ()
    if kind.kind == "Deployment":
        dep = await ctx.kube.get(kind, name, namespace)
        uid = dep["metadata"].get("uid")
        sets = await ctx.kube.list(KINDS["ReplicaSet"], namespace)
        owned = [
            rs["metadata"]["name"]
            for rs in sets
            if any(r.get("uid") == uid for r in rs["metadata"].get("ownerReferences") or [])
        ]
        exact |= {("ReplicaSet", rs) for rs in owned}
        prefixes = tuple(f"{rs}-" for rs in owned)
    elif kind.kind in ("StatefulSet", "DaemonSet", "ReplicaSet"):
        prefixes = (f"{name}-",)
    return exact, prefixes


async def get_events(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    namespace = args["namespace"]
    target = args.get("object")
    exact: set = set()
    prefixes: tuple = ()
    kind = None
    if target:
        kind, name = split_object(target)
        exact, prefixes = await _related_names(ctx, kind, namespace, name)
    selector = "type=Warning" if args["warnings_only"] else None
    events = await ctx.kube.list(KINDS["Event"], namespace, field_selector=selector)
    if target:

        def related(ev: dict) -> bool:
            obj = ev.get("involvedObject") or {}
            pair = (obj.get("kind"), obj.get("name", ""))
            return pair in exact or (pair[0] == "Pod" and pair[1].startswith(prefixes) and bool(prefixes))

        events = [ev for ev in events if related(ev)]
    rows = [event_row(ev) for ev in newest_first(events)]
    out = capped(rows, "events", limit=args["limit"])
    if kind is not None:
        out["object"] = ref(kind.kind, namespace, name)
    return out


async def events_for(ctx: ToolContext, kind: KindInfo, namespace: str | None, name: str, limit: int = 15) -> list:
    rows = [event_row(ev) for ev in await object_events(ctx, kind, namespace, name)]
    return rows[:limit]


TOOLS = [
    ToolSpec(
        "get_events",
        "Kubernetes events in a namespace, newest first. With object (Kind/name), only that object's events; "
        "a Deployment includes its ReplicaSets' and Pods' events. Warnings only unless warnings_only=false.",
        params(
            ["namespace"],
            namespace=prop("string", "namespace to read events from"),
            object=prop("string", "optional Kind/name, e.g. Deployment/ad or Pod/ad-5d9c-x2x"),
            warnings_only=prop("boolean", "only Warning events (default true)", default=True),
            limit=prop("integer", "most events to return (default 30)", default=30, minimum=1, maximum=200),
        ),
        "read",
        get_events,
        order=40,
        category="inspect",
    )
]
