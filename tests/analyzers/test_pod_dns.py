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


def test_a_template_that_resolves_nothing_gets_cluster_dns_back() -> None:
    dns = {"dnsPolicy": "None", "dnsConfig": {"nameservers": ["198.51.100.7"], "searches": ["svc.cluster.local"]}}
    sts = obj("StatefulSet", "db", spec={"template": {"spec": {"containers": [{"name": "c"}], **dns}}})
    f = only(run({"StatefulSet": [sts]}, ["Pod"]), "StatefulSet", "db")
    assert f.fix is not None and f.fix["action"] == "patch"
    assert f.fix["args"]["kind"] == "StatefulSet" and f.fix["args"]["name"] == "db"
    assert f.fix["args"]["patch"]["spec"]["template"]["spec"] == {
        "dnsPolicy": "ClusterFirst",
        "dnsConfig": {"nameservers": None},
    }


def test_a_bare_pod_gets_no_fix() -> None:
    # Its spec cannot change in place and nothing rolls it out again.
    bare = obj("Pod", "probe", spec={"containers": [{"name": "c"}], "dnsPolicy": "None"})
    f = only(run({"Pod": [bare]}, ["Pod"]), "Pod", "probe")
    assert f.confidence == "high" and f.fix is None
