from __future__ import annotations

from .builders import event, obj, only, owned_by, run


def test_limit_range_refusing_pods() -> None:
    rs = obj("ReplicaSet", "web-1", ownerReferences=owned_by("Deployment", "web"))
    msg = 'Error creating: pods "web-1-x" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi'
    objects = {
        "LimitRange": [obj("LimitRange", "caps")],
        "ReplicaSet": [rs],
        "Deployment": [obj("Deployment", "web")],
        "Event": [event("ReplicaSet", "web-1", "FailedCreate", msg)],
    }
    f = only(run(objects, ["LimitRange"]), "LimitRange", "caps")
    assert f.owner == "shop/Deployment/web" and "maximum memory usage per Container" in f.evidence[0]
