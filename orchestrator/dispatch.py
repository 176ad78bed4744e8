"""Every tool call a model makes passes through here, in this order: trace the call, enforce the role's
permissions for the current state, reject a call that contradicts the model's declared action (when the
machine asks for it), validate submissions, charge the step budget, run the tool, distil facts, trace the
result. The model always gets an answer it can read; nothing a model sends can crash the run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .facts import Ledger, facts_from
from .roles import Role, submission_errors
from .trace import Trace


def signature(name: str, args: dict[str, Any]) -> str:
    """Identity of a call (tool + canonical arguments), for spotting repetitions."""
    blob = json.dumps([name, args], sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def _target_of(args: dict[str, Any]) -> str | None:
    ns, kind, name = args.get("namespace"), args.get("kind"), args.get("name")
    if kind and name:
        return f"{ns or ''}/{kind}/{name}"
    return args.get("workload") or args.get("pod") or args.get("node") or name or ns


@dataclass
class Budget:
    steps: int
    tokens: int
    seconds: float
    used_steps: int = 0

    def exhausted(self, tokens_used: int, elapsed: float) -> str | None:
        if self.used_steps >= self.steps:
            return f"step budget of {self.steps} tool calls used up"
        if tokens_used >= self.tokens:
            return f"token budget of {self.tokens} used up ({tokens_used})"
        if elapsed >= self.seconds:
            return f"time budget of {self.seconds:.0f} s used up"
        return None


@dataclass
class StateScope:
    """What the speaking role may do in the current state."""

    role: Role
    state: str
    allowed: set[str]
    submit: str | None
    reject_mismatch: bool


@dataclass
class Dispatcher:
    trace: Trace
    toolbox: Any  # orchestrator.tools.Toolbox
    ledger: Ledger
    budget: Budget
    scope: StateScope | None = None
    declared: Any = None  # the MeteredClient of the speaking role (for its declared action)
    submission: dict[str, Any] | None = None
    writes: list[dict[str, Any]] = field(default_factory=list)
    dispatched_ids: set[str] = field(default_factory=set)

    def enter(self, scope: StateScope, client: Any) -> None:
        self.scope, self.declared, self.submission = scope, client, None

    async def handle(self, name: str, args: dict[str, Any], call_id: str | None) -> str:
        scope = self.scope
        assert scope is not None, "a tool call outside an agent state"
        if call_id:
            self.dispatched_ids.add(call_id)
        declared = getattr(self.declared, "declared", None)
        call = self.trace.emit(
            "tool_call",
            tool=name,
            args=args,
            signature=signature(name, args),
            call_id=call_id,
            target=_target_of(args),
            declared_action={"tool": declared.tool, "target": declared.target} if declared and declared.tool else None,
        )

        def answer(ok: bool, content: dict[str, Any], error: str | None = None, **extra: Any) -> str:
            self.trace.emit(
                "tool_result",
                tool=name,
                call_seq=call.seq,
                call_id=call_id,
                status="ok" if ok else extra.pop("status", "error"),
                error=error,
                **extra,
            )
            return json.dumps({"ok": ok, "error": error, **content}, default=str)

        if name not in scope.allowed:
            return answer(
                False,
                {},
                f"{name} is not available to the {scope.role.name} in state {scope.state}; "
                f"available: {', '.join(sorted(scope.allowed))}",
                status="rejected",
                reason="role_permission",
            )
        if scope.reject_mismatch and declared and declared.tool and declared.tool != name:
            self.trace.emit(
                "mitigation",
                detector="declared_action_mismatch",
                action="rejected the call before it ran",
                call_seq=call.seq,
                declared=declared.tool,
                called=name,
            )
            return answer(
                False,
                {},
                f"you declared 'Action: {declared.tool}' but called {name}; reconcile your plan and call the tool you declared",
                status="rejected",
                reason="declared_action_mismatch",
            )
        role_subs = scope.role.submissions
        if name in role_subs:
            errors = submission_errors(role_subs[name], args)
            if errors:
                return answer(False, {}, f"{name} rejected: {'; '.join(errors[:5])}", status="invalid")
            self.submission = {"name": name, "args": args, "seq": call.seq}
            self.trace.emit("submission", submission=name, content=args, call_seq=call.seq)
            return answer(True, {"accepted": name})
        self.budget.used_steps += 1
        result = await self.toolbox.call(name, args)
        facts = self.ledger.add(facts_from(name, result.ok, result.content, result.error))
        if result.write is not None:
            self.writes.append({**result.write, "call_seq": call.seq, "state": scope.state})
        body = json.dumps(result.content, default=str)
        return answer(
            result.ok,
            result.content,
            result.error,
            targets=result.targets,
            write=result.write,
            result_chars=len(body),
            result_digest=hashlib.sha1(body.encode()).hexdigest()[:12],
            facts=facts,
        )

    def trace_undispatched(self, requested: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
        """Calls autogen answered itself (arguments not JSON, unknown tool): trace them too."""
        by_id = {r["call_id"]: r for r in results}
        for req in requested:
            if req["id"] in self.dispatched_ids:
                continue
            call = self.trace.emit(
                "tool_call", tool=req["name"], args_raw=str(req["arguments"])[:500], call_id=req["id"], malformed=True
            )
            res = by_id.get(req["id"], {})
            self.trace.emit(
                "tool_result",
                tool=req["name"],
                call_seq=call.seq,
                call_id=req["id"],
                status="malformed",
                error=str(res.get("content", ""))[:300],
            )
