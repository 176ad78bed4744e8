"""What a check looks at: a namespace, or one object named "namespace/Kind/name" (ITBench's entity names).

Kinds are spelled loosely by models and people ("deploy", "svc", "hpa"): they normalise to the API kind.
Cluster-scoped objects are written "Kind/name" (or "/Kind/name").
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tools.errors import ToolError
from ..tools.kinds import KINDS, resolve_kind
from ..tools.kinds import WORKLOAD_KINDS as TOOL_WORKLOAD_KINDS

# One table of kinds and their kubectl spellings for the whole project: the tools'.
WORKLOAD_KINDS = frozenset(TOOL_WORKLOAD_KINDS)
CLUSTER_SCOPED = frozenset(k for k, info in KINDS.items() if not info.namespaced)


class TargetError(ValueError):
    """A target string that names nothing a check can read."""


@dataclass(frozen=True)
class Target:
    namespace: str | None = None
    kind: str | None = None  # None: the whole namespace
    name: str | None = None

    @property
    def is_namespace(self) -> bool:
        return self.kind is None

    @property
    def is_workload(self) -> bool:
        return self.kind in WORKLOAD_KINDS

    def __str__(self) -> str:
        if self.kind is None:
            return self.namespace or ""
        if self.kind in CLUSTER_SCOPED:
            return f"{self.kind}/{self.name}"
        return f"{self.namespace}/{self.kind}/{self.name}"


def normalise_kind(kind: str) -> str:
    try:
        return resolve_kind(kind).kind
    except ToolError:
        return kind.strip()  # unknown: parse_target's caller reports it with the target


def parse_target(text: str) -> Target:
    """ "otel-demo" → namespace; "otel-demo/Deployment/cart" → object; "Node/worker-1" → cluster-scoped object."""
    raw = text.strip()
    parts = raw.split("/")
    if parts and parts[0] == "" and len(parts) == 3:  # "/Node/name"
        parts = parts[1:]
    if any(not p for p in parts) or len(parts) > 3:
        raise TargetError(f"target {text!r}: expected a namespace, namespace/Kind/name or Kind/name")
    if len(parts) == 1:
        return Target(namespace=parts[0])
    if len(parts) == 2:
        kind = normalise_kind(parts[0])
        if kind not in CLUSTER_SCOPED:
            raise TargetError(f"target {text!r}: {kind} is namespaced, write namespace/{kind}/{parts[1]}")
        return Target(kind=kind, name=parts[1])
    kind = normalise_kind(parts[1])
    if kind in CLUSTER_SCOPED:
        return Target(kind=kind, name=parts[2])
    return Target(namespace=parts[0], kind=kind, name=parts[2])
