"""job_complete: a Job (or a CronJob's latest run, or every Job of a namespace) finished successfully."""

from __future__ import annotations

from typing import Any

from ..tools.batch import job_state
from .kube import condition, meta, parse_time, spec, status
from .registry import Context, Outcome, check
from .targets import Target
from .text import count, listed


def _started(job: dict) -> float:
    return parse_time(status(job).get("startTime")) or parse_time(meta(job).get("creationTimestamp")) or 0.0


def _cronjob_of(job: dict) -> str | None:
    return next((r.get("name") for r in meta(job).get("ownerReferences") or [] if r.get("kind") == "CronJob"), None)


def latest_runs(jobs: list[dict]) -> list[dict]:
    """The Jobs that count in a namespace: every Job of its own, and only the newest run of each CronJob
    (an older failed run stays in the history after a fix)."""
    newest: dict[str, dict] = {}
    out = []
    for job in jobs:
        owner = _cronjob_of(job)
        if owner is None:
            out.append(job)
        elif owner not in newest or _started(job) > _started(newest[owner]):
            newest[owner] = job
    return out + list(newest.values())


def job_problem(job: dict) -> str | None:
    """None when the Job is Complete with its completions succeeded; else what it is instead."""
    wanted = spec(job).get("completions")
    wanted = 1 if wanted is None else int(wanted)
    succeeded = int(status(job).get("succeeded") or 0)
    if condition(job, "Complete").get("status") == "True" and succeeded >= wanted:
        return None
    failed = condition(job, "Failed")
    if failed.get("status") == "True":
        return f"Failed ({failed.get('reason', 'no reason')}): {failed.get('message', '')}".rstrip(": ")
    return (
        f"{job_state(job)}, not complete: {succeeded}/{wanted} succeeded, "
        f"{status(job).get('active') or 0} active, {status(job).get('failed') or 0} failed"
    )


def _row(job: dict) -> dict[str, Any]:
    return {
        "name": meta(job).get("name"),
        "state": job_state(job),
        "succeeded": int(status(job).get("succeeded") or 0),
        "failed": int(status(job).get("failed") or 0),
    }


@check("job_complete", kinds={"Job", "CronJob"}, namespace=True)
def job_complete(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """The Job has its Complete condition with every completion succeeded; for a CronJob its newest run
    is; for a namespace every Job is (a CronJob's newest run only)."""
    assert target is not None
    jobs = ctx.reads.list("Job", target.namespace)
    if target.kind == "Job":
        job = ctx.reads.get("Job", target.namespace, target.name or "")
        if job is None:
            return Outcome(False, {"exists": False}, f"{target} not found")
        chosen = [job]
    elif target.kind == "CronJob":
        if ctx.reads.get("CronJob", target.namespace, target.name or "") is None:
            return Outcome(False, {"exists": False}, f"{target} not found")
        runs = [j for j in jobs if _cronjob_of(j) == target.name]
        if not runs:
            return Outcome(False, {"runs": 0}, f"{target}: no Job has run yet, nothing shows it succeeds")
        chosen = [max(runs, key=_started)]
    else:
        chosen = latest_runs(jobs)
    failing = [f"Job {meta(j).get('name')}: {p}" for j in chosen if (p := job_problem(j))]
    value = {"jobs": [_row(j) for j in chosen]}
    if failing:
        return Outcome(False, value, f"{target}: {listed(failing)}")
    if not chosen:
        return Outcome(True, value, f"{target}: no Job to complete")
    names = ", ".join(str(meta(j).get("name")) for j in chosen)
    return Outcome(True, value, f"{target}: {count(len(chosen), 'Job')} complete ({names})")
