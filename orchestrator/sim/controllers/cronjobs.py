"""The CronJob controller: creates a Job at each schedule time on the virtual clock.

As upstream: the Job is named `<cronjob>-<scheduled time in minutes since the epoch>`, only the most
recent missed time runs (more than 100 missed is reported), startingDeadlineSeconds drops runs that
are too late, concurrencyPolicy Forbid skips while a Job is active and Replace deletes it, and
finished Jobs beyond the history limits are deleted oldest first.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from ..clock import parse_rfc3339, rfc3339
from ..errors import ApiError
from ..objects import object_reference
from ..store import owner_reference
from .cron import CronError, most_recent, parse_cron, zone
from .jobs import job_finished

if TYPE_CHECKING:
    from ..cluster import Cluster

COMPONENT = "cronjob-controller"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def _owned(job: dict, uid: str) -> bool:
    return any(r.get("uid") == uid and r.get("controller") for r in job["metadata"].get("ownerReferences") or ())


class CronJobController:
    def __init__(self) -> None:
        self._seen_finished: set[str] = set()  # job uids whose completion was already reported

    def reconcile(self, cluster: Cluster) -> None:
        cronjobs = cluster.store.list(cluster.rt("CronJob"))
        if not cronjobs:
            return
        jobs = cluster.store.list(cluster.rt("Job"))
        for cj in cronjobs:
            if not cj["metadata"].get("deletionTimestamp"):
                self._sync(cluster, cj, [j for j in jobs if _owned(j, cj["metadata"]["uid"])])

    def _sync(self, cluster: Cluster, cj: dict, jobs: list[dict]) -> None:
        spec, status = cj.get("spec") or {}, dict(cj.get("status") or {})
        now = cluster.now()
        active = [j for j in jobs if not job_finished(j)]
        for j in jobs:
            state = job_finished(j)
            if state and j["metadata"]["uid"] not in self._seen_finished:
                self._seen_finished.add(j["metadata"]["uid"])
                message = f"Saw completed job: {j['metadata']['name']}, condition: {state}"
                cluster.record_event(cj, "Normal", "SawCompletedJob", message, COMPONENT)
                if state == "Complete" and j["status"].get("completionTime"):
                    last = status.get("lastSuccessfulTime")
                    if not last or parse_rfc3339(last) < parse_rfc3339(j["status"]["completionTime"]):
                        status["lastSuccessfulTime"] = j["status"]["completionTime"]
        self._prune(cluster, cj, jobs)
        if not spec.get("suspend"):
            created = self._maybe_run(cluster, cj, spec, status, active, now)
            if created is not None:
                active = [
                    j
                    for j in active
                    if cluster.store.find(cluster.rt("Job"), j["metadata"]["namespace"], j["metadata"]["name"])
                ]
                active.append(created)
                status["lastScheduleTime"] = created["metadata"]["annotations"][SCHEDULED_ANNOTATION]
        if active:
            status["active"] = [
                object_reference(j, "batch/v1", "Job") for j in sorted(active, key=lambda j: j["metadata"]["name"])
            ]
        else:
            status.pop("active", None)
        if status != (cj.get("status") or {}):

            def put(o: dict) -> None:
                o["status"] = status

            meta = cj["metadata"]
            cluster.store.mutate(cluster.rt("CronJob"), meta["namespace"], meta["name"], put, status=True)

    def _maybe_run(
        self, cluster: Cluster, cj: dict, spec: dict, status: dict, active: list[dict], now: float
    ) -> dict | None:
        try:
            schedule = parse_cron(str(spec.get("schedule", "")))
        except CronError:
            return None
        tz = zone(spec.get("timeZone"))
        if tz is None:
            return None
        since_text = status.get("lastScheduleTime") or cj["metadata"]["creationTimestamp"]
        since = parse_rfc3339(since_text)
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            since = max(since, now - float(deadline))
        scheduled, missed = most_recent(schedule, since, now, tz)
        if scheduled is None:
            return None
        if missed > 100:
            cluster.record_event(
                cj,
                "Warning",
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
                COMPONENT,
            )
        name = f"{cj['metadata']['name']}-{int(scheduled // 60)}"
        ns = cj["metadata"]["namespace"]
        if cluster.store.find(cluster.rt("Job"), ns, name) is not None:
            return None  # this time already ran
        policy = spec.get("concurrencyPolicy", "Allow")
        if active and policy == "Forbid":
            return None  # retried at the next pass: the run goes late once the active Job ends
        if active and policy == "Replace":
            for j in active:
                cluster.store.delete(cluster.rt("Job"), ns, j["metadata"]["name"])
                cluster.record_event(
                    cj, "Normal", "SuccessfulDelete", f"Deleted job {j['metadata']['name']}", COMPONENT
                )
        return self._create_job(cluster, cj, name, scheduled)

    def _create_job(self, cluster: Cluster, cj: dict, name: str, scheduled: float) -> dict | None:
        template = copy.deepcopy((cj.get("spec") or {}).get("jobTemplate") or {})
        tmeta = template.get("metadata") or {}
        meta = {
            "name": name,
            "namespace": cj["metadata"]["namespace"],
            "labels": dict(tmeta.get("labels") or {}),
            "annotations": {**(tmeta.get("annotations") or {}), SCHEDULED_ANNOTATION: rfc3339(scheduled)},
            "ownerReferences": [owner_reference(cj)],
        }
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": template.get("spec") or {}}
        rt = cluster.rt("Job")
        try:
            admitted = cluster.admit("CREATE", rt, job, None, meta["namespace"])
            created = cluster.store.create(rt, admitted)
        except ApiError as err:
            cluster.record_event(cj, "Warning", "FailedCreate", f"Error creating job: {err.message}", COMPONENT)
            return None
        cluster.record_event(cj, "Normal", "SuccessfulCreate", f"Created job {name}", COMPONENT)
        return created

    def _prune(self, cluster: Cluster, cj: dict, jobs: list[dict]) -> None:
        spec = cj.get("spec") or {}
        for state, limit_key, default in (
            ("Complete", "successfulJobsHistoryLimit", 3),
            ("Failed", "failedJobsHistoryLimit", 1),
        ):
            done = [j for j in jobs if job_finished(j) == state and not j["metadata"].get("deletionTimestamp")]
            limit = spec.get(limit_key, default)
            if limit is None or len(done) <= int(limit):
                continue
            done.sort(
                key=lambda j: (
                    j["status"].get("startTime") or j["metadata"]["creationTimestamp"],
                    j["metadata"]["name"],
                )
            )
            for j in done[: len(done) - int(limit)]:
                meta = j["metadata"]
                if cluster.store.find(cluster.rt("Job"), meta["namespace"], meta["name"]) is not None:
                    cluster.store.delete(cluster.rt("Job"), meta["namespace"], meta["name"])
                    cluster.record_event(cj, "Normal", "SuccessfulDelete", f"Deleted job {meta['name']}", COMPONENT)
