"""Roles as data: each `roles/<name>.yaml` holds the prompt, the tools the role may call and the
structured outputs (submissions) it may make, with their JSON schemas. The engine enforces all three:
a role is never offered a tool outside its file, and a submission that breaks its schema comes back to
the model as an error naming the field.

`tools.read` and `tools.write` each take `all`, or a list of tool names and tool categories (the
registry's, `sre-agent tools` shows them); a name the registry does not know is an error naming the file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .resources import data_dir
from .yamlsource import YamlSyntaxError, load_yaml

if TYPE_CHECKING:
    from .tools.base import Access


@dataclass(frozen=True)
class Submission:
    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    prompt: str
    read_tools: tuple[str, ...]
    write_tools: tuple[str, ...]
    submissions: dict[str, Submission]


class RoleError(ValueError):
    """A role file that cannot be used: one `FILE:LINE: field: problem` line per problem."""


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _SubmissionFile(_File):
    description: str = ""
    schema_: dict[str, Any] = Field(alias="schema")


class _ToolsFile(_File):
    read: str | list[str] | None = None
    write: str | list[str] | None = None


class _RoleFile(_File):
    name: str | None = None
    description: str = ""
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    tools: _ToolsFile = Field(default_factory=_ToolsFile)
    submissions: dict[str, _SubmissionFile] = Field(default_factory=dict)


# JSON Schema keywords a submission schema may use (the providers' strict subsets, plus the gate's mark): a
# key outside them is a typo or a YAML slip (an unquoted comma in a flow mapping makes a key of the rest).
SCHEMA_KEYWORDS = frozenset(
    {"type", "description", "properties", "required", "items", "enum", "additionalProperties", "pattern",
     "default", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "format", "anyOf",
     "const", "title", "x-gate-checks"}
)  # fmt: skip


@cache
def load_role(name: str, roles_dir: Path | None = None) -> Role:
    """The role `name` from its file, validated: unknown or missing fields, a schema keyword that is none,
    a tool the registry does not know are RoleErrors naming the file, the line and the field."""
    path = (roles_dir or data_dir("roles")) / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"role file {path} not found")
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))
    except YamlSyntaxError as err:
        raise RoleError(f"{path}:{err.line}: {err.message}" if err.line else f"{path}: {err.message}") from None
    try:
        role = _RoleFile.model_validate(doc.data)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            loc = tuple(part for part in e["loc"] if part != "[key]")
            where = f"{path}:{doc.line_of(loc)}" if doc.line_of(loc) else str(path)
            lines.append(f"{where}: {'.'.join(str(p) for p in loc) or 'role'}: {e['msg']}")
        raise RoleError("\n".join(lines)) from None
    problems = [
        f"{path}:{doc.line_of(loc) or '?'}: {'.'.join(str(p) for p in loc)}: {what}"
        for key, sub in role.submissions.items()
        for loc, what in _schema_problems(sub.schema_, ("submissions", key, "schema"))
    ]
    if problems:
        raise RoleError("\n".join(problems))
    try:
        read_tools, write_tools = _tools(role.tools.read, "read"), _tools(role.tools.write, "write")
    except ValueError as err:
        raise RoleError(f"{path}: tools: {err}") from None
    return Role(
        name=role.name or name,
        description=role.description,
        prompt=role.prompt,
        read_tools=read_tools,
        write_tools=write_tools,
        submissions={key: Submission(key, sub.description, sub.schema_) for key, sub in role.submissions.items()},
    )


def _schema_problems(node: Any, loc: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """Keys of a JSON schema node that are no keyword we send (property names are free)."""
    if not isinstance(node, dict):
        return [(loc, "a schema must be a mapping")]
    out = [(loc + (k,), "is no JSON Schema keyword this schema may use") for k in node if k not in SCHEMA_KEYWORDS]
    for name, sub in (node.get("properties") or {}).items():
        out += _schema_problems(sub, loc + ("properties", name))
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            out += _schema_problems(node[key], loc + (key,))
    for i, sub in enumerate(node.get("anyOf") or []):
        out += _schema_problems(sub, loc + ("anyOf", i))
    return out


def _tools(entries: str | list[str] | None, access: Access) -> tuple[str, ...]:
    from .tools.registry import expand

    if not entries:
        return ()
    return expand([entries] if isinstance(entries, str) else entries, access)


def submission_errors(submission: Submission, args: Any) -> list[str]:
    """Every schema violation of a submission, one line each, naming the field path."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(submission.schema)
    out = []
    for err in sorted(validator.iter_errors(args), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in err.absolute_path) or "(arguments)"
        out.append(f"{where}: {err.message}")
    return out
