"""`sre-agent bench sim --incident-pods N`: one whole `sre-agent run` at a chosen size, reported with its
outcome. Small sizes only here (its figures are timings, measured by the command, never asserted)."""

from __future__ import annotations

import json

import yaml

from orchestrator.bench.incident_run import EXPECTED_ROOT_CAUSE, scenario_document
from tests.run.helpers import run_cli


def test_the_incident_run_figure_resolves_and_names_the_faulted_deployment() -> None:
    code, out, _ = run_cli("bench", "sim", "--pods", "", "--incident-pods", "200", "-o", "json")
    assert code == 0
    results = json.loads(out)
    row = results["incident_run"]
    assert row["exit_code"] == 0
    assert row["resolved"] is True
    assert row["root_cause"] == EXPECTED_ROOT_CAUSE
    assert row["pods"] == 210  # ten pods for each of the Astronomy Shop's 21 workloads
    assert row["wall_seconds"] > 0 and row["cpu_seconds"] > 0 and row["peak_rss_mb"] > 0
    assert results["goals"]["incident_run_seconds_at_3000"] == 10.0
    assert "root cause otel-demo/Deployment/product-catalog: resolved" in results["lines"][-1]


def test_the_table_and_yaml_carry_the_same_figure() -> None:
    code, out, _ = run_cli("bench", "sim", "--pods", "", "--incident-pods", "42", "-o", "yaml")
    assert code == 0
    assert yaml.safe_load(out)["incident_run"]["resolved"] is True
    code, out, _ = run_cli("bench", "sim", "--pods", "", "--incident-pods", "42")
    assert code == 0
    assert "incident run at 42 pods" in out and "(goal < 10 s at 3,000 pods)" in out


def test_the_scenario_is_sized_the_way_a_user_would_size_it() -> None:
    spec = scenario_document(3000)["spec"]
    assert spec["applications"] == [{"name": "opentelemetry-demo", "options": {"replicas": 143}}]
    assert spec["cluster"]["nodes"] * spec["cluster"]["pods"] >= 3000


def test_a_negative_size_is_a_one_line_error() -> None:
    code, _, err = run_cli("bench", "sim", "--pods", "", "--incident-pods", "-1")
    assert code == 2
    assert "--incident-pods must be 0 or more" in err
