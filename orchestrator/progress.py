"""Rendering a run's progress for a person at a terminal: one line per state change, tool call and
verdict, with rich colours. A sink like any other; `--quiet` simply does not subscribe it."""

from __future__ import annotations

import json
from typing import Any

from .trace import Event


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


class ConsoleProgress:
    def __init__(self, console: Any | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False)

    def __call__(self, ev: Event) -> None:
        d = ev.data
        line = None
        if ev.kind == "run_start":
            line = f"[bold]run {ev.run_id}[/] model {d['model']} ({d['model_class']}), mode {d['mode']}"
        elif ev.kind == "state_transition":
            line = f"[cyan]▶ {d['dest']}[/] [dim]({d['trigger']} from {d['source']})[/]"
        elif ev.kind == "tool_call" and not d.get("malformed"):
            args = json.dumps(d.get("args", {}), default=str, separators=(",", ":"))
            line = f"  [dim]{ev.role or ''}[/] → {d['tool']} [dim]{escape(args[:70])}[/]"
        elif ev.kind == "tool_result" and d.get("status") != "ok":
            line = f"    [yellow]✗ {d.get('status')}: {d.get('error')}[/]"
        elif ev.kind == "tool_result" and d.get("write"):
            w = d["write"]
            line = f"    [magenta]✎ {w.get('mode')}: {w.get('change')}[/]"
        elif ev.kind == "submission":
            line = f"  [green]✔ {d['submission']}[/]"
        elif ev.kind == "verifier_verdict":
            colour = "green" if d["passed"] else "red"
            failed = [r["name"] for r in d.get("results", []) if not r.get("passed")]
            line = (
                f"  [{colour}]verdict {'PASS' if d['passed'] else 'FAIL'}[/] gate {'PASS' if d['gate_passed'] else 'FAIL'}"
                + (f" [dim](failed: {', '.join(failed)})[/]" if failed else "")
            )
        elif ev.kind == "clarification":
            line = f"  [yellow]? {d['question']}[/] → {d.get('answer') or 'no answer: ' + str(d.get('assumption'))}"
        elif ev.kind == "mitigation":
            line = f"  [yellow]⚑ {d.get('detector')}: {d.get('action')}[/]"
        elif ev.kind == "run_end":
            colour = "green" if d["exit_code"] == 0 else "red"
            line = f"[bold {colour}]{d['status']}[/] (exit {d['exit_code']}): {d['reason']}"
        if line:
            self.console.print(line, overflow="ellipsis", no_wrap=True)
