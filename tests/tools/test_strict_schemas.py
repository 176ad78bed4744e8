"""Every schema a model is offered (tool arguments, role submissions) stays inside the subset that strict
providers accept (OpenAI's strict mode, Gemini's function declarations): one `type` per node, no `oneOf`,
`allOf`, `not` or `$ref`, only the keywords both know."""

from __future__ import annotations

from typing import Any

from orchestrator.briefing import offered_schema
from orchestrator.checks import CHECK_NAMES
from orchestrator.roles import load_role
from orchestrator.tools.registry import all_specs

KEYWORDS = {
    "type", "description", "properties", "required", "items", "enum", "additionalProperties", "pattern",
    "default", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "format", "anyOf",
}  # fmt: skip
TYPES = {"string", "integer", "number", "boolean", "object", "array"}


def problems(node: Any, path: str) -> list[str]:
    if not isinstance(node, dict):
        return [f"{path}: not a mapping"]
    out = [f"{path}: keyword {k!r}" for k in node if k not in KEYWORDS]
    if "type" in node and node["type"] not in TYPES:
        out.append(f"{path}: type {node['type']!r} (one of {sorted(TYPES)})")
    if "type" not in node and "anyOf" not in node:
        out.append(f"{path}: no type")
    if "properties" in node and node.get("type") != "object":
        out.append(f"{path}: properties without type object")
    for name, sub in (node.get("properties") or {}).items():
        out += problems(sub, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            out += problems(node[key], f"{path}.{key}")
    for i, sub in enumerate(node.get("anyOf") or []):
        out += problems(sub, f"{path}.anyOf[{i}]")
    return out


def test_tool_arguments_are_strict_schemas() -> None:
    found = [p for spec in all_specs() for p in problems(spec.parameters, spec.name)]
    assert found == []


def test_submissions_as_offered_are_strict_schemas() -> None:
    found = []
    for role in ("planner", "investigator", "verifier"):
        for name, sub in load_role(role).submissions.items():
            found += problems(offered_schema(sub.schema, list(CHECK_NAMES)), f"{role}.{name}")
    assert found == []
