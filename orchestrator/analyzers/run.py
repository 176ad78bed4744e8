"""Running the registered analyzers over one snapshot: each in isolation, findings scrubbed and ranked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..redaction import mask_text
from .finding import Finding, rank
from .registry import REGISTRY, AnalyzerDef, Registry
from .remedies import remedy
from .snapshot import Scope, Snapshot

# The catch-all for Warning events; its findings give way to a specific analyzer's about the same object.
EVENTS_ANALYZER = "warning_events"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per analyzer that failed

    def to_dict(self) -> dict[str, Any]:
        return {"findings": [f.to_dict() for f in self.findings], "errors": list(self.errors)}


def needed_kinds(defs: Iterable[AnalyzerDef]) -> set[str]:
    return {k for d in defs for k in d.reads}


def needed_normal_events(defs: Iterable[AnalyzerDef]) -> set[str]:
    """The reasons of the Normal events these analyzers read (Warning events are always read)."""
    return {r for d in defs for r in d.normal_events}


def analyze(reads: Snapshot, scope: Scope, kinds: Iterable[str] | None = None, registry: Registry = REGISTRY) -> Report:
    """Every selected analyzer over `reads`; one that raises becomes an error line and the rest go on."""
    report = Report()
    for d in registry.select(kinds):
        try:
            found = d.run(reads, scope)
        except Exception as err:  # an analyzer bug must not hide the other analyzers' findings
            report.errors.append(mask_text(f"analyzer {d.name} ({d.kind}) failed: {type(err).__name__}: {err}"))
            continue
        for f in found:
            f.analyzer = f.analyzer or d.name
            f.remedy = f.remedy or remedy(f)
            if scope.covers(f.namespace):
                report.findings.append(scrub(f))
    report.findings = _ranked(_dedupe(report.findings))
    return report


def scrub(f: Finding) -> Finding:
    """Secrets masked in everything a finding carries out (logs, events and commands are quoted freely)."""
    f.cause = mask_text(f.cause)
    f.evidence = [mask_text(line) for line in f.evidence]
    f.remedy = [mask_text(line) for line in f.remedy]
    f.field = mask_text(f.field)
    return f


def _dedupe(findings: list[Finding]) -> list[Finding]:
    specific = {f.object for f in findings if f.analyzer != EVENTS_ANALYZER}
    seen: set[tuple[str, str]] = set()
    out = []
    for f in findings:
        key = (f.object, f.cause)
        if key in seen or (f.analyzer == EVENTS_ANALYZER and f.object in specific):
            continue
        seen.add(key)
        out.append(f)
    return out


def _ranked(findings: list[Finding]) -> list[Finding]:
    """Strongest first; among equals, a cause before what it explains, and a cause of another finding's
    object (an autoscaler at its maximum behind a throttled Deployment) before a cause of symptoms only."""
    found = {f.object for f in findings}

    def depth(f: Finding) -> int:
        return sum(1 for e in f.explains if e in found and e != f.object)

    return sorted(
        findings, key=lambda f: (-rank(f.confidence), -depth(f), not f.explains, f.namespace or "", f.kind, f.name)
    )
