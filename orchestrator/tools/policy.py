"""The ActionPolicy: who may change the cluster, where, and how far.

Modes: `off` (read-only run: every write is denied), `dry-run` (server-side dry run only), `approve`
(an approver callback says yes or no to each change), `auto` (apply). `allowed_actions` and
`allowed_namespaces` narrow any mode; `allowed_actions` names write tools of the registry (a misspelt one
would silently deny, so it is an error). Cluster-scoped targets (a Node) have no namespace, so only
`allowed_actions` governs them.

The write tools always run a server-side dry run before asking `decide`, so the approver (and the
trace) sees a change the API server has already accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Mode = Literal["auto", "approve", "dry-run", "off"]
Outcome = Literal["applied", "dry-run", "denied"]
MODES: tuple[str, ...] = ("auto", "approve", "dry-run", "off")


@dataclass(frozen=True)
class ActionRequest:
    action: str  # the write tool's name (registry.write_names())
    target: str  # "namespace/Kind/name" ("/Node/name" when cluster-scoped)
    change: str  # one human line: what will change
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.target.split("/", 1)[0]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    mode: Outcome
    reason: str


class Approver(Protocol):
    """Supplied by the front-end (the terminal prompt today); asked only in `approve` mode, after the API
    server's dry run accepted the change. Without one, approve mode denies."""

    async def __call__(self, request: ActionRequest, /) -> bool:
        """True to apply `request`, False to deny it (an exception denies it too)."""
        ...


@dataclass
class ActionPolicy:
    mode: Mode = "off"
    allowed_actions: set[str] | None = None  # None: every write tool
    allowed_namespaces: set[str] | None = None  # None: any namespace
    approver: Approver | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"remediation mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.allowed_actions is not None:
            from .registry import write_names  # deferred: the registry imports every tool module

            unknown = sorted(self.allowed_actions - set(write_names()))
            if unknown:
                raise ValueError(
                    f"allowed actions must be write tools, not {', '.join(unknown)} (write tools: {', '.join(write_names())})"
                )

    def screen(self, request: ActionRequest) -> Decision | None:
        """The rules that need no cluster call: a denial, or None when the request may proceed."""
        if self.mode == "off":
            return Decision(False, "denied", "remediation mode is off: read-only run")
        if self.allowed_actions is not None and request.action not in self.allowed_actions:
            allowed = ", ".join(sorted(self.allowed_actions)) or "none"
            return Decision(False, "denied", f"action {request.action} is not allowed (allowed actions: {allowed})")
        ns = request.namespace
        if ns and self.allowed_namespaces is not None and ns not in self.allowed_namespaces:
            allowed = ", ".join(sorted(self.allowed_namespaces)) or "none"
            return Decision(False, "denied", f"namespace {ns} is not allowed (allowed namespaces: {allowed})")
        return None

    async def decide(self, request: ActionRequest) -> Decision:
        denied = self.screen(request)
        if denied is not None:
            return denied
        if self.mode == "dry-run":
            return Decision(True, "dry-run", "remediation mode is dry-run: validated by the API server, not applied")
        if self.mode == "approve":
            if self.approver is None:
                return Decision(False, "denied", "approval required and nobody approved")
            try:
                approved = bool(await self.approver(request))
            except Exception as err:  # an approver that fails has not approved
                return Decision(False, "denied", f"approval required and the approver failed: {err}")
            if not approved:
                return Decision(False, "denied", "approval required and the approver declined")
            return Decision(True, "applied", "approved")
        return Decision(True, "applied", "remediation mode is auto")
