from __future__ import annotations

import pytest

from .builders import NS, obj, only, owned_by, run


@pytest.mark.parametrize(
    ("reason", "cause"),
    [("BackoffLimitExceeded", "backoff limit"), ("DeadlineExceeded", "activeDeadlineSeconds=60")],
)
def test_failed_jobs_name_their_cronjob(reason: str, cause: str) -> None:
    cond = {
        "type": "Failed",
        "status": "True",
        "reason": reason,
        "message": "Job has reached the specified backoff limit",
    }
    job = obj(
        "Job",
        "nightly-1",
        ownerReferences=owned_by("CronJob", "nightly"),
        spec={"backoffLimit": 2, "activeDeadlineSeconds": 60},
        status={"failed": 3, "conditions": [cond]},
    )
    f = only(run({"Job": [job], "CronJob": [obj("CronJob", "nightly")], "Event": []}, ["Job"]), "Job", "nightly-1")
    assert cause in f.cause and f.owner == f"{NS}/CronJob/nightly"
    assert any(reason in line for line in f.evidence)


def test_job_running_for_hours() -> None:
    job = obj("Job", "slow", status={"active": 1, "startTime": "2026-01-01T08:00:00Z"})
    ev = obj(
        "Event", "e", involvedObject={"kind": "Pod", "name": "x"}, lastTimestamp="2026-01-01T12:00:00Z", type="Normal"
    )
    f = only(run({"Job": [job], "Event": [ev]}, ["Job"]), "Job", "slow")
    assert "over an hour" in f.cause and "status.active=1" in f.evidence[0]
