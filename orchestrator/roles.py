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
from typing import TYPE_CHECKING, Any

import yaml

from .resources import data_dir

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


@cache
def load_role(name: str, roles_dir: Path | None = None) -> Role:
    path = (roles_dir or data_dir("roles")) / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"role file {path} not found")
    doc = yaml.safe_load(path.read_text())
    tools = doc.get("tools") or {}
    try:
        read_tools, write_tools = _tools(tools.get("read"), "read"), _tools(tools.get("write"), "write")
    except ValueError as err:
        raise ValueError(f"{path}: tools: {err}") from None
    subs = {
        key: Submission(key, raw.get("description", ""), raw["schema"])
        for key, raw in (doc.get("submissions") or {}).items()
    }
    return Role(
        name=doc.get("name", name),
        description=doc.get("description", ""),
        prompt=doc["prompt"].strip(),
        read_tools=read_tools,
        write_tools=write_tools,
        submissions=subs,
    )


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
