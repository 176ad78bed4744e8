"""RBAC denials: a ServiceAccount the API server refuses (`... is forbidden: User
"system:serviceaccount:NS:SA" cannot VERB resource ...`), seen in Warning events or in the logs read."""

from __future__ import annotations

import re

from .common import name_of, quote
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot

DENIED = re.compile(
    r"[Uu]ser \\?\"system:serviceaccount:([a-z0-9.-]+):([a-z0-9.-]+)\\?\""
    r" cannot ([a-z]+) resource \\?\"([a-z0-9./-]+)\\?\""
    r"(?: in API group \\?\"([a-z0-9.-]*)\\?\")?"
)


@analyzer("ServiceAccount", reads={"Event", "Pod"})
def rbac_denials(reads: Snapshot, scope: Scope) -> list[Finding]:
    """ServiceAccounts denied by RBAC, named with what they may not do."""
    seen: dict[tuple[str, str], tuple[set[str], list[str]]] = {}
    texts: list[tuple[str, str]] = []
    for ns in scope.namespaces:
        texts += [
            (f"event {e.get('reason', '')}", str(e.get("message") or ""))
            for e in reads.of("Event", ns)
            if e.get("type") == "Warning"
        ]
    for (ns, pod, container), text in reads.logs.items():
        if scope.covers(ns):
            texts += [(f"log {pod}/{container}", line) for line in text.splitlines()]
    for source, text in texts:
        for m in DENIED.finditer(text):
            sa_ns, sa, verb, resource, group = m.groups()
            if not scope.covers(sa_ns):
                continue
            verbs, evidence = seen.setdefault((sa_ns, sa), (set(), []))
            verbs.add(f"{verb} {resource}" + (f".{group}" if group else ""))
            if len(evidence) < 3:
                evidence.append(f"{source}: {quote(text)}")
    out = []
    for (sa_ns, sa), (verbs, evidence) in sorted(seen.items()):
        users = _pods_using(reads, sa_ns, sa)
        if users:
            evidence.append(f"used by pod(s) {', '.join(users[:3])}")
        denied = ", ".join(sorted(verbs))
        cause = f"the ServiceAccount is not allowed to {denied} (no Role or ClusterRole binding grants it)"
        out.append(Finding("ServiceAccount", sa_ns, sa, cause, evidence, "high", "rules"))
    return out


def _pods_using(reads: Snapshot, ns: str, sa: str) -> list[str]:
    return [
        name_of(p) for p in reads.of("Pod", ns) if ((p.get("spec") or {}).get("serviceAccountName") or "default") == sa
    ]
