"""Preemption: pods the scheduler evicted to make room for a pod of higher priority.

The scheduler records `Preempted` on the victim ("Preempted by pod UID on node NODE") and deletes it; a
bare pod is then gone for good, and its events are what is left of it. The preemptor is found by its uid.
"""

from __future__ import annotations

import re

from .common import meta, name_of, ns_of, quote
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot

BY = re.compile(r"Preempted by pod (\S+) on node (\S+)")


@analyzer("Pod", name="preempted", reads={"Event"}, normal_events={"Preempted"})
def preempted(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Pods preempted by a higher-priority pod: no node had room for both; a bare victim is not re-created."""
    by_uid = {meta(p).get("uid"): p for ns in scope.namespaces for p in reads.of("Pod", ns)}
    out: dict[tuple[str, str], Finding] = {}
    for ns in scope.namespaces:
        for ev in reads.of("Event", ns):
            inv = ev.get("involvedObject") or ev.get("regarding") or {}
            m = BY.search(str(ev.get("message") or ""))
            if ev.get("reason") != "Preempted" or inv.get("kind") != "Pod" or m is None:
                continue
            victim = str(inv.get("name", ""))
            if (ns, victim) in out:
                continue
            preemptor = by_uid.get(m[1])
            who = f"pod {ns_of(preemptor)}/{name_of(preemptor)}" if preemptor else f"a pod (uid {m[1]})"
            spec = (preemptor or {}).get("spec") or {}
            evidence = [f"event Preempted: {quote(ev.get('message'))}"]
            if preemptor:
                klass = spec.get("priorityClassName") or "none"
                evidence.append(f"{who}: priorityClassName={klass}, priority={spec.get('priority', 0)}")
            gone = reads.find("Pod", ns, victim) is None
            if gone:
                evidence.append(f"pod {ns}/{victim} no longer exists")
            cause = f"it was preempted on node {m[2]} by {who} of higher priority: the node had no room for both" + (
                ", and nothing re-created it" if gone else ""
            )
            out[(ns, victim)] = Finding(
                "Pod", ns, victim, cause, evidence, "high" if gone else "medium", "events[Preempted]"
            )
    return list(out.values())
