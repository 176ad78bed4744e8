"""The analyzers' first pass in a run: findings reach the briefing, the built-in model falls back on them
when no playbook cause matches, and a scope with nothing wrong ends "no fault found" (exit 4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.builtin.agent import PlaybookModel
from orchestrator.builtin.transcript import parse_findings
from orchestrator.engine.handlers import finding_line

from .helpers import events, root_causes, run_cli, write_incident, writes

HERE = Path(__file__).parent
# A workload that asks for a GPU on a cluster with none: Pending, a fault no playbook covers.
GPU_PENDING = HERE / "scenarios" / "gpu-pending.yaml"


def test_an_uncovered_fault_is_named_from_the_findings_with_its_real_kind(
    runs_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []  # every request the model was given, as text
    create = PlaybookModel.create

    async def recording(self: PlaybookModel, messages: Any, **kw: Any) -> Any:
        sent.append("\n".join(str(getattr(m, "content", m)) for m in messages))
        return await create(self, messages, **kw)

    monkeypatch.setattr(PlaybookModel, "create", recording)
    inc = write_incident(tmp_path, "gpu-pending", GPU_PENDING, scope={"namespaces": ["ml"]})
    out = runs_root / "gpu-pending"
    code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 3, stdout
    trace = events(out)
    (analysis,) = [e["data"] for e in trace if e["kind"] == "analysis"]
    top = analysis["findings"][0]
    assert top["kind"] == "Pod" and top["confidence"] == "high" and top["owner"] == "ml/Deployment/inference"
    # The root cause is the object the analyzers read, with its real kind, and their evidence: for a pod a
    # controller makes, its controller (the fix goes into the template), with the pod named as affected.
    assert root_causes(out) == {top["owner"]}
    output = json.loads((out / "agent_output.json").read_text())
    (root,) = [e for e in output["entities"] if e["contributing_factor"]]
    assert any("Insufficient nvidia.com/gpu" in line for line in root["evidence"])
    assert top["object"] in {e["name"] for e in output["entities"] if not e["contributing_factor"]}
    assert writes(out) == []
    report = json.loads((out / "report.json").read_text())
    assert report["reason"].endswith(f"; root cause named: {top['owner']}")  # what a person should look at first
    # Escalated with a ready-to-run next step, in report.json, report.md and report.html alike.
    (step,) = report["proposed_change"]
    assert step.startswith("kubectl -n ml edit deployment inference   # ") and "enough free resources" in step
    assert "## Proposed change" in (out / "report.md").read_text() and step in (out / "report.md").read_text()
    assert "Proposed change" in (out / "report.html").read_text()
    # The findings went beside the fact ledger, one short line each, from the first request until the
    # diagnosis was submitted (the last requests, mitigating, go without them).
    line = finding_line(top)
    shown = [line in text for text in sent]
    assert shown[0] and shown[1] and not shown[-1]
    assert line.startswith(f"finding [high] {top['object']}: ") and len(line) < 400
    assert f" | owner: {top['owner']} | " in line


def test_a_healthy_scope_ends_no_fault_with_exit_4(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(
        tmp_path,
        "healthy",
        "builtin:healthy-otel-demo",
        summary="routine check: is anything wrong in the shop?",
        scope={"namespaces": ["otel-demo"]},
    )
    out = runs_root / "healthy"
    code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "-o", "json")
    result = json.loads(stdout)
    assert code == result["exit_code"] == 4
    assert result["status"] == "no-fault" and result["path"] == ["intake", "no_fault"]
    assert "no fault found" in result["reason"]
    assert writes(out) == [] and result["writes"] == []
    (analysis,) = [e["data"] for e in events(out) if e["kind"] == "analysis"]
    assert all(f["confidence"] == "low" for f in analysis["findings"])


def test_finding_lines_round_trip_to_the_builtin_model() -> None:
    found = {
        "object": "/Node/worker-1",
        "confidence": "medium",
        "cause": "the node is cordoned",
        "evidence": ["spec.unschedulable=true", "x" * 300],
    }
    weak = {**found, "object": "shop/Pod/a", "confidence": "high", "cause": "crash", "evidence": []}
    parsed = parse_findings(["incident alert X {}", finding_line(found), finding_line(weak)])
    assert [(p.object, p.kind, p.confidence) for p in parsed] == [
        ("shop/Pod/a", "Pod", "high"),
        ("/Node/worker-1", "Node", "medium"),
    ]
    assert parsed[1].cause == "the node is cordoned" and parsed[1].evidence[0] == "spec.unschedulable=true"
    assert len(finding_line(found)) < 320


def test_a_failed_first_pass_is_one_trace_line_and_never_a_healthy_end(
    runs_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.analyzers import ReadFailure
    from orchestrator.engine import handlers

    def unreachable(*args: Any, **kw: Any) -> Any:
        raise ReadFailure("connection refused")

    monkeypatch.setattr(handlers, "read_snapshot", unreachable)
    inc = write_incident(tmp_path, "no-pass", "builtin:healthy-otel-demo", scope={"namespaces": ["otel-demo"]})
    out = runs_root / "no-pass"
    code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 3, stdout  # the agents looked for themselves and escalated; nothing proved it healthy
    (analysis,) = [e["data"] for e in events(out) if e["kind"] == "analysis"]
    assert "connection refused" in analysis["error"] and analysis["findings"] == []
    assert writes(out) == []


def test_a_cause_and_its_derived_fix_round_trip_to_the_builtin_model() -> None:
    fix = {"action": "set_env", "args": {"kind": "Deployment", "name": "web", "env_name": "DB_HOST", "value": "db"}}
    found = {
        "object": "shop/Deployment/web",
        "confidence": "high",
        "cause": "DB_HOST names host db-prod, which does not resolve in the cluster",
        "explains": ["shop/Pod/web-1"],
        "fix": {**fix, "rationale": "the namespace uses db"},
        "evidence": ["log web-1/app: could not translate host name"],
    }
    (parsed,) = parse_findings([finding_line(found)])
    assert parsed.cause == found["cause"] and parsed.explains == ("shop/Pod/web-1",)
    assert parsed.fix == fix and parsed.evidence == ("log web-1/app: could not translate host name",)


def test_an_incident_alert_that_is_not_firing_is_no_evidence(runs_root: Path, tmp_path: Path) -> None:
    """Paged for an alert Alertmanager no longer (or never) has firing, on a healthy scope: no fault found,
    and the reason names the stale alert."""
    inc = write_incident(
        tmp_path,
        "stale",
        "builtin:healthy-otel-demo",
        scope={"namespaces": ["otel-demo"]},
        alerts=[{"name": "KubePodCrashLooping", "labels": {"namespace": "otel-demo"}}],
    )
    out = runs_root / "stale"
    code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "-o", "json")
    result = json.loads(stdout)
    assert code == 4 and result["status"] == "no-fault", result["reason"]
    assert "the incident's KubePodCrashLooping is not firing" in result["reason"]
    assert writes(out) == []


def test_a_claim_that_cannot_bind_is_named_before_the_workload_waiting_on_it(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(
        tmp_path, "claim-unbound", HERE / "scenarios" / "claim-unbound.yaml", scope={"namespaces": ["cache"]}
    )
    out = runs_root / "claim-unbound"
    code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 3, stdout  # nothing to change that the cluster justifies: which class is right is a person's call
    assert root_causes(out) == {"cache/PersistentVolumeClaim/cache-data"}
    output = json.loads((out / "agent_output.json").read_text())
    affected = {e["name"] for e in output["entities"] if not e["contributing_factor"]}
    assert "cache/Deployment/keydb" in affected
    (root,) = [e for e in output["entities"] if e["contributing_factor"]]
    assert any("premium-ssd" in line for line in root["evidence"])
    assert writes(out) == []
