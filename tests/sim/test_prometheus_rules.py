"""PrometheusRule objects: served from the start, their alerting rules evaluated with the built-in ones,
and evaluation failures counted in prometheus_rule_evaluation_failures_total."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import pytest
from kubernetes import client

from tests.sim.helpers import Sim, served_plan

NS = "default"


@pytest.fixture
def sim() -> Iterator[Sim]:
    with served_plan({"name": "rules", "applications": [], "faults": [], "warmup": 0}) as s:
        yield s


def rule(name: str, expr: str) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": name.lower()},
        "spec": {"groups": [{"name": f"{name}.rules", "rules": [{"alert": name, "expr": expr, "for": "1m"}]}]},
    }


def failures(sim: Sim) -> dict[str, float]:
    q = urllib.parse.quote("prometheus_rule_evaluation_failures_total")
    result = sim.get_json(f"/api/v1/query?query={q}")["data"]["result"]
    return {r["metric"]["rule_group"].rsplit(";", 1)[1]: float(r["value"][1]) for r in result}


def test_user_rules_are_evaluated_and_failures_counted(sim: Sim) -> None:
    for name in ("a", "b"):
        pod = {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}
        sim.core.create_namespaced_pod(NS, pod)
    custom = client.CustomObjectsApi(sim.api)
    group, version, plural = "monitoring.coreos.com", "v1", "prometheusrules"
    # One side of a one-to-one match with two series per namespace: Prometheus rejects it at evaluation.
    custom.create_namespaced_custom_object(
        group, version, NS, plural, rule("Clash", "kube_pod_info * on(namespace) kube_pod_info")
    )
    custom.create_namespaced_custom_object(group, version, NS, plural, rule("Fine", "kube_pod_info > 0"))
    sim.advance(90)
    counts = failures(sim)
    assert counts["Clash.rules"] > 0 and counts["Fine.rules"] == 0
    groups = {g["name"]: g["rules"][0] for g in sim.get_json("/api/v1/rules")["data"]["groups"]}
    assert groups["Clash.rules"]["health"] == "err" and "many-to-many" in groups["Clash.rules"]["lastError"]
    assert groups["Fine.rules"]["state"] == "firing"
    custom.delete_namespaced_custom_object(group, version, NS, plural, "fine")
    sim.advance(10)
    assert "Fine.rules" not in {g["name"] for g in sim.get_json("/api/v1/rules")["data"]["groups"]}
