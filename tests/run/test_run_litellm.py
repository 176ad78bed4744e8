"""The litellm path end to end against a local OpenAI-compatible server with scripted models."""

from __future__ import annotations

import json
from pathlib import Path

from tests.models.openai_stub import OpenAIStub

from . import scripts
from .helpers import events, root_causes, run_cli, write_incident

BAD_IMAGE = "builtin:otel-demo-bad-image"


def test_full_run_through_litellm_with_a_malformed_call(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "litellm", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}, model="openai/stub-model")
    out = runs_root / "litellm"
    with OpenAIStub(scripts.honest) as stub:
        code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--base-url", stub.base_url, "--quiet")
    assert code == 0, stdout
    assert root_causes(out) == {"otel-demo/Deployment/product-catalog"}
    trace = events(out)
    malformed = [e for e in trace if e["kind"] == "tool_result" and e["data"]["status"] == "malformed"]
    assert malformed, "the malformed tool call was not answered"
    # the model read an error message and carried on
    assert any(
        m.get("role") == "tool" and "rror" in str(m.get("content")) for r in stub.requests for m in r["messages"]
    )
    assert all(e["data"]["within_budget"] for e in trace if e["kind"] == "llm_call")


def test_a_model_that_lies_about_the_fix_never_exits_0(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "liar", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}, model="openai/liar")
    out = runs_root / "liar"
    with OpenAIStub(scripts.liar) as stub:
        code, _, _ = run_cli("run", str(inc), "--output", str(out), "--base-url", stub.base_url, "--quiet")
    assert code == 3
    verdicts = [e["data"] for e in events(out) if e["kind"] == "verifier_verdict"]
    assert verdicts and all(v["proposed"] == "PASS" and not v["gate_passed"] and not v["passed"] for v in verdicts)
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "escalated"
    # the restart went in and the checks still fail: the reason says the change did nothing for them
    assert report["reason"].startswith("the mitigation had no effect: otel-demo/Deployment/frontend changed, yet ")
    acted = [e["data"] for e in events(out) if e["kind"] == "mitigation"]
    refused = [m for m in acted if m["mode"] == "3.3" and m["detector"] == "verdict_contradicted"]
    assert len(refused) == len(verdicts)  # every contradicted PASS was refused, live
    # after the FAIL it resubmits the same diagnosis: the live FM-2.5 detector refuses that too
    assert [m for m in acted if m["mode"] in ("2.5", "2.2")]  # its evidence-free diagnosis is refused either way
    mast = json.loads((out / "mast.json").read_text())
    assert mast["mast_annotation"]["3.3"] == 1 and mast["modes"]["3.3"]["mitigated"]


def test_a_repeating_model_is_answered_from_memory_then_moved_on(runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "repeater", BAD_IMAGE, scope={"namespaces": ["otel-demo"]}, model="openai/repeater")
    out = runs_root / "repeater"
    with OpenAIStub(scripts.repeater) as stub:
        code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet", "--base-url", stub.base_url)
    assert code == 3
    trace = events(out)
    deduped = [e for e in trace if e["kind"] == "tool_result" and e["data"]["status"] == "deduped"]
    assert deduped and all(e["data"]["same_as"] for e in deduped)
    kinds = [(e["data"]["mode"], e["data"]["detector"]) for e in trace if e["kind"] == "mitigation"]
    assert ("1.3", "repeated_call") in kinds and ("1.3", "repetition_loop") in kinds
    forced = [e["data"] for e in trace if e["kind"] == "state_transition" and e["data"].get("forced") == "repetition"]
    assert forced and forced[0]["source"] == "gather"  # moved on long before the state's cap of 14
    report = json.loads((out / "report.json").read_text())
    assert report["path"][-1] == "escalated" and report["ended_by"] == "machine"
    cluster_reads = [
        e
        for e in trace
        if e["kind"] == "tool_result" and e["data"]["tool"] == "list_pods" and e["data"]["status"] == "ok"
    ]
    assert len(cluster_reads) < len(
        [e for e in trace if e["kind"] == "tool_call" and e["data"].get("tool") == "list_pods"]
    )


def test_missing_provider_key_is_one_line(tmp_path: Path) -> None:
    inc = write_incident(tmp_path, "nokey", BAD_IMAGE)
    code, _, stderr = run_cli("run", str(inc), "--model", "openai/gpt-4o", env={"OPENAI_API_KEY": ""})
    assert code == 2
    assert stderr.strip().count("\n") == 0 and "OPENAI_API_KEY" in stderr
