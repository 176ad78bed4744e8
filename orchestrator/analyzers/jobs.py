"""Jobs and CronJobs: failed (BackoffLimitExceeded, DeadlineExceeded), running far too long, failing runs."""

from __future__ import annotations

from .common import condition, event_lines, meta, name_of, ns_of, owner_ref, quote
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot, parse_time

LONG_RUNNING_SECONDS = 3600.0  # a Job without a deadline still active after an hour is worth a look


@analyzer("Job", reads={"Event", "CronJob"})
def jobs(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Jobs that failed (backoff limit, deadline) or have been active for over an hour without completing."""
    out: list[Finding] = []
    now = reads.time()
    for ns in scope.namespaces:
        for job in reads.of("Job", ns):
            f = _job(reads, job, now)
            if f is not None:
                out.append(f)
    return out


def _job(reads: Snapshot, job: dict, now: float | None) -> Finding | None:
    ns, name = ns_of(job), name_of(job)
    spec, status = job.get("spec") or {}, job.get("status") or {}
    events = event_lines(reads, "Job", ns, name)
    owner = owner_ref(reads, job)
    failed = condition(job, "Failed")
    if failed and failed.get("status") == "True":
        reason = failed.get("reason", "")
        line = f"status.conditions[Failed]: {reason}: {quote(failed.get('message'))}"
        counts = f"status.failed={status.get('failed') or 0} spec.backoffLimit={spec.get('backoffLimit', 6)}"
        if reason == "DeadlineExceeded":
            cause = f"the Job ran longer than activeDeadlineSeconds={spec.get('activeDeadlineSeconds')} and was stopped"
        elif reason == "BackoffLimitExceeded":
            cause = "the Job's pods kept failing until the backoff limit was reached"
        else:
            cause = f"the Job failed: {reason or 'no reason given'}"
        return Finding("Job", ns, name, cause, [line, counts, *events], "high", "status.conditions[Failed]", owner)
    complete = condition(job, "Complete")
    started = parse_time(status.get("startTime"))
    if complete and complete.get("status") == "True" or not status.get("active") or started is None or now is None:
        return None
    age = now - started
    if age < LONG_RUNNING_SECONDS:
        return None
    line = (
        f"status.active={status.get('active')} since status.startTime={status.get('startTime')} ({int(age // 60)} min)"
    )
    cause = "the Job has been running for over an hour without completing"
    return Finding("Job", ns, name, cause, [line, *events], "low", "status.startTime", owner)


@analyzer("CronJob", reads={"Job", "Event"})
def cronjobs(reads: Snapshot, scope: Scope) -> list[Finding]:
    """CronJobs whose latest run failed, or that are suspended."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        for cj in reads.of("CronJob", ns):
            name = name_of(cj)
            runs = [
                j
                for j in reads.of("Job", ns)
                if any(
                    r.get("kind") == "CronJob" and r.get("name") == name for r in meta(j).get("ownerReferences") or []
                )
            ]
            runs.sort(key=lambda j: parse_time((j.get("status") or {}).get("startTime")) or 0.0)
            latest = runs[-1] if runs else None
            failed = condition(latest, "Failed") if latest else None
            events = event_lines(reads, "CronJob", ns, name)
            if failed and failed.get("status") == "True":
                line = (
                    f"Job {name_of(latest or {})} status.conditions[Failed]: "
                    f"{failed.get('reason')}: {quote(failed.get('message'))}"
                )
                cause = f"the latest scheduled run failed ({failed.get('reason') or 'no reason'})"
                out.append(Finding("CronJob", ns, name, cause, [line, *events], "high", "status.lastScheduleTime"))
            elif (cj.get("spec") or {}).get("suspend"):
                out.append(
                    Finding(
                        "CronJob",
                        ns,
                        name,
                        "the CronJob is suspended: no runs are scheduled",
                        ["spec.suspend=true"],
                        "low",
                        "spec.suspend",
                    )
                )
            elif events:
                out.append(
                    Finding("CronJob", ns, name, "the CronJob controller reports a problem", events, "medium", "status")
                )
    return out
