"""Deterministic analyzers: a first pass over an incident's scope that finds what is wrong from
Kubernetes' own semantics (container states, conditions, selectors, references, events).

    result = read_snapshot(api, ["otel-demo"])           # the reader: the only part that talks to the API
    report = analyze(result.snapshot, Scope(("otel-demo",)))
    for f in report.findings: print(f.object, f.cause)

One module per kind registers its analyzer with `@analyzer("Kind")`; see registry.py.
"""

from . import (  # noqa: F401  (each module registers its analyzers)
    addresses,
    alerted,
    blame,
    dns,
    events,
    evictions,
    hpa,
    ingress,
    jobs,
    monitoring,
    netpol,
    nodes,
    pdb,
    pods,
    preemption,
    quota,
    rbac,
    references,
    services,
    storage,
    workloads,
)
from .finding import CONFIDENCES, CONTROLLED_KINDS, Finding, rank, ref
from .reader import KINDS, ReadFailure, ReadResult, read_snapshot
from .registry import REGISTRY, Analyzer, AnalyzerDef, Registry, UnknownKind, analyzer
from .run import Report, analyze, needed_kinds, needed_normal_events
from .snapshot import Scope, Snapshot

__all__ = [
    "CONFIDENCES",
    "CONTROLLED_KINDS",
    "KINDS",
    "REGISTRY",
    "Analyzer",
    "AnalyzerDef",
    "Finding",
    "ReadFailure",
    "ReadResult",
    "Registry",
    "Report",
    "Scope",
    "Snapshot",
    "UnknownKind",
    "analyze",
    "analyzer",
    "needed_kinds",
    "needed_normal_events",
    "rank",
    "read_snapshot",
    "ref",
]
