"""The names several files must agree on, checked against the one place that implements them: the tool
registry for every tool a role, a playbook, an incident or the fact ledger names; the verifier gate for the
checks an incident may ask for."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.builtin.library import load_library
from orchestrator.builtin.policy import target_of
from orchestrator.checks import CHECK_NAMES
from orchestrator.facts import EXTRACTORS
from orchestrator.incident import ACTIONS, CHECKS
from orchestrator.mast.taxonomy import write_tools
from orchestrator.resources import data_dir
from orchestrator.roles import load_role
from orchestrator.tools.registry import all_specs, read_names, write_names

ROLES = sorted(p.stem for p in data_dir("roles").glob("*.yaml"))


def test_incident_actions_are_the_registry_write_tools() -> None:
    assert ACTIONS == write_names() == load_role("investigator").write_tools
    assert write_tools() == set(write_names())  # MAST's FM-1.1 writes


@pytest.mark.parametrize("role", ROLES)
def test_role_tools_are_registry_tools(role: str) -> None:
    r = load_role(role)
    assert set(r.read_tools) <= set(read_names()), role
    assert set(r.write_tools) <= set(write_names()), role


@pytest.mark.parametrize("entry", ["frobnicate", "get_alerts"])  # unknown, and a read listed as a write
def test_a_role_naming_an_unknown_tool_fails(tmp_path: Path, entry: str) -> None:
    text = (data_dir("roles") / "verifier.yaml").read_text().replace("write: []", f"write: [{entry}]")
    (tmp_path / "verifier.yaml").write_text(text)
    with pytest.raises(ValueError, match=rf"verifier.yaml: tools: unknown write tool or category '{entry}'"):
        load_role("verifier", tmp_path)


def test_playbooks_name_registry_tools() -> None:
    library = load_library()
    for book in library.playbooks:
        for cause in book.causes:
            for option in cause.mitigations:
                assert option.action in write_names(), (book.path.name, cause.id, option.action)
            for read in cause.reads:
                assert read["tool"] in read_names(), (book.path.name, cause.id, read["tool"])


def test_the_builtin_model_targets_the_object_each_proposed_write_changes() -> None:
    """The built-in model may not import the toolbox (it reads only its messages), so it knows on its own
    which object a write changes; for every write a playbook proposes it must agree with the declaration."""
    proposed = {o.action for c in load_library().causes for o in c.mitigations}
    for spec in all_specs():
        if spec.name not in proposed:
            continue
        args = {p: f"{p}-1" for p in spec.parameters["properties"]} | {"kind": "Deployment", "namespace": "shop"}
        assert target_of(spec.name, args) == spec.changed_object(args), spec.name
    assert {"restore_service", "uncordon"} <= proposed  # the writes whose object is not {kind}/{name}


def test_the_fact_ledger_distils_registry_reads() -> None:
    assert set(EXTRACTORS) <= set(read_names())


def test_incident_checks_are_the_gate_checks() -> None:
    assert set(CHECKS) == set(CHECK_NAMES)
