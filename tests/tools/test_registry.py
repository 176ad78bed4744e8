"""The tool registry: one declaration per tool, collected from the package in a fixed order, and the table
the CLI prints and README.md carries."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.tools import ActionPolicy, Toolbox, ToolContext
from orchestrator.tools.registry import all_specs, categories, expand, read_names, table, write_names
from orchestrator.tools.spec import ToolSpec

README = Path(__file__).resolve().parents[2] / "README.md"
# The order models were offered the tools in before the registry: prompts must not shift (new tools may join).
OFFERED = [
    "get_alerts",
    "list_workloads",
    "list_pods",
    "list_resources",
    "describe",
    "get_events",
    "get_logs",
    "rollout_history",
    "query_metrics",
    "rollout_undo",
    "rollout_restart",
    "scale",
    "set_image",
    "set_env",
    "set_resources",
    "patch",
    "delete_pod",
    "uncordon",
    "delete_resource",
    "restore_service",
]


def test_reads_come_first_then_writes_each_in_declared_order() -> None:
    specs = all_specs()
    accesses = [s.access for s in specs]
    assert accesses == sorted(accesses)  # "read" < "write"
    for access in ("read", "write"):
        orders = [s.order for s in specs if s.access == access]
        assert orders == sorted(orders), access
    names = [s.name for s in specs]
    assert [n for n in names if n in OFFERED] == OFFERED


def test_the_toolbox_offers_the_registry_in_its_order() -> None:
    toolbox = Toolbox(ToolContext(api=None, policy=ActionPolicy()))
    assert list(toolbox.tools) == [s.name for s in all_specs()]
    assert [t.name for t in toolbox.writes] == list(write_names())


def test_every_tool_has_a_category_and_every_write_says_what_it_changes_and_how_to_revert_it() -> None:
    for s in all_specs():
        assert s.category and s.description, s.name
        assert bool(s.revert) == bool(s.changes) == (s.access == "write"), s.name
    with pytest.raises(ValueError, match="must say what it changes and how it is reverted"):
        ToolSpec("frobnicate", "d", {"type": "object"}, "write", all_specs()[0].handler, order=999, category="x")


@pytest.mark.parametrize(
    ("tool", "args", "changed"),
    [
        ("scale", {"kind": "Deployment", "name": "cart", "namespace": "shop", "replicas": 2}, "shop/Deployment/cart"),
        (
            "restore_service",
            {"namespace": "shop", "name": "cart", "workload": "Deployment/cart-v2"},
            "shop/Service/cart",
        ),
        ("uncordon", {"node": "worker-1"}, "/Node/worker-1"),
        ("delete_pod", {"name": "cart-1"}, "shop/Pod/cart-1"),  # the namespace in scope when none is given
        ("uncordon", {}, ""),  # the argument that names it is missing
        ("list_pods", {"namespace": "shop"}, ""),  # a read changes nothing
    ],
)
def test_a_call_names_the_object_it_changes(tool: str, args: dict, changed: str) -> None:
    spec = next(s for s in all_specs() if s.name == tool)
    assert spec.changed_object(args, "shop") == changed


def test_roles_name_tools_by_all_category_or_name() -> None:
    assert expand(["all"], "write") == write_names()
    assert expand(["all"], "read") == read_names()
    deletes = expand(["delete"], "write")
    assert deletes and all(s.category == "delete" for s in all_specs() if s.name in deletes)
    first = read_names()[0]
    assert expand([first, "all"], "read") == read_names()  # duplicates once, in the order given
    assert set(categories("read")).isdisjoint(categories("write"))
    with pytest.raises(ValueError, match="unknown write tool or category 'get_alerts'"):
        expand(["get_alerts"], "write")  # a read is not a write
    with pytest.raises(ValueError, match="unknown read tool or category 'frobnicate'"):
        expand(["frobnicate"], "read")


def test_readme_carries_the_rendered_table() -> None:
    text = README.read_text()
    section = re.search(r"<!-- tools:begin -->\n(.*?)<!-- tools:end -->", text, re.S)
    assert section, "README.md needs a <!-- tools:begin --> ... <!-- tools:end --> section"
    assert section.group(1) == f"```text\n{table()}```\n", "regenerate README's tool table: sre-agent tools"


def test_the_cli_prints_the_table_json_and_yaml() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["tools"])
    assert out.exit_code == 0 and out.output == table()
    header, *lines = out.output.splitlines()
    assert header.split() == ["NAME", "ACCESS", "CATEGORY", "ARGUMENTS", "CHANGES", "REVERT"]
    assert [line.split()[0] for line in lines] == [s.name for s in all_specs()]
    as_json = json.loads(runner.invoke(app, ["tools", "-o", "json"]).output)["tools"]
    as_yaml = yaml.safe_load(runner.invoke(app, ["tools", "--output", "yaml"]).output)["tools"]
    assert as_json == as_yaml
    assert [t["name"] for t in as_json] == [s.name for s in all_specs()]
    assert all(t["parameters"]["type"] == "object" for t in as_json)
    bad = runner.invoke(app, ["tools", "-o", "xml"])
    assert bad.exit_code == 2 and "table, json or yaml" in bad.output


def test_each_role_is_offered_the_schema_tokens_the_calibration_was_measured_with() -> None:
    """Every model call carries its role's tool schemas, and the class's per-call budget counts them: a
    schema that grows moves every context's pruning point, and with it the calibrated bench. Extend a
    generic tool within its tokens instead; if a change must cost more, run the bench comparison, then
    recalibrate (orchestrator/builtin/CALIBRATION.md) and update these figures."""
    from orchestrator.roles import load_role
    from orchestrator.tokens import count_tools

    specs = {s.name: s for s in all_specs()}

    def cost(role: str) -> int:
        r = load_role(role)
        names = [*r.read_tools, *r.write_tools]
        return count_tools(
            [{"name": n, "description": specs[n].description, "parameters": specs[n].parameters} for n in names]
        )

    assert {role: cost(role) for role in ("investigator", "planner", "verifier")} == {
        "investigator": 3553,
        "planner": 595,
        "verifier": 1389,
    }
