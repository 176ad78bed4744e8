"""What analyzers read: objects already fetched for a scope, indexed once, plus the logs read for crashes.

Objects are plain dicts as the API server returns them (camelCase JSON). A kind the reader did not fetch
(or the cluster does not serve) is simply absent: `fetched(kind)` tells an empty list from an unread one,
so an analyzer never reports an object "missing" when it could not look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .selectors import matches, matches_map


@dataclass(frozen=True)
class Scope:
    namespaces: tuple[str, ...]

    def covers(self, namespace: str | None) -> bool:
        """Cluster-scoped objects (namespace None) are always in scope; they are read only as context."""
        return namespace is None or namespace in self.namespaces


@dataclass
class Snapshot:
    objects: dict[str, list[dict]] = field(default_factory=dict)
    logs: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (namespace, pod, container) -> text
    now: float | None = None  # the server's time, when known; else the newest timestamp seen
    # Firing alerts as `{"name", "labels", "annotations"}`, when the caller read them (a run does): some
    # causes are only named in an alert's labels (the rule group Prometheus fails to evaluate).
    alerts: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name: dict[tuple[str, str | None, str], dict] = {}
        for kind, items in self.objects.items():
            for obj in items:
                meta = obj.get("metadata") or {}
                self._by_name[(kind, meta.get("namespace"), meta.get("name", ""))] = obj
        self._events: dict[tuple[str, str | None, str], list[dict]] = defaultdict(list)
        for ev in self.objects.get("Event", []):
            inv = ev.get("involvedObject") or ev.get("regarding") or {}
            key = (inv.get("kind", ""), inv.get("namespace") or None, inv.get("name", ""))
            self._events[key].append(ev)
        for evs in self._events.values():
            evs.sort(key=event_time)

    # ------------------------------------------------------------------ lookups
    def fetched(self, kind: str) -> bool:
        return kind in self.objects

    def of(self, kind: str, namespace: str | None = None) -> list[dict]:
        items = self.objects.get(kind, [])
        if namespace is None:
            return items
        return [o for o in items if (o.get("metadata") or {}).get("namespace") == namespace]

    def find(self, kind: str, namespace: str | None, name: str) -> dict | None:
        return self._by_name.get((kind, namespace, name))

    def events(self, kind: str, namespace: str | None, name: str, warning_only: bool = False) -> list[dict]:
        evs = self._events.get((kind, namespace, name), [])
        return [e for e in evs if e.get("type") == "Warning"] if warning_only else list(evs)

    def pods(self, namespace: str, selector: dict | None, label_selector: bool = True) -> list[dict]:
        """Pods of a namespace a selector picks (LabelSelector by default, a Service map otherwise)."""
        test = matches if label_selector else matches_map
        return [p for p in self.of("Pod", namespace) if test(selector, (p.get("metadata") or {}).get("labels"))]

    def owner(self, obj: dict) -> tuple[str, str | None, str] | None:
        """The top controller of an object: a Pod's Deployment through its ReplicaSet, a Job's CronJob."""
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace")
        found: tuple[str, str | None, str] | None = None
        current = obj
        for _ in range(4):  # Pod -> ReplicaSet -> Deployment is the longest chain of built-in controllers
            refs = (current.get("metadata") or {}).get("ownerReferences") or []
            ctrl = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
            if not ctrl:
                break
            found = (ctrl.get("kind", ""), namespace, ctrl.get("name", ""))
            parent = self.find(*found)
            if parent is None:
                break
            current = parent
        return found

    def time(self) -> float | None:
        """Now, as the cluster sees it: the server's clock, else the newest event."""
        # The newest event counts too: a server whose clock is virtual (a simulator) or skewed still
        # stamps its events in the cluster's own time.
        times = [event_time(e) for e in self.objects.get("Event", [])]
        known = [t for t in (self.now, max(times) if times else None) if t is not None]
        return max(known) if known else None

    def kinds(self) -> Iterable[str]:
        return self.objects.keys()


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def event_time(ev: dict) -> float:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        ts = parse_time(ev.get(key))
        if ts is not None:
            return ts
    return parse_time((ev.get("metadata") or {}).get("creationTimestamp")) or 0.0
