"""Approval of a proposed change, supplied by the front-end (a terminal prompt, a Slack button, an operator's
annotation). The write tools ask it only in `approve` mode, after the API server's dry run accepted the change;
without one, approve mode denies every write and the run escalates."""

from __future__ import annotations

from typing import Protocol

from .tools.policy import ActionRequest


class Approver(Protocol):
    async def __call__(self, request: ActionRequest, /) -> bool:
        """True to apply `request`, False to deny it (an exception denies it too)."""
        ...
