"""The ActionPolicy: who may change the cluster, where, and how far.

Modes: `off` (read-only run: every write is denied), `dry-run` (server-side dry run only), `approve`
(an approver callback says yes or no to each change), `auto` (apply). Within any mode:

- `allowed_actions` names write tools of the registry (a misspelt one would silently deny, so it is an
  error); `allowed_namespaces` bounds namespaced objects;
- a cluster-scoped object (a Node, a Namespace, a PriorityClass) is changed only when it is named in
  `allowed_cluster_objects` (`Kind/name`): no namespace bounds it, so nothing else would;
- a Namespace is never deleted;
- the blast radius of one run: at most `max_objects` distinct objects changed (or, in dry-run mode, that
  would be changed), and no workload that is serving is scaled to 0.

`screen` applies every rule that needs only the tool's arguments; the toolbox runs it before the tool reads
anything, so a denied call learns nothing about the cluster (a missing object is never "not found"). `limit`
applies the rule that needs the object as it is (is it serving?), after the tool read it and the API
server's dry run said what the change would do. `decide` then applies the mode, asking the approver in
approve mode, so a person only ever sees a change the rules and the API server have already accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .kinds import KINDS

Mode = Literal["auto", "approve", "dry-run", "off"]
Outcome = Literal["applied", "dry-run", "denied"]
MODES: tuple[str, ...] = ("auto", "approve", "dry-run", "off")
DENIED = "denied by policy"  # how every denial begins, whatever the rule
DEFAULT_MAX_OBJECTS = 5  # a mitigation touches one to three objects; more is a run going astray
# Cluster-scoped kinds the tools know; any other kind is refused before the policy is asked (unknown kind).
CLUSTER_SCOPED_KINDS: tuple[str, ...] = tuple(k for k, info in KINDS.items() if not info.namespaced)


@dataclass(frozen=True)
class ActionRequest:
    action: str  # the write tool's name (registry.write_names())
    target: str  # "namespace/Kind/name" ("/Node/name" when cluster-scoped)
    change: str  # one human line: what will change
    args: dict[str, Any] = field(default_factory=dict)
    # Known once the API server's dry run answered, for the person asked to approve: how to undo the change
    # and what the dry run said it would do (the diff lines).
    revert: str = ""
    dry_run: tuple[str, ...] = ()

    @property
    def namespace(self) -> str:
        return self.target.split("/", 1)[0]

    @property
    def kind(self) -> str:
        parts = self.target.split("/", 2)
        return parts[1] if len(parts) == 3 else ""

    @property
    def name(self) -> str:
        parts = self.target.split("/", 2)
        return parts[2] if len(parts) == 3 else ""

    @property
    def cluster_scoped(self) -> bool:
        """A kind of the tools' table by its scope; a custom kind by the target's namespace, which the tool
        that resolved the kind through discovery left empty for a cluster-scoped one (and screens again)."""
        info = KINDS.get(self.kind)
        return not self.namespace if info is None else not info.namespaced


@dataclass(frozen=True)
class Decision:
    allowed: bool
    mode: Outcome
    reason: str
    answered_by: str | None = None  # the person who approved or declined, when the approver named them


@dataclass(frozen=True)
class Approval:
    """An approver's answer that names who gave it, so the write's record can say who approved it."""

    approved: bool
    by: str

    def __bool__(self) -> bool:
        return self.approved


def denial(reason: str) -> str:
    """The one-line error of a denied write, whatever rule denied it."""
    return f"{DENIED}: {reason}"


class Approver(Protocol):
    """Supplied by the front-end (the terminal prompt today); asked only in `approve` mode, after the rules
    and the API server's dry run accepted the change. Without one, approve mode denies."""

    async def __call__(self, request: ActionRequest, /) -> bool | Approval:
        """True to apply `request`, False to deny it (an exception denies it too); an `Approval` says the
        same and who answered."""
        ...


@dataclass
class ActionPolicy:
    mode: Mode = "off"
    allowed_actions: set[str] | None = None  # None: every write tool
    allowed_namespaces: set[str] | None = None  # None: any namespace
    approver: Approver | None = None
    allowed_cluster_objects: set[str] = field(default_factory=set)  # "Kind/name"; none by default
    max_objects: int = DEFAULT_MAX_OBJECTS
    # The objects this run changed, or in dry-run mode would have changed (targets, "namespace/Kind/name").
    changed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"remediation mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.max_objects < 1:
            raise ValueError(f"the objects a run may change must be at least 1, not {self.max_objects}")
        if self.allowed_actions is not None:
            from .registry import write_names  # deferred: the registry imports every tool module

            unknown = sorted(self.allowed_actions - set(write_names()))
            if unknown:
                raise ValueError(
                    f"allowed actions must be write tools, not {', '.join(unknown)} (write tools: {', '.join(write_names())})"
                )

    def screen(self, request: ActionRequest) -> Decision | None:
        """The rules that need only the call's arguments: a denial, or None when the request may proceed."""
        if self.mode == "off":
            return _deny("remediation mode is off: read-only run")
        if self.allowed_actions is not None and request.action not in self.allowed_actions:
            allowed = ", ".join(sorted(self.allowed_actions)) or "none"
            return _deny(f"action {request.action} is not allowed (allowed actions: {allowed})")
        if request.kind == "Namespace" and _deletes(request.action):
            return _deny("deleting a Namespace is never offered")
        if request.cluster_scoped:
            # The allowed objects are not listed: on a faulted cluster that would name the culprit.
            obj = f"{request.kind}/{request.name}"
            if obj not in self.allowed_cluster_objects:
                return _deny(
                    f"{obj} is cluster-scoped and the incident does not allow it by name "
                    "(remediation.allowedClusterObjects)"
                )
        else:
            ns = request.namespace
            if not ns:
                return _deny(f"a {request.kind} is namespaced and no namespace was given")
            if self.allowed_namespaces is not None and ns not in self.allowed_namespaces:
                allowed = ", ".join(sorted(self.allowed_namespaces)) or "none"
                return _deny(f"namespace {ns} is not allowed (allowed namespaces: {allowed})")
        if request.target not in self.changed and len(self.changed) >= self.max_objects:
            return _deny(
                f"this run has already changed {len(self.changed)} objects, its limit "
                f"(remediation.maxObjectsChanged: {self.max_objects}); {request.target} would be one more"
            )
        return None

    def limit(self, request: ActionRequest, before: Any, preview: Any) -> Decision | None:
        """The blast-radius rule that needs the object: `before` as it is, `preview` as the API server's dry
        run says it would be. A workload with ready replicas is not scaled to 0 (an outage is no mitigation)."""
        ready = _number(((before or {}).get("status") or {}).get("readyReplicas")) if isinstance(before, dict) else 0
        replicas = ((preview.get("spec") or {}).get("replicas")) if isinstance(preview, dict) else None
        if ready > 0 and replicas == 0:
            return _deny(
                f"{request.kind}/{request.name} is serving ({ready} ready replicas): scaling it to 0 is an outage, "
                "beyond a run's blast radius"
            )
        return None

    def record(self, request: ActionRequest) -> None:
        """A change was applied (or, in dry-run mode, accepted): it counts toward the run's blast radius."""
        self.changed.add(request.target)

    async def decide(self, request: ActionRequest) -> Decision:
        denied = self.screen(request)
        if denied is not None:
            return denied
        if self.mode == "dry-run":
            return Decision(True, "dry-run", "remediation mode is dry-run: validated by the API server, not applied")
        if self.mode == "approve":
            if self.approver is None:
                return _deny("approval required and nobody approved")
            try:
                answer = await self.approver(request)
            except Exception as err:  # an approver that fails has not approved
                return _deny(f"approval required and the approver failed: {err}")
            by = answer.by if isinstance(answer, Approval) else None
            if not answer:
                return Decision(False, "denied", "approval required and the approver declined", by)
            return Decision(True, "applied", "approved", by)
        return Decision(True, "applied", "remediation mode is auto")


def _deny(reason: str) -> Decision:
    return Decision(False, "denied", reason)


def _deletes(action: str) -> bool:
    from .registry import get  # deferred: the registry imports every tool module

    spec = get(action)
    return spec is not None and spec.category == "delete"


def _number(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
