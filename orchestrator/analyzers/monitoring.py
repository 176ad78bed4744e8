"""The monitoring stack's own faults: PrometheusRule objects whose rules Prometheus fails to evaluate.

Prometheus names the failing group in `prometheus_rule_evaluation_failures_total{rule_group}` and so in
the PrometheusRuleFailures alert; the Prometheus Operator writes each PrometheusRule to a rule file named
`<namespace>-<name>-<uid>.yaml`, so the group leads back to the object by its uid."""

from __future__ import annotations

from typing import Any

from .common import meta, name_of, ns_of, quote
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot

MAX_RULES = 3  # rules quoted from the failing group


def reports_on(alert: dict, namespace: str | None, name: str | None, uid: str = "") -> bool:
    """Whether an alert's `rule_group` (`FILE;GROUP`) is a rule file of that PrometheusRule: the operator
    names it `<namespace>-<name>-<uid>.yaml` (any uid when none is given)."""
    file = str((alert.get("labels") or {}).get("rule_group") or "").partition(";")[0]
    stem = file.rsplit("/", 1)[-1].removesuffix(".yaml")
    return bool(file) and (stem == f"{namespace}-{name}-{uid}" if uid else stem.startswith(f"{namespace}-{name}-"))


@analyzer("PrometheusRule")
def failing_rules(reads: Snapshot, scope: Scope) -> list[Finding]:
    """PrometheusRules whose rule group an alert reports failing to evaluate (rule_group label)."""
    out: dict[str, Finding] = {}
    for alert in reads.alerts:
        labels = alert.get("labels") or {}
        group = str(labels.get("rule_group") or "").partition(";")[2]
        for ns in scope.namespaces:
            for rule in reads.of("PrometheusRule", ns):
                uid = meta(rule).get("uid") or ""
                if not uid or not reports_on(alert, ns, name_of(rule), uid) or name_of(rule) in out:
                    continue
                evidence = [
                    f"alert {alert.get('name') or labels.get('alertname')}: rule_group={quote(labels['rule_group'], 160)}"
                ]
                fix = None
                for index, g in enumerate((rule.get("spec") or {}).get("groups") or []):
                    if g.get("name") == group:
                        rules = g.get("rules") or []
                        for r in rules[:MAX_RULES]:
                            evidence.append(f"{r.get('alert') or r.get('record')}: expr {quote(r.get('expr'), 160)}")
                        if len(rules) == 1:
                            fix = _remove_rule(rule, index, rules[0])
                cause = f"Prometheus fails to evaluate rule group {group or '(unnamed)'}: an expression in it is invalid at query time"
                out[name_of(rule)] = Finding(
                    "PrometheusRule", ns_of(rule), name_of(rule), cause, evidence, "high", "spec.groups", fix=fix
                )
    return list(out.values())


def _remove_rule(obj: dict, group: int, rule: dict) -> dict[str, Any]:
    """Take out the one rule of a failing group: it has never evaluated, so no alert it could raise is lost,
    while its failures keep PrometheusRuleFailures firing and hide real rule errors. The `test` operation
    makes the patch apply only to the rule quoted here."""
    path = f"/spec/groups/{group}/rules/0"
    name = rule.get("alert") or rule.get("record") or "the rule"
    return {
        "action": "patch",
        "args": {
            "kind": "PrometheusRule",
            "name": name_of(obj),
            "namespace": ns_of(obj),
            "patch_type": "json",
            "patch": [
                {"op": "test", "path": f"{path}/expr", "value": rule.get("expr")},
                {"op": "remove", "path": path},
            ],
        },
        "rationale": f"{name} is the only rule of the group Prometheus fails to evaluate; it never worked",
    }
