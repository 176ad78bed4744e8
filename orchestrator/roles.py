"""Roles as data: each `roles/<name>.yaml` holds the prompt, the tools the role may call and the
structured outputs (submissions) it may make, with their JSON schemas. The engine enforces all three:
a role is never offered a tool outside its file, and a submission that breaks its schema comes back to
the model as an error naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .resources import data_dir


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
    subs = {
        key: Submission(key, raw.get("description", ""), raw["schema"])
        for key, raw in (doc.get("submissions") or {}).items()
    }
    return Role(
        name=doc.get("name", name),
        description=doc.get("description", ""),
        prompt=doc["prompt"].strip(),
        read_tools=tuple(tools.get("read") or ()),
        write_tools=tuple(tools.get("write") or ()),
        submissions=subs,
    )


def submission_errors(submission: Submission, args: Any) -> list[str]:
    """Every schema violation of a submission, one line each, naming the field path."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(submission.schema)
    out = []
    for err in sorted(validator.iter_errors(args), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in err.absolute_path) or "(arguments)"
        out.append(f"{where}: {err.message}")
    return out
