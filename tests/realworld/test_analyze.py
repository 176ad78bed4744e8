"""`sre-agent analyze -n NS` on each replayed fault case lists the root-cause object among its findings, as an
on-call engineer would run it against the served cluster (with Alertmanager, where a failing rule group is
named)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli import app

from .harness import Replay, case_names, load_spec

FAULTS = [name for name in case_names() if "root" in (load_spec(name).get("agent") or {})]


def test_every_fault_case_is_analyzed() -> None:
    assert len(FAULTS) >= 12, FAULTS


@pytest.mark.parametrize("replay", FAULTS, indirect=True)
def test_analyze_lists_the_root_cause(replay: Replay, tmp_path: Path) -> None:
    kubeconfig = replay.server.write_kubeconfig(tmp_path / "kubeconfig")
    args = ["analyze", "-n", replay.namespace, "--kubeconfig", str(kubeconfig), "--alertmanager", replay.server.url]
    result = CliRunner().invoke(app, [*args, "-o", "json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    root = replay.spec["agent"]["root"]
    assert root in {f["object"] for f in findings}, [f["object"] for f in findings]
