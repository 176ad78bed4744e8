"""Cluster shape (scenario `cluster:` block and `sim serve` flags), extended resources in scheduling,
and PriorityClass admission (globalDefault, reserved names, preemptionPolicy)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from orchestrator.sim import ClusterShape, ShapeError, SimulatorServer, shape_from_flags
from orchestrator.sim.scenario import ScenarioError, normalise

from .helpers import Sim, condition, raw, served_plan

NS = "default"
GPU = "nvidia.com/gpu"


def plan(shape: ClusterShape | None = None) -> dict:
    out: dict = {"name": "shape", "applications": [], "faults": [], "warmup": 0}
    if shape is not None:
        out["cluster"] = shape
    return out


@pytest.fixture
def sim() -> Iterator[Sim]:
    with served_plan(plan()) as s:
        yield s


def pod(name: str, gpus: int = 0, cpu: str | None = None, **spec: object) -> dict:
    limits: dict = {GPU: str(gpus)} if gpus else {}
    requests: dict = {"cpu": cpu} if cpu else {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            **spec,
            "containers": [
                {
                    "name": "main",
                    "image": "busybox:1.36",
                    "command": ["sh", "-c", "sleep 3600"],
                    "resources": {"limits": limits, "requests": requests},
                }
            ],
        },
    }


def read_pod(sim: Sim, name: str) -> dict:
    return raw(sim.core.read_namespaced_pod(name, NS, _preload_content=False))


def test_default_shape_is_unchanged(sim: Sim) -> None:
    nodes = raw(sim.core.list_node(_preload_content=False))["items"]
    assert [n["metadata"]["name"] for n in nodes] == ["sim-control-plane", "sim-worker", "sim-worker2", "sim-worker3"]
    for n in nodes:
        assert n["status"]["capacity"] == {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}


def test_gpu_pod_is_pending_on_a_cluster_without_gpus(sim: Sim) -> None:
    sim.core.create_namespaced_pod(NS, pod("train", gpus=1))
    sim.advance(10)
    p = read_pod(sim, "train")
    assert p["status"]["phase"] == "Pending" and not p["spec"].get("nodeName")
    assert condition(p, "PodScheduled")["message"] == (
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "3 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: "
        "1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod."
    )


def test_gpu_pods_schedule_on_a_shaped_cluster_until_gpus_run_out() -> None:
    shape = ClusterShape(nodes=2, cpu="2", memory="4Gi", gpus=1, labels={"pool": "gpu"})
    with served_plan(plan(shape)) as sim:
        nodes = raw(sim.core.list_node(_preload_content=False))["items"]
        workers = [n for n in nodes if n["metadata"]["name"] != "sim-control-plane"]
        assert [n["metadata"]["name"] for n in workers] == ["sim-worker", "sim-worker2"]
        for n in workers:
            assert n["status"]["allocatable"][GPU] == "1" and n["status"]["capacity"]["cpu"] == "2"
            assert n["metadata"]["labels"]["pool"] == "gpu"
        for name in ("a", "b", "c"):
            sim.core.create_namespaced_pod(NS, pod(name, gpus=1, nodeSelector={"pool": "gpu"}))
        sim.advance(20)
        placed = {n: read_pod(sim, n)["spec"].get("nodeName") for n in ("a", "b", "c")}
        assert sorted(v for v in placed.values() if v) == ["sim-worker", "sim-worker2"]
        pending = next(n for n, v in placed.items() if not v)
        message = condition(read_pod(sim, pending), "PodScheduled")["message"]
        assert "2 Insufficient nvidia.com/gpu" in message
        # CPU follows the shape too: 2 cores per worker.
        sim.core.create_namespaced_pod(NS, pod("big", cpu="3"))
        sim.advance(10)
        assert "Insufficient cpu" in condition(read_pod(sim, "big"), "PodScheduled")["message"]


def test_shaped_taints_keep_pods_off_without_a_toleration() -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    with served_plan(plan(ClusterShape(nodes=1, taints=(taint,)))) as sim:
        sim.core.create_namespaced_pod(NS, pod("plain"))
        toleration = {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
        sim.core.create_namespaced_pod(NS, pod("tolerant", tolerations=[toleration]))
        sim.advance(10)
        assert not read_pod(sim, "plain")["spec"].get("nodeName")
        assert (
            "node(s) had untolerated taint {dedicated: gpu}"
            in condition(read_pod(sim, "plain"), "PodScheduled")["message"]
        )
        assert read_pod(sim, "tolerant")["spec"]["nodeName"] == "sim-worker"


def test_scenario_cluster_block_and_flags(tmp_path: Path) -> None:
    doc = {
        "apiVersion": "sim.sre-agent.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "gpu"},
        "spec": {"warmup": 0, "cluster": {"nodes": 2, "gpus": 2, "taints": ["dedicated=gpu:NoSchedule"]}},
    }
    shaped = normalise(doc)["cluster"]
    assert (
        shaped.nodes == 2
        and shaped.gpus == 2
        and shaped.taints == ({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},)
    )
    with pytest.raises(ScenarioError, match="unknown field"):
        normalise({**doc, "spec": {"cluster": {"gpu": 1}}})
    flags = shape_from_flags(nodes=5, cpu="2", memory="4Gi", labels=["zone=a"], taints=["k=v:NoExecute"], gpus=1)
    assert flags == ClusterShape(
        nodes=5,
        cpu="2",
        memory="4Gi",
        labels={"zone": "a"},
        taints=({"key": "k", "value": "v", "effect": "NoExecute"},),
        gpus=1,
    )
    assert shape_from_flags() is None
    with pytest.raises(ShapeError):
        shape_from_flags(taints=["k=v:Sometimes"])
    # Flags win over the scenario's block.
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    server = SimulatorServer.create(path, shape=ClusterShape(nodes=1))
    names = [n["metadata"]["name"] for n in server.cluster.store.list(server.cluster.rt("Node"))]
    assert sorted(names) == ["sim-control-plane", "sim-worker"]
    server = SimulatorServer.create(path)
    assert len(server.cluster.store.list(server.cluster.rt("Node"))) == 3


def create_class(sim: Sim, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        f"{sim.server.url}/apis/scheduling.k8s.io/v1/priorityclasses",
        data=json.dumps({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", **body}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_priority_class_admission(sim: Sim) -> None:
    code, pc = create_class(sim, {"metadata": {"name": "batch-low"}, "value": 100, "globalDefault": True})
    assert code == 201 and pc["preemptionPolicy"] == "PreemptLowerPriority"
    code, status = create_class(sim, {"metadata": {"name": "other"}, "value": 5, "globalDefault": True})
    assert code == 403
    assert status["message"].endswith(
        "PriorityClass batch-low is already marked as default. Only one default can exist"
    )
    code, status = create_class(sim, {"metadata": {"name": "system-mine"}, "value": 5})
    assert code == 422 and "'system-' prefix are reserved" in status["message"]
    code, status = create_class(sim, {"metadata": {"name": "huge"}, "value": 2_000_000_000})
    assert code == 422 and "maximum allowed value of a user defined priority is 1000000000" in status["message"]
    # A pod without a class gets the global default's name and value.
    created = raw(sim.core.create_namespaced_pod(NS, pod("worker"), _preload_content=False))
    assert (created["spec"]["priorityClassName"], created["spec"]["priority"]) == ("batch-low", 100)
    with pytest.raises(client.ApiException) as err:
        sim.scheduling.patch_priority_class("batch-low", {"value": 7})
    assert err.value.status == 422 and "may not be changed in an update" in json.loads(err.value.body)["message"]


def test_preemption_policy_never_waits_instead_of_evicting() -> None:
    with served_plan(plan(ClusterShape(nodes=1, cpu="2"))) as sim:
        create_class(sim, {"metadata": {"name": "polite"}, "value": 1000, "preemptionPolicy": "Never"})
        create_class(sim, {"metadata": {"name": "pushy"}, "value": 1000})
        sim.core.create_namespaced_pod(NS, pod("low", cpu="1500m"))
        sim.advance(10)
        sim.core.create_namespaced_pod(NS, pod("polite", cpu="1", priorityClassName="polite"))
        sim.advance(10)
        p = read_pod(sim, "polite")
        assert p["spec"]["preemptionPolicy"] == "Never" and not p["spec"].get("nodeName")
        assert condition(p, "PodScheduled")["message"].endswith(
            "preemption: not eligible due to preemptionPolicy=Never."
        )
        assert read_pod(sim, "low")["status"]["phase"] == "Running"
        sim.core.create_namespaced_pod(NS, pod("pushy", cpu="1", priorityClassName="pushy"))
        sim.advance(30)
        assert read_pod(sim, "pushy")["spec"].get("nodeName") == "sim-worker"
        names = [p["metadata"]["name"] for p in raw(sim.core.list_namespaced_pod(NS, _preload_content=False))["items"]]
        assert "low" not in names  # preempted
