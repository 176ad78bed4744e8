"""The check registry: each check is one function registered under its name, with the targets it accepts.

    @check("workload_available", kinds={"Deployment", "StatefulSet"}, namespace=True)
    def workload_available(ctx: Context, target: Target | None, alert: str | None) -> Outcome: ...

A check reads through `ctx.reads` (a failed read raises ReadError, which the gate turns into a failed
result) and returns an `Outcome`: the code-evaluated observations and one line of evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .reads import Reads
from .targets import Target


@dataclass
class Outcome:
    passed: bool
    value: dict[str, Any] = field(default_factory=dict)
    evidence: str = ""


@dataclass
class Context:
    """What one verdict's checks share: its fresh reads and the incident's settings."""

    reads: Reads
    namespaces: list[str]
    restart_window: float = 120.0  # seconds before the server's "now" in which a restart counts as recent

    def subjects(self, kind: str, target: Target | None) -> list[dict] | None:
        """What a check of `kind` judges: the target object (None when it does not exist), or every object
        of that kind in the target's namespace (the whole cluster for a cluster-scoped kind or no target)."""
        if target is not None and target.kind == kind:
            obj = self.reads.get(kind, target.namespace, target.name or "")
            return None if obj is None else [obj]
        return self.reads.list(kind, target.namespace if target is not None else None)


CheckFn = Callable[[Context, "Target | None", "str | None"], Outcome]


@dataclass(frozen=True)
class CheckDef:
    name: str
    run: CheckFn
    kinds: frozenset[str]  # object kinds it accepts as a target
    namespace: bool  # whether a namespace is a valid target
    untargeted: bool  # whether it runs without a target (over the incident's scope)
    summary: str

    def accepts(self, target: Target | None) -> bool:
        if target is None:
            return self.untargeted
        return self.namespace if target.is_namespace else target.kind in self.kinds


CHECKS: dict[str, CheckDef] = {}


def check(
    name: str, kinds: set[str] | frozenset[str] = frozenset(), namespace: bool = False, untargeted: bool = False
) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        summary = " ".join((fn.__doc__ or "").split())
        CHECKS[name] = CheckDef(name, fn, frozenset(kinds), namespace, untargeted, summary)
        return fn

    return register
