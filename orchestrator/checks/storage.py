"""pvc_bound: a PersistentVolumeClaim (or every claim of a namespace) is Bound to a volume."""

from __future__ import annotations

from ..tools.events import event_row, newest_first
from ..tools.storage import is_default
from .kube import meta, spec, status
from .registry import Context, Outcome, check
from .targets import Target
from .text import count, listed


def _why_pending(ctx: Context, pvc: dict) -> str:
    """The claim's phase, what its StorageClass is, and its latest Warning event: why it has no volume."""
    name = meta(pvc).get("name")
    parts = [status(pvc).get("phase") or "Pending"]
    wanted = spec(pvc).get("storageClassName")
    classes = ctx.reads.list("StorageClass")
    if wanted:
        if not any(meta(c).get("name") == wanted for c in classes):
            parts.append(f"StorageClass {wanted} does not exist")
    elif wanted is None and not any(is_default(c) for c in classes):
        parts.append("no storageClassName and no default StorageClass")
    events = [
        e
        for e in ctx.reads.list("Event", meta(pvc).get("namespace"))
        if (e.get("involvedObject") or {}).get("kind") == "PersistentVolumeClaim"
        and (e.get("involvedObject") or {}).get("name") == name
        and e.get("type") == "Warning"
    ]
    if events:
        row = event_row(newest_first(events)[0])
        parts.append(f"{row['reason']}: {row['message']}")
    return ", ".join(parts)


@check("pvc_bound", kinds={"PersistentVolumeClaim"}, namespace=True)
def pvc_bound(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """The PersistentVolumeClaim is Bound to a volume; for a namespace every claim is."""
    assert target is not None
    claims = ctx.subjects("PersistentVolumeClaim", target)
    if claims is None:
        return Outcome(False, {"exists": False}, f"{target} not found")
    value = {
        "claims": {
            meta(c).get("name"): {"phase": status(c).get("phase") or "Pending", "volume": spec(c).get("volumeName")}
            for c in claims
        }
    }
    unbound = [f"{meta(c).get('name')}: {_why_pending(ctx, c)}" for c in claims if status(c).get("phase") != "Bound"]
    if unbound:
        return Outcome(
            False, value, f"{target}: {len(unbound)}/{count(len(claims), 'claim')} not Bound: {listed(unbound)}"
        )
    if target.kind == "PersistentVolumeClaim":
        return Outcome(True, value, f"{target}: Bound to {spec(claims[0]).get('volumeName')}")
    return Outcome(True, value, f"{target}: {count(len(claims), 'claim')}, all Bound")
