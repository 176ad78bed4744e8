"""Block Kit for each message the app posts: the progress message, an approval request (and what became
of it), the verdict, and help. Every text from the cluster or a model is masked and escaped here, the one
place messages are made."""

from __future__ import annotations

from typing import Any

from ..engine.state import root_causes
from ..redaction import mask_text
from ..tools.policy import ActionRequest
from .settings import USER_ID
from .view import RunView

APPROVE = "sre_agent_approve"  # action ids of the approval buttons
REJECT = "sre_agent_reject"
CANCEL = "sre_agent_cancel"
SECTION_LIMIT = 2900  # Slack refuses a section text over 3000 characters
DIFF_LINES = 12

Blocks = list[dict[str, Any]]

PHASE_ICON = {
    "queued": ":hourglass_flowing_sand:",
    "running": ":mag:",
    "resolved": ":white_check_mark:",
    "no-fault": ":large_green_circle:",
    "escalated": ":warning:",
    "error": ":x:",
    "interrupted": ":double_vertical_bar:",
}


def esc(text: object) -> str:
    """Masked, and safe inside mrkdwn (Slack reads only &, < and > as markup characters)."""
    return mask_text(str(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def duration(seconds: float) -> str:
    return f"{round(seconds / 60)} min" if seconds >= 60 else f"{seconds:g} s"


def mention(user: str) -> str:
    """A user mention; anything that is not a Slack user id is shown as text."""
    return f"<@{user}>" if USER_ID.match(user) else esc(user)


def _cut(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(text)}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def progress(view: RunView) -> tuple[str, Blocks]:
    """The thread's one progress message (edited as the run goes)."""
    icon = PHASE_ICON.get(view.phase, ":grey_question:")
    head = f"{icon} *{esc(view.phase)}* · investigation `{view.key}` in `{esc(view.namespace)}`"
    if view.phase == "queued" and view.queue_position:
        head += f" · position {view.queue_position} in the queue"
    if view.cancelled_by:
        head += f" · cancelled by {mention(view.cancelled_by)}"
    if view.cancelling and not view.finished:
        head += " · stopping at the next step"
    blocks: Blocks = [_section(f"{head}\n>{esc(view.summary)}")]
    facts = []
    if view.state:
        facts.append(f"state *{esc(view.state)}*")
    facts.append(f"{view.tool_calls} tool calls")
    facts.append(f"{view.tokens:,} tokens")
    if view.repeats:
        facts.append(f"alert re-posted {view.repeats}×")
    if view.model:
        facts.append(f"model {esc(view.model)}, mode {esc(view.mode)}")
    blocks.append(_context(" · ".join(facts)))
    if view.findings:
        blocks.append(_section("*Key findings*\n" + "\n".join(f"• {esc(f)}" for f in view.findings)))
    if view.recent_tools and not view.finished:
        blocks.append(_context("last calls: " + ", ".join(f"`{esc(t)}`" for t in view.recent_tools)))
    if view.finished and view.reason:
        blocks.append(_section(f"*{esc(view.phase)}*: {esc(view.reason)}"))
    if not view.finished and not view.cancelling:
        blocks.append({"type": "actions", "elements": [_button("Cancel", CANCEL, view.key, "danger")]})
    text = f"{view.phase}: investigation {view.key} in {view.namespace}"
    return mask_text(text), blocks


def approval(request: ActionRequest, approval_id: str, timeout: float, who: str) -> tuple[str, Blocks]:
    """An approval request: the exact change, the dry run's result, the revert note and the buttons."""
    text = f"Approve {request.action} on {request.target}? {request.change}"
    diff = "\n".join(request.dry_run[:DIFF_LINES]) or "(the API server accepted it; no field-level diff)"
    if len(request.dry_run) > DIFF_LINES:
        diff += f"\n… {len(request.dry_run) - DIFF_LINES} more lines"
    blocks: Blocks = [
        _section(f":raised_hand: *Approval needed*: `{esc(request.action)}` on `{esc(request.target)}`"),
        _section(f"*Change*\n{esc(request.change)}"),
        _section(f"*Server-side dry run*: accepted\n```{esc(diff)}```"),
        _section(f"*To revert*\n`{esc(request.revert or 'no revert note')}`"),
        _context(f"{who} may answer; no answer within {duration(timeout)} rejects it."),
        {
            "type": "actions",
            "block_id": f"approval-{approval_id}",
            "elements": [
                _button("Approve", APPROVE, approval_id, "primary"),
                _button("Reject", REJECT, approval_id, "danger"),
            ],
        },
    ]
    return mask_text(text), blocks


def answered(request: ActionRequest, outcome: str) -> tuple[str, Blocks]:
    """The approval request once answered (or timed out): the buttons are gone, the outcome stays.
    `outcome` is markup made by the app (a user mention), not text from the cluster."""
    text = f"{request.action} on {request.target}: {outcome}"
    blocks: Blocks = [
        _section(f"`{esc(request.action)}` on `{esc(request.target)}`\n{esc(request.change)}"),
        _context(outcome),
    ]
    return mask_text(text), blocks


def verdict(report: dict[str, Any], mast: dict[str, Any] | None) -> tuple[str, Blocks]:
    """The verdict: root cause, what changed and how to revert it, the verifier's checks, the MAST summary."""
    status = str(report.get("status", ""))
    icon = PHASE_ICON.get(status, ":grey_question:")
    blocks: Blocks = [
        _section(f"{icon} *{esc(status)}* (exit {report.get('exit_code')}): {esc(report.get('reason', ''))}")
    ]
    diagnosis = report.get("diagnosis") or {}
    roots = root_causes(diagnosis)
    if diagnosis.get("summary") or roots:
        line = f"*Root cause*\n{esc(diagnosis.get('summary', ''))}"
        if roots:
            line += "\n" + ", ".join(f"`{esc(r)}`" for r in roots)
        blocks.append(_section(line))
    writes = report.get("writes") or []
    if writes:
        lines = []
        for w in writes:
            who = w.get("approved_by") or w.get("declined_by")
            answered_by = (
                f" ({'approved' if w.get('approved_by') else 'declined'} by {mention(str(who))})" if who else ""
            )
            line = f"• *{esc(w.get('mode'))}*{answered_by} `{esc(w.get('action'))}` {esc(w.get('change'))}"
            if w.get("mode") == "applied" and w.get("revert"):
                line += f"\n   revert: `{esc(w['revert'])}`"
            lines.append(line)
        blocks.append(_section("*What changed*\n" + "\n".join(lines)))
    else:
        blocks.append(_section("*What changed*\nnothing was changed"))
    results = (report.get("verdict") or {}).get("results") or []
    if results:
        checks = [
            f"{':white_check_mark:' if r.get('passed') else ':x:'} `{esc(r.get('name'))}` {esc(r.get('evidence') or r.get('error') or '')}"
            for r in results
            if isinstance(r, dict)
        ]
        blocks.append(_section("*Verifier checks*\n" + "\n".join(checks)))
    if mast is not None:
        present = [k for k, v in (mast.get("mast_annotation") or {}).items() if v == 1]
        line = "no failure mode detected" if not present else "modes present: " + ", ".join(f"FM-{k}" for k in present)
        fatal = mast.get("fatal_modes") or []
        if fatal:
            line += f"; fatal: {', '.join(str(m) for m in fatal)}"
        blocks.append(_context(f"MAST: {esc(line)}"))
    blocks.append(
        _context(
            f"run `{esc(report.get('run_id', ''))}` · {report.get('steps', 0)} steps · {report.get('tokens', 0):,} tokens"
        )
    )
    return mask_text(f"{status}: {report.get('reason', '')}"), blocks


HELP = """*sre-agent* investigates a Kubernetes incident and, with your approval, fixes it.
• `@sre-agent investigate -n NAMESPACE what is wrong` (or `/sre-agent investigate …`): start one, in a thread
• `/sre-agent status`: what runs and what waits
• `/sre-agent cancel ID` (or the Cancel button, or `@sre-agent cancel` in its thread): stop one at its next step
• Alertmanager posts in a watched channel start one per alert group; re-posts join its thread
• the message shortcut *Investigate this*: investigate what a message says"""
