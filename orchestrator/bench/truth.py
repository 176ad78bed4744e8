"""Ground truth (ITBench `itbench.io/v2` GroundTruth) and how a diagnosis scores against it.

Entities are compared as ITBench's agent output names them, `namespace/Kind/name` (cluster-scoped:
`/Kind/name`). A ground-truth name may be a glob (`/Node/*`: whichever node the fault cordoned).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any


class TruthError(ValueError):
    """A ground-truth file we cannot use; the message names the file and field."""


@dataclass(frozen=True)
class GroundTruth:
    entities: tuple[str, ...]  # namespace/Kind/name patterns, every one a root cause
    alerts: tuple[str, ...] = ()

    @property
    def namespaces(self) -> list[str]:
        return sorted({e.split("/", 1)[0] for e in self.entities} - {""})


@dataclass(frozen=True)
class EntityScore:
    recall: float
    precision: float
    strict: bool  # the named root causes are exactly the ground truth's


def load_truth(path: Path) -> GroundTruth:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TruthError(f"{path}: cannot read ground truth: {str(exc).splitlines()[0]}") from None
    spec = doc.get("spec") if isinstance(doc, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("entities"), list) or not spec["entities"]:
        raise TruthError(f"{path}: spec.entities must list the root-cause objects")
    entities = []
    for i, e in enumerate(spec["entities"]):
        meta = e.get("metadata") if isinstance(e, dict) else None
        if not isinstance(meta, dict) or not e.get("kind") or not meta.get("name"):
            raise TruthError(f"{path}: spec.entities[{i}] needs kind and metadata.name")
        entities.append(f"{meta.get('namespace') or ''}/{e['kind']}/{meta['name']}")
    raw_alerts = spec.get("alerts") or []
    if not isinstance(raw_alerts, list):
        raise TruthError(f"{path}: spec.alerts must be a list of {{name, labels}}")
    alerts = [str(a.get("name")) for a in raw_alerts if isinstance(a, dict) and a.get("name")]
    return GroundTruth(tuple(entities), tuple(alerts))


def score_entities(named: Iterable[str], truth: GroundTruth) -> EntityScore:
    """Recall: share of ground-truth entities named; precision: share of named entities that are true."""
    named = sorted(set(named))
    matched_truth = {t for t in truth.entities if any(fnmatchcase(n, t) for n in named)}
    true_named = [n for n in named if any(fnmatchcase(n, t) for t in truth.entities)]
    recall = len(matched_truth) / len(truth.entities)
    precision = len(true_named) / len(named) if named else 0.0
    strict = recall == 1.0 and len(true_named) == len(named) == len(truth.entities)
    return EntityScore(round(recall, 4), round(precision, 4), strict)


def root_causes(agent_output: dict[str, Any]) -> list[str]:
    """The entities an ITBench agent output marks as contributing factors."""
    return [
        str(e.get("name"))
        for e in agent_output.get("entities") or []
        if isinstance(e, dict) and e.get("contributing_factor") and e.get("name")
    ]
