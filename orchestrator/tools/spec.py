"""Tools declared as data next to the handler: name, description, argument schema, access, order, category
and, for a write, the object it changes and how it is reverted. `registry.py` collects every module's
`TOOLS`; everything else that needs a list of tools (roles, the incident schema, MAST, the docs' table)
derives it from there.

`ToolSpec.bind(ctx)` makes the contract's `Tool`: its `run` validates the arguments, puts a write before the
ActionPolicy's screen (from the arguments alone, so a denied write reads nothing), calls the handler, turns
every ToolError (and any unexpected failure) into ok=False with a one-line error, and scrubs
credential-looking text from whatever the handler returns. A tool never raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from ..redaction import mask_text, scrub
from .base import Access, Tool, ToolResult
from .context import ToolContext
from .errors import ToolError, one_line
from .kinds import KINDS, UnknownKind, ref, resolve_kind
from .schema import validate
from .writes import screen

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
        an argument it needs is missing); kubectl spellings of the kind resolved, cluster-scoped kinds
        have no namespace."""
        try:
            kind, name = self._changed(args)
        except (KeyError, ValueError):
            return ""
        with contextlib.suppress(ToolError):  # a kind the tools do not know stays as written
            kind = resolve_kind(kind).kind
        info = KINDS.get(kind)
        scoped = info is None or info.namespaced
        return ref(kind, (args.get("namespace") or namespace) if scoped else None, name)

    def write_target(self, ctx: ToolContext, args: dict[str, Any]) -> str:
        """The object a write call changes, from its arguments alone (no cluster call): an unknown kind or a
        namespaced object without a namespace is the caller's mistake (ToolError)."""
        kind, name = self._changed(args)
        try:
            info = resolve_kind(kind)
        except UnknownKind:  # a custom resource: screened as namespaced here, and again once the tool resolved it
            return ref(kind, ctx.namespace_for(args.get("namespace"), kind), name)
        namespace = ctx.namespace_for(args.get("namespace"), info.kind) if info.namespaced else None
        return ref(info.kind, namespace, name)

    def _changed(self, args: dict[str, Any]) -> tuple[str, str]:
        # Kind and name are filled separately: a kind argument may itself hold slashes (apps/v1/Deployment).
        kind, name = self.changes.split("/", 1)
        return kind.format_map(args), name.format_map(args)

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
            refused = screen(ctx, self.name, self.write_target(ctx, clean), clean) if self.access == "write" else None
            result = refused or await self.handler(ctx, clean)
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
