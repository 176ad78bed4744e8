"""`sre-agent run` end to end with the offline builtin/playbook model against the embedded simulator."""

from __future__ import annotations

import json
from pathlib import Path

from .helpers import EXAMPLES, events, root_causes, run_cli, write_incident, writes

BAD_IMAGE = "builtin:otel-demo-bad-image"


def test_demo_incident_resolves_with_a_verified_closure(runs_root: Path) -> None:
    out = runs_root / "demo"
    code, stdout, _ = run_cli("run", str(EXAMPLES / "demo.yaml"), "--output", str(out), "--quiet")
    assert code == 0, stdout
    assert root_causes(out) == {"otel-demo/Deployment/product-catalog"}
    verdicts = [e for e in events(out) if e["kind"] == "verifier_verdict"]
    assert verdicts and verdicts[-1]["data"]["passed"] and verdicts[-1]["data"]["gate_passed"]
    assert [e["data"]["status"] for e in events(out) if e["kind"] == "run_end"] == ["resolved"]
    for name in ("report.md", "report.json", "machine.mmd", "agent_output.json", "engine.log.jsonl"):
        assert (out / name).is_file(), name
    assert "✔" in (out / "machine.mmd").read_text()


def test_json_output_is_the_run_result(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "json-out", BAD_IMAGE, scope={"namespaces": ["otel-demo"]})
    code, stdout, _ = run_cli("run", str(inc), "--output", str(runs_root / "json-out"), "-o", "json")
    result = json.loads(stdout)
    assert code == result["exit_code"] == 0
    assert result["status"] == "resolved" and result["verdict"]["passed"]


def test_mode_off_diagnoses_and_changes_nothing(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(
        tmp_path, "read-only", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}, remediation={"mode": "off"}
    )
    out = runs_root / "read-only"
    code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 3
    assert root_causes(out) == {"otel-demo/Deployment/product-catalog"}
    assert writes(out) == []
    from orchestrator.tools.registry import write_names

    write_tools = set(write_names())
    assert not [e for e in events(out) if e["kind"] == "tool_call" and e["data"].get("tool") in write_tools]


def test_dry_run_shows_the_change_and_applies_nothing(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(
        tmp_path, "dry-run", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}, remediation={"mode": "dry-run"}
    )
    out = runs_root / "dry-run"
    code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 3
    recorded = writes(out)
    assert recorded and all(w["mode"] == "dry-run" for w in recorded)
    assert all(w["change"] for w in recorded)
    assert "no change was applied" in json.loads((out / "report.json").read_text())["reason"]


def test_bad_incident_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: sre-agent.dev/v1alpha1\nkind: Incident\nmetadata: {name: x}\nspec:\n  summary: s\n  colour: red\n"
    )
    code, _, stderr = run_cli("run", str(bad))
    assert code == 2
    assert "spec.colour" in stderr and "Traceback" not in stderr


def test_each_class_walks_its_own_machine(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "classes", BAD_IMAGE, scope={"namespaces": ["otel-demo"]})
    for cls, state in (("mid", "gather"), ("open", "survey")):
        out = runs_root / f"class-{cls}"
        code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet", "--model-class", cls)
        assert code == 0, cls
        report = json.loads((out / "report.json").read_text())
        assert report["model_class"] == cls and state in report["path"]
        assert root_causes(out) == {"otel-demo/Deployment/product-catalog"}


def test_ambiguous_incident_asks_then_continues_read_only(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "ambiguous", "builtin:two-namespaces")
    out = runs_root / "ambiguous"
    code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 3
    asked = [e["data"] for e in events(out) if e["kind"] == "clarification"]
    assert asked and set(asked[0]["candidates"]) == {"otel-demo", "book-info"}
    assert asked[0]["answer"] is None and asked[0]["read_only"]
    report = json.loads((out / "report.json").read_text())
    assert report["assumptions"] and "read-only" in report["reason"]
    assert writes(out) == []


def test_mitigations_off_is_one_unguarded_loop(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "unguarded", BAD_IMAGE, scope={"namespaces": ["otel-demo"]})
    out = runs_root / "unguarded"
    code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet", "--mitigations", "off")
    report = json.loads((out / "report.json").read_text())
    assert code == 0 and report["path"] == ["intake", "solo", "audit", "resolved"]
    assert report["verdict"] is None and "nothing verified" in report["reason"]
    assert not [e for e in events(out) if e["kind"] in ("verifier_verdict", "mitigation")]


def test_an_answered_clarification_scopes_the_run(runs_root: Path, tmp_path: Path) -> None:
    import asyncio

    from orchestrator.engine import RunOptions, run_incident
    from orchestrator.incident import load_incident

    inc = load_incident(write_incident(tmp_path, "answered", "builtin:two-namespaces"))
    asked: list[list[str]] = []

    async def on_call(question: str, candidates: list[str]) -> str:
        asked.append(candidates)
        return "otel-demo"

    out = runs_root / "answered"
    result = asyncio.run(run_incident(inc, RunOptions(output_dir=out, clarifier=on_call)))
    assert asked and set(asked[0]) == {"otel-demo", "book-info"}
    assert result.exit_code == 0, result.reason
    assert root_causes(out) == {"otel-demo/Deployment/product-catalog"}
    assert all(w["target"].startswith("otel-demo/") for w in writes(out))


def test_approve_mode_without_anyone_to_ask_denies_the_write(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(
        tmp_path, "approve", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}, remediation={"mode": "approve"}
    )
    out = runs_root / "approve"
    code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 3
    recorded = writes(out)
    assert recorded and {w["mode"] for w in recorded} == {"denied"}
    assert "no change was applied (denied)" in json.loads((out / "report.json").read_text())["reason"]
