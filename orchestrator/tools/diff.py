"""What changed between two versions of an object, as lines a person reads in a rollout history:
`containers[ad].image: old -> new`, `containers[ad].env[X]: removed`, `nodeSelector: added {...}`;
and the JSON merge patch that undoes a change.

Lists whose items all have a `name` (containers, env, volumes, ports) are compared by name, everything
else as a value. Credential-named env values and credential-looking text are masked in the lines.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..redaction import mask_text
from .redact import env_value, redact_argv

HASH_LABELS = ("pod-template-hash", "controller-revision-hash")
MAX_VALUE_CHARS = 120
IGNORED_METADATA = (
    "resourceVersion",
    "generation",
    "managedFields",
    "uid",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "ownerReferences",
)


def normal_template(template: dict) -> dict:
    """A pod template without the controller's bookkeeping (hash labels, `$patch` markers)."""
    t = copy.deepcopy(template or {})
    t.pop("$patch", None)
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        for key in HASH_LABELS:
            labels.pop(key, None)
    meta = t.get("metadata")
    if isinstance(meta, dict):
        for key in [k for k, v in meta.items() if v in (None, {}, [])]:
            meta.pop(key)
        if not meta:
            t.pop("metadata")
    return t


def template_changes(old: dict, new: dict) -> list[str]:
    """Pod-template differences, paths relative to the pod spec (labels/annotations by name)."""
    a, b = normal_template(old), normal_template(new)
    lines = []
    for section in ("labels", "annotations"):
        lines += changes(
            (a.get("metadata") or {}).get(section) or {}, (b.get("metadata") or {}).get(section) or {}, section
        )
    return lines + changes(a.get("spec") or {}, b.get("spec") or {}, "")


def changes(old: Any, new: Any, path: str = "") -> list[str]:
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        if path.endswith("]") and _is_env_path(path):
            return _env_change(path, old, new)
        out: list[str] = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            if key in old and key in new:
                out += changes(old[key], new[key], sub)
            elif _named(old.get(key)) or _named(new.get(key)):  # a whole named list: say it item by item
                out += changes(old.get(key) or [], new.get(key) or [], sub)
            elif key not in new:
                out.append(f"{sub}: removed")
            else:
                out.append(f"{sub}: added {fmt(new[key], sub)}")
        return out
    if isinstance(old, list) and isinstance(new, list) and (_named(old) or not old) and (_named(new) or not new):
        before = {i["name"]: i for i in old}
        after = {i["name"]: i for i in new}
        out = []
        for name in list(before) + [n for n in after if n not in before]:
            sub = f"{path}[{name}]"
            if name not in after:
                out.append(f"{sub}: removed")
            elif name not in before:
                out.append(f"{sub}: added {fmt(after[name], sub)}")
            else:
                out += changes(before[name], after[name], sub)
        return out
    if not path:
        return [f"changed: {fmt(old, path)} -> {fmt(new, path)}"]
    return [f"{path}: {fmt(old, path)} -> {fmt(new, path)}"]


def _named(items: Any) -> bool:
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items)
    )


def _is_env_path(path: str) -> bool:
    return path.rsplit("[", 1)[0].endswith("env")


def env_text(item: dict) -> str:
    """One env entry as a short value: the literal (masked if a credential) or its reference."""
    source = item.get("valueFrom") or {}
    if "secretKeyRef" in source:
        r = source["secretKeyRef"] or {}
        return f"secretKeyRef {r.get('name')}/{r.get('key')}"
    if "configMapKeyRef" in source:
        r = source["configMapKeyRef"] or {}
        return f"configMapKeyRef {r.get('name')}/{r.get('key')}"
    if source:
        return json.dumps(source, separators=(",", ":"))
    return str(env_value(item.get("name", ""), item.get("value", "")))


def _env_change(path: str, old: dict, new: dict) -> list[str]:
    before, after = env_text(old), env_text(new)
    if before == after:  # both masked: say that it changed, never to what
        return [f"{path}: changed (credential value redacted)"]
    return [f"{path}: {_clip(before)} -> {_clip(after)}"]


def fmt(value: Any, path: str = "") -> str:
    """A value for a change line: masked, compact, clipped."""
    if isinstance(value, dict) and _is_env_path(path) and path.endswith("]"):
        return _clip(env_text(value))
    if isinstance(value, list) and path.rsplit(".", 1)[-1] in ("command", "args"):
        value = redact_argv(value)
    if isinstance(value, dict) and ("command" in value or "args" in value or "env" in value):
        value = _redacted_container(value)
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=False)
    return _clip(mask_text(text))


def _redacted_container(c: dict) -> dict:
    out = dict(c)
    for key in ("command", "args"):
        if key in out:
            out[key] = redact_argv(out[key])
    if "env" in out:
        out["env"] = [{"name": e.get("name"), "value": env_text(e)} for e in out["env"] or []]
    return out


def _clip(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def object_changes(old: dict, new: dict) -> list[str]:
    """Differences in what a person edits: spec (or data/top-level fields) and labels/annotations."""
    a, b = _editable(old), _editable(new)
    return changes(a, b, "")


def _editable(obj: dict) -> dict:
    out = {k: v for k, v in obj.items() if k not in ("status", "metadata", "apiVersion", "kind")}
    meta = obj.get("metadata") or {}
    for key in ("labels", "annotations"):
        if meta.get(key):
            out[f"metadata.{key}"] = meta[key]
    return out


def undo_patch(current: dict, original: dict) -> dict:
    """The JSON merge patch (RFC 7386) that turns `current` back into `original`, for editable fields."""
    a = {k: v for k, v in current.items() if k not in ("status", "apiVersion", "kind")}
    b = {k: v for k, v in original.items() if k not in ("status", "apiVersion", "kind")}
    for doc in (a, b):
        if isinstance(doc.get("metadata"), dict):
            doc["metadata"] = {k: v for k, v in doc["metadata"].items() if k not in IGNORED_METADATA}
    return _merge_inverse(a, b)


def _merge_inverse(current: Any, original: Any) -> Any:
    if not (isinstance(current, dict) and isinstance(original, dict)):
        return copy.deepcopy(original)
    out: dict[str, Any] = {}
    for key in set(current) | set(original):
        if key not in original:
            out[key] = None
        elif key not in current:
            out[key] = copy.deepcopy(original[key])
        elif current[key] != original[key]:
            out[key] = _merge_inverse(current[key], original[key])
    return out
