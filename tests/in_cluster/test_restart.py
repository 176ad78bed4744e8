"""Killing the operator (SIGKILL, a real process) mid-run and starting it again finishes the Incident
exactly once: the new process takes the claim over once its heartbeat stops, the run's change is applied
once, and the Incident ends Resolved with one terminal Event."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from orchestrator.tools.journal import journaled_writes, read_journal

from .helpers import served, wait_until
from .test_operator import ROOT, SUMMARY, catalog_image, pending, phase


def start_operator(cluster, runs: Path, log: Path) -> subprocess.Popen:  # noqa: ANN001
    argv = [
        sys.executable, "-c", "from orchestrator.cli import main; main()", "operator", "run", "-n", "otel-demo",
        "--kubeconfig", str(cluster.kubeconfig), "--alertmanager", cluster.sim.url, "--prometheus", cluster.sim.url,
        "--runs-dir", str(runs), "--lease", "2",
    ]  # fmt: skip
    return subprocess.Popen(argv, stdout=log.open("ab"), stderr=subprocess.STDOUT, env={**os.environ})


def test_a_killed_operator_is_taken_over_and_the_incident_finishes_once(tmp_path: Path) -> None:
    runs, log = tmp_path / "runs", tmp_path / "operator.log"
    with served(tmp_path) as cluster:
        before = catalog_image(cluster.api)
        first = start_operator(cluster, runs, log)
        try:
            cluster.create("catalog-restart", summary=SUMMARY, remediation={"mode": "approve"})
            asked = wait_until(lambda: pending(cluster, "catalog-restart"), timeout=180)
            assert asked, log.read_text()
            claim = cluster.get("catalog-restart")["status"]["claim"]
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        # The answer comes while no operator runs; the dead run's approval id is not the new run's.
        cluster.annotate("catalog-restart", {"sre-agent.dev/approve": asked["id"]})
        assert catalog_image(cluster.api) == before
        second = start_operator(cluster, runs, log)
        try:

            def asked_again() -> dict | None:
                now = pending(cluster, "catalog-restart")
                return now if now and now["id"] != asked["id"] else None

            again = wait_until(asked_again, timeout=180)
            assert again, log.read_text()
            status = cluster.get("catalog-restart")["status"]
            assert status["claim"]["attempt"] == 2 and status["claim"]["holder"] != claim["holder"]
            cluster.annotate("catalog-restart", {"sre-agent.dev/approve": again["id"]})
            wait_until(
                lambda: phase(cluster.get("catalog-restart")) in ("Resolved", "Escalated", "Failed"), timeout=180
            )
            status = cluster.get("catalog-restart")["status"]
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
        assert status["phase"] == "Resolved", status.get("reason")
        assert status["diagnosis"]["rootCauses"] == [ROOT]
        applied = [
            w for d in (runs / "otel-demo" / "catalog-restart").iterdir()
            for w in journaled_writes(read_journal(d / "journal.jsonl")) if w["outcome"] == "applied"
        ]  # fmt: skip
        assert [w["target"] for w in applied] == [ROOT]  # one change, by the second run only
        assert catalog_image(cluster.api) != before
        reasons = [e.reason for e in cluster.events("catalog-restart")]
        assert reasons.count("Resolved") == 1 and reasons.count("Claimed") == 2 and "TakenOver" in reasons
        assert json.loads(Path(status["report"], "report.json").read_text())["status"] == "resolved"
