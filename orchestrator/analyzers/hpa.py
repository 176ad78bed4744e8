"""HorizontalPodAutoscalers: pinned at maxReplicas, unable to scale, failing to read their metric, or
aimed at a workload that does not exist."""

from __future__ import annotations

from .common import condition, event_lines, name_of, ns_of, quote
from .finding import Finding, ref
from .registry import analyzer
from .snapshot import Scope, Snapshot

IMPLAUSIBLE_UTILIZATION = 10  # percent: a target this low keeps any normal load above it


@analyzer("HorizontalPodAutoscaler", reads={"Deployment", "StatefulSet", "ReplicaSet", "Event"})
def autoscalers(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Autoscalers at their maximum, unable to scale, without a valid metric, or without a target."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        for hpa in reads.of("HorizontalPodAutoscaler", ns):
            out.extend(_hpa(reads, hpa))
    return out


def _hpa(reads: Snapshot, hpa: dict) -> list[Finding]:
    ns, name = ns_of(hpa), name_of(hpa)
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    target = spec.get("scaleTargetRef") or {}
    owner = ref(target.get("kind", ""), ns, target.get("name", "")) if target else None
    events = event_lines(reads, "HorizontalPodAutoscaler", ns, name)

    def finding(cause: str, evidence: list[str], confidence: str, field: str) -> Finding:
        return Finding("HorizontalPodAutoscaler", ns, name, cause, evidence, confidence, field, owner)

    out: list[Finding] = []
    kind = target.get("kind", "")
    if kind and reads.fetched(kind) and reads.find(kind, ns, target.get("name", "")) is None:
        line = f"spec.scaleTargetRef={kind}/{target.get('name')}: no such {kind}"
        out.append(
            finding(
                f"the autoscaler's target {kind} {target.get('name')} does not exist",
                [line, *events],
                "high",
                "spec.scaleTargetRef",
            )
        )
    for ctype, bad in (("AbleToScale", "False"), ("ScalingActive", "False")):
        c = condition(hpa, ctype)
        if c is not None and c.get("status") == bad:
            line = f"status.conditions[{ctype}]={bad}: {c.get('reason', '')}: {quote(c.get('message'))}"
            cause = (
                "the autoscaler cannot compute a replica count from its metric"
                if ctype == "ScalingActive"
                else "the autoscaler cannot scale its target"
            )
            out.append(finding(cause, [line, *events], "high", f"status.conditions[{ctype}]"))
    limited = condition(hpa, "ScalingLimited")
    at_max = status.get("currentReplicas") is not None and status.get("currentReplicas") == spec.get("maxReplicas")
    if limited is not None and limited.get("status") == "True" and limited.get("reason") == "TooManyReplicas" or at_max:
        line = f"status.currentReplicas={status.get('currentReplicas')} = spec.maxReplicas={spec.get('maxReplicas')}"
        evidence = [line]
        if limited is not None and limited.get("status") == "True":
            evidence.append(
                f"status.conditions[ScalingLimited]: {limited.get('reason', '')}: {quote(limited.get('message'))}"
            )
        low = _implausible_targets(spec)
        evidence += low
        cause = "the autoscaler is pinned at maxReplicas" + (
            " because its utilization target is implausibly low" if low else ""
        )
        out.append(
            finding(
                cause, evidence + events, "high" if low else "medium", "spec.metrics" if low else "spec.maxReplicas"
            )
        )
    return out


def _implausible_targets(spec: dict) -> list[str]:
    lines = []
    for i, m in enumerate(spec.get("metrics") or []):
        source = (
            m.get(m.get("type", "").lower().replace("containerresource", "containerResource"))
            or m.get("resource")
            or {}
        )
        target = source.get("target") or {}
        value = target.get("averageUtilization")
        if value is not None and int(value) <= IMPLAUSIBLE_UTILIZATION:
            lines.append(f"spec.metrics[{i}] {source.get('name', '')} target averageUtilization={value}%")
    return lines
