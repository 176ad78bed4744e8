"""The gate's checks on a replayed case: a check that passes after a fix must fail before it."""

from __future__ import annotations

import pytest

from orchestrator.checks import CHECKS, Context, Reads, parse_target

from .harness import Replay


def _rules_evaluate(replay: Replay) -> tuple[bool, str]:
    reads = Reads(replay.api, alertmanager_url=replay.server.url)
    outcome = CHECKS["rules_evaluate"].run(
        Context(reads, [replay.namespace]), parse_target("default/PrometheusRule/bad-rules"), None
    )
    return outcome.passed, outcome.evidence


@pytest.mark.parametrize("replay", ["prometheus-rule-failure"], indirect=True)
def test_rules_evaluate_fails_while_prometheus_reports_the_group_and_passes_once_it_is_fixed(replay: Replay) -> None:
    passed, evidence = _rules_evaluate(replay)
    assert not passed and "PrometheusRuleFailures" in evidence, evidence  # fires in monitoring, not default
    rules = replay.resource("monitoring.coreos.com/v1", "PrometheusRule")
    rules.patch(
        name="bad-rules",
        namespace="default",
        body={"spec": {"groups": []}},
        content_type="application/merge-patch+json",
    )
    replay.server.advance(600)  # the failure counter's 5m window, then the alert resolves
    passed, evidence = _rules_evaluate(replay)
    assert passed, evidence
