"""Re-creating a bare Pod with a changed spec (`kubectl replace --force`), for the fields a Pod may not change.

Most of a Pod's spec is immutable: a nodeSelector that matches no node can only be dropped by deleting the
Pod and creating it again. A Pod with an owner is replaced by its controller (change the owner instead), and
a Pod already bound to a node goes through graceful termination, so only a bare Pod that was never scheduled
is re-created here: the API server removes such a Pod at once, and nothing ran that could be lost.

The change goes through `guarded_write` like any other. Its dry run asks the API server to delete the Pod and
to create the new manifest (a create answered "already exists" has passed validation: the name is taken by
the Pod being replaced). If the create fails once the Pod is deleted, the Pod is created again as it was.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .context import ToolContext
from .diff import object_changes
from .errors import ToolError
from .kinds import KINDS, who
from .writes import Change

SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
                   "deletionTimestamp")  # fmt: skip
IMMUTABLE_POD_FIELDS = "pod updates may not change fields"  # the API server's words for such a patch


def recreatable(pod: dict) -> str | None:
    """None when the Pod may be re-created here, else why not (one line)."""
    meta = pod.get("metadata") or {}
    if meta.get("ownerReferences"):
        owner = meta["ownerReferences"][0]
        return f"its owner {owner.get('kind')}/{owner.get('name')} replaces it: change the owner instead"
    if (pod.get("spec") or {}).get("nodeName"):
        return "it is already bound to a node; re-create it by hand (kubectl replace --force)"
    return None


def merged(obj: dict, body: dict, patch_type: str) -> dict:
    """`obj` with a merge patch applied locally (RFC 7386). A strategic patch without lists merges the same
    way; one with lists (merged by key in a strategic patch) or a JSON patch is refused."""
    if patch_type == "json" or (patch_type == "strategic" and _has_list(body)):
        raise ToolError(
            "re-creating a bare Pod takes a merge patch (patch_type merge), e.g. "
            '{"spec": {"nodeSelector": {"KEY": null}}}'
        )
    return _merge(copy.deepcopy(obj), body)


def manifest(obj: dict) -> dict:
    """What `kubectl create` needs of an object read from the cluster: no status, no server-set metadata."""
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k != "status"}
    meta = out.setdefault("metadata", {})
    for key in SERVER_METADATA:
        meta.pop(key, None)
    return out


def recreate_change(ctx: ToolContext, action: str, current: dict, new: dict) -> Change:
    """The Change that deletes `current` and creates `new` under the same name; its revert re-creates the
    Pod as it is now."""
    info = KINDS["Pod"]
    meta = current.get("metadata") or {}
    name, namespace = meta.get("name", ""), meta.get("namespace")
    old_manifest, new_manifest = manifest(current), manifest(new)
    lines = object_changes(old_manifest, new_manifest)
    if not lines:
        raise ToolError(f"nothing to change: the patch leaves {who('Pod', namespace, name)} as it is")
    undo = json.dumps(old_manifest, separators=(",", ":"))
    revert = f"echo '{undo}' | kubectl replace --force -f -"

    async def apply(dry_run: bool) -> dict:
        if dry_run:
            await ctx.kube.delete(info, name, namespace, True)
            try:
                return await ctx.kube.create(info, namespace, copy.deepcopy(new_manifest), True)
            except ToolError as err:
                if not err.message.startswith("conflict:"):
                    raise
                return copy.deepcopy(new_manifest)  # valid; the name is the Pod's being replaced
        await ctx.kube.delete(info, name, namespace)
        try:
            return await ctx.kube.create(info, namespace, copy.deepcopy(new_manifest))
        except ToolError as err:
            try:
                await ctx.kube.create(info, namespace, copy.deepcopy(old_manifest))
            except ToolError as again:
                raise ToolError(f"{err}; re-creating the Pod as it was failed too: {again}") from err
            raise ToolError(f"{err}; the Pod was re-created as it was") from err

    head = f"re-create bare {who('Pod', namespace, name)} (its spec may not change in place): "
    text = head + "; ".join(lines[:4]) + (f" (+{len(lines) - 4} more)" if len(lines) > 4 else "")
    return Change(action, info, name, namespace, text, revert, apply, before=current, diff=lines[:30])


def _has_list(value: Any) -> bool:
    if isinstance(value, list):
        return True
    return isinstance(value, dict) and any(_has_list(v) for v in value.values())


def _merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = target if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out
