from __future__ import annotations

from .builders import event, obj, only, owned_by, run

REV = "deployment.kubernetes.io/revision"


def _rs(name: str, rev: int, image: str) -> dict:
    template = {"spec": {"containers": [{"name": "app", "image": image}]}}
    return obj(
        "ReplicaSet",
        name,
        ownerReferences=owned_by("Deployment", "web"),
        annotations={REV: str(rev)},
        spec={"template": template},
    )


def test_progress_deadline_exceeded_with_the_revision_change() -> None:
    cond = {
        "type": "Progressing",
        "status": "False",
        "reason": "ProgressDeadlineExceeded",
        "message": 'ReplicaSet "web-2" has timed out progressing.',
    }
    dep = obj(
        "Deployment",
        "web",
        annotations={REV: "2"},
        spec={"replicas": 2},
        status={"conditions": [cond], "unavailableReplicas": 2},
    )
    f = only(
        run(
            {"Deployment": [dep], "ReplicaSet": [_rs("web-1", 1, "app:1"), _rs("web-2", 2, "app:2")], "Event": []},
            ["Deployment"],
        ),
        "Deployment",
        "web",
    )
    assert f.confidence == "high" and "stalled" in f.cause
    assert any("ProgressDeadlineExceeded" in line and "timed out" in line for line in f.evidence)
    assert any("image app:1 -> app:2" in line for line in f.evidence)


def test_unavailable_replicas() -> None:
    dep = obj("Deployment", "web", spec={"replicas": 3}, status={"unavailableReplicas": 1})
    f = only(run({"Deployment": [dep], "ReplicaSet": [], "Event": []}, ["Deployment"]), "Deployment", "web")
    assert f.cause == "1 of 3 replicas are unavailable"
    assert "status.unavailableReplicas=1 of spec.replicas=3" in f.evidence


def test_scaled_to_zero_by_someone() -> None:
    dep = obj("Deployment", "web", spec={"replicas": 0}, status={})
    ev = event("Deployment", "web", "ScalingReplicaSet", "Scaled down replica set web-1 from 1 to 0", type_="Normal")
    f = only(
        run({"Deployment": [dep], "ReplicaSet": [], "Event": [ev], "HorizontalPodAutoscaler": []}, ["Deployment"]),
        "Deployment",
        "web",
    )
    assert f.confidence == "medium" and "scaled to zero" in f.cause
    assert any("from 1 to 0" in line for line in f.evidence)


def test_available_deployment_is_quiet() -> None:
    dep = obj("Deployment", "web", spec={"replicas": 2}, status={"availableReplicas": 2})
    assert run({"Deployment": [dep], "ReplicaSet": [], "Event": []}, ["Deployment"]) == []
