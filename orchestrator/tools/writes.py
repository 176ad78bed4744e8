"""The guarded write: every change to the cluster goes through here, in this order.

1. the ActionPolicy's screen, from the tool's arguments alone (`screen`, run by the toolbox before the tool
   reads anything; run again here on the object the tool resolved) -> denied, no call made;
2. the tool reads its object and builds the Change;
3. a server-side dry run (`dryRun=All`) -> if the API server rejects the change, report its reason;
4. the ActionPolicy's blast-radius limit on the object as it is and as the dry run says it would be;
5. the ActionPolicy's decision (dry-run mode stops here; approve mode asks the approver, who sees a
   change the API server has already accepted);
6. the real request, recorded in the run's write journal (tools/journal.py) before it is sent and once it
   is answered; an applied (or dry-run) change counts toward the run's limit of changed objects.

The result's `write` record says what was attempted and how it ended: {action, target, mode, change,
revert, dry_run_ok}, and for a denial the policy's `reason`; mode is applied, dry-run, denied, or failed
(the dry run or the request failed). Every denial's error begins "denied by policy:".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .base import ToolResult
from .context import ToolContext
from .diff import object_changes
from .errors import ToolError, one_line
from .kinds import KindInfo, ref
from .policy import ActionRequest, denial

Apply = Callable[[bool], Awaitable[Any]]  # dry_run -> the object as the API server returns it


@dataclass
class Change:
    action: str
    kind: KindInfo
    name: str
    namespace: str | None
    summary: str  # one human line: exactly what will change
    revert: str  # how to undo it: a kubectl command or a patch
    apply: Apply
    before: dict | None = None  # the object now, to compute the diff from the dry run's preview
    diff: list[str] | None = None  # given when the preview is not the object (a Scale, a deletion)
    extra: dict[str, Any] = field(default_factory=dict)  # more content for the model
    # Given the dry run's preview, the exact (summary, revert); may raise ToolError("nothing to change").
    explain: Callable[[Any], tuple[str, str]] | None = None

    @property
    def target(self) -> str:
        return ref(self.kind.kind, self.namespace, self.name)


def _record(
    action: str,
    target: str,
    mode: str,
    dry_run_ok: bool,
    summary: str,
    revert: str,
    reason: str | None = None,
    answered_by: str | None = None,
) -> dict[str, Any]:
    record = {
        "action": action,
        "target": target,
        "mode": mode,
        "change": summary,
        "revert": revert,
        "dry_run_ok": dry_run_ok,
    }
    if reason is not None:
        record["reason"] = reason
    if answered_by is not None:  # who approved or declined it; the model is not told
        record["approved_by" if mode == "applied" else "declined_by"] = answered_by
    return record


def _result(ok: bool, change: Change, mode: str, dry_run_ok: bool, summary: str, **content: Any) -> ToolResult:
    error = content.pop("error", None)
    reason = content.pop("reason", None)
    answered_by = content.pop("answered_by", None)
    body = {"object": change.target, "mode": mode, "applied": mode == "applied", "change": summary, **content}
    if error:
        body["error"] = error
    record = _record(change.action, change.target, mode, dry_run_ok, summary, change.revert, reason, answered_by)
    return ToolResult(ok, body, error=error, targets=[change.target], write=record)


def _denied(change: Change, dry_run_ok: bool, summary: str, reason: str, **content: Any) -> ToolResult:
    return _result(False, change, "denied", dry_run_ok, summary, error=denial(reason), reason=reason, **content)


def screen(ctx: ToolContext, action: str, target: str, args: dict[str, Any]) -> ToolResult | None:
    """A write call the ActionPolicy denies from its arguments alone, answered without any cluster call;
    None when the tool may go on and read its object."""
    request = ActionRequest(action, target, f"{action} {target}", dict(args))
    decision = ctx.policy.screen(request)
    return None if decision is None else refuse(action, target, request.change, decision.reason)


async def guarded_write(ctx: ToolContext, change: Change, args: dict[str, Any]) -> ToolResult:
    request = ActionRequest(change.action, change.target, change.summary, dict(args))
    screened = ctx.policy.screen(request)
    if screened is not None:
        return _denied(change, False, change.summary, screened.reason)

    try:
        preview = await change.apply(True)
    except ToolError as err:
        return _result(False, change, "failed", False, change.summary, error=f"dry run failed: {err}")
    diff = change.diff if change.diff is not None else _diff(change.before, preview)
    if change.explain is not None:
        change.summary, change.revert = change.explain(preview)
    summary = change.summary
    request = ActionRequest(change.action, change.target, summary, dict(args), change.revert, tuple(diff or ()))

    limited = ctx.policy.limit(request, change.before, preview)
    if limited is not None:
        return _denied(change, True, summary, limited.reason, diff=diff)
    decision = await ctx.policy.decide(request)
    if not decision.allowed:
        return _denied(change, True, summary, decision.reason, diff=diff, answered_by=decision.answered_by)
    if decision.mode == "dry-run":
        ctx.policy.record(request)
        note = f"not applied: {decision.reason}"
        return _result(True, change, "dry-run", True, summary, diff=diff, note=note, **change.extra)

    journal = ctx.journal
    if journal is not None:
        journal.sent(change.action, change.target, summary, change.revert, change.before)
    try:
        await change.apply(False)
    except ToolError as err:
        if journal is not None:
            journal.outcome(change.target, False, str(err))
        return _result(False, change, "failed", True, summary, error=f"the change failed: {err}", diff=diff)
    if journal is not None:
        journal.outcome(change.target, True)
    ctx.policy.record(request)
    answered = {"answered_by": decision.answered_by} if decision.answered_by else {}
    return _result(True, change, "applied", True, summary, diff=diff, revert=change.revert, **answered, **change.extra)


def nothing_to_change(what: str) -> ToolError:
    """A write that would change nothing is refused before any request: the model learns the state."""
    return ToolError(f"nothing to change: {what}")


def kubectl_kind(kind: str) -> str:
    return kind.lower()


def refuse(action: str, target: str, summary: str, reason: str) -> ToolResult:
    """A write denied before its object was read: by the policy's screen, or one the toolbox does not offer
    at all (Secret edits, deleting a Deployment)."""
    error = denial(reason)
    record = _record(action, target, "denied", False, summary, "", reason)
    body = {"object": target, "mode": "denied", "applied": False, "change": summary, "error": error}
    return ToolResult(False, body, error=error, targets=[target], write=record)


def _diff(before: dict | None, preview: Any) -> list[str]:
    if not isinstance(before, dict) or not isinstance(preview, dict):
        return []
    return [one_line(line, 300) for line in object_changes(before, preview)][:30]
