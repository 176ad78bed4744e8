"""`metadata.managedFields`: which field manager last set which fields, as the API server records it for
create, update and patch requests (`fieldsV1` sets; operation Update, or Apply for server-side apply).

The manager is the request's `fieldManager` (kubectl names its commands: `kubectl-annotate`,
`kubectl-edit`, ...) or else the User-Agent up to its first "/", as the API server defaults it. A field
counts as set by a request when its value differs from the stored one; it then leaves every other
manager's set. Lists are owned whole (the API server keys list items by their merge keys; nothing here
needs that finer grain yet).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

# Metadata the server owns, never a manager's field.
_SERVER_OWNED = {"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"}


def manager_of(request: web.Request) -> str:
    named = request.query.get("fieldManager")
    if named:
        return named
    agent = request.headers.get("User-Agent", "")
    return agent.split("/", 1)[0] or "unknown"


def _changed(old: Any, new: Any) -> dict[str, Any] | None:
    """The fieldsV1 set of what `new` sets differently from `old` (None: nothing)."""
    if isinstance(new, dict) and isinstance(old, dict | None):
        olds = old or {}
        out: dict[str, Any] = {}
        for key, value in new.items():
            sub = _changed(olds.get(key), value)
            if sub is not None:
                out[f"f:{key}"] = sub
        return out or None
    return {} if new != old else None


def _remove(owned: dict[str, Any], taken: dict[str, Any]) -> dict[str, Any]:
    """`owned` without the leaf fields of `taken`."""
    out: dict[str, Any] = {}
    for key, sub in owned.items():
        if key not in taken:
            out[key] = sub
        elif taken[key] and sub:  # both go deeper: keep what the other did not take
            rest = _remove(sub, taken[key])
            if rest:
                out[key] = rest
    return out


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, sub in b.items():
        out[key] = _merge(out[key], sub) if key in out and out[key] and sub else sub
    return out


def record(
    new: dict[str, Any],
    old: dict[str, Any] | None,
    manager: str,
    operation: str,
    api_version: str,
    subresource: str | None,
    time: str,
) -> None:
    """Update `new["metadata"]["managedFields"]` for a write by `manager` that turned `old` into `new`."""
    meta = new.setdefault("metadata", {})
    entries = [dict(e) for e in ((old or {}).get("metadata") or {}).get("managedFields") or []]
    before = {k: v for k, v in (old or {}).items() if k not in ("apiVersion", "kind")}
    after = {k: v for k, v in new.items() if k not in ("apiVersion", "kind")}
    for doc in (before, after):
        if isinstance(doc.get("metadata"), dict):
            doc["metadata"] = {k: v for k, v in doc["metadata"].items() if k not in _SERVER_OWNED}
    if subresource != "status":
        before.pop("status", None)
        after.pop("status", None)
    changed = _changed(before, after)
    if changed is None:
        meta["managedFields"] = entries
        return
    kept = []
    for entry in entries:
        fields = _remove(entry.get("fieldsV1") or {}, changed)
        mine = (entry.get("manager"), entry.get("operation"), entry.get("subresource")) == (
            manager,
            operation,
            subresource,
        )
        if mine:
            changed = _merge(fields, changed)
        elif fields:
            kept.append({**entry, "fieldsV1": fields})
    entry = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": time,
             "fieldsType": "FieldsV1", "fieldsV1": changed}  # fmt: skip
    if subresource:
        entry["subresource"] = subresource
    meta["managedFields"] = [*kept, entry]
