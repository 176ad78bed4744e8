"""The agent on the real-world dev set: each case replayed as in test_cases.py, then `sre-agent run` with
the built-in model in auto mode against the served simulator through a kubeconfig, as an on-call engineer
would run it. Each spec's `agent:` block says what a good SRE's outcome is where the agent reaches it,
and what it does instead where it cannot yet (with why): the exit code, the root-cause object with its
real kind, a verified write for exit 0, a ready-to-run proposed change when it escalates, and no write at
all for the controls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli import app

from .harness import Replay, case_names, load_spec

AGENT_KEYS = {"summary", "exit", "root", "alerts"}
CASES = [name for name in case_names() if "agent" in load_spec(name)]


def _incident(run: Replay, tmp: Path) -> Path:
    agent = run.spec["agent"]
    names = agent.get("alerts")
    if names is None:  # what pages the on-call: the case namespace's firing alerts
        alerts = [
            {"name": a["alertname"], "labels": {k: v for k, v in a.items() if k != "alertname"}}
            for a in run.firing()
            if a.get("namespace") == run.namespace
        ]
    else:
        alerts = [{"name": n, "labels": {"namespace": run.namespace}} for n in names]
    kubeconfig = run.server.write_kubeconfig(tmp / "kubeconfig")
    doc: dict[str, Any] = {
        "apiVersion": "sre-agent.dev/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": run.name},
        "spec": {
            "summary": agent["summary"],
            **({"alerts": alerts} if alerts else {}),
            "scope": {"namespaces": [run.namespace]},
            "cluster": {"kubeconfig": str(kubeconfig)},
            "observability": {"alertmanager": run.server.url, "prometheus": run.server.url},
            "model": "builtin/playbook",
            "remediation": {"mode": "auto"},
        },
    }
    path = tmp / "incident.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_every_case_says_what_the_agent_should_do() -> None:
    assert case_names() == CASES
    for name in CASES:
        agent = load_spec(name)["agent"]
        assert set(agent) <= AGENT_KEYS and agent["summary"] and agent["exit"] in (0, 3, 4), name
        assert ("root" in agent) == (agent["exit"] != 4), name


@pytest.mark.parametrize("replay", CASES, indirect=True)
def test_agent(replay: Replay, tmp_path: Path) -> None:
    agent = replay.spec["agent"]
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(_incident(replay, tmp_path)), "--output", str(out), "-o", "json"])
    report = json.loads(result.stdout)
    assert result.exit_code == agent["exit"], report["reason"]
    roots = {e["name"] for e in (report.get("diagnosis") or {}).get("entities", []) if e.get("contributing_factor")}
    applied = [w for w in report["writes"] if w.get("mode") == "applied"]
    saved = json.loads((out / "report.json").read_text())
    if agent["exit"] == 4:
        assert applied == [] and report["status"] == "no-fault"
        return
    assert agent["root"] in roots, (roots, report["reason"])
    if agent["exit"] == 0:
        assert applied and report["verdict"]["passed"], report["writes"]
    else:
        assert applied == [], report["writes"]
        assert saved["proposed_change"], "an escalation hands over a ready-to-run next step"
