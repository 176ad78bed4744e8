from __future__ import annotations

from .builders import obj, only, owned_by, run


def test_latest_run_failed() -> None:
    failed = {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "backoff"}
    old = obj(
        "Job",
        "nightly-1",
        ownerReferences=owned_by("CronJob", "nightly"),
        status={"startTime": "2026-01-01T01:00:00Z", "conditions": [failed]},
    )
    f = only(
        run({"CronJob": [obj("CronJob", "nightly", spec={})], "Job": [old], "Event": []}, ["CronJob"]),
        "CronJob",
        "nightly",
    )
    assert "latest scheduled run failed (BackoffLimitExceeded)" in f.cause
    assert any("Job nightly-1" in line for line in f.evidence)


def test_suspended_is_low() -> None:
    f = only(
        run({"CronJob": [obj("CronJob", "c", spec={"suspend": True})], "Job": [], "Event": []}, ["CronJob"]),
        "CronJob",
        "c",
    )
    assert f.confidence == "low" and f.evidence == ["spec.suspend=true"]
