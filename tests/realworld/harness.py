"""The real-world dev set's replay: a case's manifests applied to a fresh simulator through the official
kubernetes client, its steps run and its clock advanced, as `sre-agent sim serve` and the dev set's
`replay.sh` would (kube-prometheus' rules at their real durations, kind's kube-system, the demos' images).
Shared by the symptom tests (test_cases.py) and the agent tests (test_agent.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

from orchestrator.sim.cluster import WORKER_NODES, Cluster
from orchestrator.sim.runner import SimulatorServer
from orchestrator.sim.runtime.catalogue import catalogue_for, read_image_file
from orchestrator.sim.shape import shape_from_dict

HERE = Path(__file__).parent

SPEC_KEYS = {"namespace", "cluster", "replay", "wait", "expect", "agent"}
EXPECT_KEYS = {
    "pods",
    "deployments",
    "jobs",
    "hpas",
    "nodes",
    "ingresses",
    "events",
    "logs",
    "no_warning_events",
    "alerts",
}


def case_names() -> list[str]:
    return sorted(p.parent.name for p in HERE.glob("*/spec.yaml"))


def load_spec(name: str) -> dict[str, Any]:
    spec = yaml.safe_load((HERE / name / "spec.yaml").read_text())
    assert isinstance(spec, dict) and set(spec) <= SPEC_KEYS, name
    assert set(spec.get("expect") or {}) <= EXPECT_KEYS, name
    return spec


# ================================================================================================ replay
@dataclass
class Replay:
    name: str
    spec: dict[str, Any]
    server: SimulatorServer
    api: client.ApiClient
    dyn: dynamic.DynamicClient

    @property
    def namespace(self) -> str:
        return str(self.spec.get("namespace", "default"))

    @property
    def namespaces(self) -> set[str]:
        """The case's namespace and any other its expectations name."""
        wants = [w for items in self.spec["expect"].values() if isinstance(items, list) for w in items]
        return {self.namespace} | {w["namespace"] for w in wants if isinstance(w, dict) and "namespace" in w}

    @property
    def cluster(self) -> Cluster:
        return self.server.cluster

    def resource(self, api_version: str, kind: str) -> Any:
        return self.dyn.resources.get(api_version=api_version, kind=kind)

    def apply(self, text: str) -> None:
        """`kubectl apply` for fresh objects and whole-object replacements: create, else replace."""
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            res = self.resource(doc["apiVersion"], doc["kind"])
            ns = (doc["metadata"].get("namespace") or "default") if res.namespaced else None
            try:
                res.create(body=doc, namespace=ns)
            except ApiException as err:
                if err.status != 409:
                    raise
                current = res.get(name=doc["metadata"]["name"], namespace=ns)
                doc["metadata"]["resourceVersion"] = current.metadata.resourceVersion
                res.replace(body=doc, namespace=ns)

    def patch(self, step: dict) -> None:
        res = self.resource(step["apiVersion"], step["kind"])
        res.patch(
            body=step["body"],
            name=step["name"],
            namespace=step.get("namespace"),
            content_type="application/strategic-merge-patch+json",
        )

    def objects(self, kind: str, namespace: str | None = None) -> list[dict]:
        cluster = self.cluster
        return self.server.call(lambda: cluster.store.list(cluster.rt(kind), namespace))

    def firing(self) -> list[dict[str, str]]:
        cluster = self.cluster
        return self.server.call(lambda: [dict(a.labels) for a in cluster.observability.alerts.firing()])


def substitute(text: str, subs: dict[str, str]) -> str:
    for old, new in subs.items():
        text = text.replace(old, WORKER_NODES[0] if new == "@worker" else new)
    return text


@contextmanager
def replayed(name: str) -> Iterator[Replay]:
    """The case replayed and its wait elapsed, served until the block ends."""
    spec = load_spec(name)
    # A case that depends on the node size carries its own shape (a scenario's `cluster:` block).
    shape = shape_from_dict(spec["cluster"]) if "cluster" in spec else None
    # As `sre-agent sim serve` (which replay.sh runs) makes it: kube-prometheus' rules and kind's kube-system.
    cluster = Cluster(alert_rules="kube-prometheus", shape=shape, system_pods=True)
    # The set's demo images described as data, as `sim serve --images` adds them.
    catalogue_for(cluster).add(read_image_file(HERE / "images.yaml"))
    server = SimulatorServer(cluster)
    server.start_thread()
    try:
        api = client.ApiClient(server.client_configuration())
        run = Replay(name, spec, server, api, dynamic.DynamicClient(api))
        subs = spec["replay"].get("substitute") or {}
        for step in spec["replay"]["steps"]:
            if "apply" in step:
                run.apply(substitute((HERE / name / step["apply"]).read_text(), subs))
            elif "advance" in step:
                server.advance(float(step["advance"]))
            elif "patch" in step:
                run.patch(step["patch"])
            else:
                raise AssertionError(f"{name}: unknown replay step {step}")
        server.advance(float(spec["wait"]))
        yield run
    finally:
        server.stop()
