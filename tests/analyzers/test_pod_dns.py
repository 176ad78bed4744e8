from __future__ import annotations

import pytest

from .builders import obj, only, run


@pytest.mark.parametrize(
    ("dns", "cause", "confidence"),
    [
        ({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["192.0.2.53"]}}, "documentation address", "high"),
        ({"dnsPolicy": "None"}, "no nameservers", "high"),
        ({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["10.0.0.10"]}}, "bypasses cluster DNS", "low"),
    ],
)
def test_dns_policies_that_cannot_resolve(dns: dict, cause: str, confidence: str) -> None:
    dep = obj("Deployment", "web", spec={"template": {"spec": {"containers": [{"name": "c"}], **dns}}})
    f = only(run({"Deployment": [dep]}, ["Pod"]), "Deployment", "web")
    assert cause in f.cause and f.confidence == confidence
    assert "spec.template.spec.dnsPolicy=None" in f.evidence


def test_cluster_first_is_quiet() -> None:
    dep = obj(
        "Deployment", "web", spec={"template": {"spec": {"containers": [{"name": "c"}], "dnsPolicy": "ClusterFirst"}}}
    )
    assert run({"Deployment": [dep]}, ["Pod"]) == []
