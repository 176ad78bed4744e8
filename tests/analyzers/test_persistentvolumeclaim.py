from __future__ import annotations

import pytest

from .builders import event, obj, only, owned_by, pod, run


@pytest.mark.parametrize(
    ("spec", "events", "cause"),
    [
        ({"storageClassName": "fast"}, [], "StorageClass fast does not exist"),
        ({}, [], "no default one"),
        (
            {"storageClassName": "std"},
            [event("PersistentVolumeClaim", "data", "ProvisioningFailed", "quota exceeded")],
            "provisioner fails",
        ),
    ],
)
def test_pending_claims(spec: dict, events: list, cause: str) -> None:
    pvc = obj("PersistentVolumeClaim", "data", spec=spec, status={"phase": "Pending"})
    sc = obj("StorageClass", "std", ns=None)
    f = only(
        run(
            {"PersistentVolumeClaim": [pvc], "StorageClass": [sc], "PersistentVolume": [], "Event": events},
            ["PersistentVolumeClaim"],
        ),
        "PersistentVolumeClaim",
        "data",
    )
    assert cause in f.cause and "status.phase=Pending" in f.evidence


def test_bound_claim_is_quiet() -> None:
    pvc = obj("PersistentVolumeClaim", "data", spec={}, status={"phase": "Bound"})
    assert run({"PersistentVolumeClaim": [pvc], "Event": []}, ["PersistentVolumeClaim"]) == []


def test_a_pending_claim_explains_the_pods_and_workloads_that_mount_it() -> None:
    pvc = obj("PersistentVolumeClaim", "data", spec={"storageClassName": "fast"}, status={"phase": "Pending"})
    volumes = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]
    waiting = pod(
        "redis-abc-1",
        spec={"containers": [{"name": "redis", "image": "redis:7"}], "volumes": volumes},
        status={"phase": "Pending"},
        ownerReferences=owned_by("ReplicaSet", "redis-abc"),
    )
    rs = obj("ReplicaSet", "redis-abc", ownerReferences=owned_by("Deployment", "redis"))
    other = pod("web-1", status={"phase": "Pending"})  # mounts nothing: not the claim's
    snapshot = {
        "PersistentVolumeClaim": [pvc],
        "StorageClass": [],
        "PersistentVolume": [],
        "Event": [],
        "Pod": [waiting, other],
        "ReplicaSet": [rs],
        "Deployment": [obj("Deployment", "redis")],
    }
    f = only(run(snapshot, ["PersistentVolumeClaim"]), "PersistentVolumeClaim", "data")
    assert f.confidence == "high"
    assert f.explains == ["shop/Pod/redis-abc-1", "shop/Deployment/redis"]
