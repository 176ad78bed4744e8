"""One claimed Incident run to its end, its status kept current: the executor of the operator's in-process
mode and of `sre-agent operator execute` (a Job's entrypoint).

A claim that was taken over from an operator that died is finished, never started over on top of what it
did: a run that ended but whose status was not written gets its status from its report; a run that changed
the cluster is completed from its journal (`resume_run`: the gate's checks on what it changed, no model, no
write re-applied); only a run that changed nothing is started again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.resume import NothingToResume, resume_run
from ..engine.state import RunFailed, RunOptions
from ..models import check_model_choice
from ..models.errors import ModelError
from ..tools.journal import FILENAME, journaled_writes, read_journal
from .approvals import AnnotationApprover
from .incidents import IncidentApi, Ref, Refused, Target, engine_incident
from .recorder import StatusRecorder, status_diagnosis
from .status import END_PHASES, AppliedChange, IncidentStatus, Verdict, now_iso

log = logging.getLogger(__name__)

# resume_run's statuses → the run's (a resumed run that reverted its changes is escalated: not fixed).
RESUMED = {"resolved-after-resume": "resolved", "reverted": "escalated"}


@dataclass(frozen=True)
class ExecutorSettings:
    """How the operator runs Incidents (the same for every one)."""

    target: Target
    runs_dir: Path
    model: str | None = None  # overrides spec.model (the install's model)
    base_url: str | None = None
    heartbeat_seconds: float = 10.0
    approval_poll_seconds: float = 1.0


def run_dir(runs_dir: Path, ref: Ref, run_id: str) -> Path:
    return runs_dir / ref.namespace / ref.name / run_id


def changed_the_cluster(out_dir: Path) -> bool:
    """Whether the run in `out_dir` sent any write (applied or of unknown outcome)."""
    journal = out_dir / FILENAME
    return journal.is_file() and any(w["outcome"] != "failed" for w in journaled_writes(read_journal(journal)))


def ended_report(out_dir: Path) -> dict[str, Any] | None:
    """The report of a run that ended, or None."""
    path = out_dir / "report.json"
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return report if isinstance(report, dict) and report.get("status") else None


async def execute(
    api: IncidentApi,
    obj: dict[str, Any],
    status: IncidentStatus,
    settings: ExecutorSettings,
    *,
    previous_run: str | None = None,
    cancel: asyncio.Event | None = None,
    overdue: Callable[[], bool] | None = None,
) -> IncidentStatus:
    """Run the Incident `obj`, already claimed in `status`, and write its terminal status. `cancel` stops
    the run; when `overdue()` says its deadline was why, the Incident is Failed with that reason."""
    assert status.claim is not None
    ref = Ref.of(obj)
    recorder = StatusRecorder(api, obj, status, settings.heartbeat_seconds)
    recorder.start()
    status.started_at = status.started_at or now_iso()
    out_dir = run_dir(settings.runs_dir, ref, status.claim.run_id)
    status.report = str(out_dir)
    try:
        report = await _run(recorder, obj, settings, out_dir, previous_run, cancel)
        if report is not None and overdue is not None and overdue():
            deadline = status.claim.deadline
            report = {**report, "status": "error", "reason": f"the run did not end by its deadline {deadline} "
                      f"and was stopped ({report.get('reason')})"}  # fmt: skip
        if report is not None:
            _finish(recorder, report)
    except Refused as err:
        recorder.move("Failed", "Refused", str(err), warning=True)
    except Exception as err:  # a bug must not leave the Incident Investigating forever
        log.exception("run of %s failed", ref)
        recorder.move("Failed", "InternalError", f"internal error: {type(err).__name__}: {err}", warning=True)
    status.finished_at = status.finished_at or (now_iso() if status.terminal else None)
    await recorder.close()
    return status


async def _run(
    recorder: StatusRecorder,
    obj: dict[str, Any],
    settings: ExecutorSettings,
    out_dir: Path,
    previous_run: str | None,
    cancel: asyncio.Event | None,
) -> dict[str, Any] | None:
    from ..engine import run_incident

    incident = engine_incident(obj, settings.target)  # Refused before anything runs
    if previous_run:
        before = run_dir(settings.runs_dir, recorder.ref, previous_run)
        report = ended_report(before)
        if report is not None:
            recorder.note("TakenOver", f"run {previous_run} had ended; its report gives the status")
            recorder.status.report = str(before)
            return report
        if changed_the_cluster(before):
            recorder.move("Verifying", "TakenOver", f"run {previous_run} was interrupted after changing the "
                          "cluster: verifying what it changed (nothing is applied again)")  # fmt: skip
            recorder.status.report = str(before)
            try:
                resumed = await resume_run(before)
            except (NothingToResume, RunFailed) as err:
                recorder.move("Failed", "ResumeFailed", str(err), warning=True)
                return None
            return {**resumed.to_dict(), "status": RESUMED.get(resumed.status, resumed.status)}
        if recorder.status.mitigation and not (before / FILENAME).is_file():
            # Another pod's run changed the cluster and its journal went with that pod: starting over could
            # change it again, so a person decides.
            changes = "; ".join(f"{m.action} {m.target}" for m in recorder.status.mitigation)
            return {"status": "escalated", "exit_code": 3, "reason": f"run {previous_run} was interrupted after "
                    f"changing the cluster ({changes}) and its journal is not here: verify or revert by hand"}  # fmt: skip
        recorder.note("TakenOver", f"run {previous_run} was interrupted before changing anything: running again")
    timeout = None
    if recorder.status.claim is not None:
        from datetime import UTC, datetime

        from .status import parse_time

        deadline = parse_time(recorder.status.claim.deadline)
        timeout = max(1.0, (deadline - datetime.now(UTC)).total_seconds() - 30) if deadline else None
    try:  # what `sre-agent run` would refuse is refused here, before a run starts
        check_model_choice(incident.spec, settings.model, None, settings.base_url)
    except (ModelError, ValueError) as err:
        raise Refused(str(err)) from None
    approver = AnnotationApprover(
        recorder, poll_seconds=settings.approval_poll_seconds, timeout_seconds=timeout, cancel=cancel
    )
    options = RunOptions(output_dir=out_dir, model=settings.model, base_url=settings.base_url)
    result = await run_incident(incident, options, events=recorder.sink, approver=approver, cancel=cancel)
    return result.to_dict()


def _finish(recorder: StatusRecorder, report: dict[str, Any]) -> None:
    """The terminal status from a run's result (or report.json, the same fields)."""
    status = recorder.status
    status.diagnosis = status_diagnosis(report.get("diagnosis")) or status.diagnosis
    applied = [w for w in report.get("writes") or [] if w.get("mode") == "applied"]
    if applied:
        status.mitigation = [
            AppliedChange(
                action=str(w.get("action") or ""),
                target=str(w.get("target") or ""),
                change=str(w.get("change") or ""),
                revert=str(w.get("revert") or ""),
            )  # fmt: skip
            for w in applied
        ]
    verdict = report.get("verdict") or {}
    if verdict:
        failed = [str(r.get("name")) for r in verdict.get("results") or [] if not r.get("passed")]
        status.verdict = Verdict(passed=bool(verdict.get("passed")), failed_checks=failed)
    status.steps = int(report.get("steps") or 0) or status.steps
    status.tokens = int(report.get("tokens") or 0) or status.tokens
    status.cost_usd = float(report.get("cost_usd") or 0.0) or status.cost_usd
    status.exit_code = int(report.get("exit_code", 1))
    status.pending_approval = None
    phase = END_PHASES.get(str(report.get("status")), "Failed")
    reason = {"Resolved": "VerifiedResolved", "Escalated": "Escalated", "NoFault": "NoFault"}.get(phase, "RunFailed")
    status.finished_at = now_iso()
    recorder.move(
        phase, reason, str(report.get("reason") or report.get("status")), warning=phase in ("Escalated", "Failed")
    )
