"""Approvals in the cluster: in `approve` mode each change the rules and the dry run accepted waits on the
Incident (`status.pendingApproval`: an id and the exact change) until someone runs

    kubectl annotate inc NAME sre-agent.dev/approve=<id>      (or sre-agent.dev/reject=<id>)

Who answered is recorded in `status.approvals[].by` from two sources, both as the client stated them (the
API server's audit log is the authenticated record): the field manager that set the annotation, read from
`metadata.managedFields` (kubectl annotate writes as `kubectl-annotate`; clusters that keep managed fields),
and the optional companion annotation `sre-agent.dev/approved-by=<name>`. RBAC decides who may answer at
all: patching Incidents is the right to approve.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Literal

from ..redaction import mask_text
from ..tools.policy import ActionRequest
from .recorder import StatusRecorder
from .status import ApprovalRecord, PendingApproval, now_iso

APPROVE = "sre-agent.dev/approve"
REJECT = "sre-agent.dev/reject"
APPROVED_BY = "sre-agent.dev/approved-by"
Decision = Literal["approved", "rejected", "expired"]


def answered_by(obj: dict[str, Any], key: str) -> str:
    """Who set annotation `key`: its field manager(s) and the companion annotation, or "unknown"."""
    meta = obj.get("metadata") or {}
    managers = []
    for entry in meta.get("managedFields") or []:
        fields = ((entry.get("fieldsV1") or {}).get("f:metadata") or {}).get("f:annotations") or {}
        if f"f:{key}" in fields and entry.get("manager"):
            managers.append(str(entry["manager"]))
    named = (meta.get("annotations") or {}).get(APPROVED_BY)
    parts = [f"manager {m}" for m in dict.fromkeys(managers)] + ([f"approved-by {named}"] if named else [])
    return mask_text("; ".join(parts)) if parts else "unknown"


class AnnotationApprover:
    """An `Approver` (tools/policy.py) that asks on the Incident and waits for the annotation."""

    def __init__(
        self,
        recorder: StatusRecorder,
        *,
        poll_seconds: float = 1.0,
        timeout_seconds: float | None = None,
        cancel: asyncio.Event | None = None,
    ) -> None:
        self.recorder = recorder
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.cancel = cancel

    async def __call__(self, request: ActionRequest, /) -> bool:
        approval_id = uuid.uuid4().hex[:8]
        change = mask_text(request.change)
        pending = PendingApproval(id=approval_id, action=request.action, target=request.target, change=change,
                                  requested_at=now_iso())  # fmt: skip

        def ask(status: Any) -> None:
            status.pending_approval = pending

        self.recorder.update(ask)
        self.recorder.note(
            "ApprovalRequested",
            f"{request.action} {request.target}: {change} - answer with kubectl annotate inc "
            f"{self.recorder.ref.name} {APPROVE}={approval_id} (or {REJECT}={approval_id})",
        )
        await self.recorder.flush()
        decision, by = await self._wait(approval_id)
        record = ApprovalRecord(id=approval_id, action=request.action, target=request.target, decision=decision,
                                by=by, at=now_iso())  # fmt: skip

        def answer(status: Any) -> None:
            status.pending_approval = None
            status.approvals = [*status.approvals, record]

        self.recorder.update(answer)
        self.recorder.note(
            f"Change{decision.capitalize()}",
            f"{request.action} {request.target} {decision}" + (f" ({by})" if decision != "expired" else ""),
            warning=decision != "approved",
        )
        await self.recorder.flush()
        return decision == "approved"

    async def _wait(self, approval_id: str) -> tuple[Decision, str]:
        """("approved" | "rejected" | "expired", who)."""
        deadline = None if self.timeout_seconds is None else time.monotonic() + self.timeout_seconds
        api, ref = self.recorder.api, self.recorder.ref
        while deadline is None or time.monotonic() < deadline:
            if self.cancel is not None and self.cancel.is_set():
                break
            try:
                obj = await asyncio.to_thread(api.get, ref)
            except Exception:  # the API server is briefly away: ask again
                obj = {}
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            if annotations.get(REJECT) == approval_id:  # a rejection wins over an approval of the same id
                return "rejected", answered_by(obj, REJECT)
            if annotations.get(APPROVE) == approval_id:
                return "approved", answered_by(obj, APPROVE)
            await asyncio.sleep(self.poll_seconds)
        return "expired", ""
