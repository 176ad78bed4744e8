from __future__ import annotations

from .builders import event, obj, only, owned_by, run

MESSAGE = 'Error creating: pods "ad-1-x" is forbidden: exceeded quota: small, requested: limits.memory=300Mi'


def test_quota_refusing_pods_names_the_blocked_workload() -> None:
    rs = obj("ReplicaSet", "ad-1", ownerReferences=owned_by("Deployment", "ad"))
    quota = obj("ResourceQuota", "small", status={"hard": {"limits.memory": "1Gi"}, "used": {"limits.memory": "1Gi"}})
    objects = {
        "ResourceQuota": [quota],
        "ReplicaSet": [rs],
        "Deployment": [obj("Deployment", "ad")],
        "Event": [event("ReplicaSet", "ad-1", "FailedCreate", MESSAGE)],
    }
    f = only(run(objects, ["ResourceQuota"]), "ResourceQuota", "small")
    assert f.confidence == "high" and "refuses new pods of ad" in f.cause
    assert any("exceeded quota: small" in line for line in f.evidence)
    assert "blocks shop/Deployment/ad" in f.evidence
    assert "status.used[limits.memory]=1Gi of hard 1Gi" in f.evidence


def test_used_up_quota_alone_is_low() -> None:
    quota = obj("ResourceQuota", "q", status={"hard": {"pods": "2"}, "used": {"pods": "2"}})
    assert (
        only(run({"ResourceQuota": [quota], "Event": []}, ["ResourceQuota"]), "ResourceQuota", "q").confidence == "low"
    )
