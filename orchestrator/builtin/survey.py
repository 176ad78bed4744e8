"""The first look at a namespace: alerts, workloads, pods and the graph of failing calls between services.

From the survey come the suspects an SRE would look at next: workloads that are not healthy, autoscalers
at their ceiling, and the services at the bottom of the failing-call graph (the callee that fails while
its own dependencies do not).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .evidence import Evidence, as_int, owner_name, was_cut

# Failing calls between services per (caller, callee), and the errors each service itself answers with:
# the metrics the application model exports, in one compact query.
CALL_ERRORS_QUERY = (
    'sum by (service, callee) (app_call_errors_per_second{{namespace="{ns}"}}) > 0'
    ' or sum by (service) (app_errors_per_second{{namespace="{ns}"}}) > 0'
)
# Alerts a service raises about requests it received: with one firing, calls do reach it.
SERVED_ALERTS = ("HighRequestErrorRate", "HighRequestLatency")
SUBJECT_LABELS = ("workload", "deployment", "statefulset", "daemonset", "service", "horizontalpodautoscaler")
BENIGN_POD_REASONS = {"Terminating", "Completed"}


@dataclass
class Suspect:
    type: str  # workload | service | caller | autoscaler | change
    namespace: str
    name: str  # the workload, the callee service, the autoscaler
    kind: str = "Deployment"  # kind of the workload behind it
    why: str = ""
    callee: str = ""  # caller suspects: the healthy service its calls fail to reach
    workload: str = ""  # autoscaler suspects: the workload it scales

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type, self.namespace, self.name)


@dataclass
class Survey:
    namespace: str
    alerts: list[dict[str, Any]] = field(default_factory=list)
    workloads: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    edges: dict[tuple[str, str], float] = field(default_factory=dict)  # (caller, callee) -> errors/s
    workloads_cut: bool = False  # the listing came back incomplete: a missing row proves nothing
    erring: dict[str, float] = field(default_factory=dict)  # service -> errors/s it answers with

    # ------------------------------------------------------------------------------------ lookups
    def workload(self, name: str) -> dict[str, Any] | None:
        return next((w for w in self.workloads if w.get("name") == name), None)

    def workload_kind(self, name: str) -> str | None:
        """The kind of a workload by name; "Deployment" when the listing was cut; None when it is not one."""
        row = self.workload(name)
        if row is not None:
            return str(row.get("kind") or "Deployment")
        return "Deployment" if self.workloads_cut else None

    def revision(self, name: str) -> int:
        return as_int((self.workload(name) or {}).get("revision"), 1)

    def pods_of(self, kind: str, name: str) -> list[dict[str, Any]]:
        return [p for p in self.pods if owner_name(p.get("owner")) == (kind, name)]

    def subject(self, alert: dict[str, Any]) -> str:
        """The workload/service an alert is about (a pod alert: the pod's owner)."""
        labels = alert.get("labels") or {}
        for key in SUBJECT_LABELS:
            if labels.get(key):
                return str(labels[key])
        pod = labels.get("pod")
        if pod:
            row = next((p for p in self.pods if p.get("name") == pod), None)
            if row is not None:
                return owner_name(row.get("owner"))[1]
        return ""

    def alert_names(self, name: str) -> list[str]:
        return sorted({str(a.get("name")) for a in self.alerts if self.subject(a) == name})

    def alert_line(self, alert: dict[str, Any]) -> str:
        subject = self.subject(alert)
        return f"{alert.get('name')}({subject})" if subject else str(alert.get("name"))

    @property
    def app_alerts(self) -> list[dict[str, Any]]:
        """Alerts about a service's requests (the call graph explains those)."""
        return [a for a in self.alerts if (a.get("labels") or {}).get("service")]

    # ------------------------------------------------------------------------------------ call graph
    def callers_of(self, callee: str) -> list[str]:
        return sorted(c for (c, d) in self.edges if d == callee)

    def callees_of(self, caller: str) -> list[str]:
        return sorted(d for (c, d) in self.edges if c == caller)

    def leaves(self) -> list[str]:
        """Callees that fail to answer while none of their own calls fail: where the failure starts."""
        callees = {d for (_, d) in self.edges}
        failing_callers = {c for (c, _) in self.edges}
        leaves = [d for d in callees if d not in failing_callers]
        return sorted(leaves, key=lambda d: (-sum(v for (c, x), v in self.edges.items() if x == d), d))

    def upstream(self, name: str) -> list[tuple[str, str]]:
        """Failing edges (caller, callee) reachable backwards from `name`, nearest first."""
        out, seen, queue = [], {name}, deque([name])
        while queue:
            callee = queue.popleft()
            for caller in self.callers_of(callee):
                out.append((caller, callee))
                if caller not in seen:
                    seen.add(caller)
                    queue.append(caller)
        return out


def take_survey(ev: Evidence, ns: str) -> Survey:
    s = Survey(ns)
    s.alerts = ev.alerts(ns)
    s.workloads = ev.workloads(ns)
    s.workloads_cut = was_cut(ev.need("list_workloads", {"namespace": ns}), "workloads")
    if needs_pods(s):
        s.pods = ev.pods(ns)
    return s


def follow_calls(ev: Evidence, s: Survey) -> None:
    """Read the failing calls between services (when service alerts fire) into the survey's graph."""
    if s.app_alerts and not s.edges:
        rows = ev.metric(CALL_ERRORS_QUERY.format(ns=s.namespace)) or []
        for row in rows:
            metric = row.get("metric") or {}
            caller, callee = metric.get("service"), metric.get("callee")
            try:
                value = float(row.get("value", 0))
            except (TypeError, ValueError):
                value = 0.0
            if caller and callee and value > 0:
                s.edges[(str(caller), str(callee))] = value
            elif caller and value > 0:
                s.erring[str(caller)] = value


def needs_pods(s: Survey) -> bool:
    """Pods are worth reading when a workload is short or an alert names a pod (short workloads are
    listed first, so a cut listing still shows them)."""
    short = any(w.get("problems") or as_int(w.get("ready")) < as_int(w.get("desired")) for w in s.workloads)
    return short or any((a.get("labels") or {}).get("pod") for a in s.alerts)


def reached(s: Survey, name: str) -> bool:
    """The service itself answers requests with errors (or slowly): traffic gets to it, so the path to it
    (Service, NetworkPolicy) is not the problem."""
    return name in s.erring or any(s.subject(a) == name for a in s.alerts if str(a.get("name")) in SERVED_ALERTS)


# ---------------------------------------------------------------------------------------------- suspects
def unhealthy_workloads(s: Survey, idle_suspect: bool = False) -> list[Suspect]:
    """Workloads short of ready replicas, with unwell pods, or scaled to zero while something needs them
    (with idle_suspect, any workload scaled to zero while alerts fire that nothing else explains)."""
    needed = {d for (_, d) in s.edges} | {s.subject(a) for a in s.alerts}
    out = []
    for w in s.workloads:
        kind, name = str(w.get("kind") or "Deployment"), str(w.get("name"))
        desired, ready = as_int(w.get("desired")), as_int(w.get("ready"))
        unwell = [p for p in s.pods_of(kind, name) if set(p.get("reasons") or []) - BENIGN_POD_REASONS]
        if desired > 0 and ready < desired:
            why = f"{ready}/{desired} replicas ready"
        elif unwell:
            why = f"pods unwell: {', '.join(sorted({r for p in unwell for r in p.get('reasons') or []}))}"
        elif desired == 0 and kind != "DaemonSet" and (name in needed or (idle_suspect and s.alerts)):
            why = "scaled to zero while callers or alerts need it"
        else:
            continue
        out.append(Suspect("workload", s.namespace, name, kind, why))
    # The emptiest first: a workload with nothing ready is the likelier origin.
    return sorted(out, key=lambda x: (as_int((s.workload(x.name) or {}).get("ready")) > 0, x.name))


def unreached_workloads(s: Survey) -> list[Suspect]:
    """Healthy workloads that alerts are about while no call to them fails and none answers with errors:
    requests stop before they arrive, on the path in (its Service, a NetworkPolicy)."""
    out = []
    for w in s.workloads:
        kind, name = str(w.get("kind") or "Deployment"), str(w.get("name"))
        desired, ready = as_int(w.get("desired")), as_int(w.get("ready"))
        if desired == 0 or ready < desired or not s.alert_names(name) or reached(s, name) or s.callers_of(name):
            continue
        out.append(Suspect("service", s.namespace, name, kind, f"{', '.join(s.alert_names(name))} while healthy"))
    return out


def maxed_autoscalers(s: Survey) -> list[Suspect]:
    out: dict[str, Suspect] = {}
    for a in s.alerts:
        labels = a.get("labels") or {}
        hpa = labels.get("horizontalpodautoscaler")
        if hpa and hpa not in out:
            target = labels.get("scaletargetref_name") or labels.get("workload") or hpa
            kind = labels.get("scaletargetref_kind") or "Deployment"
            out[hpa] = Suspect("autoscaler", s.namespace, hpa, kind, f"{a.get('name')} fires", workload=target)
    return list(out.values())


def changed_workloads(s: Survey, limit: int = 4) -> list[Suspect]:
    """Workloads whose pod template changed since they were created (revision > 1), newest revision first."""
    rows = [w for w in s.workloads if as_int(w.get("revision"), 1) > 1]
    rows.sort(key=lambda w: (-as_int(w.get("revision"), 1), str(w.get("name"))))
    return [
        Suspect("change", s.namespace, str(w["name"]), str(w.get("kind") or "Deployment"), "its pod template changed")
        for w in rows[:limit]
    ]
