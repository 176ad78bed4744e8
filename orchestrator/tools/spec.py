"""Tools declared as data next to the handler: name, description, argument schema, access, order, category
and, for a write, the object it changes and how it is reverted. `registry.py` collects every module's
`TOOLS`; everything else that needs a list of tools (roles, the incident schema, MAST, the docs' table)
derives it from there.

`ToolSpec.bind(ctx)` makes the contract's `Tool`: its `run` validates the arguments, calls the handler,
turns every ToolError (and any unexpected failure) into ok=False with a one-line error, and scrubs
credential-looking text from whatever the handler returns. A tool never raises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from ..redaction import mask_text, scrub
from .base import Access, Tool, ToolResult
from .context import ToolContext
from .errors import ToolError, one_line
from .kinds import KINDS, ref
from .schema import validate

Handler = Callable[[ToolContext, dict[str, Any]], Awaitable["ToolResult | dict[str, Any]"]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]
    access: Access
    handler: Handler
    _: KW_ONLY
    order: int  # the toolbox order (reads first, then writes): prompts list tools in it, so it must not shift
    category: str  # a group a role may name instead of single tools, e.g. "delete", "inventory"
    revert: str = ""  # how a write is undone, for people reading the tool table (each call states its own)
    # The object a write changes, as Kind/name with {argument} placeholders: "Service/{name}" for a tool
    # whose arguments also name the workload it serves.
    changes: str = ""

    def __post_init__(self) -> None:
        if self.access == "write" and not (self.revert and self.changes):
            raise ValueError(f"write tool {self.name} must say what it changes and how it is reverted")

    def changed_object(self, args: dict[str, Any], namespace: str = "") -> str:
        """`namespace/Kind/name` of the object a call with these arguments changes ("" for a read, or when
        an argument it needs is missing); cluster-scoped kinds have no namespace."""
        try:
            kind, name = self.changes.format_map(args).split("/", 1)
        except (KeyError, ValueError):
            return ""
        info = KINDS.get(kind)
        scoped = info is None or info.namespaced
        return ref(kind, (args.get("namespace") or namespace) if scoped else None, name)

    @property
    def arguments(self) -> str:
        """The argument list as a person reads it: required names, then [optional] ones."""
        required = self.parameters.get("required") or []
        optional = [f"[{n}]" for n in self.parameters.get("properties") or {} if n not in required]
        return " ".join([*required, *optional])

    def bind(self, ctx: ToolContext) -> Tool:
        async def run(args: dict[str, Any]) -> ToolResult:
            return await self.call(ctx, args)

        return Tool(self.name, self.description, self.parameters, self.access, run)

    async def call(self, ctx: ToolContext, args: Any) -> ToolResult:
        try:
            clean = validate(self.parameters, args)
            result = await self.handler(ctx, clean)
        except ToolError as err:
            return failure(str(err))
        except Exception as err:  # a bug must not end the run; the model and the trace see it
            import structlog

            structlog.get_logger(__name__).warning("tool_crashed", tool=self.name, error=repr(err))
            return failure(f"{self.name} failed unexpectedly: {type(err).__name__}: {one_line(str(err), 200)}")
        if isinstance(result, dict):
            target = result.get("object")
            result = ToolResult(True, result, targets=[target] if isinstance(target, str) else [])
        result.content = scrub(result.content)
        if result.write is not None:
            result.write = scrub(result.write)
        if result.error:
            result.error = mask_text(one_line(result.error))
        return result


def failure(error: str, **content: Any) -> ToolResult:
    message = one_line(error)
    return ToolResult(False, {"error": message, **content}, error=message)
