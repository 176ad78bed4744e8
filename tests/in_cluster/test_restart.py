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


def control(cluster, method: str, path: str, body: dict | None = None) -> None:  # noqa: ANN001
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{cluster.sim.url}/sim/v1/{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    urllib.request.urlopen(req, timeout=30).close()


def test_an_operator_killed_during_its_write_is_finished_from_the_journal_never_rewritten(tmp_path: Path) -> None:
    runs, log = tmp_path / "runs", tmp_path / "operator.log"
    with served(tmp_path) as cluster:
        apps = cluster.api
        from kubernetes import client

        generation = (
            client.AppsV1Api(apps).read_namespaced_deployment("product-catalog", "otel-demo").metadata.generation
        )
        first = start_operator(cluster, runs, log)
        try:
            cluster.create("catalog-midwrite", summary=SUMMARY, remediation={"mode": "approve"})
            asked = wait_until(lambda: pending(cluster, "catalog-midwrite"), timeout=180)
            assert asked, log.read_text()
            run_id = cluster.get("catalog-midwrite")["status"]["claim"]["runId"]
            journal = runs / "otel-demo" / "catalog-midwrite" / run_id / "journal.jsonl"
            # The write (its dry run is past: the approver is asked after it) hangs in the API server...
            control(cluster, "POST", "reliability", {"path": "deployments/product-catalog", "methods": ["PATCH"],
                                                     "latency": 30})  # fmt: skip
            cluster.annotate("catalog-midwrite", {"sre-agent.dev/approve": asked["id"]})
            sent = wait_until(lambda: [w for w in journaled_writes(read_journal(journal))], timeout=60, every=0.05)
            assert sent and sent[0]["outcome"] == "unknown"
        finally:  # ...and the operator dies while it is in flight
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        control(cluster, "DELETE", "reliability")
        second = start_operator(cluster, runs, log)
        try:
            wait_until(
                lambda: phase(cluster.get("catalog-midwrite")) in ("Resolved", "Escalated", "Failed"), timeout=180
            )
            status = cluster.get("catalog-midwrite")["status"]
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
        # The new operator verified what the dead run sent instead of running (and writing) again.
        assert status["claim"]["attempt"] == 2 and status["report"].endswith(run_id)
        assert [d.name for d in (runs / "otel-demo" / "catalog-midwrite").iterdir()] == [run_id]
        assert [w["outcome"] for w in journaled_writes(read_journal(journal))] == ["unknown"]  # never re-sent
        report = json.loads((journal.parent / "report.json").read_text())
        assert report["ended_by"] == "resume"
        after = client.AppsV1Api(apps).read_namespaced_deployment("product-catalog", "otel-demo").metadata.generation
        # The request died with its client, so the fault is still there: the gate says so and a person decides.
        assert after == generation and status["phase"] == "Escalated", status.get("reason")
        assert "the gate fails" in status["reason"]
        reasons = [e.reason for e in cluster.events("catalog-midwrite")]
        assert reasons.count("Escalated") == 1 and reasons.count("Claimed") == 2


def test_a_run_that_ended_before_its_status_was_written_is_recorded_from_its_report(tmp_path: Path) -> None:
    from orchestrator.operator.controller import OperatorConfig

    from .helpers import operator

    runs = tmp_path / "runs"
    with served(tmp_path) as cluster:
        cluster.create("catalog-unrecorded", summary=SUMMARY)
        # Every status write of this Incident hangs in the API server: the run goes on, its record does not.
        control(cluster, "POST", "reliability", {"path": "incidents/catalog-unrecorded/status", "methods": ["PATCH"],
                                                 "latency": 60})  # fmt: skip
        env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig), "SRE_AGENT_RUNS_DIR": str(runs)}
        argv = [sys.executable, "-c", "from orchestrator.cli import main; main()", "operator", "execute",
                "otel-demo/catalog-unrecorded", "--alertmanager", cluster.sim.url, "--prometheus", cluster.sim.url]  # fmt: skip
        job = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            report = wait_until(
                lambda: next(runs.glob("otel-demo/catalog-unrecorded/*/report.json"), None), timeout=120
            )
            assert report is not None
        finally:
            job.send_signal(signal.SIGKILL)
            job.wait(30)
        control(cluster, "DELETE", "reliability")
        stale = cluster.get("catalog-unrecorded")["status"]
        assert stale["phase"] == "Investigating" and not stale.get("diagnosis")  # only the claim was written
        changed = catalog_image(cluster.api)
        config = OperatorConfig(executor=cluster.settings(runs), namespaces=["otel-demo"], lease_seconds=1,
                                sweep_seconds=0.5)  # fmt: skip
        with operator(config, cluster.kubeconfig):
            wait_until(lambda: phase(cluster.get("catalog-unrecorded")) in ("Resolved", "Escalated", "Failed"))
            status = cluster.get("catalog-unrecorded")["status"]
        assert status["phase"] == "Resolved" and status["diagnosis"]["rootCauses"] == [ROOT]
        assert status["report"] == str(report.parent) and status["claim"]["attempt"] == 2
        assert [d.name for d in (runs / "otel-demo" / "catalog-unrecorded").iterdir()] == [report.parent.name]
        assert catalog_image(cluster.api) == changed  # nothing ran again
        reasons = [e.reason for e in cluster.events("catalog-unrecorded")]
        assert "TakenOver" in reasons and reasons.count("Resolved") == 1
