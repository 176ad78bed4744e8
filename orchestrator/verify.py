"""The verifier gate: the verifier agent proposes, this code decides.

An incident closes only on a PASS verdict, and a verdict is code: named checks evaluated on fresh reads of
the cluster and of Alertmanager, never on what an agent says. `Gate.required_checks` decides what must be
proven (the remediated objects' health, the alerts cleared, the playbook's and the incident's own checks);
`Gate.evaluate` reads and judges. A failed read fails its check with a one-line error; missing evidence
is never a pass.

    gate = Gate(api_client, "http://alertmanager:9093", ["otel-demo"], incident_alerts=[])
    checks = gate.required_checks(["otel-demo/Deployment/cart"], playbook_checks=[], extra=[])
    verdict = await gate.evaluate(checks)
    verdict.passed, verdict.objections
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .checks import CHECKS, Context, ReadError, Reads, Target, TargetError, parse_target
from .checks.reads import one_line
from .checks.relations import affected_workloads
from .checks.targets import WORKLOAD_KINDS
from .redaction import mask_text, scrub

WORKLOAD_CHECKS = ("workload_available", "no_pending_or_crashlooping", "no_recent_restarts")
SERVICE_CHECKS = ("service_selects_pods", "endpoints_ready", "service_ports_match")
KIND_CHECKS = {
    "ResourceQuota": "quota_admits_pods",
    "HorizontalPodAutoscaler": "hpa_within_limits",
    "Node": "node_schedulable",
    "PersistentVolumeClaim": "pvc_bound",
    "Job": "job_complete",
    "CronJob": "job_complete",
    "Ingress": "ingress_backends_ready",
    "PrometheusRule": "rules_evaluate",
}


@dataclass(frozen=True)
class CheckSpec:
    """One check to run: its name, a target ("ns/Kind/name", a namespace, or None) and an alert name."""

    name: str
    target: str | None = None
    alert: str | None = None

    def __str__(self) -> str:
        return " ".join(p for p in (self.name, self.target, f"[{self.alert}]" if self.alert else None) if p)


@dataclass
class CheckResult:
    name: str
    target: str | None
    passed: bool
    value: dict[str, Any] = field(default_factory=dict)  # what the code observed, e.g. {"ready": 1, "desired": 1}
    evidence: str = ""  # one line a human can read
    error: str | None = None  # set when the check could not read what it needed

    def objection(self) -> str:
        if self.error:
            where = f" {self.target}" if self.target else ""
            return f"{self.name}{where}: {self.error}"
        return f"{self.name}: {self.evidence}"  # evidence names its target

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verdict:
    passed: bool
    results: list[CheckResult]
    required: list[CheckSpec]
    objections: list[str]  # one line per failed check
    at: str  # when it was judged (UTC, RFC 3339)
    advisory: list[str] = field(default_factory=list)  # checks the diagnosis named that the gate does not know

    @property
    def summary(self) -> str:
        ok = sum(r.passed for r in self.results)
        return f"{'PASS' if self.passed else 'FAIL'}: {ok}/{len(self.results)} checks passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "at": self.at,
            "required": [asdict(c) for c in self.required],
            "results": [r.to_dict() for r in self.results],
            "objections": list(self.objections),
            "advisory": list(self.advisory),
        }


class Gate:
    def __init__(
        self,
        api: Any,
        alertmanager_url: str | None,
        namespaces: list[str],
        incident_alerts: list[dict],
        *,
        restart_window: float = 120.0,
        timeout: float = 10.0,
    ) -> None:
        self.api = api  # a kubernetes.client.ApiClient
        self.alertmanager_url = alertmanager_url
        self.namespaces = list(dict.fromkeys(namespaces))
        self.incident_alerts = list(incident_alerts)
        self.restart_window = restart_window
        self.timeout = timeout
        self.advisory: list[str] = []  # set by required_checks: playbook check names no check answers to

    def _reads(self) -> Reads:
        return Reads(self.api, self.alertmanager_url, timeout=self.timeout)

    # ------------------------------------------------------------------ what must be proven
    def required_checks(
        self, remediated: list[str], playbook_checks: list[str], extra: list[CheckSpec]
    ) -> list[CheckSpec]:
        """The checks a PASS needs: each remediated object's health (and the workloads it affects), no
        alert firing in the incident's namespaces (and those of the remediated objects) nor any alert the
        incident names, the playbook's checks aimed at what was remediated, and the incident's extra
        checks. Each appears once. Reads the cluster to resolve what an object affects.

        A playbook check name no check answers to ("pods are healthy again") is advisory: kept in
        `self.advisory` for the report, never required, since the checks derived from the writes already
        say whether the fix worked."""
        reads = self._reads()
        specs: list[CheckSpec] = []
        entities: list[Target] = []
        affected: dict[Target, list[Target] | None] = {}
        for raw in remediated:
            try:
                target = parse_target(raw)
            except TargetError:
                specs.append(CheckSpec("workload_available", raw))  # evaluates to an error naming the target
                continue
            entities.append(target)
            affected[target] = self._affected(reads, target)
            specs += self._object_checks(target, affected[target])
        scope = list(dict.fromkeys(self.namespaces + [t.namespace for t in entities if t.namespace]))
        specs += [CheckSpec("alerts_cleared", ns) for ns in scope]
        specs += [CheckSpec("alerts_cleared", ns, name) for name, ns in self._named_alerts()]
        if not entities:
            specs += [CheckSpec("no_pending_or_crashlooping", ns) for ns in scope]
        self.advisory = list(dict.fromkeys(n for n in playbook_checks if n not in CHECKS))
        for name in playbook_checks:
            if name in CHECKS:
                specs += self._playbook_checks(name, entities, affected, scope)
        for spec in extra:
            specs += self._scoped(spec, scope)
        return list(dict.fromkeys(specs))

    def _affected(self, reads: Reads, target: Target) -> list[Target] | None:
        try:
            return affected_workloads(reads, target, self.namespaces)
        except ReadError:
            return None  # unresolved: the namespace-wide checks stand in

    def _object_checks(self, target: Target, affected: list[Target] | None) -> list[CheckSpec]:
        if target.kind in WORKLOAD_KINDS:
            return [CheckSpec(name, str(target)) for name in WORKLOAD_CHECKS]
        if target.kind == "Service":
            return [CheckSpec(name, str(target)) for name in SERVICE_CHECKS]
        specs = [CheckSpec(KIND_CHECKS[target.kind], str(target))] if target.kind in KIND_CHECKS else []
        pod_checks = target.kind not in KIND_CHECKS  # NetworkPolicy, Secret, ConfigMap, Pod: are its pods well?
        for w in affected or []:
            specs.append(CheckSpec("workload_available", str(w)))
            if pod_checks:
                specs.append(CheckSpec("no_pending_or_crashlooping", str(w)))
        if target.kind == "Pod" and affected == []:  # a bare pod: nothing else speaks for it
            specs.append(CheckSpec("no_pending_or_crashlooping", str(target)))
        if affected is None or target.kind == "Node":
            namespaces = [target.namespace] if target.namespace else self.namespaces
            specs += [CheckSpec("no_pending_or_crashlooping", ns) for ns in namespaces]
        return specs

    def _named_alerts(self) -> list[tuple[str, str | None]]:
        out = []
        for a in self.incident_alerts:
            if isinstance(a, str):
                out.append((a, None))
                continue
            labels = a.get("labels") or {}
            name = a.get("name") or a.get("alertname") or labels.get("alertname")
            if name:
                out.append((str(name), labels.get("namespace") or a.get("namespace")))
        return out

    def _playbook_checks(
        self, name: str, entities: list[Target], affected: dict[Target, list[Target] | None], scope: list[str]
    ) -> list[CheckSpec]:
        """A playbook names checks, not targets: aim each at what was remediated (or what that affects), or
        at the namespaces when it is a namespace-wide check."""
        definition = CHECKS[name]
        if name == "alerts_cleared":
            return []  # always required for every namespace in scope
        targets = [t for t in entities if definition.accepts(t)]
        if not targets:
            related = [w for t in entities for w in affected.get(t) or []]
            targets = [w for w in dict.fromkeys(related) if definition.accepts(w)]
        if not targets and definition.namespace:
            targets = [Target(namespace=ns) for ns in scope]
        return [CheckSpec(name, str(t)) for t in targets]

    def _scoped(self, spec: CheckSpec, scope: list[str]) -> list[CheckSpec]:
        """An incident's extra check, its target spelled as the gate spells it ("deploy" → "Deployment"), or
        without a target: one per namespace in scope."""
        definition = CHECKS.get(spec.name)
        if spec.target:
            try:
                return [CheckSpec(spec.name, str(parse_target(spec.target)), spec.alert)]
            except TargetError:
                return [spec]  # evaluates to an error naming the target
        if definition is None or definition.untargeted or not definition.namespace:
            return [spec]
        return [CheckSpec(spec.name, ns, spec.alert) for ns in scope]

    # ------------------------------------------------------------------ judging
    async def evaluate(self, checks: list[CheckSpec]) -> Verdict:
        """Run every check on fresh reads (nothing is reused from an earlier verdict) and decide."""
        ctx = Context(self._reads(), self.namespaces, self.restart_window)
        results = list(await asyncio.gather(*(asyncio.to_thread(run_check, ctx, spec) for spec in checks)))
        results = [masked(r) for r in results]  # evidence quotes the cluster; objections go back to a model
        objections = [r.objection() for r in results if not r.passed]
        if not results:
            objections = ["no check was required: nothing proves the incident is resolved"]
        return Verdict(
            passed=bool(results) and all(r.passed for r in results),
            results=results,
            required=list(checks),
            objections=objections,
            at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            advisory=list(self.advisory),
        )


def masked(result: CheckResult) -> CheckResult:
    """The result with secrets masked in what it quotes from the cluster."""
    result.value = scrub(result.value)
    result.evidence = mask_text(result.evidence)
    result.error = mask_text(result.error) if result.error else result.error
    return result


def run_check(ctx: Context, spec: CheckSpec) -> CheckResult:
    """One check, never raising: a bad name or target, a failed read or a bug is a failed result."""

    def failed(error: str) -> CheckResult:
        return CheckResult(spec.name, spec.target, False, {}, error, error)

    definition = CHECKS.get(spec.name)
    if definition is None:
        return failed(f"unknown check {spec.name!r} (known: {', '.join(CHECKS)})")
    try:
        target = parse_target(spec.target) if spec.target else None
    except TargetError as err:
        return failed(str(err))
    if not definition.accepts(target):
        return failed(f"{spec.name} cannot check {target or 'without a target'} (it checks {_accepted(spec.name)})")
    try:
        outcome = definition.run(ctx, target, spec.alert)
    except ReadError as err:
        return failed(str(err))
    except Exception as err:  # a check's bug must fail the check, never the run
        return failed(one_line(f"{spec.name} failed: {type(err).__name__}: {err}"))
    return CheckResult(spec.name, spec.target, outcome.passed, outcome.value, outcome.evidence)


def _accepted(name: str) -> str:
    d = CHECKS[name]
    kinds = sorted(d.kinds) + (["a namespace"] if d.namespace else [])
    return ", ".join(kinds) or "nothing"
