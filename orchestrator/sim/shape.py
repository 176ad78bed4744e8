"""The cluster's shape: how many worker nodes, their size, labels, taints and extended resources.

The default is the shape every calibrated scenario was written for (a control plane and three workers
of 8 CPU, 32Gi and 110 pods, kind's names); a scenario's `cluster:` block or `sre-agent sim serve`
flags pick another:

    cluster:
      nodes: 2               # workers: sim-worker, sim-worker2, ...
      cpu: "2"
      memory: 4Gi
      pods: 110
      labels: {pool: gpu}    # on every worker
      taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
      gpus: 1                # nvidia.com/gpu in each worker's capacity and allocatable
      resources: {example.com/fpga: "2"}   # any other extended resource
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .objects import parse_quantity

GPU_RESOURCE = "nvidia.com/gpu"
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
FIELDS = {"nodes", "cpu", "memory", "pods", "labels", "taints", "gpus", "resources"}


class ShapeError(ValueError):
    pass


@dataclass(frozen=True)
class ClusterShape:
    nodes: int = 3
    cpu: str = "8"
    memory: str = "32Gi"
    pods: int = 110
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[dict, ...] = ()
    gpus: int = 0
    resources: dict[str, str] = field(default_factory=dict)

    def worker_names(self) -> list[str]:
        return ["sim-worker" + (str(i + 1) if i else "") for i in range(self.nodes)]

    def capacity(self) -> dict[str, str]:
        cap = {"cpu": self.cpu, "memory": self.memory, "pods": str(self.pods), "ephemeral-storage": "100Gi"}
        if self.gpus:
            cap[GPU_RESOURCE] = str(self.gpus)
        cap.update(self.resources)
        return cap


DEFAULT_SHAPE = ClusterShape()


def parse_taint(text: str) -> dict:
    """kubectl taint syntax: key=value:Effect or key:Effect."""
    head, sep, effect = text.rpartition(":")
    if not sep or effect not in TAINT_EFFECTS:
        raise ShapeError(f"taint {text!r}: expected key[=value]:Effect with Effect one of {', '.join(TAINT_EFFECTS)}")
    key, _, value = head.partition("=")
    if not key:
        raise ShapeError(f"taint {text!r}: the key is empty")
    taint = {"key": key, "effect": effect}
    if value:
        taint["value"] = value
    return taint


def parse_label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ShapeError(f"label {text!r}: expected key=value")
    return key, value


def _quantity(name: str, value: object) -> str:
    text = str(value)
    try:
        if parse_quantity(text) <= 0:
            raise ShapeError(f"cluster.{name}: must be positive, not {text!r}")
    except ValueError as err:
        raise ShapeError(f"cluster.{name}: {err}") from err
    return text


def _count(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ShapeError(f"cluster.{name}: a whole number of at least {minimum}, not {value!r}")
    return value


def shape_from_dict(doc: dict) -> ClusterShape:
    """A scenario's `cluster:` block (unknown keys are an error, so a typo is not silently ignored)."""
    if not isinstance(doc, dict):
        raise ShapeError("cluster: must be a mapping")
    unknown = set(doc) - FIELDS
    if unknown:
        raise ShapeError(f"cluster: unknown field(s) {', '.join(sorted(unknown))}")
    taints = []
    for t in doc.get("taints") or []:
        if isinstance(t, str):
            taints.append(parse_taint(t))
        elif isinstance(t, dict) and t.get("key") and t.get("effect") in TAINT_EFFECTS:
            taints.append({k: str(v) for k, v in t.items() if k in ("key", "value", "effect")})
        else:
            raise ShapeError(f"cluster.taints: {t!r} needs key and effect ({', '.join(TAINT_EFFECTS)})")
    resources = doc.get("resources") or {}
    if not isinstance(resources, dict) or any("/" not in str(k) for k in resources):
        raise ShapeError("cluster.resources: extended resources are domain-prefixed names (example.com/fpga)")
    return ClusterShape(
        nodes=_count("nodes", doc.get("nodes", DEFAULT_SHAPE.nodes), 1),
        cpu=_quantity("cpu", doc.get("cpu", DEFAULT_SHAPE.cpu)),
        memory=_quantity("memory", doc.get("memory", DEFAULT_SHAPE.memory)),
        pods=_count("pods", doc.get("pods", DEFAULT_SHAPE.pods), 1),
        labels={str(k): str(v) for k, v in (doc.get("labels") or {}).items()},
        taints=tuple(taints),
        gpus=_count("gpus", doc.get("gpus", 0), 0),
        resources={str(k): _quantity(f"resources.{k}", v) for k, v in resources.items()},
    )


def shape_from_flags(
    nodes: int | None = None,
    cpu: str | None = None,
    memory: str | None = None,
    labels: list[str] | None = None,
    taints: list[str] | None = None,
    gpus: int | None = None,
) -> ClusterShape | None:
    """`sre-agent sim serve --nodes/--node-cpu/...`; None when no flag was given (the scenario decides)."""
    given = [v for v in (nodes, cpu, memory, gpus) if v is not None] + list(labels or []) + list(taints or [])
    if not given:
        return None
    doc: dict = {
        "labels": dict(parse_label(x) for x in labels or []),
        "taints": [parse_taint(x) for x in taints or []],
    }
    for key, value in (("nodes", nodes), ("cpu", cpu), ("memory", memory), ("gpus", gpus)):
        if value is not None:
            doc[key] = value
    return shape_from_dict(doc)
