"""Warning events of any object in scope: the catch-all for what no specific analyzer explains (the
runner drops these for objects another analyzer already reported)."""

from __future__ import annotations

from .common import quote
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot, event_time

REPEATED = 5  # a warning repeated this often is a persisting condition, not a blip
RECENT_SECONDS = 900.0


@analyzer("Event", name="warning_events")
def warning_events(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Warning events grouped by object and reason; repeated recent ones rank above one-offs."""
    now = reads.time()
    groups: dict[tuple[str, str, str, str], list[dict]] = {}
    for ns in scope.namespaces:
        for ev in reads.of("Event", ns):
            if ev.get("type") != "Warning":
                continue
            inv = ev.get("involvedObject") or ev.get("regarding") or {}
            key = (inv.get("kind", ""), inv.get("namespace") or ns, inv.get("name", ""), ev.get("reason", ""))
            groups.setdefault(key, []).append(ev)
    out = []
    for (kind, ns, name, reason), evs in groups.items():
        evs.sort(key=event_time)
        count = sum(e.get("count") or 1 for e in evs)
        newest = evs[-1]
        recent = now is not None and now - event_time(newest) <= RECENT_SECONDS
        confidence = "medium" if count >= REPEATED and recent else "low"
        last = newest.get("lastTimestamp") or newest.get("eventTime") or "?"
        evidence = [f"event {reason} (x{count}, last {last}): {quote(newest.get('message'))}"]
        out.append(
            Finding(
                kind or "Unknown",
                ns,
                name,
                f"Kubernetes reports {reason}: {quote(newest.get('message'), 120)}",
                evidence,
                confidence,
                "events",
            )
        )
    return out
