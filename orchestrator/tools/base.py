"""The tool contract shared by every tool, the agents that call them and the engine that traces them.

A Tool is data plus one async function: its JSON-schema parameters are what a model sees, its access
("read" or "write") is what role permissions and the ActionPolicy key on. A tool never raises for a
cluster or user problem: it returns a ToolResult with ok=False and a one-line error a model can read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Access = Literal["read", "write"]


@dataclass
class ToolResult:
    ok: bool
    content: dict[str, Any]  # JSON-serialisable; what the model reads (secrets already redacted)
    error: str | None = None  # one line, set when ok is False
    targets: list[str] = field(default_factory=list)  # entities touched, "namespace/Kind/name"
    write: dict[str, Any] | None = None  # for writes: {action, target, mode, change, revert}


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object
    access: Access
    run: Callable[[dict[str, Any]], Awaitable[ToolResult]]
