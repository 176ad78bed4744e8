"""Approve/Reject buttons as the engine's Approver: each change the action policy and the API server's dry
run accepted is posted in the investigation's thread, and the run waits for a click from someone allowed
to answer. A click from anyone else gets an ephemeral refusal and changes nothing; no answer within the
timeout rejects the change."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

import structlog

from ..tools.policy import ActionRequest, Approval
from . import blocks
from .settings import SlackSettings

log = structlog.get_logger(__name__)


@dataclass
class Pending:
    request: ActionRequest
    channel: str
    requester: str | None
    answer: asyncio.Future[Approval] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    ts: str = ""


class Approvals:
    """The approval requests waiting for a click, by the id their buttons carry."""

    def __init__(self, client: Any, settings: SlackSettings) -> None:
        self.client, self.settings = client, settings
        self.pending: dict[str, Pending] = {}

    def who(self, requester: str | None) -> str:
        """Who may answer, as the request message says it."""
        names = [blocks.mention(u) for u in sorted(self.settings.approver_users)]
        names += [f"<!subteam^{g}>" for g in sorted(self.settings.approver_groups)]
        if names:
            return ", ".join(names)
        return blocks.mention(requester) if requester else "nobody (start sre-agent slack with --approvers)"

    async def ask(
        self, request: ActionRequest, *, channel: str, thread_ts: str, requester: str | None
    ) -> bool | Approval:
        """Post the request in the thread and wait for its answer; no answer within the timeout is a rejection."""
        approval_id = secrets.token_hex(6)
        pending = Pending(request, channel, requester)
        self.pending[approval_id] = pending
        text, body = blocks.approval(request, approval_id, self.settings.approval_timeout, self.who(requester))
        try:
            posted = await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=body)
            pending.ts = posted["ts"]
            try:
                return await asyncio.wait_for(asyncio.shield(pending.answer), self.settings.approval_timeout)
            except TimeoutError:
                waited = blocks.duration(self.settings.approval_timeout)
                await self._close(pending, f":hourglass: no answer within {waited}: *rejected*, nothing applied")
                return False  # nobody answered: no person to record
        finally:
            self.pending.pop(approval_id, None)

    async def answer(self, approval_id: str, user: str, approve: bool) -> str | None:
        """A click on Approve or Reject: None when it decided the request, else the refusal to show the user
        (only to them)."""
        pending = self.pending.get(approval_id)
        if pending is None or pending.answer.done():
            return "this request was already answered, or its run has ended"
        if not await self.may_approve(user, pending.requester):
            return f"only {self.who(pending.requester)} may approve or reject changes; nothing was done"
        pending.answer.set_result(Approval(approve, user))
        verb = ":white_check_mark: approved" if approve else ":no_entry: rejected"
        await self._close(pending, f"{verb} by {blocks.mention(user)}")
        return None

    async def may_approve(self, user: str, requester: str | None) -> bool:
        settings = self.settings
        if not settings.approvers:
            return user == requester  # nobody configured: the person who asked answers for their own run
        if user in settings.approver_users:
            return True
        for group in sorted(settings.approver_groups):
            try:
                members = await self.client.usergroups_users_list(usergroup=group)
            except Exception as err:  # a group that cannot be read approves nobody
                log.warning("slack_usergroup_unreadable", group=group, error=type(err).__name__)
                continue
            if user in (members.get("users") or []):
                return True
        return False

    async def _close(self, pending: Pending, outcome: str) -> None:
        if not pending.ts:
            return
        text, body = blocks.answered(pending.request, outcome)
        try:
            await self.client.chat_update(channel=pending.channel, ts=pending.ts, text=text, blocks=body)
        except Exception as err:  # the decision stands even if the message cannot be edited
            log.warning("slack_update_failed", error=type(err).__name__)
