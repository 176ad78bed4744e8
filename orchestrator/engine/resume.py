"""Resuming an interrupted run (`sre-agent resume RUN_DIR`): a run killed after a write leaves the change in
the cluster, unverified. Its journal (tools/journal.py) says what it sent and how it was answered, and holds
the incident; resume reconnects to the cluster, waits the stabilisation window the run would have waited,
runs the verifier gate's required checks over what was changed (code only, no model), optionally reverts
each change through the action policy, and writes the run's reports with the outcome:

    resolved-after-resume  exit 0   the gate passes on what the run changed
    escalated              exit 3   the gate fails, or a revert asked for was not made
    reverted               exit 3   every change was put back (the incident is not resolved)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path
from typing import Any

from ..machines import UNGUARDED, load_machine
from ..models.classes import class_profile
from ..redaction import scrub
from ..tools import ToolContext
from ..tools.journal import FILENAME, WriteJournal, journaled_writes, read_journal
from ..tools.policy import Approver
from ..tools.revert import revert_write
from .handlers import settle_seconds, success_checks
from .outputs import write_outputs
from .state import EXIT_RESOLVED, EXIT_UNRESOLVED, RunOptions, RunResult, RunState
from .wiring import action_policy, gate_for, open_session

RESOLVED, ESCALATED, REVERTED = "resolved-after-resume", "escalated", "reverted"


class NothingToResume(Exception):
    """The directory holds no interrupted run: none at all, or one that ended (exit 2, one line)."""


def start_journal(out_dir: Path, run_id: str, incident: Any, model: str, model_class: str) -> WriteJournal:
    """The run's journal, opened with what a resume needs to reconnect: the incident as the run read it."""
    journal = WriteJournal(out_dir / FILENAME)
    doc = scrub(incident.model_dump(mode="json", by_alias=True, exclude_none=True))
    journal.append("start", run_id=run_id, model=model, model_class=model_class, incident=doc)
    return journal


def _trace_events(path: Path) -> list[dict[str, Any]]:
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:  # the last line of a killed run may be cut short
            continue
    return events


def _interrupted(out_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """(the journal's start entry, its entries, the trace's events) of an interrupted run."""
    trace, journal = out_dir / "trace.jsonl", out_dir / FILENAME
    if not trace.is_file() or not journal.is_file():
        raise NothingToResume(f"{out_dir} holds no run to resume (it needs trace.jsonl and {FILENAME})")
    events, entries = _trace_events(trace), read_journal(journal)
    start = next((e for e in entries if e.get("event") == "start"), None)
    if start is None or not isinstance(start.get("incident"), dict):
        raise NothingToResume(f"{journal} does not record the run's incident: nothing to resume from")
    # A run killed after its last event but before its reports is resumed for them.
    if any(e.get("kind") == "run_end" for e in events) and (out_dir / "report.md").is_file():
        raise NothingToResume(f"the run in {out_dir} ended normally: nothing to resume")
    if any(e.get("event") == "resumed" for e in entries):
        raise NothingToResume(f"the run in {out_dir} was resumed already: nothing to resume")
    return start, entries, events


async def resume_run(out_dir: Path, *, revert: bool = False, approver: Approver | None = None) -> RunResult:
    """Complete an interrupted run; raises NothingToResume for a directory with nothing to resume, RunFailed
    for a cluster that cannot be used (nothing is written then: the run can be resumed later)."""
    from ..incident import Incident

    started = time.monotonic()
    start, entries, events = _interrupted(out_dir)
    try:
        incident = Incident.model_validate(start["incident"])
    except ValueError as err:
        line = str(err).splitlines()[0]
        raise NothingToResume(f"the incident recorded in {out_dir / FILENAME} is not valid: {line}") from None
    spec = incident.spec
    if spec.cluster is not None and spec.cluster.simulate is not None:
        raise NothingToResume(
            f"the run in {out_dir} used an embedded simulator, which ended with it: there is no cluster to verify"
        )
    model_class = str(start.get("model_class") or "frontier")
    first = next((e for e in events if e.get("kind") == "run_start"), {})
    guarded = bool((first.get("data") or {}).get("mitigations", True))
    machine = load_machine(model_class if guarded else UNGUARDED)
    run = RunState.for_incident(incident, machine.max_verify_rounds)
    # The run's own writes: those after `resuming` are an earlier resume's reverts, cut short.
    entries = list(itertools.takewhile(lambda e: e.get("event") != "resuming", entries))
    changed = [w for w in journaled_writes(entries) if w["outcome"] != "failed"]
    path = [str(e.get("state")) for e in events[:1]] + [
        str(e["data"].get("dest")) for e in events if e.get("kind") == "state_transition" and e.get("data")
    ]
    run.writes = [_as_write(w) for w in journaled_writes(entries)]
    journal = WriteJournal(out_dir / FILENAME)
    result = RunResult(
        run_id=str(start.get("run_id") or out_dir.name), status=ESCALATED, exit_code=EXIT_UNRESOLVED, reason="",
        output_dir=out_dir, model=str(start.get("model") or ""), model_class=model_class, ended_by="resume",
    )  # fmt: skip
    session = await open_session(incident)  # RunFailed (exit 5): the run stays resumable once it answers
    try:
        remediated = sorted({w["target"] for w in changed})
        if changed:  # the window the run would have waited before its verifier
            await session.wait(settle_seconds(class_profile(model_class).stabilise_seconds, remediated))
        gate = gate_for(session, run)
        checks = await asyncio.to_thread(gate.required_checks, remediated, [], success_checks(incident))
        verdict = await gate.evaluate(checks)
        run.verdict = {**verdict.to_dict(), "gate_passed": verdict.passed, "proposed": None}
        reverts: list[dict[str, Any]] = []
        if revert:
            ctx = ToolContext(api=session.api, namespaces=run.namespaces, policy=action_policy(incident, run.namespaces, approver, session),
                              journal=journal)  # fmt: skip
            journal.append("resuming", revert=True)
            for w in reversed(changed):
                reverts.append(await revert_write(ctx, w))
            run.writes += reverts
    finally:
        session.close()
    result.status, result.exit_code, result.reason = _outcome(changed, verdict.passed, revert, reverts)
    result.verdict = scrub(run.verdict)
    result.path = [*path, "interrupted", "resume"]
    return _finish(out_dir, result, run, machine, journal, started)


def _outcome(
    changed: list[dict[str, Any]], passed: bool, revert: bool, reverts: list[dict[str, Any]]
) -> tuple[str, int, str]:
    what = f"{len(changed)} change(s) the interrupted run made" if changed else "the cluster (the run made no change)"
    if revert and changed:
        undone = [r for r in reverts if r.get("mode") in ("reverted", "unchanged", "nothing to undo")]
        if len(undone) == len(reverts):
            return REVERTED, EXIT_UNRESOLVED, f"reverted {what}; the gate had {'passed' if passed else 'failed'}"
        left = [f"{r.get('target')}: {r.get('mode')}" for r in reverts if r not in undone]
        return ESCALATED, EXIT_UNRESOLVED, f"not every change was reverted ({'; '.join(left)})"
    if passed:
        return RESOLVED, EXIT_RESOLVED, f"verified {what}: the gate passes"
    return ESCALATED, EXIT_UNRESOLVED, f"verified {what}: the gate fails"


def _as_write(w: dict[str, Any]) -> dict[str, Any]:
    mode = {"applied": "applied", "unknown": "sent, outcome unknown"}.get(w["outcome"], "failed")
    return {"action": w.get("action"), "target": w.get("target"), "mode": mode, "change": w.get("change"),
            "revert": w.get("revert")}  # fmt: skip


def _finish(
    out_dir: Path, result: RunResult, run: RunState, machine: Any, journal: WriteJournal, started: float
) -> RunResult:
    import logging

    result.writes = scrub(list(run.writes))
    result.seconds = round(time.monotonic() - started, 2)
    run.end_reason = result.reason
    write_outputs(out_dir, result, run, machine, RunOptions(), logging.getLogger(__name__))
    journal.append("resumed", status=result.status, exit_code=result.exit_code, reason=result.reason)
    return result
