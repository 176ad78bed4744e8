"""Runs against a cluster given by kubeconfig (a served simulator the run does not own), and the ways a
run can fail that are not the incident's fault: unreachable cluster, a model that errors."""

from __future__ import annotations

import json
from pathlib import Path

from kubernetes import client

from orchestrator.sim.builtin import resolve_scenario
from orchestrator.sim.runner import SimulatorServer
from tests.models.openai_stub import OpenAIStub

from . import scripts
from .helpers import events, root_causes, run_cli, write_incident, writes


def _kube_incident(tmp: Path, name: str, sim: SimulatorServer, mode: str) -> Path:
    kubeconfig = sim.write_kubeconfig(tmp / "sim.kubeconfig")
    return write_incident(
        tmp,
        name,
        "unused",
        cluster={"kubeconfig": str(kubeconfig)},
        observability={"alertmanager": sim.url, "prometheus": sim.url},
        remediation={"mode": mode},
    )


def test_kubeconfig_cluster_dry_run_changes_nothing(runs_root: Path, tmp_path: Path) -> None:
    with SimulatorServer.start(scenario=resolve_scenario("otel-demo-bad-image")) as sim:
        sim.advance(300)
        apps = client.AppsV1Api(client.ApiClient(sim.client_configuration()))
        before = apps.read_namespaced_deployment("product-catalog", "otel-demo").metadata
        inc = _kube_incident(tmp_path, "kube-dry-run", sim, "dry-run")
        out = runs_root / "kube-dry-run"
        code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet", "-n", "otel-demo")
        after = apps.read_namespaced_deployment("product-catalog", "otel-demo").metadata
    assert code == 3
    assert root_causes(out) == {"otel-demo/Deployment/product-catalog"}
    recorded = writes(out)
    assert recorded and {w["mode"] for w in recorded} == {"dry-run"}
    assert (after.resource_version, after.generation) == (before.resource_version, before.generation)


def test_unreachable_cluster_is_one_line_exit_5(runs_root: Path, tmp_path: Path) -> None:
    with SimulatorServer.start() as sim:
        inc = _kube_incident(tmp_path, "gone", sim, "off")
    out = runs_root / "unreachable"  # the server is stopped: nothing listens on its port any more
    code, _, stderr = run_cli("run", str(inc), "--output", str(out), "--quiet", "-n", "otel-demo")
    assert code == 5
    assert stderr.startswith("error: cannot reach the cluster at ") and stderr.count("\n") == 1
    assert "Traceback" not in stderr
    assert [e["data"]["exit_code"] for e in events(out) if e["kind"] == "run_end"] == [5]
    report = json.loads((out / "report.json").read_text())
    assert (report["status"], report["ended_by"]) == ("error", "cluster")


def test_missing_namespace_is_exit_5_and_says_so(runs_root: Path, tmp_path: Path) -> None:
    with SimulatorServer.start(scenario=resolve_scenario("otel-demo-bad-image")) as sim:
        inc = _kube_incident(tmp_path, "no-such-namespace", sim, "auto")
        out = runs_root / "no-such-namespace"
        code, _, stderr = run_cli("run", str(inc), "--output", str(out), "--quiet", "-n", "shop")
    assert code == 5
    assert stderr.startswith("error: namespace shop not found in the cluster at ") and "otel-demo" in stderr
    report = json.loads((out / "report.json").read_text())
    assert report["exit_code"] == 5 and "no change" not in report["reason"]
    assert [e["data"]["exit_code"] for e in events(out) if e["kind"] == "run_end"] == [5]


def test_a_cluster_that_goes_away_mid_run_is_exit_5(runs_root: Path, tmp_path: Path) -> None:
    sim = SimulatorServer.start(scenario=resolve_scenario("otel-demo-bad-image"))
    try:
        sim.advance(300)
        inc = _kube_incident(tmp_path, "goes-away", sim, "auto")

        def stop_then_answer(body: dict) -> dict:
            sim.stop()  # the API server goes down when the model is first asked (later calls: already down)
            return scripts.honest(body)

        out = runs_root / "goes-away"
        with OpenAIStub(stop_then_answer) as stub:
            code, _, stderr = run_cli(
                "run", str(inc), "--output", str(out), "-q", "-n", "otel-demo", "--model", "openai/x",
                "--base-url", stub.base_url,
            )  # fmt: skip
    finally:
        sim.stop()
    assert code == 5, stderr
    report = json.loads((out / "report.json").read_text())
    assert report["reason"].startswith("cannot reach the cluster at ") and "(the run stopped: " in report["reason"]
    assert not [w for w in writes(out) if w["mode"] == "applied"]


def test_model_errors_end_the_run_exit_6_with_the_trace_written(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "model-500", "builtin:otel-demo-bad-image", scope={"namespaces": ["otel-demo"]})
    out = runs_root / "model-500"
    with OpenAIStub(status=500) as stub:
        code, stdout, stderr = run_cli(
            "run", str(inc), "--output", str(out), "--quiet", "--model", "openai/x", "--base-url", stub.base_url
        )
    assert code == 6
    report = json.loads((out / "report.json").read_text())
    assert report["ended_by"] == "model_error" and "HTTP 500" in report["reason"]
    assert "\n" not in report["reason"] and stderr == f"error: {report['reason']}\n"
    assert [e["data"]["exit_code"] for e in events(out) if e["kind"] == "run_end"] == [6]


def test_unreadable_model_replies_are_retried_then_exit_6(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "model-garbage", "builtin:otel-demo-bad-image", scope={"namespaces": ["otel-demo"]})
    out = runs_root / "model-garbage"
    with OpenAIStub([{"raw": "<html>502 from a proxy</html>"}] * 3) as stub:
        code, _, stderr = run_cli(
            "run", str(inc), "--output", str(out), "--quiet", "--model", "openai/x", "--base-url", stub.base_url
        )
        asked = len(stub.requests)
    assert code == 6 and asked == 3  # the first call and its two retries
    assert stderr.startswith("error: model error: model openai/x: invalid reply from ")
    assert "after 3 attempts" in stderr and "not sent" not in stderr


def test_open_class_rejects_a_call_that_contradicts_the_declared_action(runs_root: Path, tmp_path: Path) -> None:
    def contradicting(body: dict) -> dict:
        offered = {t["function"]["name"] for t in body.get("tools") or []}
        if "submit_diagnosis" in offered and not scripts._results_since_instruction(body):
            return {
                "content": "Action: describe otel-demo/Deployment/product-catalog",
                "tool_calls": [{"name": "list_pods", "arguments": {"namespace": "otel-demo"}}],
            }
        return scripts.honest(body)

    inc = write_incident(tmp_path, "mismatch", "builtin:otel-demo-bad-image", scope={"namespaces": ["otel-demo"]})
    out = runs_root / "mismatch"
    with OpenAIStub(contradicting) as stub:
        run_cli(
            "run",
            str(inc),
            "--output",
            str(out),
            "--quiet",
            "--model",
            "openai/x",
            "--base-url",
            stub.base_url,
            "--model-class",
            "open",
        )
    trace = events(out)
    rejected = [
        e for e in trace if e["kind"] == "tool_result" and e["data"].get("reason") == "declared_action_mismatch"
    ]
    assert rejected
    assert [e for e in trace if e["kind"] == "mitigation" and e["data"]["detector"] == "declared_action_mismatch"]
