"""Knowledge for every model: a model that is not built in is briefed with the analyzers' findings and the
playbooks (signals, localisation, mitigations, check names) within its class's budget, is offered the
gate's check names as an enum, may describe its checks in plain words without failing a correct fix, and
has a diagnosis naming an object the cluster lacks refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.builtin.library import load_library
from orchestrator.checks import CHECKS
from orchestrator.context import FINDINGS_HEADER
from orchestrator.models.classes import class_profile
from tests.models.openai_stub import OpenAIStub

from .helpers import events, root_causes, run_cli, write_incident
from .scripts import CULPRIT, NS, _call, _offered, _results_since_instruction

BAD_IMAGE = "builtin:otel-demo-bad-image"
CULPRIT_REF = f"{NS}/Deployment/product-catalog"
ABSENT_REF = f"{NS}/Service/payments-db"  # no such Service in the scenario
PLAIN_CHECKS = ["pods are healthy again", "no more errors for users"]


def _diagnosis(root: str) -> dict[str, Any]:
    return {
        "summary": "product-catalog's latest rollout broke it",
        "entities": [{"name": root, "contributing_factor": True, "evidence": ["its pods are not ready"]}],
        "mitigations": [{"action": "rollout_undo", "args": CULPRIT}],
        "checks": PLAIN_CHECKS,
    }


def scripted(first_root: str) -> Any:
    """Reads the pods, diagnoses `first_root` (and the culprit once told that one does not exist), rolls
    the culprit back, and passes it after reading the pods again. Its checks are plain words."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        tools, seen = _offered(body), _results_since_instruction(body)
        if "submit_plan" in tools:
            return _call("submit_plan", {"hypotheses": ["bad rollout"], "steps": []})
        if "submit_diagnosis" in tools:
            if not seen:
                return _call("list_pods", {"namespace": NS})
            refused = any("does not exist" in s for s in seen)
            return _call("submit_diagnosis", _diagnosis(CULPRIT_REF if refused else first_root))
        if "submit_mitigation" in tools:
            if not seen:
                return _call("rollout_undo", CULPRIT)
            done = [{"action": "rollout_undo", "args": CULPRIT, "result": "applied"}]
            return _call("submit_mitigation", {"summary": "rolled back", "actions": done, "remediated": [CULPRIT_REF]})
        if "submit_verdict" in tools:
            if not seen:
                return _call("list_pods", {"namespace": NS})
            return _call("submit_verdict", {"verdict": "PASS", "checks": [{"name": "pods look fine", "passed": True}]})
        return {"content": "nothing to do"}

    return answer


def _run(tmp_path: Path, out: Path, first_root: str) -> tuple[int, str, OpenAIStub]:
    # The open class: the smallest per-call budget, where the knowledge must still fit.
    inc = write_incident(
        tmp_path, out.name, BAD_IMAGE, scope={"namespaces": [NS]}, model="openai/stub-model", model_class="open"
    )
    with OpenAIStub(scripted(first_root)) as stub:
        code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--base-url", stub.base_url, "--quiet")
    return code, stdout, stub


def _system(body: dict[str, Any]) -> str:
    found = [str(m["content"]) for m in body["messages"] if str(m.get("content")).startswith(FINDINGS_HEADER)]
    assert len(found) == 1, "the head start was not sent exactly once"
    return found[0]


def test_briefing_carries_findings_and_playbooks_and_plain_checks_do_not_fail_a_correct_fix(
    runs_root: Path, tmp_path: Path
) -> None:
    out = runs_root / "knowledge-plain"
    code, stdout, stub = _run(tmp_path, out, CULPRIT_REF)
    assert code == 0, stdout
    trace = events(out)
    (analysis,) = [e["data"] for e in trace if e["kind"] == "analysis"]
    assert analysis["findings"], "the scenario gave the analyzers nothing to find"

    investigating = [b for b in stub.requests if "submit_diagnosis" in _offered(b)]
    head = _system(investigating[0])
    lines = head.splitlines()[1:]
    # The analyzers' findings first, then the playbooks, the one whose signals match the incident first.
    findings = [line for line in lines if line.startswith("- finding [")]
    playbooks = [line for line in lines if line.startswith("- playbook ")]
    assert findings and lines[: len(findings)] == findings
    assert analysis["findings"][0]["object"] in findings[0]
    assert playbooks and playbooks[0].startswith("- playbook image/"), playbooks[:2]
    for part in ("signals: ", "localise: ", "mitigation: ", "checks: "):
        assert part in playbooks[0]
    image = [c for book in load_library().playbooks if book.family == "image" for c in book.causes]
    named = {c for line in playbooks for c in line.rsplit("checks: ", 1)[-1].split(", ")}
    assert {c for cause in image for c in cause.checks} <= named <= set(CHECKS)
    (briefed,) = [e["data"] for e in trace if e["kind"] == "briefing"]
    assert len(briefed["playbook_causes"]) == len(playbooks)

    # The gate's checks: an enum in the offered schema, and named in the state's instruction.
    (tool,) = [t["function"] for t in investigating[0]["tools"] if t["function"]["name"] == "submit_diagnosis"]
    assert tool["parameters"]["properties"]["checks"]["items"]["enum"] == sorted(CHECKS)
    assert "x-gate-checks" not in json.dumps(tool)
    instruction = [m for m in investigating[0]["messages"] if "```sre-agent" in str(m.get("content"))][-1]
    assert "from those the gate runs: " + ", ".join(sorted(CHECKS)) in instruction["content"]

    # Every request within the class's per-call budget, counted before it was sent.
    budget = class_profile("open").context_tokens
    calls = [e["data"] for e in trace if e["kind"] == "llm_call"]
    assert len(calls) == len(stub.requests)
    assert all(c["within_budget"] and c["sent"] and c["budget"] == budget for c in calls)
    assert max(c["prompt_tokens"] for c in calls) <= budget
    # Every request caps the reply at the class's reply tokens (a provider would otherwise pick its maximum).
    assert {b.get("max_tokens") for b in stub.requests} == {class_profile("open").reply_tokens}

    # The plain-language checks were set aside as advice, named in the report; the derived checks passed.
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "resolved"
    verdict = report["verdict"]
    assert verdict["gate_passed"] and verdict["advisory"] == PLAIN_CHECKS
    assert {r["name"] for r in verdict["results"]} <= set(CHECKS)
    markdown = (out / "report.md").read_text()
    assert "Advisory checks" in markdown and all(f"- {c}" in markdown for c in PLAIN_CHECKS)


def test_a_root_cause_that_does_not_exist_is_refused_with_the_reason(runs_root: Path, tmp_path: Path) -> None:
    out = runs_root / "knowledge-absent"
    code, stdout, stub = _run(tmp_path, out, ABSENT_REF)
    trace = events(out)
    refused = [
        e["data"] for e in trace if e["kind"] == "tool_result" and e["data"].get("reason") == "absent_root_cause"
    ]
    assert len(refused) == 1 and refused[0]["status"] == "rejected"
    reason = f"submit_diagnosis rejected: root cause {ABSENT_REF} does not exist: the cluster has no Service 'payments-db' in namespace {NS}"
    assert reason in refused[0]["error"]
    told = [m for b in stub.requests for m in b["messages"] if m.get("role") == "tool" and reason in str(m["content"])]
    assert told, "the model never saw why its diagnosis was refused"
    submitted = [e["data"]["content"] for e in trace if e["kind"] == "submission"]
    assert all(ABSENT_REF not in json.dumps(s) for s in submitted)  # never recorded as the diagnosis
    # It corrected itself and the run went on to a verified fix.
    assert code == 0, stdout
    assert root_causes(out) == {CULPRIT_REF}


def test_a_deleted_root_cause_is_accepted_only_with_the_mitigation_that_puts_it_back(
    runs_root: Path, tmp_path: Path
) -> None:
    service = f"{NS}/Service/product-catalog"  # deleted by the scenario
    restore = {"namespace": NS, "name": "product-catalog", "workload": "Deployment/product-catalog"}

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        tools, seen = _offered(body), _results_since_instruction(body)
        if "submit_plan" in tools:
            return _call("submit_plan", {"hypotheses": ["the Service is gone"], "steps": []})
        if "submit_diagnosis" in tools:
            if not seen:
                return _call("list_resources", {"namespace": NS, "kind": "Service"})
            fix = {"action": "restore_service", "args": restore}
            if not any("does not exist" in s for s in seen):  # first a fix that would not bring it back
                fix = {"action": "rollout_restart", "args": CULPRIT}
            root = {"name": service, "contributing_factor": True, "evidence": ["no Service product-catalog"]}
            return _call("submit_diagnosis", {"summary": "deleted", "entities": [root], "mitigations": [fix]})
        if "submit_mitigation" in tools:
            if not seen:
                return _call("restore_service", restore)
            done = [{"action": "restore_service", "args": restore, "result": "applied"}]
            return _call("submit_mitigation", {"summary": "re-created", "actions": done, "remediated": [service]})
        if "submit_verdict" in tools:
            return _call("submit_verdict", {"verdict": "PASS", "checks": [{"name": "service back", "passed": True}]})
        return {"content": "nothing to do"}

    inc = write_incident(
        tmp_path, "deleted", "builtin:deleted-service", scope={"namespaces": [NS]}, model="openai/stub-model"
    )
    out = runs_root / "knowledge-deleted"
    with OpenAIStub(answer) as stub:
        code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--base-url", stub.base_url, "--quiet")
    refused = [e for e in events(out) if e["kind"] == "tool_result" and e["data"].get("reason") == "absent_root_cause"]
    assert len(refused) == 1  # the restart; the diagnosis that re-creates the Service went through
    assert code == 0, stdout
    assert root_causes(out) == {service}
