from __future__ import annotations

import pytest

from .builders import NS, obj, pod, run

FRONT = {"app": "front"}


def _world(ingress: list) -> dict:
    target = pod("front-1", labels=FRONT, spec={"containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]})
    caller = pod("proxy-1", labels={"app": "proxy"})
    svc = obj("Service", "front", spec={"selector": FRONT, "ports": [{"port": 80, "targetPort": 8080}]})
    policy = obj(
        "NetworkPolicy",
        "lock",
        spec={"podSelector": {"matchLabels": FRONT}, "policyTypes": ["Ingress"], "ingress": ingress},
    )
    return {"Pod": [target, caller], "Service": [svc], "NetworkPolicy": [policy]}


@pytest.mark.parametrize(
    "ingress",
    [
        [],  # deny all
        [{"from": [{"podSelector": {"matchLabels": {"app": "nobody"}}}]}],
        [{"from": [{"podSelector": {"matchLabels": {"app": "proxy"}}}], "ports": [{"port": 9999}]}],
    ],
)
def test_policies_that_admit_no_caller(ingress: list) -> None:
    (f,) = run(_world(ingress), ["NetworkPolicy"])
    assert f.object == f"{NS}/NetworkPolicy/lock" and f.confidence == "high"
    assert "admits none of their callers" in f.cause
    assert any("selects 1 pod(s)" in line for line in f.evidence)


@pytest.mark.parametrize(
    "ingress",
    [
        [{}],  # allow all
        [{"from": [{"podSelector": {"matchLabels": {"app": "proxy"}}}], "ports": [{"port": 8080}]}],
        [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
    ],
)
def test_policies_that_admit_callers_are_quiet(ingress: list) -> None:
    assert run(_world(ingress), ["NetworkPolicy"]) == []
