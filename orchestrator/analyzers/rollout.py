"""What changed between two pod templates: the lines a revision change is explained by."""

from __future__ import annotations

from .common import quote

REVISION = "deployment.kubernetes.io/revision"


def revision(obj: dict) -> int:
    try:
        return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, 0))
    except (TypeError, ValueError):
        return 0


def template_changes(old: dict, new: dict, limit: int = 4) -> list[str]:
    """`container app: image a -> b`, `env X: 1 -> 2`, ... between two pod specs."""
    changes: list[str] = []
    old_c = {c.get("name"): c for c in _all(old)}
    for c in _all(new):
        name = c.get("name")
        before = old_c.get(name)
        if before is None:
            changes.append(f"container {name} added")
            continue
        for key in ("image", "command", "args", "resources", "livenessProbe", "readinessProbe", "startupProbe"):
            if before.get(key) != c.get(key):
                changes.append(f"container {name}: {key} {quote(before.get(key), 80)} -> {quote(c.get(key), 80)}")
        old_env = {e.get("name"): e.get("value", e.get("valueFrom")) for e in before.get("env") or []}
        for e in c.get("env") or []:
            value = e.get("value", e.get("valueFrom"))
            if old_env.get(e.get("name"), "<unset>") != value:
                changes.append(
                    f"container {name}: env {e.get('name')} {old_env.get(e.get('name'), '<unset>')} -> {value}"
                )
    for name in set(old_c) - {c.get("name") for c in _all(new)}:
        changes.append(f"container {name} removed")
    return changes[:limit]


def _all(spec: dict) -> list[dict]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
