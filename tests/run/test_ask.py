"""`sre-agent ask`: a one-off question answered by a read-only investigation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import run_cli


def test_ask_answers_without_changing_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the run directory goes under ./runs, as for `run`
    code, stdout, _ = run_cli("ask", "why is checkout failing", "-n", "otel-demo", "--scenario", "image", "-o", "json")
    assert code == 0, stdout
    answer = json.loads(stdout)
    assert answer["root_causes"] == ["otel-demo/Deployment/product-catalog"]
    assert "image" in answer["answer"] and answer["proposed_change"][0]["action"] == "rollout_undo"
    report = json.loads((Path(answer["run_directory"]) / "report.json").read_text())
    assert not [w for w in report["writes"] if w["mode"] == "applied"]  # remediation off: read-only


def test_ask_refuses_a_simulator_and_a_cluster_at_once() -> None:
    code, _, stderr = run_cli("ask", "why", "-n", "shop", "--scenario", "image", "--context", "prod")
    assert code == 2 and "does not take --context" in stderr
