from __future__ import annotations

from .builders import NS, event, obj, only, owned_by, run


def test_failed_create_names_the_deployment() -> None:
    rs = obj("ReplicaSet", "web-1", ownerReferences=owned_by("Deployment", "web"))
    ev = event("ReplicaSet", "web-1", "FailedCreate", 'Error creating: pods "web-1-x" is forbidden: exceeded quota: q')
    f = only(
        run({"ReplicaSet": [rs], "Deployment": [obj("Deployment", "web")], "Event": [ev]}, ["ReplicaSet"]),
        "ReplicaSet",
        "web-1",
    )
    assert f.owner == f"{NS}/Deployment/web"
    assert any("exceeded quota: q" in line for line in f.evidence)
