"""The tool registry: every `TOOLS` list in the `orchestrator.tools` package, in one deterministic order.

A tool is declared once, on its ToolSpec next to its handler. Roles, the action policy, the incident
schema's allowed actions, MAST's list of writes and the docs' tool table all read it from here, so adding
a tool means adding one ToolSpec (and its handler) to a module of this package.

    write_names()                  # every write tool's name, in toolbox order
    expand(["all"], "write")       # a role's `write: all`, resolved to tool names
    print(table())                 # what `sre-agent tools` prints
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache
from typing import Any

from .base import Access
from .spec import ToolSpec

ALL = "all"  # in a role file: every tool of that access


@cache
def all_specs() -> tuple[ToolSpec, ...]:
    """Every declared tool, reads first, then writes, each by its `order` (prompts list tools in this order)."""
    package = importlib.import_module(__package__ or "orchestrator.tools")
    specs: list[ToolSpec] = []
    for module in pkgutil.iter_modules(package.__path__):
        specs += getattr(importlib.import_module(f"{package.__name__}.{module.name}"), "TOOLS", [])
    for attr, what in (("name", "name"), ("order", "order")):
        values = [getattr(s, attr) for s in specs]
        twice = sorted({str(v) for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"two tools declare the same {what}: {', '.join(twice)}")
    return tuple(sorted(specs, key=lambda s: (s.access != "read", s.order)))


def get(name: str) -> ToolSpec | None:
    return next((s for s in all_specs() if s.name == name), None)


def names(access: Access | None = None) -> tuple[str, ...]:
    return tuple(s.name for s in all_specs() if access is None or s.access == access)


def read_names() -> tuple[str, ...]:
    return names("read")


def write_names() -> tuple[str, ...]:
    return names("write")


def categories(access: Access | None = None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.category for s in all_specs() if access is None or s.access == access))


def expand(entries: Iterable[str], access: Access) -> tuple[str, ...]:
    """Tool names from a role's list: `all`, a category or a tool name each, in the order given (a category
    in registry order); duplicates once. Anything else, or a tool of the other access, is a ValueError."""
    specs = [s for s in all_specs() if s.access == access]
    out: list[str] = []
    for entry in entries:
        matched = [s.name for s in specs if entry in (ALL, s.category, s.name)]
        if not matched:
            known = ", ".join([ALL, *categories(access), *(s.name for s in specs)])
            raise ValueError(f"unknown {access} tool or category {entry!r} (known: {known})")
        out += matched
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------- the table
COLUMNS = ("NAME", "ACCESS", "CATEGORY", "ARGUMENTS", "CHANGES", "REVERT")


def rows() -> list[dict[str, Any]]:
    """One mapping per tool, for `sre-agent tools -o json|yaml`."""
    return [
        {
            "name": s.name,
            "access": s.access,
            "category": s.category,
            "description": s.description,
            "parameters": s.parameters,
            **({"changes": s.changes, "revert": s.revert} if s.access == "write" else {}),
        }
        for s in all_specs()
    ]


def table() -> str:
    """The kubectl-style table: one line per tool, columns padded to their widest cell."""
    cells = [COLUMNS] + [
        (s.name, s.access, s.category, s.arguments, s.changes or "-", s.revert or "-") for s in all_specs()
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS) - 1)]
    lines = ["   ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]) for row in cells]
    return "\n".join(line.rstrip() for line in lines) + "\n"
