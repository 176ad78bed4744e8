"""Small readers of API objects shared by the analyzers."""

from __future__ import annotations

from typing import Any

from ..redaction import mask_text
from .finding import ref
from .snapshot import Snapshot, event_time

MAX_QUOTE = 240  # characters of one quoted message
POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


def meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def name_of(obj: dict) -> str:
    return str(meta(obj).get("name", ""))


def ns_of(obj: dict) -> str | None:
    return meta(obj).get("namespace")


def quote(text: Any, limit: int = MAX_QUOTE) -> str:
    line = " ".join(mask_text(str(text or "")).split())  # masked before the cut, which could halve a secret
    return line if len(line) <= limit else line[: limit - 1] + "…"


def condition(obj: dict, ctype: str) -> dict | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def owner_ref(reads: Snapshot, obj: dict) -> str | None:
    top = reads.owner(obj)
    return ref(*top) if top else None


def symptoms_of(reads: Snapshot, pod: dict) -> list[str]:
    """The pod and the workload that owns it: both show the symptoms of what is wrong beneath them."""
    out = [ref("Pod", ns_of(pod), name_of(pod))]
    top = reads.owner(pod)
    if top:
        out.append(ref(*top))
    return out


def event_lines(reads: Snapshot, kind: str, namespace: str | None, name: str, limit: int = 3) -> list[str]:
    """The newest distinct Warning events of an object, as `event Reason (xN): message`."""
    out: list[str] = []
    seen: set[tuple[str, str]] = set()
    for ev in sorted(reads.events(kind, namespace, name, warning_only=True), key=event_time, reverse=True):
        key = (ev.get("reason", ""), ev.get("message", ""))
        if key in seen:
            continue
        seen.add(key)
        count = ev.get("count") or 1
        times = f" (x{count})" if count > 1 else ""
        out.append(f"event {ev.get('reason', '')}{times}: {quote(ev.get('message'))}")
        if len(out) >= limit:
            break
    return out


def pod_spec(obj: dict) -> dict:
    """The pod spec of a Pod, of a workload's template, or of a CronJob's job template."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod" or "containers" in spec:
        return spec
    if "jobTemplate" in spec:
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return ((spec.get("template") or {}).get("spec")) or {}


def containers(spec: dict) -> list[dict]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def template_owners(reads: Snapshot, namespace: str) -> list[tuple[str, dict]]:
    """Objects whose pod template decides what runs: workloads, unowned Jobs, and bare Pods."""
    out: list[tuple[str, dict]] = []
    for kind in POD_TEMPLATE_KINDS:
        for obj in reads.of(kind, namespace):
            if kind in ("Pod", "Job") and meta(obj).get("ownerReferences"):
                continue  # their controller's template is the one to fix
            out.append((kind, obj))
    return out
