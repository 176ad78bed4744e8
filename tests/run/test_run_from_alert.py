"""`sre-agent run --alert FILE`: the page itself is the incident. An Alertmanager webhook body (or a list of
alerts as its API gives them) becomes the incident's summary, alerts and scope, and the run resolves it."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.sim import resolve_scenario
from orchestrator.sim.runner import SimulatorServer

from .helpers import run_cli

HERE = Path(__file__).parent
WEBHOOK = HERE / "alerts" / "alertmanager-webhook.json"


def test_a_webhook_body_is_run_to_a_verified_fix(tmp_path: Path) -> None:
    with SimulatorServer.start(scenario=resolve_scenario("otel-demo-bad-image")) as sim:
        sim.advance(300)  # the fault develops and its alert fires, as when someone is paged
        kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")
        body = json.loads(WEBHOOK.read_text())
        body["externalURL"] = sim.url  # the Alertmanager that sent it: the simulator's
        page = tmp_path / "page.json"
        page.write_text(json.dumps(body))
        out = tmp_path / "run"
        code, stdout, _ = run_cli(
            "run", "--alert", str(page), "--kubeconfig", str(kubeconfig), "--output", str(out), "-o", "json"
        )
    result = json.loads(stdout)
    assert code == 0, result["reason"]
    assert result["verdict"]["passed"] is True
    start = json.loads((out / "trace.jsonl").read_text().splitlines()[0])["data"]["incident"]
    assert start == {
        "name": "kubepodnotready",
        "summary": "Pod has been in a non-ready state for more than 15 minutes.",
        "namespaces": ["otel-demo"],
    }
    verdict = json.loads((out / "report.json").read_text())["verdict"]
    named = [r for r in verdict["results"] if r["name"] == "alerts_cleared" and r["value"].get("alert")]
    assert [r["value"]["alert"] for r in named] == ["KubePodNotReady"]  # not the resolved one
    assert all(r["passed"] for r in named)


def test_an_alert_list_and_bad_alert_files(tmp_path: Path) -> None:
    listed = tmp_path / "alerts.json"  # as `amtool alert query -o json` prints them: no namespace label here
    listed.write_text(
        json.dumps(
            [
                {
                    "labels": {"alertname": "NodeDown"},
                    "annotations": {},
                    "fingerprint": "f1",
                    "status": {"state": "active"},
                }
            ]
        )
    )
    code, _, stderr = run_cli("run", "--alert", str(listed))
    assert (
        code == 2
        and stderr.strip() == f"error: {listed}: no firing alert has a namespace label; give the namespace with -n"
    )
    for text, message in (
        ("{", "the body is not JSON"),
        (
            '{"version": "4", "groupKey": "g", "status": "resolved", "alerts": [{"status": "resolved", "labels": {"alertname": "X"}, "fingerprint": "f"}]}',
            "no alert in it is firing",
        ),
    ):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        code, _, stderr = run_cli("run", "--alert", str(bad))
        assert code == 2 and message in stderr and len(stderr.strip().splitlines()) == 1, stderr
    code, _, stderr = run_cli("run", str(WEBHOOK), "--alert", str(WEBHOOK))
    assert code == 2 and "one of them" in stderr
