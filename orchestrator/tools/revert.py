"""Undoing a journaled write (`sre-agent resume --revert`): the object is put back as the journal recorded it
before the write, through `guarded_write` like any other change, so the action policy (the same action on
the same object must be allowed), the dry run and the blast-radius limit apply to a revert too.

What a revert does depends on what the journal holds: an object recorded before the write is patched back
(a JSON merge patch of every field but status and metadata other than labels), or created again if it is gone; no object
means the write created it, so it is deleted; a write whose revert note says there is nothing to undo (a
restart, a pod its owner replaced) is left; an object whose content the journal withheld is for a person.
"""

from __future__ import annotations

import copy
from typing import Any

from .context import ToolContext
from .diff import object_changes, undo_patch
from .errors import ToolError, one_line
from .kinds import KINDS, UnknownKind, resolve_kind, who
from .writes import Change, guarded_write

NOTHING_TO_UNDO = "nothing to undo"


def _record(entry: dict[str, Any], mode: str, note: str) -> dict[str, Any]:
    return {"action": entry.get("action"), "target": entry.get("target"), "mode": mode, "change": note}


def _content(obj: dict) -> dict:
    """What a revert puts back: every field but status and metadata, and the labels (annotations are left:
    controllers write their own there, such as a Deployment's revision)."""
    out = {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}
    out["metadata"] = {"labels": (obj.get("metadata") or {}).get("labels") or {}}
    return out


async def revert_write(ctx: ToolContext, entry: dict[str, Any]) -> dict[str, Any]:
    """Put back what one journaled write changed; the record says how it ended (mode reverted, denied,
    failed, unchanged, nothing to undo, or by hand)."""
    action, target, note = str(entry.get("action")), str(entry.get("target")), str(entry.get("revert") or "")
    if note.startswith(NOTHING_TO_UNDO):
        return _record(entry, "nothing to undo", note)
    if entry.get("before_withheld"):
        return _record(entry, "by hand", f"the journal does not keep this object's content; revert by hand: {note}")
    namespace, kind, name = (target.split("/", 2) + ["", ""])[:3]
    try:
        info = KINDS.get(kind) or resolve_kind(kind)
    except UnknownKind:
        return _record(entry, "by hand", f"unknown kind {kind!r}; revert by hand: {note}")
    ns = namespace or None
    before = entry.get("before")
    try:
        current = await ctx.kube.find(info, name, ns)
    except ToolError as err:
        return _record(entry, "failed", f"cannot read {target}: {err}")
    what = who(info.kind, ns, name)
    if before is None:  # the write created the object
        if current is None:
            return _record(entry, "unchanged", f"{what} is already gone")

        async def delete(dry_run: bool) -> Any:
            return await ctx.kube.delete(info, name, ns, dry_run)

        change = Change(action, info, name, ns, f"revert {action}: delete {what}, which the run created", note,
                        delete, before=current, diff=[f"{info.kind}/{name}: deleted"])  # fmt: skip
    elif current is None:
        manifest = copy.deepcopy(before)

        async def create(dry_run: bool) -> Any:
            return await ctx.kube.create(info, ns, copy.deepcopy(manifest), dry_run)

        change = Change(action, info, name, ns, f"revert {action}: create {what} again as it was", note, create,
                        diff=[f"{info.kind}/{name}: created"])  # fmt: skip
    else:
        patch = undo_patch(_content(current), _content(before))
        if not patch:
            return _record(entry, "unchanged", f"{what} is already as it was before the run changed it")
        lines = [one_line(line, 200) for line in object_changes(_content(current), _content(before))]

        async def patch_back(dry_run: bool) -> Any:
            return await ctx.kube.patch(info, name, ns, patch, "merge", dry_run)

        summary = (
            f"revert {action} of {what}: "
            + "; ".join(lines[:4])
            + (f" (+{len(lines) - 4} more)" if len(lines) > 4 else "")
        )
        change = Change(action, info, name, ns, summary, note, patch_back, before=current, diff=lines[:30])
    result = await guarded_write(ctx, change, {"revert_of": target})
    record = dict(result.write or _record(entry, "failed", change.summary))
    if record.get("mode") == "applied":
        record["mode"] = "reverted"
    if result.error:
        record["error"] = result.error
    return record
