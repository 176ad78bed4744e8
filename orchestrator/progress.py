"""Rendering a run's progress for a person at a terminal: one line per state change, tool call and
verdict, with rich colours. An event sink like any other; `--quiet` simply does not pass it."""

from __future__ import annotations

import json
from typing import Any

from .engine.events import (
    Clarification,
    Mitigation,
    RunEnded,
    RunEvent,
    RunStarted,
    StateEntered,
    Submitted,
    ToolAnswered,
    ToolCalled,
    Verdict,
    WriteApplied,
    WriteProposed,
)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


class ConsoleProgress:
    def __init__(self, console: Any | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False)

    def __call__(self, ev: RunEvent) -> None:
        line = self.line(ev)
        if line:
            self.console.print(line, overflow="ellipsis", no_wrap=True)

    @staticmethod
    def line(ev: RunEvent) -> str | None:
        """The rich markup line for `ev`, or None for an event the terminal does not show."""
        if isinstance(ev, RunStarted):
            return f"[bold]run {ev.run_id}[/] model {ev.model} ({ev.model_class}), mode {ev.mode}"
        if isinstance(ev, StateEntered):
            return f"[cyan]▶ {ev.state}[/] [dim]({ev.trigger} from {ev.source})[/]"
        if isinstance(ev, ToolCalled) and not ev.malformed:
            args = json.dumps(ev.args, default=str, separators=(",", ":"))
            return f"  [dim]{ev.role or ''}[/] → {ev.tool} [dim]{escape(args[:70])}[/]"
        if isinstance(ev, ToolAnswered) and ev.status != "ok":
            return f"    [yellow]✗ {ev.status}: {ev.error}[/]"
        if isinstance(ev, WriteApplied):
            return f"    [magenta]✎ applied: {ev.change}[/]"
        if isinstance(ev, WriteProposed):
            return f"    [magenta]✎ {ev.outcome}: {ev.change}[/]"
        if isinstance(ev, Submitted):
            return f"  [green]✔ {ev.submission}[/]"
        if isinstance(ev, Verdict):
            colour = "green" if ev.passed else "red"
            failed = ev.failed_checks
            return (
                f"  [{colour}]verdict {'PASS' if ev.passed else 'FAIL'}[/] gate {'PASS' if ev.gate_passed else 'FAIL'}"
                + (f" [dim](failed: {', '.join(failed)})[/]" if failed else "")
            )
        if isinstance(ev, Clarification):
            return f"  [yellow]? {ev.question}[/] → {ev.answer or 'no answer: ' + str(ev.assumption)}"
        if isinstance(ev, Mitigation):
            return f"  [yellow]⚑ {ev.detector}: {ev.action}[/]"
        if isinstance(ev, RunEnded):
            colour = "green" if ev.exit_code == 0 else "red"
            return f"[bold {colour}]{ev.status}[/] (exit {ev.exit_code}): {ev.reason}"
        return None
