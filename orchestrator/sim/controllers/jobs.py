"""The Job controller: runs pods to completion, retries failures with back-off, and finishes the Job.

It follows the upstream controller's accounting: a pod that ends Failed counts once toward
backoffLimit (with restartPolicy OnFailure the container restarts count instead), replacements wait
an exponential back-off from the last failure, activeDeadlineSeconds fails the Job from its start, and
a finished Job is deleted ttlSecondsAfterFinished later. Conditions, events and status counts carry
the upstream words so `kubectl describe job` and alerts on kube_job_* read as on a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..admission_kinds import JOB_NAME_LABELS
from ..clock import parse_rfc3339, rfc3339
from ..objects import pod_ready
from .workloads import new_pod_from_template

if TYPE_CHECKING:
    from ..cluster import Cluster

COMPONENT = "job-controller"
BACKOFF_BASE, BACKOFF_CAP = 10.0, 360.0  # DefaultJobPodFailureBackOff, MaxJobPodFailureBackOff
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
BACKOFF_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"


@dataclass
class _Tally:
    """Terminal pods already counted into a Job's status (counts survive the pods' deletion)."""

    succeeded: set[str] = field(default_factory=set)
    indexes: set[int] = field(default_factory=set)  # completed indexes (completionMode Indexed)
    failed: set[str] = field(default_factory=set)
    last_failure: float = 0.0


def job_finished(job: dict) -> str | None:
    """'Complete' or 'Failed' once the Job has that condition True."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return str(c["type"])
    return None


def _owned(pod: dict, uid: str) -> bool:
    return any(r.get("uid") == uid and r.get("controller") for r in pod["metadata"].get("ownerReferences") or ())


def _restarts(pod: dict) -> int:
    return sum(int(s.get("restartCount", 0)) for s in (pod.get("status") or {}).get("containerStatuses") or [])


def _finished_at(pod: dict, default: float) -> float:
    latest = 0.0
    for s in (pod.get("status") or {}).get("containerStatuses") or []:
        term = (s.get("state") or {}).get("terminated") or {}
        if term.get("finishedAt"):
            latest = max(latest, parse_rfc3339(term["finishedAt"]))
    return latest or default


def _condition(ctype: str, reason: str, message: str, now: float) -> dict:
    when = rfc3339(now)
    return {
        "type": ctype,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": when,
        "lastTransitionTime": when,
    }


class JobController:
    def __init__(self) -> None:
        self._tallies: dict[str, _Tally] = {}

    def reconcile(self, cluster: Cluster) -> None:
        jobs = cluster.store.list(cluster.rt("Job"))
        if not jobs and not self._tallies:
            return
        live = {j["metadata"]["uid"] for j in jobs}
        for uid in [u for u in self._tallies if u not in live]:
            del self._tallies[uid]
        by_ns: dict[str, list[dict]] = {}
        for job in jobs:
            ns = job["metadata"]["namespace"]
            if ns not in by_ns:
                by_ns[ns] = cluster.store.list(cluster.rt("Pod"), ns)
            self._sync(cluster, job, by_ns[ns])

    # ------------------------------------------------------------------ one Job
    def _sync(self, cluster: Cluster, job: dict, ns_pods: list[dict]) -> None:
        meta, spec = job["metadata"], job.get("spec") or {}
        uid, now = meta["uid"], cluster.now()
        if meta.get("deletionTimestamp"):
            return
        finished = job_finished(job)
        if finished:
            self._expire(cluster, job, now)
            return
        pods = [p for p in ns_pods if _owned(p, uid)]
        tally = self._tallies.setdefault(uid, _Tally())
        status = dict(job.get("status") or {})
        active = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        active = [p for p in active if not p["metadata"].get("deletionTimestamp")]
        for p in pods:
            phase = (p.get("status") or {}).get("phase")
            puid = p["metadata"]["uid"]
            if phase == "Succeeded":
                tally.succeeded.add(puid)
                if _index(p) is not None:
                    tally.indexes.add(int(_index(p) or 0))
            elif phase == "Failed" and puid not in tally.failed:
                tally.failed.add(puid)
                tally.last_failure = max(tally.last_failure, _finished_at(p, now))
        indexed = spec.get("completionMode") == "Indexed"
        # An index counts once however many of its pods succeeded.
        succeeded = len(tally.indexes) if indexed else max(int(status.get("succeeded") or 0), len(tally.succeeded))
        if indexed and tally.indexes:
            status["completedIndexes"] = index_ranges(tally.indexes)
        failed = max(int(status.get("failed") or 0), len(tally.failed))
        if spec.get("suspend"):
            self._suspend(cluster, job, active, status, succeeded, failed, now)
            return
        start = status.get("startTime")
        if not start:
            start = rfc3339(now)
        restarts = sum(_restarts(p) for p in active) if _on_failure(spec) else 0
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "Suspended"]
        completions = spec.get("completions")
        outcome: tuple[str, str, str] | None = None
        deadline = spec.get("activeDeadlineSeconds")
        if failed + restarts > int(spec.get("backoffLimit", 6)):
            outcome = ("Failed", "BackoffLimitExceeded", BACKOFF_MESSAGE)
        elif deadline is not None and now - parse_rfc3339(start) >= float(deadline):
            outcome = ("Failed", "DeadlineExceeded", DEADLINE_MESSAGE)
        elif (completions is not None and succeeded >= int(completions)) or (
            completions is None and succeeded > 0 and not active
        ):
            outcome = ("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
        if outcome is not None:
            for p in active:
                self._delete_pod(cluster, job, p)
            failed += len(active) if outcome[0] == "Failed" else 0
            self._finish(cluster, job, status, conditions, outcome, start, succeeded, failed, now)
            return
        want = int(spec.get("parallelism", 1))
        if completions is not None:
            want = min(want, int(completions) - succeeded)
        elif succeeded > 0:
            want = 0  # a work queue: once one pod succeeded, no new pods start
        if len(active) < want:
            if self._backoff_due(tally, failed) <= now:
                running = {_index(p) for p in active}
                todo: list[int | None] = (
                    [i for i in range(int(completions)) if i not in tally.indexes and i not in running]
                    if indexed and completions is not None
                    else [None] * (want - len(active))
                )
                for index in todo[: want - len(active)]:
                    created = self._create_pod(cluster, job, index)
                    if created is not None:
                        active.append(created)
        elif len(active) > want:
            for p in sorted(active, key=lambda p: bool((p.get("spec") or {}).get("nodeName")))[: len(active) - want]:
                self._delete_pod(cluster, job, p)
                active.remove(p)
        new_status = {
            **status,
            "startTime": start,
            "active": len(active),
            "ready": sum(1 for p in active if pod_ready(p)),
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }
        for key, value in (("succeeded", succeeded), ("failed", failed)):
            if value:
                new_status[key] = value
        if conditions:
            new_status["conditions"] = conditions
        else:
            new_status.pop("conditions", None)
        if new_status != (job.get("status") or {}):
            self._write(cluster, job, new_status)

    def _backoff_due(self, tally: _Tally, failed: int) -> float:
        if failed == 0 or not tally.last_failure:
            return 0.0
        return tally.last_failure + min(BACKOFF_BASE * 2 ** (failed - 1), BACKOFF_CAP)

    def _suspend(
        self, cluster: Cluster, job: dict, active: list[dict], status: dict, succeeded: int, failed: int, now: float
    ) -> None:
        for p in active:
            self._delete_pod(cluster, job, p)
        conditions = list(status.get("conditions") or [])
        if not any(c.get("type") == "Suspended" for c in conditions):
            conditions.append(_condition("Suspended", "JobSuspended", "Job suspended", now))
            cluster.record_event(job, "Normal", "Suspended", "Job suspended", COMPONENT)
        new_status = {**status, "active": 0, "ready": 0, "conditions": conditions}
        new_status.pop("startTime", None)  # a resumed Job restarts its activeDeadlineSeconds
        if succeeded:
            new_status["succeeded"] = succeeded
        if failed:
            new_status["failed"] = failed
        if new_status != (job.get("status") or {}):
            self._write(cluster, job, new_status)

    def _finish(
        self,
        cluster: Cluster,
        job: dict,
        status: dict,
        conditions: list[dict],
        outcome: tuple[str, str, str],
        start: str,
        succeeded: int,
        failed: int,
        now: float,
    ) -> None:
        ctype, reason, message = outcome
        # Since v1.31 the terminal condition follows an interim one (FailureTarget / SuccessCriteriaMet).
        interim = "FailureTarget" if ctype == "Failed" else "SuccessCriteriaMet"
        conditions = [*conditions, _condition(interim, reason, message, now), _condition(ctype, reason, message, now)]
        new_status = {
            **status,
            "startTime": start,
            "active": 0,
            "ready": 0,
            "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": conditions,
        }
        if succeeded:
            new_status["succeeded"] = succeeded
        if failed:
            new_status["failed"] = failed
        if ctype == "Complete":
            new_status["completionTime"] = rfc3339(now)
            cluster.record_event(job, "Normal", "Completed", "Job completed", COMPONENT)
        else:
            cluster.record_event(job, "Warning", reason, message, COMPONENT)
        self._write(cluster, job, new_status)

    def _expire(self, cluster: Cluster, job: dict, now: float) -> None:
        """ttlSecondsAfterFinished: the TTL-after-finished controller deletes the Job and its pods."""
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        if ttl is None:
            return
        finished_at = max(
            (
                parse_rfc3339(c["lastTransitionTime"])
                for c in job["status"]["conditions"]
                if c.get("lastTransitionTime")
            ),
            default=now,
        )
        if now >= finished_at + float(ttl):
            meta = job["metadata"]
            cluster.store.delete(cluster.rt("Job"), meta["namespace"], meta["name"])

    # ------------------------------------------------------------------ writes
    def _write(self, cluster: Cluster, job: dict, status: dict) -> None:
        def put(j: dict) -> None:
            j["status"] = status

        meta = job["metadata"]
        cluster.store.mutate(cluster.rt("Job"), meta["namespace"], meta["name"], put, status=True)

    def _create_pod(self, cluster: Cluster, job: dict, index: int | None = None) -> dict | None:
        from ..errors import ApiError

        template = (job.get("spec") or {}).get("template") or {}
        name = job["metadata"]["name"]
        pod = new_pod_from_template(template, job, extra_labels={key: name for key in JOB_NAME_LABELS})
        if index is not None:
            _set_index(pod, name, index)
        pod_rt = cluster.rt("Pod")
        try:
            admitted = cluster.admit("CREATE", pod_rt, pod, None, job["metadata"]["namespace"])
            created = cluster.store.create(pod_rt, admitted)
        except ApiError as err:
            cluster.record_event(job, "Warning", "FailedCreate", f"Error creating: {err.message}", COMPONENT)
            return None
        cluster.record_event(
            job, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}", COMPONENT
        )
        return created

    def _delete_pod(self, cluster: Cluster, job: dict, pod: dict) -> None:
        meta = pod["metadata"]
        if cluster.store.find(cluster.rt("Pod"), meta["namespace"], meta["name"]) is None:
            return
        cluster.store.delete(cluster.rt("Pod"), meta["namespace"], meta["name"])
        cluster.record_event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}", COMPONENT)


def _index(pod: dict) -> int | None:
    value = (pod["metadata"].get("annotations") or {}).get(INDEX_KEY)
    return int(value) if value is not None and str(value).isdigit() else None


def _set_index(pod: dict, job_name: str, index: int) -> None:
    """What the Job controller gives an Indexed pod: the index as annotation, label, hostname and env."""
    meta, spec = pod["metadata"], pod["spec"]
    meta.setdefault("annotations", {})[INDEX_KEY] = str(index)
    meta["labels"][INDEX_KEY] = str(index)
    meta["generateName"] = f"{job_name}-{index}-"
    spec.setdefault("hostname", f"{job_name}-{index}")
    ref = {"fieldRef": {"apiVersion": "v1", "fieldPath": f"metadata.annotations['{INDEX_KEY}']"}}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        env = c.setdefault("env", [])
        if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in env):
            env.append({"name": "JOB_COMPLETION_INDEX", "valueFrom": ref})


def index_ranges(indexes: set[int]) -> str:
    """{0, 1, 2, 5} -> '0-2,5', as status.completedIndexes writes them."""
    runs: list[list[int]] = []
    for i in sorted(indexes):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _on_failure(spec: dict) -> bool:
    return ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") == "OnFailure"
