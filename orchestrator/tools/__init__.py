"""The Toolbox: every tool an agent may call, bound to one cluster, its observability endpoints and an
ActionPolicy.

    ctx = ToolContext(api, alertmanager_url=url, prometheus_url=url, namespaces=["otel-demo"],
                      policy=ActionPolicy(mode="approve", approver=ask_human))
    toolbox = Toolbox(ctx)
    result = await toolbox.call("list_pods", {"namespace": "otel-demo"})
    investigator_tools = toolbox.subset(role.tools)

The tools are those of the registry (registry.py; `sre-agent tools` lists them): reads, then writes, each
write through the ActionPolicy and dry-run first. No tool raises: problems come back as ok=False with a
one-line error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from .base import Tool, ToolResult
from .context import ToolContext
from .policy import ActionPolicy, ActionRequest, Decision
from .registry import all_specs
from .spec import failure

__all__ = ["ActionPolicy", "ActionRequest", "Decision", "Tool", "ToolContext", "ToolResult", "Toolbox", "all_specs"]

TOOL_TIMEOUT_SECONDS = 60.0  # each API call has its own 10 s timeout; this bounds a whole tool


class Toolbox:
    def __init__(self, ctx: ToolContext, timeout: float = TOOL_TIMEOUT_SECONDS) -> None:
        self.ctx = ctx
        self.timeout = timeout
        self.tools: dict[str, Tool] = {spec.name: spec.bind(ctx) for spec in all_specs()}

    def get(self, name: str) -> Tool | None:
        return self.tools.get(name)

    def subset(self, names: Iterable[str]) -> list[Tool]:
        """The named tools in the order given; unknown names are an error (a role file typo)."""
        names = list(names)
        unknown = [n for n in names if n not in self.tools]
        if unknown:
            raise ValueError(f"unknown tool {unknown[0]}; available: {', '.join(self.tools)}")
        return [self.tools[n] for n in names]

    @property
    def reads(self) -> list[Tool]:
        return [t for t in self.tools.values() if t.access == "read"]

    @property
    def writes(self) -> list[Tool]:
        return [t for t in self.tools.values() if t.access == "write"]

    async def call(self, name: str, args: Any = None) -> ToolResult:
        tool = self.tools.get(name)
        if tool is None:
            return failure(f"unknown tool {name}; available: {', '.join(self.tools)}")
        try:
            return await asyncio.wait_for(tool.run(args if args is not None else {}), self.timeout)
        except TimeoutError:
            return failure(f"{name} timed out after {self.timeout:.0f} s")
