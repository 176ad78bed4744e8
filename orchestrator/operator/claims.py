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


def is_stale(claim: Claim, holder: str, lease_seconds: float) -> bool:
    """Whether a claim held by someone else stopped beating for longer than the lease."""
    if claim.holder == holder:
        return False
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
