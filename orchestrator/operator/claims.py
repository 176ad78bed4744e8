"""Who runs an Incident: a claim in its status names the holder, the run id and the deadline; the holder
renews it on a heartbeat. A claim whose heartbeat stopped for the lease is stale and may be taken over."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from .status import Claim, IncidentStatus, iso, parse_time

DEFAULT_BUDGET_SECONDS = 900  # incident.py's Budget.seconds default, for an object stored without one


def holder_name() -> str:
    """This process, as a claim names it (a pod's hostname is its name)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def budget_seconds(obj: dict[str, Any]) -> int:
    """The Incident's wall-clock budget (spec.budget.seconds)."""
    return int((((obj.get("spec") or {}).get("budget") or {}).get("seconds")) or DEFAULT_BUDGET_SECONDS)


def new_run_id() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


JOB_HOLDER = "job/"  # a claim the operator made for a Job: holder job/NAME
LEASE_SECONDS = 60.0  # a claim whose heartbeat stopped this long is taken over
JOB_START_SECONDS = 300.0  # how long a Job's pod may take to start beating (image pull, scheduling)


def is_stale(
    claim: Claim, holder: str, lease_seconds: float = LEASE_SECONDS, job_start_seconds: float = JOB_START_SECONDS
) -> bool:
    """Whether a claim held by someone else stopped beating for longer than the lease (for a Job's claim
    that never beat yet, longer than its pod may take to start)."""
    if claim.holder == holder:
        return False
    if claim.holder.startswith(JOB_HOLDER) and claim.renewed_at <= claim.claimed_at:
        lease_seconds = max(lease_seconds, job_start_seconds)
    last = parse_time(claim.renewed_at) or parse_time(claim.claimed_at)
    return last is None or datetime.now(UTC) - last > timedelta(seconds=lease_seconds)


def is_overdue(claim: Claim | None) -> bool:
    deadline = parse_time(claim.deadline) if claim is not None else None
    return deadline is not None and datetime.now(UTC) > deadline


def claimed(
    obj: dict[str, Any],
    status: IncidentStatus,
    holder: str,
    grace_seconds: float,
    executor: Literal["in-process", "job"] = "in-process",
    run_id: str | None = None,
) -> IncidentStatus:
    """`status` with a new claim (the attempt counted on from an earlier one); the run's deadline is the
    Incident's budget.seconds plus `grace_seconds`."""
    budget = budget_seconds(obj)
    now = datetime.now(UTC)
    out = status.model_copy(deep=True)
    out.claim = Claim(
        run_id=run_id or new_run_id(),
        holder=holder,
        claimed_at=iso(now),
        renewed_at=iso(now),
        attempt=(status.claim.attempt + 1) if status.claim is not None else 1,
        deadline=iso(now + timedelta(seconds=budget + grace_seconds)),
        executor=executor,
    )
    if out.phase == "Pending":
        out.enter("Investigating", "Claimed", f"claimed by {holder}")
    return out
