"""The engine's API for front-ends, against the simulator: typed progress events, an approver the front-end
supplies, and cancellation at a step boundary."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from rich.console import Console

from orchestrator.engine import RunOptions, RunResult, run_incident
from orchestrator.engine.events import (
    Mitigation,
    ModelCalled,
    RunEnded,
    RunEvent,
    RunStarted,
    StateEntered,
    ToolCalled,
    Verdict,
    WriteApplied,
)
from orchestrator.incident import load_incident
from orchestrator.progress import ConsoleProgress
from orchestrator.tools.policy import ActionRequest, Approval

from .helpers import events, write_incident

BAD_IMAGE = "builtin:otel-demo-bad-image"


def test_a_run_reports_typed_events_the_terminal_renders(runs_root: Path, tmp_path: Path) -> None:
    inc = load_incident(write_incident(tmp_path, "typed", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}))
    seen: list[RunEvent] = []
    screen = io.StringIO()
    progress = ConsoleProgress(Console(file=screen, width=200, color_system=None))

    def both(ev: RunEvent) -> None:
        seen.append(ev)
        progress(ev)

    out = runs_root / "typed-events"
    result = asyncio.run(run_incident(inc, RunOptions(output_dir=out), events=both))
    assert result.exit_code == 0, result.reason
    assert isinstance(seen[0], RunStarted) and seen[0].run_id == result.run_id
    assert isinstance(seen[-1], RunEnded) and seen[-1].status == "resolved" and seen[-1].exit_code == 0
    assert [e.state for e in seen if isinstance(e, StateEntered)] == result.path[1:]
    applied = [e for e in seen if isinstance(e, WriteApplied)]
    assert [(e.action, e.target) for e in applied] == [(w["action"], w["target"]) for w in result.writes]
    assert [e for e in seen if isinstance(e, Verdict)][-1].passed
    # one typed event per trace event a person follows, in trace order
    seqs = [e.seq for e in seen]
    not_progress = ("context_prune", "budget", "injection", "analysis")
    trace = events(out)
    assert seqs == [
        e["seq"]
        for e in trace
        if e["kind"] not in not_progress and not (e["kind"] == "llm_call" and e["data"].get("sent") is False)
    ]
    # the model calls' tokens add up to what the run reports it spent
    assert sum(e.tokens for e in seen if isinstance(e, ModelCalled)) == result.tokens
    lines = screen.getvalue().splitlines()
    assert lines[0].startswith(f"run {result.run_id}") and lines[-1].startswith("resolved (exit 0)")
    assert any("✎ applied:" in line for line in lines) and any("verdict PASS" in line for line in lines)


def test_the_front_ends_approver_decides_each_write(runs_root: Path, tmp_path: Path) -> None:
    inc = load_incident(
        write_incident(
            tmp_path, "approved", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}, remediation={"mode": "approve"}
        )
    )
    asked: list[ActionRequest] = []

    async def approve(request: ActionRequest) -> Approval:
        asked.append(request)
        return Approval(True, "U42")  # a front-end that knows who answered says so

    out = runs_root / "approved"
    result = asyncio.run(run_incident(inc, RunOptions(output_dir=out), approver=approve))
    assert result.exit_code == 0, result.reason
    assert asked and all(r.target.startswith("otel-demo/") and r.change for r in asked)
    # the person sees how to undo it and what the API server's dry run said
    assert all(r.revert and r.dry_run for r in asked)
    assert {w["mode"] for w in result.writes} == {"applied"}
    assert {w["approved_by"] for w in result.writes} == {"U42"}
    assert "applied (approved by U42)" in (out / "report.md").read_text()
    assert "applied (approved by U42)" in (out / "report.html").read_text()


def test_a_cancelled_run_stops_at_the_next_step_escalated_with_its_record(runs_root: Path, tmp_path: Path) -> None:
    inc = load_incident(write_incident(tmp_path, "cancelled", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}))
    out = runs_root / "cancelled"
    seen: list[RunEvent] = []

    async def main() -> RunResult:
        cancel = asyncio.Event()

        def on_event(ev: RunEvent) -> None:
            seen.append(ev)
            if isinstance(ev, ToolCalled) and ev.state == "investigate":
                cancel.set()  # mid-state: the step under way finishes, the next one never starts

        return await run_incident(inc, RunOptions(output_dir=out), events=on_event, cancel=cancel)

    result = asyncio.run(main())
    assert result.exit_code == 3 and result.status == "escalated"
    assert result.ended_by == "cancelled" and "\n" not in result.reason
    assert result.reason == "cancelled by the front-end in state investigate"
    assert result.path[-2:] == ["investigate", "escalated"]
    trace = events(out)
    model_calls = [e for e in trace if e["kind"] == "llm_call" and e["state"] == "investigate"]
    assert len(model_calls) == 1  # one model step ran in investigate, then the run stopped
    assert not [e for e in trace if e["kind"] == "mitigation"] and not any(isinstance(e, Mitigation) for e in seen)
    (end,) = [e["data"] for e in trace if e["kind"] == "run_end"]
    assert end["ended_by"] == "cancelled" and end["exit_code"] == 3
    report = json.loads((out / "report.json").read_text())
    assert report["ended_by"] == "cancelled" and report["reason"] == result.reason
    for name in ("agent_output.json", "mast.json", "report.md", "machine.mmd"):
        assert (out / name).is_file(), name


def test_a_front_end_that_fails_does_not_end_the_run(runs_root: Path, tmp_path: Path) -> None:
    inc = load_incident(write_incident(tmp_path, "broken-sink", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}))
    calls = []

    def unreachable(ev: RunEvent) -> None:  # a chat front-end whose API is down
        calls.append(ev)
        raise ConnectionError("chat API unreachable")

    result = asyncio.run(run_incident(inc, RunOptions(output_dir=runs_root / "broken-sink"), events=unreachable))
    assert result.exit_code == 0, result.reason
    assert isinstance(calls[-1], RunEnded)  # it was still offered every event
