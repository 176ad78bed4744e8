from __future__ import annotations

from .builders import obj, only, run


def test_replicas_not_ready_during_a_rollout() -> None:
    sts = obj(
        "StatefulSet",
        "db",
        spec={"replicas": 3},
        status={"readyReplicas": 1, "currentRevision": "db-1", "updateRevision": "db-2"},
    )
    f = only(run({"StatefulSet": [sts], "Event": []}, ["StatefulSet"]), "StatefulSet", "db")
    assert "2 of 3 replicas are not ready during a rollout" in f.cause
    assert "status.currentRevision=db-1 updateRevision=db-2" in f.evidence
