"""Jobs and CronJobs through the official client: retries until BackoffLimitExceeded, a deadline,
parallel completions, ttlSecondsAfterFinished, and a CronJob creating Jobs on its schedule."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kubernetes import client

from .helpers import Sim, events_for, raw, served_plan

NS = "default"


@pytest.fixture
def sim() -> Iterator[Sim]:
    with served_plan({"name": "batch", "applications": [], "faults": [], "warmup": 0}) as s:
        yield s


def batch(sim: Sim) -> client.BatchV1Api:
    return client.BatchV1Api(sim.api)


def job_body(name: str, script: str, restart: str = "Never", **spec: object) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            **spec,
            "template": {
                "spec": {
                    "restartPolicy": restart,
                    "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}],
                }
            },
        },
    }


def read_job(sim: Sim, name: str) -> dict:
    return raw(batch(sim).read_namespaced_job(name, NS, _preload_content=False))


def conditions(job: dict) -> dict[str, dict]:
    return {c["type"]: c for c in (job.get("status") or {}).get("conditions") or []}


def job_pods(sim: Sim, name: str) -> list[dict]:
    items = raw(sim.core.list_namespaced_pod(NS, label_selector=f"job-name={name}", _preload_content=False))
    return items["items"]


def test_job_fails_after_backoff_limit_with_growing_delays(sim: Sim) -> None:
    created = raw(
        batch(sim).create_namespaced_job(
            NS, job_body("flaky", "sleep 2; exit 1", backoffLimit=2), _preload_content=False
        )
    )
    uid = created["metadata"]["uid"]
    # The API server generates the selector from the Job's own uid and labels the template to match.
    assert created["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = created["spec"]["template"]["metadata"]["labels"]
    assert labels["job-name"] == labels["batch.kubernetes.io/job-name"] == "flaky"
    assert created["spec"]["parallelism"] == 1 and created["spec"]["completions"] == 1

    job = sim.wait_for(lambda: "Failed" in conditions(j := read_job(sim, "flaky")) and j, timeout=600, step=5)
    assert job, "the Job never failed"
    failed = conditions(job)["Failed"]
    assert failed["reason"] == "BackoffLimitExceeded"
    assert failed["message"] == "Job has reached the specified backoff limit"
    assert job["status"]["failed"] == 3 and job["status"].get("active", 0) == 0
    assert "completionTime" not in job["status"] and job["status"]["startTime"]
    pods = job_pods(sim, "flaky")
    assert len(pods) == 3 and {p["status"]["phase"] for p in pods} == {"Failed"}
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == uid for p in pods)
    # Replacements wait an exponential back-off (10 s, then 20 s) after the previous failure.
    starts = sorted(p["metadata"]["creationTimestamp"] for p in pods)
    from orchestrator.sim.clock import parse_rfc3339

    gaps = [parse_rfc3339(b) - parse_rfc3339(a) for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps[1] > gaps[0] >= 10
    reasons = [e["reason"] for e in events_for(sim, NS, "flaky", "Job")]
    assert reasons.count("SuccessfulCreate") == 3 and "BackoffLimitExceeded" in reasons
    table = sim.get_json(f"/apis/batch/v1/namespaces/{NS}/jobs?as=Table")
    del table  # served; the columns are covered by the table tests


def test_job_on_failure_counts_container_restarts(sim: Sim) -> None:
    batch(sim).create_namespaced_job(NS, job_body("restarts", "exit 3", restart="OnFailure", backoffLimit=1))
    job = sim.wait_for(lambda: "Failed" in conditions(j := read_job(sim, "restarts")) and j, timeout=900, step=10)
    assert job and conditions(job)["Failed"]["reason"] == "BackoffLimitExceeded"
    assert len(job_pods(sim, "restarts")) <= 1  # the same pod restarted; it is deleted when the Job fails


def test_job_deadline_exceeded_kills_running_pods(sim: Sim) -> None:
    batch(sim).create_namespaced_job(NS, job_body("slow", "sleep 3600", activeDeadlineSeconds=60))
    sim.advance(30)
    assert read_job(sim, "slow")["status"]["active"] == 1
    sim.advance(40)
    job = read_job(sim, "slow")
    failed = conditions(job)["Failed"]
    assert (failed["reason"], failed["message"]) == (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    )
    assert job["status"]["active"] == 0 and job_pods(sim, "slow") == []
    assert "DeadlineExceeded" in [e["reason"] for e in events_for(sim, NS, "slow", "Job")]


def test_job_completes_with_parallelism_then_expires(sim: Sim) -> None:
    batch(sim).create_namespaced_job(
        NS, job_body("work", "sleep 20", completions=4, parallelism=2, ttlSecondsAfterFinished=100)
    )
    sim.advance(10)
    job = read_job(sim, "work")
    assert job["status"]["active"] == 2  # never more than parallelism at once
    job = sim.wait_for(lambda: "Complete" in conditions(j := read_job(sim, "work")) and j, timeout=300, step=5)
    assert job and job["status"]["succeeded"] == 4 and job["status"]["completionTime"]
    assert len(job_pods(sim, "work")) == 4
    assert "Completed" in [e["reason"] for e in events_for(sim, NS, "work", "Job")]
    # ttlSecondsAfterFinished deletes the Job and, through its owner references, its pods.
    sim.advance(110)
    assert raw(batch(sim).list_namespaced_job(NS, _preload_content=False))["items"] == []
    assert job_pods(sim, "work") == []


def test_job_rejects_restart_policy_always(sim: Sim) -> None:
    with pytest.raises(client.ApiException) as err:
        batch(sim).create_namespaced_job(NS, job_body("bad", "true", restart="Always"))
    assert err.value.status == 422
    message = json.loads(err.value.body)["message"]
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Always"' in message


def test_cronjob_creates_jobs_on_schedule_and_keeps_history(sim: Sim) -> None:
    body = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick"},
        "spec": {
            "schedule": "*/2 * * * *",
            "successfulJobsHistoryLimit": 2,
            "jobTemplate": {"spec": job_body("x", "sleep 5")["spec"]},
        },
    }
    batch(sim).create_namespaced_cron_job(NS, body)
    sim.advance(7 * 60)
    cj = raw(batch(sim).read_namespaced_cron_job("tick", NS, _preload_content=False))
    assert cj["status"]["lastScheduleTime"].endswith(":00Z")
    jobs = raw(batch(sim).list_namespaced_job(NS, _preload_content=False))["items"]
    # Three or four runs in seven minutes; completed ones beyond the history limit are pruned oldest first.
    completed = [j for j in jobs if "Complete" in conditions(j)]
    assert len(completed) == 2 and len(jobs) - len(completed) <= 1
    for j in jobs:
        stamp = j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        from orchestrator.sim.clock import parse_rfc3339

        assert j["metadata"]["name"] == f"tick-{int(parse_rfc3339(stamp) // 60)}"
        assert j["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    reasons = [e["reason"] for e in events_for(sim, NS, "tick", "CronJob")]
    assert reasons.count("SuccessfulCreate") >= 3 and "SawCompletedJob" in reasons and "SuccessfulDelete" in reasons
    # Suspended: no new Jobs.
    batch(sim).patch_namespaced_cron_job("tick", NS, {"spec": {"suspend": True}})
    before = {j["metadata"]["name"] for j in jobs}
    sim.advance(5 * 60)
    after = {j["metadata"]["name"] for j in raw(batch(sim).list_namespaced_job(NS, _preload_content=False))["items"]}
    assert after <= before  # pruning may still remove one that finished


def test_cronjob_forbid_skips_while_a_job_runs(sim: Sim) -> None:
    spec = job_body("x", "sleep 150")["spec"]
    body = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "long"},
        "spec": {"schedule": "* * * * *", "concurrencyPolicy": "Forbid", "jobTemplate": {"spec": spec}},
    }
    batch(sim).create_namespaced_cron_job(NS, body)
    sim.advance(130)
    cj = raw(batch(sim).read_namespaced_cron_job("long", NS, _preload_content=False))
    assert len(cj["status"]["active"]) == 1
    assert len(raw(batch(sim).list_namespaced_job(NS, _preload_content=False))["items"]) == 1


def test_cronjob_rejects_a_bad_schedule(sim: Sim) -> None:
    body = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "bad"},
        "spec": {"schedule": "61 * * * *", "jobTemplate": {"spec": job_body("x", "true")["spec"]}},
    }
    with pytest.raises(client.ApiException) as err:
        batch(sim).create_namespaced_cron_job(NS, body)
    assert err.value.status == 422 and "spec.schedule" in err.value.body


def test_job_metrics_for_alerts(sim: Sim) -> None:
    batch(sim).create_namespaced_job(NS, job_body("broken", "exit 1", backoffLimit=0))
    sim.advance(60)
    sim.cluster.observability.scrape()
    text = sim.get_json("/api/v1/query?query=kube_job_failed%7Bcondition%3D%22true%22%7D")
    result = text["data"]["result"]
    assert [r["metric"]["job_name"] for r in result if r["value"][1] == "1"] == ["broken"]
    failed = sim.get_json("/api/v1/query?query=kube_job_status_failed")["data"]["result"]
    by_reason = {r["metric"].get("reason"): r["value"][1] for r in failed if r["metric"]["job_name"] == "broken"}
    assert by_reason["BackoffLimitExceeded"] == "1"


def test_indexed_job_runs_each_index_once(sim: Sim) -> None:
    script = 'echo "index $JOB_COMPLETION_INDEX"; sleep 5'
    created = raw(
        batch(sim).create_namespaced_job(
            NS,
            job_body("shards", script, completions=3, parallelism=2, completionMode="Indexed"),
            _preload_content=False,
        )
    )
    assert created["spec"]["completionMode"] == "Indexed"
    job = sim.wait_for(lambda: "Complete" in conditions(j := read_job(sim, "shards")) and j, timeout=300, step=5)
    assert job and job["status"]["succeeded"] == 3 and job["status"]["completedIndexes"] == "0-2"
    pods = job_pods(sim, "shards")
    index_key = "batch.kubernetes.io/job-completion-index"
    assert sorted(p["metadata"]["annotations"][index_key] for p in pods) == ["0", "1", "2"]
    for p in pods:
        index = p["metadata"]["labels"][index_key]
        assert p["metadata"]["name"].startswith(f"shards-{index}-") and p["spec"]["hostname"] == f"shards-{index}"
        log = sim.core.read_namespaced_pod_log(p["metadata"]["name"], NS)
        assert log.strip() == f"index {index}"
    code = 0
    try:
        batch(sim).create_namespaced_job(NS, job_body("nocount", "true", parallelism=2, completionMode="Indexed"))
    except client.ApiException as err:
        code = err.status
    assert code == 422
