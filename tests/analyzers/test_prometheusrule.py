from __future__ import annotations

from orchestrator.analyzers import Scope, Snapshot, analyze

from .builders import NS, obj

GROUP = "bad-rules.rules"


def _rule(uid: str = "4fbaecc0") -> dict:
    spec = {"groups": [{"name": GROUP, "rules": [{"alert": "BadAlert", "expr": "x / on(namespace) group_left x"}]}]}
    return {
        **obj("PrometheusRule", "bad-rules", spec=spec),
        "metadata": {"name": "bad-rules", "namespace": NS, "uid": uid},
    }


def _alert(uid: str) -> dict:
    group = f"/etc/prometheus/rules/prometheus-k8s-rulefiles-0/{NS}-bad-rules-{uid}.yaml;{GROUP}"
    return {
        "name": "PrometheusRuleFailures",
        "labels": {"alertname": "PrometheusRuleFailures", "namespace": "monitoring", "rule_group": group},
    }


def _findings(alerts: list[dict]) -> list:
    snap = Snapshot({"PrometheusRule": [_rule()]}, alerts=alerts)
    return analyze(snap, Scope((NS,)), ["PrometheusRule"]).findings


def test_a_failing_rule_group_leads_to_its_prometheusrule_by_uid() -> None:
    (f,) = _findings([_alert("4fbaecc0")])
    assert (f.kind, f.namespace, f.name, f.confidence) == ("PrometheusRule", NS, "bad-rules", "high")
    assert GROUP in f.cause and any("BadAlert: expr x / on(namespace)" in e for e in f.evidence)
    assert f.remedy[0].startswith(f"kubectl -n {NS} edit prometheusrule bad-rules   # ")


def test_another_objects_rule_file_or_no_alert_names_nothing() -> None:
    assert _findings([_alert("0000")]) == []
    assert _findings([]) == []
