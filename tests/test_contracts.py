"""The names several files must agree on, checked against the one place that implements them: the write
actions an incident may allow are the toolbox's write tools and the investigator's; the checks an incident
may ask for are the verifier gate's."""

from __future__ import annotations

from orchestrator.checks import CHECK_NAMES
from orchestrator.incident import ACTIONS, CHECKS
from orchestrator.roles import load_role
from orchestrator.tools import ActionPolicy, Toolbox, ToolContext


def _toolbox() -> Toolbox:
    return Toolbox(ToolContext(api=None, policy=ActionPolicy()))


def test_incident_actions_are_the_toolbox_write_tools() -> None:
    writes = {t.name for t in _toolbox().tools.values() if t.access == "write"}
    assert set(ACTIONS) == writes == set(load_role("investigator").write_tools)


def test_role_read_tools_exist() -> None:
    reads = {t.name for t in _toolbox().tools.values() if t.access == "read"}
    for role in ("planner", "investigator", "verifier"):
        assert set(load_role(role).read_tools) <= reads, role


def test_incident_checks_are_the_gate_checks() -> None:
    assert set(CHECKS) == set(CHECK_NAMES)
