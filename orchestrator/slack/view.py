"""One investigation as its thread shows it: the run's events folded into what a person follows (the
machine's state, the key findings, the tool calls so far, the tokens spent), rendered by blocks.py."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..engine.events import (
    Mitigation,
    ModelCalled,
    RunEnded,
    RunEvent,
    RunStarted,
    StateEntered,
    Submitted,
    ToolCalled,
    Verdict,
    WriteApplied,
    WriteProposed,
)

FINDINGS_SHOWN = 6
TOOLS_SHOWN = 3


@dataclass
class RunView:
    key: str  # the investigation's id in this app (what `/sre-agent cancel` takes)
    summary: str
    namespace: str
    requester: str | None = None  # the user who asked, or None for an alert
    phase: str = "queued"  # queued | running | resolved | escalated | no-fault | error | interrupted
    queue_position: int | None = None
    run_id: str = ""
    model: str = ""
    mode: str = ""
    state: str = ""
    tool_calls: int = 0
    tokens: int = 0
    repeats: int = 0  # further alert posts of the same group that joined this thread
    cancelling: bool = False
    cancelled_by: str | None = None  # the Slack user who asked to stop it
    reason: str = ""
    recent_tools: deque[str] = field(default_factory=lambda: deque(maxlen=TOOLS_SHOWN))
    findings: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.phase not in ("queued", "running")

    def apply(self, ev: RunEvent) -> None:
        """Fold one event into the view."""
        if isinstance(ev, RunStarted):
            self.phase, self.run_id, self.model, self.mode = "running", ev.run_id, ev.model, ev.mode
            self.queue_position = None
        elif isinstance(ev, StateEntered):
            self.state = ev.state or ""
        elif isinstance(ev, ToolCalled):
            self.tool_calls += 1
            target = f" {ev.target}" if ev.target else ""
            self.recent_tools.append(f"{ev.tool}{target}")
        elif isinstance(ev, ModelCalled):
            self.tokens += ev.tokens
        elif isinstance(ev, Submitted) and isinstance(summary := ev.content.get("summary"), str) and summary:
            self._finding(f"{ev.submission.removeprefix('submit_')}: {summary}")
        elif isinstance(ev, WriteApplied):
            self._finding(f"applied: {ev.change}")
        elif isinstance(ev, WriteProposed):
            self._finding(f"{ev.outcome}: {ev.change}")
        elif isinstance(ev, Mitigation):
            self._finding(f"guard {ev.detector}: {ev.action}")
        elif isinstance(ev, Verdict):
            failed = f" (failed: {', '.join(ev.failed_checks)})" if ev.failed_checks else ""
            self._finding(f"verifier: {'PASS' if ev.passed else 'FAIL'}{failed}")
        elif isinstance(ev, RunEnded):
            self.phase, self.reason, self.tokens = ev.status, ev.reason, ev.tokens
            self.recent_tools.clear()

    def _finding(self, line: str) -> None:
        self.findings.append(line)
        del self.findings[:-FINDINGS_SHOWN]
