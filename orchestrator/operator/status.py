"""What an Incident's `status` says: the phase and its conditions, the run's claim, the diagnosis, the change
made and how to undo it, the verdict, tokens and cost, where the report is, and a change waiting for approval.

One pydantic model gives both the CRD's status schema (`crd.py`) and the typed reading of a stored status,
so what the operator writes and what the API server accepts cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

from pydantic import Field

from ..incident import SpecModel

# One condition per phase a run passes through or ends in; `phase` names the one that is True.
ConditionType = Literal["Investigating", "Mitigating", "Verifying", "Resolved", "Escalated", "NoFault", "Failed"]
CONDITION_TYPES: tuple[str, ...] = get_args(ConditionType)
Phase = Literal["Pending", "Investigating", "Mitigating", "Verifying", "Resolved", "Escalated", "NoFault", "Failed"]
TERMINAL_PHASES = frozenset({"Resolved", "Escalated", "NoFault", "Failed"})

# RunResult.status → the phase it ends in (an engine error is Failed: the run could not do its work).
END_PHASES: dict[str, str] = {
    "resolved": "Resolved",
    "escalated": "Escalated",
    "no-fault": "NoFault",
    "error": "Failed",
}


TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # how the status writes its times (RFC 3339, seconds, UTC)


def iso(at: datetime) -> str:
    return at.strftime(TIME_FORMAT)


def parse_time(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(text or "", TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def now_iso() -> str:
    return iso(datetime.now(UTC))


class Condition(SpecModel):
    """A Kubernetes-style condition: one per type, its status flipped as the run moves."""

    type: ConditionType
    status: Literal["True", "False", "Unknown"]
    reason: str = Field(description="CamelCase, machine-readable.")
    message: str = ""
    last_transition_time: str = Field(description="RFC 3339.")


class Diagnosis(SpecModel):
    """The run's diagnosis: root-cause entities (namespace/Kind/name) and its one-line summary."""

    root_causes: list[str] = Field(default_factory=list)
    summary: str = ""


class AppliedChange(SpecModel):
    """A change the run applied to the cluster, and how to undo it."""

    action: str
    target: str
    change: str
    revert: str = ""


class Verdict(SpecModel):
    """The verifier gate's last word."""

    passed: bool
    failed_checks: list[str] = Field(default_factory=list)


class PendingApproval(SpecModel):
    """A change the run proposes in approve mode and waits on: answer with the annotation
    `sre-agent.dev/approve=<id>` or `sre-agent.dev/reject=<id>`."""

    id: str
    action: str
    target: str
    change: str
    requested_at: str


class ApprovalRecord(SpecModel):
    """How a proposed change was answered, and by whom."""

    id: str
    action: str
    target: str
    decision: Literal["approved", "rejected", "expired"]
    by: str = Field(
        default="",
        description="The field manager that set the annotation (kubectl's user agent "
        "unless --field-manager is given), and the sre-agent.dev/approved-by annotation if present.",
    )
    at: str


class Claim(SpecModel):
    """Which operator process runs the Incident: set before the run starts, so a restart or a second replica
    never starts it again."""

    run_id: str
    holder: str = Field(description="The operator process that claimed it (host and pid).")
    claimed_at: str
    renewed_at: str = Field(default="", description="RFC 3339; the holder's last heartbeat.")
    attempt: int = Field(default=1, description="How many times the Incident was claimed (a takeover adds one).")
    deadline: str = Field(description="RFC 3339; a run not ended by then is moved to Failed.")
    executor: Literal["in-process", "job"] = "in-process"
    confirmed: bool = Field(
        default=True,
        description="False while the claimant checks that no other Incident on the same namespaces was claimed "
        "first; the run starts only once it is true.",
    )


class IncidentStatus(SpecModel):
    """The Incident's status subresource."""

    phase: Phase = "Pending"
    reason: str = Field(default="", description="One line: why the Incident is in its phase.")
    conditions: list[Condition] = Field(default_factory=list)
    claim: Claim | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    diagnosis: Diagnosis | None = None
    mitigation: list[AppliedChange] = Field(default_factory=list)
    verdict: Verdict | None = None
    steps: int = 0
    tokens: int = 0
    cost_usd: float = Field(default=0.0, description="Dollars, per litellm's price table (0 for unpriced models).")
    report: str | None = Field(default=None, description="The run directory holding report.md/json/html.")
    pending_approval: PendingApproval | None = None
    approvals: list[ApprovalRecord] = Field(default_factory=list)

    @classmethod
    def read(cls, raw: dict[str, Any] | None) -> IncidentStatus:
        """A stored status; fields this version does not know (or has renamed) are left out, never fatal."""
        known = {f.alias or n for n, f in cls.model_fields.items()}
        try:
            return cls.model_validate({k: v for k, v in (raw or {}).items() if k in known})
        except ValueError:
            return cls()

    def dump(self) -> dict[str, Any]:
        """As the API wants it: camelCase; a cleared field is null, so a merge patch removes it."""
        return self.model_dump(mode="json", by_alias=True)

    def enter(self, phase: str, reason: str, message: str = "") -> None:
        """Move to `phase`: its condition True, the others False; the transition time kept for a condition
        whose status does not change."""
        at = now_iso()
        self.phase = cast(Phase, phase)
        self.reason = message or reason
        by_type: dict[str, Condition] = {c.type: c for c in self.conditions}
        for ctype in CONDITION_TYPES:
            want: Literal["True", "False"] = "True" if ctype == phase else "False"
            old = by_type.get(ctype)
            if old is None and want == "False":
                continue  # a condition never reached is not listed
            if old is None or old.status != want:
                by_type[ctype] = Condition(
                    type=cast(ConditionType, ctype),
                    status=want,
                    reason=reason,
                    message=message,
                    last_transition_time=at,
                )
            elif want == "True":
                old.reason, old.message = reason, message
        self.conditions = [by_type[t] for t in CONDITION_TYPES if t in by_type]

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES
