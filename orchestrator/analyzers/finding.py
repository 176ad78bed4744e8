"""What an analyzer reports: one object that is wrong, the cluster's own words for it, and a likely cause."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Ordered weakest first; a finding's rank is its index here.
CONFIDENCES = ("low", "medium", "high")
# Kinds a controller makes from its owner's template: what is wrong with one is fixed in the owner.
CONTROLLED_KINDS = ("Pod", "ReplicaSet")


def ref(kind: str, namespace: str | None, name: str) -> str:
    """`namespace/Kind/name`, or `/Kind/name` for a cluster-scoped object (the entity form the tools use)."""
    return f"{namespace or ''}/{kind}/{name}"


def rank(confidence: str) -> int:
    return CONFIDENCES.index(confidence) if confidence in CONFIDENCES else 0


@dataclass
class Finding:
    kind: str
    namespace: str | None
    name: str
    cause: str  # the likely cause, one line
    evidence: list[str] = field(default_factory=list)  # quoted from the cluster: status fields, events, log lines
    confidence: str = "medium"
    field: str = ""  # where in the object the evidence sits, e.g. status.containerStatuses[app].state
    owner: str | None = None  # `namespace/Kind/name` of the owning workload, when there is one
    analyzer: str = ""
    # Objects whose symptom this finding is the cause of (`namespace/Kind/name`): a cause ranks before
    # the symptoms it explains, and the diagnosis names it rather than them.
    explains: list[str] = dataclasses.field(default_factory=list)  # `field` is shadowed above
    # A change the cluster itself justifies ({"action": write tool, "args": {...}, "rationale": why}), or
    # None: analyzers never invent a value (a Secret, a certificate), they only point at one that exists.
    fix: dict[str, Any] | None = None
    then: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # changes that complete the fix, in order
    remedy: list[str] = dataclasses.field(default_factory=list)  # kubectl lines for a person (remedies.py)

    def __post_init__(self) -> None:
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"confidence must be one of {', '.join(CONFIDENCES)}, not {self.confidence!r}")

    @property
    def object(self) -> str:
        return ref(self.kind, self.namespace, self.name)

    def names(self, kind: str, namespace: str | None, name: str) -> bool:
        """True when the finding is about that object, as its subject or as the subject's owner."""
        return ref(kind, namespace, name) in (self.object, self.owner)

    def to_dict(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "owner": self.owner,
            "cause": self.cause,
            "evidence": list(self.evidence),
            "confidence": self.confidence,
            "field": self.field,
            "analyzer": self.analyzer,
            "explains": list(self.explains),
            "fix": self.fix,
            "then": list(self.then),
            "remedy": list(self.remedy),
        }
