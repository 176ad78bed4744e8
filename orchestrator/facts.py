"""The fact ledger: short, durable lines distilled from tool results and submissions.

Pruning may drop a tool result from a model's context; the fact it established must not be lost
(MAST FM-1.4). The ledger is pinned in every context and is the only memory that crosses a context reset.
"""

from __future__ import annotations

from typing import Any

MAX_FACTS = 60


def _pods(content: dict[str, Any]) -> list[str]:
    bad = [p for p in content.get("pods", []) if p.get("reasons") or p.get("phase") not in ("Running", "Succeeded")]
    return [
        f"pod {p.get('name')} ({p.get('owner') or 'no owner'}): {p.get('phase')}, ready {p.get('ready')}, "
        f"restarts {p.get('restarts')}, {', '.join(p.get('reasons') or []) or 'no reason'}"
        for p in bad[:8]
    ]


def _workloads(content: dict[str, Any]) -> list[str]:
    return [
        f"{w.get('namespace')}/{w.get('kind')}/{w.get('name')}: ready {w.get('ready')}/{w.get('desired')}"
        + (f" ({'; '.join(w['problems'])})" if w.get("problems") else "")
        for w in content.get("workloads", [])
        if w.get("problems") or w.get("ready") != w.get("desired")
    ][:8]


def _alerts(content: dict[str, Any]) -> list[str]:
    names: dict[str, set[str]] = {}
    for a in content.get("alerts", []):
        labels = a.get("labels") or {}
        who = labels.get("service") or labels.get("deployment") or labels.get("pod") or labels.get("namespace") or ""
        names.setdefault(a.get("name", "?"), set()).add(who)
    if not names:
        return ["no alert firing"]
    return [
        f"alert {n} firing for {', '.join(sorted(w for w in who if w)) or 'the namespace'}" for n, who in names.items()
    ]


def _events(content: dict[str, Any]) -> list[str]:
    seen, out = set(), []
    for e in content.get("events", []):
        key = (e.get("object"), e.get("reason"))
        if key in seen or e.get("type") == "Normal":
            continue
        seen.add(key)
        out.append(f"event {e.get('reason')} on {e.get('object')}: {str(e.get('message', ''))[:120]}")
    return out[:5]


def _history(content: dict[str, Any]) -> list[str]:
    revs = content.get("revisions") or []
    if not revs:
        return []
    last = revs[-1]
    change = "; ".join(last.get("change") or []) or "no template change"
    return [f"{content.get('object')}: revision {last.get('revision')} changed {change[:200]}"]


def _describe(content: dict[str, Any]) -> list[str]:
    warnings = [e for e in content.get("events", []) if e.get("type") == "Warning"]
    obj = content.get("object", "?")
    if warnings:
        e = warnings[0]
        return [f"{obj}: {e.get('reason')}: {str(e.get('message', ''))[:120]}"]
    return [f"{obj} described"]


EXTRACTORS = {
    "list_pods": _pods,
    "list_workloads": _workloads,
    "get_alerts": _alerts,
    "get_events": _events,
    "rollout_history": _history,
    "describe": _describe,
}


def facts_from(tool: str, ok: bool, content: dict[str, Any], error: str | None) -> list[str]:
    if not ok:
        return [f"{tool} failed: {error}"]
    extract = EXTRACTORS.get(tool)
    return extract(content) if extract else []


class Ledger:
    def __init__(self) -> None:
        self._lines: list[str] = []

    def add(self, lines: list[str]) -> list[str]:
        """Add lines not already known; return the new ones."""
        new = [ln for ln in lines if ln and ln not in self._lines]
        self._lines.extend(new)
        del self._lines[:-MAX_FACTS]
        return new

    def lines(self) -> list[str]:
        return list(self._lines)
