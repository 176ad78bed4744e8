"""The run's progress as typed events, for any front-end (the terminal today) to render.

They are derived from the trace, in one place (`typed`), so a front-end never parses trace dicts and the
trace stays the one record. A model call is reduced to the tokens it cost (a chat shows what a run has
spent so far); context pruning and a simulated model's injections are not progress a person follows, so
they have no typed event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..tokens import prompt_tokens_spent
from ..trace import Event


@dataclass(frozen=True, kw_only=True)
class RunEvent:
    seq: int  # the trace event it comes from
    run_id: str
    state: str | None  # the machine state when it happened
    role: str | None  # the role speaking, if any


@dataclass(frozen=True, kw_only=True)
class RunStarted(RunEvent):
    incident: str
    model: str
    model_class: str
    mode: str  # remediation mode
    mitigations: bool
    namespaces: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StateEntered(RunEvent):
    source: str
    trigger: str
    why: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class AgentSaid(RunEvent):
    text: str


@dataclass(frozen=True, kw_only=True)
class ToolCalled(RunEvent):
    tool: str
    args: Mapping[str, Any] = field(default_factory=dict)
    target: str | None = None
    malformed: bool = False  # arguments that were not JSON, or an unknown tool


@dataclass(frozen=True, kw_only=True)
class ToolAnswered(RunEvent):
    tool: str
    status: str  # ok | error | rejected | invalid | deduped | malformed
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class WriteProposed(ToolAnswered):
    """A write tool's change that was not applied: a dry run, or denied, or failed (see `status`)."""

    action: str
    target: str
    change: str
    outcome: str  # dry-run | denied | failed


@dataclass(frozen=True, kw_only=True)
class WriteApplied(ToolAnswered):
    action: str
    target: str
    change: str
    revert: str


@dataclass(frozen=True, kw_only=True)
class ModelCalled(RunEvent):
    """One model request that was sent: its tokens (prompt and completion) as counted for the run."""

    tokens: int


@dataclass(frozen=True, kw_only=True)
class Submitted(RunEvent):
    submission: str
    ends_state: bool
    content: Mapping[str, Any] = field(default_factory=dict)  # as submitted (a mitigation may still refuse it)


@dataclass(frozen=True, kw_only=True)
class Clarification(RunEvent):
    question: str
    candidates: tuple[str, ...]
    answer: str | None
    assumption: str | None = None  # the namespace assumed when nobody answered


@dataclass(frozen=True, kw_only=True)
class Mitigation(RunEvent):
    """A live MAST mitigation: what was detected (mode, detector) and what the machine did about it."""

    mode: str
    detector: str
    action: str


@dataclass(frozen=True, kw_only=True)
class Verdict(RunEvent):
    passed: bool  # closure allowed
    gate_passed: bool
    proposed: str | None  # the verifier agent's PASS/FAIL, if it gave one
    failed_checks: tuple[str, ...] = ()
    objections: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ClosureAudited(RunEvent):
    passed: bool
    objections: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RunEnded(RunEvent):
    status: str  # resolved | escalated | error
    exit_code: int
    reason: str
    ended_by: str
    steps: int
    tokens: int


EventSink = Callable[[RunEvent], None]


def typed(ev: Event) -> RunEvent | None:
    """The typed event for a trace event, or None for one that is not progress."""
    d = ev.data
    base: dict[str, Any] = {"seq": ev.seq, "run_id": ev.run_id, "state": ev.state, "role": ev.role}
    if ev.kind == "run_start":
        inc = d.get("incident") or {}
        return RunStarted(
            **base,
            incident=inc.get("name", ""),
            namespaces=tuple(inc.get("namespaces") or ()),
            model=d["model"],
            model_class=d["model_class"],
            mode=d["mode"],
            mitigations=bool(d.get("mitigations")),
        )
    if ev.kind == "state_transition":
        why = {k: v for k, v in d.items() if k not in ("source", "trigger", "dest")}
        return StateEntered(**base, source=d["source"], trigger=d["trigger"], why=why)
    if ev.kind == "agent_message":
        return AgentSaid(**base, text=d.get("text", ""))
    if ev.kind == "tool_call":
        return ToolCalled(
            **base, tool=d["tool"], args=d.get("args") or {}, target=d.get("target"), malformed=bool(d.get("malformed"))
        )
    if ev.kind == "tool_result":
        return _answered(ev, base)
    if ev.kind == "llm_call":
        if d.get("sent") is False:  # refused before it was sent: it cost nothing
            return None
        prompt = prompt_tokens_spent(d.get("provider_prompt_tokens"), d.get("prompt_tokens"))
        return ModelCalled(**base, tokens=prompt + int(d.get("completion_tokens") or 0))
    if ev.kind == "submission":
        content = d.get("content")
        return Submitted(
            **base,
            submission=d["submission"],
            ends_state=bool(d.get("ends_state")),
            content=content if isinstance(content, dict) else {},
        )
    if ev.kind == "clarification":
        return Clarification(
            **base,
            question=d["question"],
            candidates=tuple(d.get("candidates") or ()),
            answer=d.get("answer"),
            assumption=d.get("assumption"),
        )
    if ev.kind == "mitigation":
        return Mitigation(**base, mode=str(d.get("mode")), detector=str(d.get("detector")), action=str(d.get("action")))
    if ev.kind == "verifier_verdict":
        return Verdict(
            **base,
            passed=bool(d["passed"]),
            gate_passed=bool(d["gate_passed"]),
            proposed=d.get("proposed"),
            failed_checks=tuple(r["name"] for r in d.get("results", []) if not r.get("passed")),
            objections=tuple(d.get("objections") or ()),
        )
    if ev.kind == "closure_audit":
        return ClosureAudited(**base, passed=bool(d["passed"]), objections=tuple(d.get("objections") or ()))
    if ev.kind == "run_end":
        return RunEnded(
            **base,
            status=d["status"],
            exit_code=d["exit_code"],
            reason=d["reason"],
            ended_by=d["ended_by"],
            steps=d["steps"],
            tokens=d["tokens"],
        )
    return None  # context_prune, budget, injection, analysis, briefing


def _answered(ev: Event, base: dict[str, Any]) -> ToolAnswered:
    d = ev.data
    answered = {**base, "tool": d["tool"], "status": str(d.get("status")), "error": d.get("error")}
    w = d.get("write")
    if not w:
        return ToolAnswered(**answered)
    what = {"action": w.get("action", ""), "target": w.get("target", ""), "change": w.get("change", "")}
    if w.get("mode") == "applied":
        return WriteApplied(**answered, **what, revert=w.get("revert", ""))
    return WriteProposed(**answered, **what, outcome=str(w.get("mode")))


def to_trace_sink(sink: EventSink) -> Callable[[Event], None]:
    """A trace subscriber that hands `sink` the typed events. A front-end that fails (Slack unreachable, a
    closed terminal) must not end the run: its error is logged and the run goes on."""

    def forward(ev: Event) -> None:
        progress = typed(ev)
        if progress is None:
            return
        try:
            sink(progress)
        except Exception as err:
            import structlog

            structlog.get_logger(__name__).warning(
                "event_sink_failed", progress=type(progress).__name__, error=repr(err)
            )

    return forward
