"""builtin/playbook: the playbook files and the model's client interface. Whole incidents, through the real
engine, are in tests/run/test_scenarios.py."""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from autogen_core import FunctionCall
from autogen_core.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    SystemMessage,
    UserMessage,
)

from orchestrator.builtin.agent import PlaybookModel
from orchestrator.builtin.library import PlaybookError, load_library
from orchestrator.builtin.transcript import read_transcript, salvage_json
from orchestrator.sim.faults import FAULTS, validate_fault

BUILTIN_MODULES = sorted((Path(__file__).parents[2] / "orchestrator" / "builtin").glob("*.py"))


# ================================================================================================ the model
def _block(state: str, role: str, **extra: object) -> UserMessage:
    block = {"state": state, "role": role, "incident": {"namespaces": ["otel-demo"]}, **extra}
    return UserMessage(content=f"Do it.\n```sre-agent\n{json.dumps(block)}\n```", source="engine")


def test_model_info_usage_and_stream() -> None:
    model = PlaybookModel()
    info = model.model_info
    assert info["function_calling"] and info["json_output"] and info["structured_output"] and not info["vision"]
    assert info["family"] == "unknown"
    messages = [SystemMessage(content="You are the planner."), _block("triage", "planner")]
    tools = [{"name": "get_alerts", "description": "", "parameters": {}}, {"name": "submit_plan", "parameters": {}}]

    async def go() -> list:
        return [r async for r in model.create_stream(messages, tools=tools)]

    (result,) = asyncio.run(go())
    assert result.content[0].name == "get_alerts"
    assert json.loads(result.content[0].arguments) == {"namespace": "otel-demo"}
    assert result.thought.startswith("Action: get_alerts otel-demo")
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    assert model.total_usage().prompt_tokens == result.usage.prompt_tokens
    assert model.count_tokens(messages) > 0 and model.remaining_tokens(messages) > 0
    asyncio.run(model.close())


def test_the_same_messages_give_the_same_answer() -> None:
    messages = [_block("investigate", "investigator")]
    tools = [{"name": n} for n in ("get_alerts", "list_workloads", "submit_diagnosis")]
    a = asyncio.run(PlaybookModel().create(messages, tools=tools))
    b = asyncio.run(PlaybookModel().create(messages, tools=tools))
    assert a.content[0].name == b.content[0].name and a.content[0].arguments == b.content[0].arguments


def _read(call_id: str, tool: str, args: dict, result: dict) -> list:
    call = FunctionCall(id=call_id, name=tool, arguments=json.dumps(args))
    answer = FunctionExecutionResult(call_id=call_id, name=tool, content=json.dumps({"ok": True, **result}))
    return [AssistantMessage(content=[call], source="investigator"), FunctionExecutionResultMessage(content=[answer])]


def test_a_state_that_continues_another_uses_its_reads_instead_of_reading_again() -> None:
    alerts = {"alerts": [{"name": "KubePodCrashLooping", "labels": {"namespace": "otel-demo"}, "state": "active"}]}
    gathered = [_block("gather", "investigator"), *_read("c1", "get_alerts", {"namespace": "otel-demo"}, alerts)]
    tools = [{"name": n} for n in ("get_alerts", "list_workloads", "submit_diagnosis")]
    carried = _block("diagnose", "investigator", continues_from="gather")
    t = read_transcript([*gathered, carried], tools)
    assert [o.tool for o in t.carried] == ["get_alerts"] and t.observations == []
    step = asyncio.run(PlaybookModel().create([*gathered, carried], tools=tools)).content[0]
    assert step.name == "list_workloads"  # the alerts are in hand; the next read of the survey comes next
    fresh = asyncio.run(PlaybookModel().create([*gathered, _block("diagnose", "investigator")], tools=tools))
    assert fresh.content[0].name == "get_alerts"  # not told the reads carry over: a new state reads afresh


def test_without_a_state_block_it_answers_in_text() -> None:
    result = asyncio.run(PlaybookModel().create([UserMessage(content="hello", source="user")]))
    assert isinstance(result.content, str)


def test_mitigation_not_allowed_is_reported_denied() -> None:
    diagnosis = {"mitigations": [{"action": "rollout_undo", "args": {"kind": "Deployment", "name": "ad"}}]}
    messages = [_block("mitigate", "investigator", diagnosis=diagnosis, allowed_actions=["scale"], mode="auto")]
    tools = [{"name": n} for n in ("rollout_undo", "scale", "submit_mitigation")]
    result = asyncio.run(PlaybookModel().create(messages, tools=tools))
    call = result.content[0]
    assert call.name == "submit_mitigation"
    assert json.loads(call.arguments)["actions"][0]["result"] == "denied"


def test_a_result_cut_short_is_salvaged_to_its_last_complete_row() -> None:
    text = '{"ok": true, "pods": [{"name": "a", "reasons": []}, {"name": "b", "reasons": ["x"]}, {"name": "c", "re'
    assert salvage_json(text) == {"ok": True, "pods": [{"name": "a", "reasons": []}, {"name": "b", "reasons": ["x"]}]}


# ================================================================================================ playbooks
def test_playbooks_cover_every_simulated_fault() -> None:
    validate_fault("scaled-to-zero-kubernetes-workload", _any_args())  # loads every fault family
    covered = {f for book in load_library().playbooks for f in book.faults}
    assert set(FAULTS) <= covered, sorted(set(FAULTS) - covered)
    families = {book.family for book in load_library().playbooks}
    assert {"image", "crash", "startup", "config", "scheduling", "scale", "network"} <= families


def _any_args() -> dict:
    return {"kubernetesObject": {"kind": "Deployment", "metadata": {"name": "x", "namespace": "y"}}}


def test_every_check_a_playbook_names_is_a_verifier_check() -> None:
    from orchestrator.checks import CHECK_NAMES

    for cause in load_library().causes:
        assert set(cause.checks) <= set(CHECK_NAMES), (cause.id, cause.checks)
        assert cause.mitigations and cause.root_causes


def test_a_broken_playbook_names_its_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "family: x\nsignals:\n  - cause: c\n    suspect: workload\n    require:\n      - colour: [red]\n"
    )
    with pytest.raises(PlaybookError, match=r"bad\.yaml: signals\[0\]\.require\[0\]: unknown fact key 'colour'"):
        load_library(tmp_path)
    (tmp_path / "bad.yaml").write_text(
        "family: x\nsignals:\n  - cause: c\n    suspect: workload\n    require: [{state: [a]}]\n"
        "localise: {c: {root_causes: [workload]}}\n"
    )
    with pytest.raises(PlaybookError, match=r"bad\.yaml: mitigation\.c must be a non-empty list"):
        load_library(tmp_path)


def test_the_model_reads_nothing_but_its_messages() -> None:
    """Honesty, structurally: no built-in module imports the simulator, the engine or a scenario loader."""
    assert len(BUILTIN_MODULES) > 10
    for path in BUILTIN_MODULES:
        tree = ast.parse(path.read_text())
        imported = [
            (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        ]
        banned = [m for m in imported if {"sim", "tools", "engine"} & set(m.split(".")) or "scenario" in m]
        assert not banned, (path.name, imported)


def test_the_builtin_package_loads_neither_the_engine_nor_the_simulator() -> None:
    """The same, transitively: importing every built-in module in a fresh interpreter loads neither."""
    modules = ", ".join(f"orchestrator.builtin.{p.stem}" for p in BUILTIN_MODULES if p.stem != "__init__")
    code = (
        f"import sys, {modules}\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('orchestrator.engine', 'orchestrator.sim')))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_user_playbook_folder_replaces_the_builtin_one(tmp_path: Path) -> None:
    from orchestrator.resources import data_dir

    (tmp_path / "scale.yaml").write_text((data_dir("playbooks") / "scale.yaml").read_text())
    model = PlaybookModel(tmp_path)
    assert [book.family for book in model.library.playbooks] == ["scale"]
    assert {c.id for c in model.library.causes} == {"scaled-to-zero", "autoscaler-target-too-low"}


def test_a_verifier_objection_about_a_node_leads_to_a_fresh_read_then_an_uncordon() -> None:
    from orchestrator.builtin.evidence import Evidence, NeedRead
    from orchestrator.builtin.policy import cordoned_nodes
    from orchestrator.builtin.transcript import Observation

    objections = ["node_schedulable: otel-demo: 1/4 nodes cannot take pods: sim-worker2: cordoned"]
    offered = ["list_resources", "submit_diagnosis"]
    assert cordoned_nodes(Evidence([], offered), ["workload_available: 0/1 ready"]) is None  # not about nodes
    with pytest.raises(NeedRead) as need:
        cordoned_nodes(Evidence([], offered), objections)
    assert (need.value.tool, need.value.arguments) == ("list_resources", {"kind": "Node"})
    nodes = {
        "items": [
            {"name": "sim-worker1", "summary": {"unschedulable": False, "ready": True}},
            {"name": "sim-worker2", "summary": {"unschedulable": True, "ready": True}},
        ]
    }
    read = Observation("list_resources", {"kind": "Node"}, "c1", ok=True, content=nodes)
    diagnosis, target, _ = cordoned_nodes(Evidence([read], offered), objections)
    assert target == "/Node/sim-worker2"
    assert diagnosis["mitigations"] == [
        {"action": "uncordon", "args": {"node": "sim-worker2"}, "rationale": diagnosis["mitigations"][0]["rationale"]}
    ]
    healed = Observation("list_resources", {"kind": "Node"}, "c2", ok=True, content={"items": nodes["items"][:1]})
    assert cordoned_nodes(Evidence([healed], offered), objections) is None  # the read shows none: nothing to do
