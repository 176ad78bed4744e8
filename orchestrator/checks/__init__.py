"""Verification checks, one small function each, registered by name (see registry.py).

Families: workloads (available, pods healthy, no recent restarts), services (selector, ports, endpoints),
alerts (nothing firing), capacity (nodes, node pressure, quotas, autoscalers), jobs (complete), storage
(claims bound), ingress (backends ready). The gate in `orchestrator.verify` decides
which of them a verdict needs and runs them on fresh reads.
"""

from . import alerts, capacity, ingress, jobs, monitoring, services, storage, workloads  # noqa: F401  (registers the checks)
from .reads import ReadError, Reads
from .registry import CHECKS, CheckDef, Context, Outcome, check
from .targets import Target, TargetError, parse_target

CHECK_NAMES: tuple[str, ...] = tuple(CHECKS)

__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "CheckDef",
    "Context",
    "Outcome",
    "ReadError",
    "Reads",
    "Target",
    "TargetError",
    "check",
    "parse_target",
]
