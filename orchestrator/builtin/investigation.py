"""The investigation an SRE runs, as code the builtin model re-runs on every request.

Survey the namespace; take the suspects in order (unhealthy workloads, autoscalers at their ceiling, the
services where the failing-call graph ends, then the callers that cannot reach a healthy service, and
only when nothing else explains the incident, workloads changed recently); for each, read what its
kind of suspect needs, let the playbooks' signals pick the cause, and fetch the reads that cause asks for
to confirm it. A read not made yet surfaces as NeedRead: the next tool call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .evidence import Evidence, NeedRead, as_int
from .facts import FactSheet, absorb, obj, read_autoscaler, read_caller, read_change, read_workload
from .library import Cause, Library, MissingValue, render
from .paths import read_service, service_base_name
from .survey import (
    Survey,
    Suspect,
    changed_workloads,
    follow_calls,
    maxed_autoscalers,
    reached,
    take_survey,
    unhealthy_workloads,
    unreached_workloads,
)

MAX_UNREACHED = 6  # unreached workloads whose path in is read, likeliest first
MAX_CALLERS = 3  # callers of one healthy service worth reading before giving up on that path
READERS = {
    "workload": read_workload,
    "service": read_service,
    "caller": read_caller,
    "autoscaler": read_autoscaler,
    "change": read_change,
}


@dataclass
class Finding:
    suspect: Suspect
    cause: Cause
    score: int
    matched: list[str]
    sheet: FactSheet

    @property
    def context(self) -> dict[str, Any]:
        return self.sheet.context

    def graph_name(self) -> str:
        """The node of the call graph this root cause sits at."""
        if self.suspect.type == "service":
            return self.suspect.name
        return str(self.context.get("workload_name") or self.suspect.name)


@dataclass
class Investigation:
    surveys: list[Survey] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unexplained: list[Suspect] = field(default_factory=list)  # suspects no playbook matched


def investigate(ev: Evidence, library: Library, namespaces: list[str]) -> Investigation:
    """Raises NeedRead while a read is missing (unless the evidence is no longer eager)."""
    inv = Investigation()
    for ns in namespaces:
        survey = take_survey(ev, ns)
        inv.surveys.append(survey)
        investigate_namespace(ev, library, survey, inv)
    if not inv.findings:
        # Nothing broken explains the alerts: a workload scaled to zero might (its callers may not call).
        for survey in inv.surveys:
            known = {sus.key for sus in inv.unexplained}
            for sus in unhealthy_workloads(survey, idle_suspect=True):
                finding = None if sus.key in known else examine(ev, library, survey, sus)
                if finding:
                    inv.findings.append(finding)
    if not inv.findings:
        for survey in inv.surveys:
            for sus in changed_workloads(survey):
                finding = examine(ev, library, survey, sus)
                if finding:
                    inv.findings.append(finding)
    if not inv.findings:
        # No call fails and nothing changed, yet alerts say healthy workloads get nothing: the requests
        # die on the way in (the entry point's Service or a NetworkPolicy in front of it).
        for survey in inv.surveys:
            for sus in path_leads(ev, survey)[:MAX_UNREACHED]:
                finding = examine(ev, library, survey, sus)
                if finding:
                    inv.findings.append(finding)
    return inv


def path_leads(ev: Evidence, s: Survey) -> list[Suspect]:
    """Workloads whose way in looks broken, from two namespace-wide listings (a long workload or alert
    listing may be cut): a Service with no ready endpoint, or one whose pods an ingress NetworkPolicy
    selects (the policy's podSelector holds the Service's selector); then the unreached workloads, those
    with no Service by their name first. None when no alert is about an unreached workload."""
    rest = unreached_workloads(s)
    if not rest:
        return []
    services = {str(r.get("name")): obj(r.get("summary")) for r in ev.resources("Service", s.namespace) or []}
    isolating = [
        obj(obj(r.get("summary")).get("podSelector"))
        for r in ev.resources("NetworkPolicy", s.namespace) or []
        if "Ingress" in (obj(r.get("summary")).get("policyTypes") or ["Ingress"])
    ]
    leads: dict[str, Suspect] = {}
    for name, svc in sorted(services.items()):
        selector = obj(svc.get("selector"))
        kind = s.workload_kind(name)
        if not selector or kind is None:
            continue
        empty = as_int(svc.get("endpoints_ready")) == 0
        if empty or any(all(p.get(k) == v for k, v in selector.items()) for p in isolating):
            why = "its Service has no ready endpoint" if empty else "an ingress NetworkPolicy selects its pods"
            leads[name] = Suspect("service", s.namespace, name, kind, why)
    rest.sort(key=lambda sus: sus.name in services or service_base_name(sus.name) in services)
    for sus in rest:
        leads.setdefault(sus.name, sus)
    return list(leads.values())


def investigate_namespace(ev: Evidence, library: Library, s: Survey, inv: Investigation) -> None:
    explained: set[str] = set()
    for sus in unhealthy_workloads(s) + maxed_autoscalers(s):
        finding = examine(ev, library, s, sus)
        if finding:
            inv.findings.append(finding)
            explained.add(finding.graph_name())
        else:
            inv.unexplained.append(sus)
    follow_calls(ev, s)  # victims of what was found, or where to look next
    covered = explained | {caller for name in explained for caller, _ in s.upstream(name)}
    if {c for c, _ in s.edges} <= covered:
        return  # every failing call is already explained by what was found
    leaves = [leaf for leaf in s.leaves() if leaf not in explained]
    # One caller failing to reach several services that answer others points at the caller itself.
    shared = sorted({c for leaf in leaves for c in s.callers_of(leaf) if len(s.callees_of(c)) > 1})
    for caller in shared:
        if caller in explained or len([x for x in s.callees_of(caller) if x in leaves]) < 2:
            continue
        finding = examine(ev, library, s, caller_suspect(s, caller, s.callees_of(caller)[0]))
        if finding:
            inv.findings.append(finding)
            explained.add(caller)
            explained.update(s.callees_of(caller))
    for leaf in leaves:
        kind = s.workload_kind(leaf)
        if leaf in explained or kind is None:
            continue
        # What changed last is the first suspect: a caller rolled out since it last worked, then the
        # path to the callee (Service, NetworkPolicy), then the other callers.
        callers = [c for c in s.callers_of(leaf) if c not in explained][:MAX_CALLERS]
        changed = [c for c in callers if s.revision(c) > 1]
        suspects = [caller_suspect(s, c, leaf) for c in changed]
        if as_int((s.workload(leaf) or {}).get("desired"), 1) == 0 and kind != "DaemonSet":
            # Callers fail to reach a workload scaled to zero: the workload itself comes first, before the
            # Service in front of it (which then selects no pod, rightly).
            suspects.insert(0, Suspect("workload", s.namespace, leaf, kind, "scaled to zero while callers need it"))
        if not reached(s, leaf):  # requests that never arrive: check the Service and policies on the way
            suspects.append(Suspect("service", s.namespace, leaf, kind))
        suspects += [caller_suspect(s, c, leaf) for c in callers if c not in changed]
        for sus in suspects:
            finding = examine(ev, library, s, sus)
            if finding:
                inv.findings.append(finding)
                explained.add(finding.graph_name())
                explained.add(leaf)
                break


def caller_suspect(s: Survey, caller: str, callee: str) -> Suspect:
    return Suspect("caller", s.namespace, caller, s.workload_kind(caller) or "Deployment", callee=callee)


def examine(ev: Evidence, library: Library, s: Survey, sus: Suspect) -> Finding | None:
    """Read the suspect, fetch the confirming reads of every cause it triggers, return the best cause."""
    sheet = READERS[sus.type](ev, s, sus)
    for cause in library.for_suspect(sus.type):
        if not cause.triggered(sheet.facts):
            continue
        for read in cause.reads:
            try:
                args = render(read["args"], sheet.context)
            except MissingValue:
                continue
            absorb(sheet, read["tool"], args, ev.need(read["tool"], args, f"confirm {cause.id}"))
    best = library.best(sus.type, sheet.facts)
    if best is None:
        return None
    cause, score, matched = best
    return Finding(sus, cause, score, matched, sheet)


def conclude(ev: Evidence, library: Library, namespaces: list[str]) -> tuple[Investigation, NeedRead | None]:
    """The investigation, or the read it needs next (then the investigation holds what was found so far)."""
    try:
        return investigate(ev, library, namespaces), None
    except NeedRead as need:
        return Investigation(), need
