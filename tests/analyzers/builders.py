"""Plain-dict API objects for analyzer tests, shaped as the API server returns them."""

from __future__ import annotations

from typing import Any

from orchestrator.analyzers import Finding, Scope, Snapshot, analyze

NS = "shop"
NOW = "2026-01-01T12:00:00Z"


def obj(kind: str, name: str, ns: str | None = NS, labels: dict | None = None, **rest: Any) -> dict:
    meta: dict[str, Any] = {"name": name, "labels": labels or {}}
    if ns is not None:
        meta["namespace"] = ns
    for key in ("ownerReferences", "annotations"):
        if key in rest:
            meta[key] = rest.pop(key)
    return {"kind": kind, "metadata": meta, **rest}


def owned_by(kind: str, name: str) -> list[dict]:
    return [{"kind": kind, "name": name, "controller": True}]


def pod(name: str, statuses: list[dict] | None = None, labels: dict | None = None, **rest: Any) -> dict:
    spec = rest.pop("spec", None) or {"containers": [{"name": "app", "image": "app:1"}]}
    status = rest.pop("status", None) or {"phase": "Running", "containerStatuses": statuses or []}
    return obj("Pod", name, labels=labels or {"app": name}, spec=spec, status=status, **rest)


def event(
    kind: str, name: str, reason: str, message: str, type_: str = "Warning", count: int = 1, ns: str = NS
) -> dict:
    return {
        "kind": "Event",
        "metadata": {"name": f"{name}.{reason}", "namespace": ns},
        "involvedObject": {"kind": kind, "name": name, "namespace": ns},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "lastTimestamp": NOW,
    }


def run(objects: dict[str, list[dict]], kinds: list[str], logs: dict | None = None) -> list[Finding]:
    """The findings of the analyzers of `kinds` over a snapshot of `objects` (kinds absent are unread)."""
    report = analyze(Snapshot(objects, logs or {}), Scope((NS,)), kinds)
    assert report.errors == []
    return report.findings


def only(findings: list[Finding], kind: str, name: str) -> Finding:
    hits = [f for f in findings if f.kind == kind and f.name == name]
    assert len(hits) == 1, [f.to_dict() for f in findings]
    return hits[0]
