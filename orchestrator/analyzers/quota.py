"""ResourceQuotas and LimitRanges that stop pods being created (FailedCreate ... exceeded quota / forbidden
by a LimitRange), and quotas already at their hard limit."""

from __future__ import annotations

import re

from .common import name_of, owner_ref, quote
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot

EXCEEDED = re.compile(r"exceeded quota: ([a-z0-9.-]+)")
CREATORS = ("ReplicaSet", "StatefulSet", "DaemonSet", "Job")


def _failed_creates(reads: Snapshot, ns: str) -> list[tuple[dict, str, str]]:
    """(controller object, its kind, message) for each FailedCreate Warning of a pod-creating controller."""
    out = []
    for kind in CREATORS:
        for obj in reads.of(kind, ns):
            for ev in reads.events(kind, ns, name_of(obj), warning_only=True):
                if ev.get("reason") == "FailedCreate":
                    out.append((obj, kind, str(ev.get("message") or "")))
    return out


@analyzer("ResourceQuota", reads={"Event", *CREATORS, "Deployment", "CronJob"})
def quotas(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Quotas that refuse pods (FailedCreate: exceeded quota) or are used up."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        blocked: dict[str, list[tuple[dict, str, str]]] = {}
        for obj, kind, message in _failed_creates(reads, ns):
            m = EXCEEDED.search(message)
            if m:
                blocked.setdefault(m.group(1), []).append((obj, kind, message))
        for quota in reads.of("ResourceQuota", ns):
            name = name_of(quota)
            hits = blocked.pop(name, [])
            if hits:
                workloads = sorted({owner_ref(reads, o) or f"{ns}/{k}/{name_of(o)}" for o, k, _ in hits})
                evidence = [f"event FailedCreate: {quote(hits[-1][2])}"] + [f"blocks {w}" for w in workloads[:3]]
                evidence += _used_up(quota)
                cause = f"the quota refuses new pods of {', '.join(w.split('/')[-1] for w in workloads[:3])}"
                out.append(Finding("ResourceQuota", ns, name, cause, evidence, "high", "spec.hard"))
            elif _used_up(quota):
                out.append(
                    Finding(
                        "ResourceQuota",
                        ns,
                        name,
                        "the quota is used up: the next pod will be refused",
                        _used_up(quota),
                        "low",
                        "status.used",
                    )
                )
        for name, hits in blocked.items():  # a quota named in events but not read (deleted since, or forbidden)
            out.append(
                Finding(
                    "ResourceQuota",
                    ns,
                    name,
                    "the quota refuses new pods",
                    [f"event FailedCreate: {quote(hits[-1][2])}"],
                    "high",
                    "spec.hard",
                )
            )
    return out


def _used_up(quota: dict) -> list[str]:
    status = quota.get("status") or {}
    hard, used = status.get("hard") or {}, status.get("used") or {}
    lines = []
    for resource, limit in hard.items():
        if resource in used and _amount(used[resource]) >= _amount(limit) > 0:
            lines.append(f"status.used[{resource}]={used[resource]} of hard {limit}")
    return lines


_UNITS = {
    "": 1,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}


def _amount(text: object) -> float:
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text).strip())
    if not m or m.group(2) not in _UNITS:
        return 0.0
    return float(m.group(1)) * _UNITS[m.group(2)]


@analyzer("LimitRange", reads={"Event", *CREATORS, "Deployment", "CronJob"})
def limit_ranges(reads: Snapshot, scope: Scope) -> list[Finding]:
    """LimitRanges whose minimum or maximum refuses the pods a controller tries to create."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        ranges = reads.of("LimitRange", ns)
        for obj, kind, message in _failed_creates(reads, ns):
            text = message.lower()
            if "exceeded quota" in text or not ("per container" in text or "per pod" in text or "limitrange" in text):
                continue
            evidence = [f"event FailedCreate on {kind} {name_of(obj)}: {quote(message)}"]
            if len(ranges) == 1:  # the message does not name the LimitRange; with one, it is that one
                out.append(
                    Finding(
                        "LimitRange",
                        ns,
                        name_of(ranges[0]),
                        "the LimitRange refuses the pods' resources",
                        evidence,
                        "high",
                        "spec.limits",
                        owner_ref(reads, obj),
                    )
                )
            else:
                out.append(
                    Finding(
                        kind,
                        ns,
                        name_of(obj),
                        "a LimitRange refuses the pods' resources",
                        evidence,
                        "high",
                        "spec.template.spec.containers[].resources",
                        owner_ref(reads, obj),
                    )
                )
    return out
