"""Roles are data: every role file loads, tools are only those the toolbox has, and submissions are
validated against the schemas in the files, with errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.resources import data_dir
from orchestrator.roles import load_role, submission_errors
from orchestrator.tools.registry import all_specs, read_names, write_names


def test_roles_load_with_their_submissions() -> None:
    assert set(load_role("planner").submissions) == {"submit_plan"}
    assert set(load_role("investigator").submissions) == {"submit_diagnosis", "submit_mitigation"}
    verifier = load_role("verifier")
    assert set(verifier.submissions) == {"submit_verdict"}
    assert verifier.write_tools == ()  # the verifier can only read


def test_submission_errors_name_the_field() -> None:
    sub = load_role("investigator").submissions["submit_diagnosis"]
    good = {
        "summary": "bad image",
        "entities": [{"name": "otel-demo/Deployment/ad", "contributing_factor": True}],
        "mitigations": [{"action": "rollout_undo", "args": {"kind": "Deployment", "name": "ad"}}],
    }
    assert submission_errors(sub, good) == []
    bad = {**good, "entities": [{"name": "ad", "contributing_factor": "yes"}], "colour": "red"}
    errors = submission_errors(sub, bad)
    assert any(e.startswith("entities.0.name:") for e in errors)
    assert any(e.startswith("entities.0.contributing_factor:") for e in errors)
    assert any("colour" in e for e in errors)


def test_verdict_must_be_pass_or_fail() -> None:
    sub = load_role("verifier").submissions["submit_verdict"]
    assert submission_errors(sub, {"verdict": "PASS", "checks": []}) == []
    assert submission_errors(sub, {"verdict": "probably", "checks": []})[0].startswith("verdict:")


def test_a_role_names_tools_by_all_category_or_name(tmp_path: Path) -> None:
    text = (data_dir("roles") / "planner.yaml").read_text()
    start = text.index("tools:")
    end = text.index("submissions:")
    tools = "tools:\n  read: [inventory, get_alerts, list_pods]\n  write: all\n"
    (tmp_path / "planner.yaml").write_text(text[:start] + tools + text[end:])
    role = load_role("planner", tmp_path)
    inventory = tuple(s.name for s in all_specs() if s.category == "inventory")
    assert role.read_tools == (*inventory, "get_alerts")  # in the order given, each once
    assert role.write_tools == write_names()
    assert load_role("investigator").read_tools == read_names()  # `read: all`


def test_a_role_file_s_mistakes_are_named_with_their_line(tmp_path: Path) -> None:
    from orchestrator.roles import RoleError

    (tmp_path / "slipped.yaml").write_text(
        "prompt: Investigate.\n"
        "submissions:\n"
        "  submit_diagnosis:\n"
        "    schema:\n"
        "      type: object\n"
        "      properties:\n"
        "        root: {type: boolean, description: true for a root cause, false otherwise}\n"
    )
    with pytest.raises(RoleError) as caught:
        load_role("slipped", tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'slipped.yaml'}:7: submissions.submit_diagnosis.schema.properties.root.false otherwise: "
        "is no JSON Schema keyword this schema may use"
    )
    (tmp_path / "unknown.yaml").write_text("prompt: Investigate.\ntool:\n  read: all\n")
    with pytest.raises(RoleError, match=r"unknown\.yaml:2: tool: Extra inputs are not permitted"):
        load_role("unknown", tmp_path)
    (tmp_path / "empty.yaml").write_text("description: nothing to say\n")
    with pytest.raises(RoleError, match=r"empty\.yaml:1: prompt: Field required"):
        load_role("empty", tmp_path)
