"""Jobs and CronJobs as `list_resources` summarises them and `describe` details them.

A Job's outcome is in its conditions (Complete, Failed with BackoffLimitExceeded or DeadlineExceeded),
but why it failed is in its pods: their termination reasons and exit codes are shown beside it. A
CronJob is shown with its recent runs.
"""

from __future__ import annotations

from typing import Any

from .context import ToolContext
from .kinds import KINDS
from .rows import cluster_now, condition, parse_time, pod_row
from .templates import compact, conditions, template_essentials

MAX_PODS = 10  # a Job's pods shown: the newest, where the latest failure is
MAX_RUNS = 5  # a CronJob's Jobs shown: the newest


def job_state(job: dict) -> str:
    """Complete, Failed (with its reason), Suspended or Running, as `kubectl get jobs` says STATUS."""
    for ctype in ("Complete", "Failed"):
        c = condition(job, ctype)
        if c.get("status") == "True":
            return f"{ctype} ({c['reason']})" if ctype == "Failed" and c.get("reason") else ctype
    if (job.get("spec") or {}).get("suspend"):
        return "Suspended"
    return "Running"


def _completions(job: dict) -> str:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    wanted = spec.get("completions")
    return f"{status.get('succeeded', 0)}/{wanted if wanted is not None else 1}"


def owner(obj: dict) -> str | None:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return f"{refs[0].get('kind')}/{refs[0].get('name')}" if refs else None


def job_summary(job: dict) -> dict[str, Any]:
    status = job.get("status") or {}
    failed = condition(job, "Failed")
    return compact(
        {
            "status": job_state(job),
            "completions": _completions(job),
            "active": status.get("active", 0),
            "failed": status.get("failed", 0),
            "message": failed.get("message") if failed.get("status") == "True" else None,
            "owner": owner(job),
        }
    )


def cronjob_summary(cj: dict) -> dict[str, Any]:
    spec, status = cj.get("spec") or {}, cj.get("status") or {}
    return compact(
        {
            "schedule": spec.get("schedule"),
            "suspend": bool(spec.get("suspend", False)),
            "active": len(status.get("active") or []),
            "lastScheduleTime": status.get("lastScheduleTime"),
            "lastSuccessfulTime": status.get("lastSuccessfulTime"),
        }
    )


def exits(pod: dict) -> list[str]:
    """`container: Reason (exit N)` for every container that terminated, now or in its last run."""
    out = []
    status = pod.get("status") or {}
    for s in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        for where in ("state", "lastState"):
            t = (s.get(where) or {}).get("terminated")
            if t:
                out.append(f"{s.get('name')}: {t.get('reason') or 'Terminated'} (exit {t.get('exitCode')})")
                break
    return out


async def _job_pods(ctx: ToolContext, job: dict) -> list[dict[str, Any]]:
    labels = (((job.get("spec") or {}).get("selector") or {}).get("matchLabels")) or {}
    if not labels:
        return []
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = await ctx.kube.list(KINDS["Pod"], job["metadata"].get("namespace"), label_selector=selector)
    pods.sort(key=lambda p: parse_time(p["metadata"].get("creationTimestamp")) or 0.0, reverse=True)
    now = cluster_now(pods, ctx.kube.server_time)
    rows = []
    for pod in pods[:MAX_PODS]:
        row = pod_row(pod, None, now)
        keep = ("name", "phase", "reasons", "message", "node", "age_seconds")
        rows.append(
            compact({**{k: row.get(k) for k in keep}, "restarts": row["restarts"] or None, "exits": exits(pod)})
        )
    return rows


async def describe_job(ctx: ToolContext, job: dict) -> tuple[dict, dict]:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    out_spec = compact(
        {
            "completions": spec.get("completions"),
            "parallelism": spec.get("parallelism"),
            "backoffLimit": spec.get("backoffLimit", 6),
            "activeDeadlineSeconds": spec.get("activeDeadlineSeconds"),
            "ttlSecondsAfterFinished": spec.get("ttlSecondsAfterFinished"),
            "suspend": spec.get("suspend"),
            "owner": owner(job),
            # The selector and template labels are the controller's own (its uid): noise here.
            "template": {k: v for k, v in template_essentials(spec.get("template") or {}).items() if k != "labels"},
        }
    )
    out_status = compact(
        {
            "state": job_state(job),
            "active": status.get("active", 0),
            "succeeded": status.get("succeeded", 0),
            "failed": status.get("failed", 0),
            "startTime": status.get("startTime"),
            "completionTime": status.get("completionTime"),
            "conditions": conditions(job),
            "pods": await _job_pods(ctx, job),
        }
    )
    return out_spec, out_status


async def describe_cronjob(ctx: ToolContext, cj: dict) -> tuple[dict, dict]:
    spec, status = cj.get("spec") or {}, cj.get("status") or {}
    job_spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    out_spec = compact(
        {
            "schedule": spec.get("schedule"),
            "timeZone": spec.get("timeZone"),
            "suspend": bool(spec.get("suspend", False)),
            "concurrencyPolicy": spec.get("concurrencyPolicy", "Allow"),
            "startingDeadlineSeconds": spec.get("startingDeadlineSeconds"),
            "backoffLimit": job_spec.get("backoffLimit", 6),
            "activeDeadlineSeconds": job_spec.get("activeDeadlineSeconds"),
            "template": template_essentials(job_spec.get("template") or {}),
        }
    )
    ns, name = cj["metadata"].get("namespace"), cj["metadata"]["name"]
    jobs = [j for j in await ctx.kube.list(KINDS["Job"], ns) if owner(j) == f"CronJob/{name}"]
    jobs.sort(key=lambda j: parse_time((j.get("status") or {}).get("startTime")) or 0.0, reverse=True)
    runs = [{"name": j["metadata"]["name"], **job_summary(j)} for j in jobs[:MAX_RUNS]]
    for run in runs:
        run.pop("owner", None)
    out_status = compact(
        {
            "active": [a.get("name") for a in status.get("active") or []],
            "lastScheduleTime": status.get("lastScheduleTime"),
            "lastSuccessfulTime": status.get("lastSuccessfulTime"),
            "jobs": runs,
        }
    )
    return out_spec, out_status


SUMMARIES = {"Job": job_summary, "CronJob": cronjob_summary}
DESCRIBERS = {"Job": describe_job, "CronJob": describe_cronjob}
