"""builtin/flaky-*: the playbook model with seeded, class-specific failure injections.

Unit tests feed the real PlaybookModel (wrapped) hand-built conversations; the end-to-end tests run the real
CLI against the embedded simulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from autogen_core import FunctionCall
from autogen_core.models import AssistantMessage, FunctionExecutionResult, FunctionExecutionResultMessage, UserMessage

from orchestrator.builtin.agent import PlaybookModel
from orchestrator.builtin.flaky import BEHAVIOURS, DRAWN, FlakyModel, load_profile
from orchestrator.models import BUILTIN_MODELS, create_client
from orchestrator.models.errors import ModelError
from orchestrator.trace import Trace

ROOT = Path(__file__).parents[2]
INVESTIGATOR_TOOLS = [
    {"name": n}
    for n in (
        "get_alerts",
        "list_workloads",
        "list_pods",
        "describe",
        "get_events",
        "rollout_history",
        "query_metrics",
        "list_resources",
        "submit_diagnosis",
    )
]
VERIFIER_TOOLS = [{"name": n} for n in ("get_alerts", "list_workloads", "list_pods", "describe", "submit_verdict")]
MITIGATE_TOOLS = [{"name": n} for n in ("rollout_undo", "rollout_restart", "submit_mitigation")]
CAP_ONE = "You may make at most 1 tool calls in this state."
REMEDIATED = "otel-demo/Deployment/ad"
VERIFY_BLOCK = {
    "diagnosis": {"entities": [{"name": REMEDIATED, "contributing_factor": True}]},
    "mitigation": {"remediated": [REMEDIATED]},
}
WORKLOADS = {
    "workloads": [
        {"kind": "Deployment", "name": "ad", "namespace": "otel-demo", "ready": "1/1"},
        {"kind": "Deployment", "name": "cart", "namespace": "otel-demo", "ready": "1/1"},
    ]
}


# ------------------------------------------------------------------------------------------------ helpers
def block(state: str, role: str, text: str = "Do it.", **extra: object) -> UserMessage:
    body = {"state": state, "role": role, "incident": {"namespaces": ["otel-demo"]}, **extra}
    return UserMessage(content=f"{text}\n```sre-agent\n{json.dumps(body)}\n```", source="engine")


def exchange(call: FunctionCall, result: dict) -> list:
    """One model turn with its tool result, as the engine puts them in the context."""
    return [
        AssistantMessage(content=[call], source="investigator"),
        FunctionExecutionResultMessage(
            content=[
                FunctionExecutionResult(call_id=call.id, content=json.dumps({"ok": True, **result}), name=call.name)
            ]
        ),
    ]


def profile(tmp_path: Path, model_class: str = "open", multiplier: float = 1.0, **rates: float) -> Path:
    behaviours = {name: {"rate": rate, "per": "turn"} for name, rate in rates.items()}
    data = {"calibrated": False, "classes": {model_class: {"poison_multiplier": multiplier, "behaviours": behaviours}}}
    path = tmp_path / "profiles.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


def forced(tmp_path: Path, behaviour: str, seed: int = 0) -> FlakyModel:
    model = FlakyModel("open", seed=seed, profile_path=profile(tmp_path, **{behaviour: 1.0}))
    model.seen: list[dict] = []  # type: ignore[attr-defined]
    model.on_injection = model.seen.append  # type: ignore[attr-defined]
    return model


def create(model, messages: list, tools: list):
    return asyncio.run(model.create(messages, tools=tools))


def call_of(result) -> tuple[str, dict]:
    (call,) = result.content
    return call.name, json.loads(call.arguments)


def assert_injected(model: FlakyModel, behaviour: str) -> dict:
    assert [i["behaviour"] for i in model.injections] == [behaviour]
    assert model.seen == model.injections  # type: ignore[attr-defined]
    record = model.injections[0]
    assert record["mode"] == BEHAVIOURS[behaviour] and record["turn"] >= 1 and record["detail"]
    return record


def investigation_after_one_read() -> list:
    first = FunctionCall(id="c1", name="get_alerts", arguments='{"namespace":"otel-demo"}')
    return [block("investigate", "investigator"), *exchange(first, {"alerts": []})]


# ------------------------------------------------------------------------------------------------ profiles
def test_builtin_profiles_load_for_every_class_and_are_frozen_as_calibrated() -> None:
    for model_class in ("frontier", "mid", "open"):
        prof = load_profile(model_class)
        assert prof.calibrated and prof.poison_multiplier >= 1
        assert set(prof.rates) <= set(BEHAVIOURS) and any(r.rate > 0 for r in prof.rates.values())


@pytest.mark.parametrize(
    ("behaviours", "field"),
    [({"napping": {"rate": 0.5}}, "behaviours.napping"), ({"repeat": {"rate": 2}}, "behaviours.repeat.rate")],
)
def test_a_bad_profile_names_the_field_in_one_line(tmp_path: Path, behaviours: dict, field: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(json.dumps({"classes": {"mid": {"behaviours": behaviours}}}), encoding="utf-8")
    with pytest.raises(ModelError) as err:
        FlakyModel("mid", profile_path=path)
    assert f"classes.mid.{field}" in str(err.value) and "\n" not in str(err.value)


def test_registered_as_builtin_models_with_a_seed() -> None:
    for name in ("builtin/flaky-frontier", "builtin/flaky-mid", "builtin/flaky-open"):
        assert name in BUILTIN_MODELS
    model = create_client("builtin/flaky-mid", seed=7)
    assert isinstance(model, FlakyModel) and model.model_class == "mid" and model.seed == 7
    assert model.model_info == PlaybookModel().model_info


# ------------------------------------------------------------------------------------------------ determinism
def conversation_answers(model: FlakyModel) -> list:
    answers = []
    for messages, tools in [
        ([block("investigate", "investigator")], INVESTIGATOR_TOOLS),
        (investigation_after_one_read(), INVESTIGATOR_TOOLS),
        ([block("investigate", "investigator", CAP_ONE)], INVESTIGATOR_TOOLS),
        ([block("verify", "verifier", **VERIFY_BLOCK)], VERIFIER_TOOLS),
    ] * 3:
        result = create(model, messages, tools)
        answers.append((result.thought, result.content if isinstance(result.content, str) else call_of(result)))
    return answers


def test_the_same_seed_gives_the_same_answers_and_injections() -> None:
    a, b = FlakyModel("open", seed=11), FlakyModel("open", seed=11)
    assert conversation_answers(a) == conversation_answers(b)
    assert a.injections == b.injections and a.injections  # the open class fails often enough to show here


def test_rates_of_zero_give_exactly_the_playbook_answers(tmp_path: Path) -> None:
    quiet = FlakyModel("open", seed=3, profile_path=profile(tmp_path, **dict.fromkeys(DRAWN, 0.0)))
    assert conversation_answers(quiet) == conversation_answers(PlaybookModel())  # type: ignore[arg-type]
    assert quiet.injections == []


# ------------------------------------------------------------------------------------------------ behaviours
def test_repeat_reissues_the_previous_call_verbatim(tmp_path: Path) -> None:
    model = forced(tmp_path, "repeat")
    assert call_of(create(model, investigation_after_one_read(), INVESTIGATOR_TOOLS)) == (
        "get_alerts",
        {"namespace": "otel-demo"},
    )
    assert_injected(model, "repeat")


def test_mismatch_declares_one_action_and_calls_another_then_poisons(tmp_path: Path) -> None:
    path = profile(tmp_path, multiplier=4.0, mismatch=1.0, drift=0.25)
    model = FlakyModel("open", seed=0, profile_path=path)
    intended = create(PlaybookModel(), [block("investigate", "investigator")], INVESTIGATOR_TOOLS)
    result = create(model, [block("investigate", "investigator")], INVESTIGATOR_TOOLS)
    assert result.thought == intended.thought  # says what the playbook meant to do ...
    assert call_of(result)[0] != call_of(intended)[0]  # ... does something else
    assert model.injections[0]["behaviour"] == "mismatch"
    # poisoned: drift's 0.25 becomes 1.0, so the next turn drifts out of scope
    after = create(model, investigation_after_one_read(), INVESTIGATOR_TOOLS)
    assert model.injections[-1]["behaviour"] == "drift"
    assert call_of(after)[1]["namespace"] in ("kube-system", "default")


def test_drift_reads_another_namespace(tmp_path: Path) -> None:
    model = forced(tmp_path, "drift")
    tool, args = call_of(create(model, [block("investigate", "investigator")], INVESTIGATOR_TOOLS))
    assert tool == "list_pods" and args["namespace"] in ("kube-system", "default")
    assert_injected(model, "drift")


def test_termination_unaware_reads_instead_of_submitting(tmp_path: Path) -> None:
    model = forced(tmp_path, "termination_unaware")
    tool, _ = call_of(create(model, [block("investigate", "investigator", CAP_ONE)], INVESTIGATOR_TOOLS))
    assert tool in ("list_pods", "get_alerts", "list_workloads")
    assert "instead of submit_diagnosis" in assert_injected(model, "termination_unaware")["detail"]


def test_guess_submits_a_diagnosis_before_any_evidence(tmp_path: Path) -> None:
    read = FunctionCall(id="r1", name="list_workloads", arguments='{"namespace":"otel-demo"}')
    start = block("investigate", "investigator")
    model = forced(tmp_path, "guess")
    assert create(model, [start], INVESTIGATOR_TOOLS).content[0].name != "submit_diagnosis"  # nothing to guess at
    tool, args = call_of(create(model, [start, *exchange(read, WORKLOADS)], INVESTIGATOR_TOOLS))
    assert tool == "submit_diagnosis" and args["entities"][0]["contributing_factor"]
    assert args["entities"][0]["name"].startswith("otel-demo/Deployment/")
    assert_injected(model, "guess")


def test_early_success_reports_a_mitigation_it_never_applied(tmp_path: Path) -> None:
    diagnosis = {"mitigations": [{"action": "rollout_undo", "args": {"kind": "Deployment", "name": "ad"}}]}
    messages = [block("mitigate", "investigator", diagnosis=diagnosis, mode="auto")]
    assert call_of(create(PlaybookModel(), messages, MITIGATE_TOOLS))[0] == "rollout_undo"
    model = forced(tmp_path, "early_success")
    tool, args = call_of(create(model, messages, MITIGATE_TOOLS))
    assert tool == "submit_mitigation" and args["actions"][0] == {
        "action": "rollout_undo",
        "args": {"kind": "Deployment", "name": "ad"},
        "result": "applied",
    }
    assert_injected(model, "early_success")


def test_blind_pass_passes_without_reading(tmp_path: Path) -> None:
    messages = [block("verify", "verifier", **VERIFY_BLOCK)]
    assert call_of(create(PlaybookModel(), messages, VERIFIER_TOOLS))[0] != "submit_verdict"
    model = forced(tmp_path, "blind_pass")
    tool, args = call_of(create(model, messages, VERIFIER_TOOLS))
    assert tool == "submit_verdict" and args["verdict"] == "PASS" and args["checks"][0]["target"] == REMEDIATED
    assert_injected(model, "blind_pass")


def test_wrong_target_verifies_another_workload(tmp_path: Path) -> None:
    read = FunctionCall(id="v1", name="list_workloads", arguments='{"namespace":"otel-demo"}')
    messages = [block("verify", "verifier", CAP_ONE, **VERIFY_BLOCK), *exchange(read, WORKLOADS)]
    model = forced(tmp_path, "wrong_target")
    tool, args = call_of(create(model, messages, VERIFIER_TOOLS))
    assert tool == "submit_verdict" and args["verdict"] == "PASS"
    assert [c["target"] for c in args["checks"]] == ["otel-demo/Deployment/cart"]
    assert_injected(model, "wrong_target")


def test_fixation_survives_a_plain_retry_but_not_the_verifiers_objections(tmp_path: Path) -> None:
    read = FunctionCall(id="r1", name="list_workloads", arguments='{"namespace":"otel-demo"}')
    model = FlakyModel("mid", seed=5, profile_path=profile(tmp_path, "mid", fixation=1.0))
    seen = [block("investigate", "investigator", CAP_ONE), *exchange(read, WORKLOADS)]
    first = call_of(create(model, seen, INVESTIGATOR_TOOLS))
    again = call_of(create(model, seen, INVESTIGATOR_TOOLS))  # the same state again, nothing new said
    assert first[0] == again[0] == "submit_diagnosis"
    assert first[1]["entities"] == again[1]["entities"]  # the same wrong root cause
    objected = [
        block("investigate", "investigator", CAP_ONE, objections=["ad still not ready"]),
        *exchange(read, WORKLOADS),
    ]
    cured = call_of(create(model, objected, INVESTIGATOR_TOOLS))
    assert cured[1]["entities"] != first[1]["entities"]  # evidence against it, not a plain retry
    assert [i["behaviour"] for i in model.injections] == ["fixation", "fixation"]


def test_a_model_that_ignores_objections_resubmits_its_fixation(tmp_path: Path) -> None:
    read = FunctionCall(id="r1", name="list_workloads", arguments='{"namespace":"otel-demo"}')
    rates = {"fixation": 1.0, "ignore_objections": 1.0}
    model = FlakyModel("mid", seed=5, profile_path=profile(tmp_path, "mid", **rates))
    first = call_of(
        create(model, [block("investigate", "investigator", CAP_ONE), *exchange(read, WORKLOADS)], INVESTIGATOR_TOOLS)
    )
    objected = [block("investigate", "investigator", CAP_ONE, objections=["ad still not ready"])]
    second = call_of(create(model, objected, INVESTIGATOR_TOOLS))  # at once, before reading anything new
    assert second[1]["entities"][0]["name"] == first[1]["entities"][0]["name"]
    assert [(i["behaviour"], i["mode"]) for i in model.injections] == [
        ("fixation", "persistent"),
        ("ignore_objections", "2.5"),
    ]


def test_forget_refetches_what_pruning_dropped(tmp_path: Path) -> None:
    model = forced(tmp_path, "forget")
    start = block("investigate", "investigator")
    first = create(model, [start], INVESTIGATOR_TOOLS).content[0]
    second = create(model, [start, *exchange(first, {"alerts": []})], INVESTIGATOR_TOOLS).content[0]
    assert model.injections == []  # nothing was pruned yet
    # the context dropped the first turn: only the second call and its result remain
    tool, args = call_of(create(model, [start, *exchange(second, {"pods": []})], INVESTIGATOR_TOOLS))
    assert (tool, args) == (first.name, json.loads(first.arguments))
    drawn, seen = model.injections  # the drawn behaviour, and the re-read it labels as it happens
    assert drawn["behaviour"] == seen["behaviour"] == "forget" and drawn["mode"] == seen["mode"] == "1.4"
    assert "pruned" in drawn["detail"] and "left the context" in seen["detail"]


def test_injections_go_to_the_trace_as_ground_truth(tmp_path: Path) -> None:
    trace = Trace("run-1", tmp_path / "trace.jsonl", model="builtin/flaky-open")
    model = forced(tmp_path, "drift")
    model.on_injection = lambda record: trace.emit("injection", **record)
    create(model, [block("investigate", "investigator")], INVESTIGATOR_TOOLS)
    trace.close()
    (event,) = trace.of_kind("injection")
    assert event.data["behaviour"] == "drift" and event.data["mode"] == "2.3"


# ------------------------------------------------------------------------------------------------ end to end
@pytest.mark.parametrize("mitigations", ["off", "on"])
def test_the_cli_runs_an_incident_with_a_simulated_model(tmp_path: Path, mitigations: str) -> None:
    from typer.testing import CliRunner

    from orchestrator.cli import app

    out = tmp_path / "run"
    args = ["run", str(ROOT / "examples/incidents/demo.yaml"), "--model", "builtin/flaky-open"]
    result = CliRunner().invoke(app, [*args, "--output", str(out), "--quiet", "--mitigations", mitigations])
    assert result.exit_code in (0, 3), result.output
    assert (out / "mast.json").is_file()


@pytest.mark.parametrize("cls", ["frontier", "mid", "open"])
def test_the_earlier_sim_names_still_run_the_flaky_models(cls: str) -> None:
    from orchestrator.models import canonical_model
    from orchestrator.models.classes import resolve_class

    old = f"builtin/sim-{cls}"
    assert canonical_model(old) == f"builtin/flaky-{cls}"
    assert resolve_class(old) == cls
    client = create_client(old, seed=3)
    assert isinstance(client, FlakyModel) and client.model_class == cls
