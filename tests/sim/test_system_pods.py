"""kind's kube-system components (`Cluster(system_pods=True)`, on in `sim serve`): where they run, what
they make observable (cluster DNS, kube-prometheus' per-container CPU record), and that they leave the
default embedded cluster and the workers' capacity alone."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from orchestrator.sim import ClusterShape, SimulatorServer
from orchestrator.sim.cluster import CONTROL_PLANE, Cluster

from .helpers import Sim, kubectl

RECORD = "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate"


@pytest.fixture
def sim() -> Iterator[Sim]:
    server = SimulatorServer(Cluster(alert_rules="kube-prometheus", system_pods=True))
    server.start_thread()
    api = client.ApiClient(server.client_configuration())
    try:
        yield Sim(server, api)
    finally:
        api.close()
        server.stop()


def kube_system(sim: Sim) -> list[client.V1Pod]:
    return list(sim.core.list_namespaced_pod("kube-system").items)


def test_components_run_where_kind_puts_them(sim: Sim) -> None:
    sim.advance(60)
    pods = kube_system(sim)
    by_node: dict[str, set[str]] = {}
    for p in pods:
        assert p.status.phase == "Running", p.metadata.name
        assert all(cs.ready for cs in p.status.container_statuses), p.metadata.name
        by_node.setdefault(p.spec.node_name, set()).add(p.metadata.name.rsplit("-", 1)[0])
    # Control plane: static pods named after the node, CoreDNS (started before any worker joined).
    cp = by_node[CONTROL_PLANE]
    assert {"etcd-sim-control", "kube-apiserver-sim-control", "kube-scheduler-sim-control"} <= cp
    assert sum(p.metadata.name.startswith("coredns-") for p in pods) == 2
    assert all(p.spec.node_name == CONTROL_PLANE for p in pods if p.metadata.name.startswith("coredns-"))
    # The DaemonSets: one pod on every node, workers included.
    nodes = {n.metadata.name for n in sim.core.list_node().items}
    for ds in ("kube-proxy", "kindnet"):
        assert {p.spec.node_name for p in pods if p.metadata.name.startswith(ds + "-")} == nodes
    static = next(p for p in pods if p.metadata.name == f"etcd-{CONTROL_PLANE}")
    assert static.metadata.owner_references[0].kind == "Node"


def test_workers_keep_their_whole_allocatable(sim: Sim) -> None:
    """Only kindnet (100m, 50Mi) lands on a worker, as on kind: pods sized for a bare worker still fit."""
    sim.advance(30)
    for p in kube_system(sim):
        if p.spec.node_name != CONTROL_PLANE:
            assert p.metadata.name.startswith(("kube-proxy-", "kindnet-")), p.metadata.name


def test_cluster_dns_and_the_cpu_record(sim: Sim) -> None:
    svc = sim.core.read_namespaced_service("kube-dns", "kube-system")
    assert svc.spec.cluster_ip == "10.96.0.10"
    sim.advance(120)
    eps = sim.core.read_namespaced_endpoints("kube-dns", "kube-system")
    assert len(eps.subsets[0].addresses) == 2
    result = sim.get_json(f"/api/v1/query?query={RECORD}%7Bnamespace%3D%22kube-system%22%7D")["data"]["result"]
    pods = {r["metric"]["pod"] for r in result}
    assert f"kube-apiserver-{CONTROL_PLANE}" in pods and len(pods) == len(kube_system(sim))
    assert all(set(r["metric"]) == {"__name__", "namespace", "pod", "container", "node"} for r in result)


def test_kubectl_sees_them(tmp_path: Path) -> None:
    server = SimulatorServer.create(alert_rules="kube-prometheus", system_pods=True)
    server.start_thread()
    try:
        kc = server.write_kubeconfig(tmp_path / "kubeconfig")
        out = subprocess.run(
            [kubectl(), "--kubeconfig", str(kc), "get", "pods", "-n", "kube-system", "-o", "name"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()
        assert f"pod/etcd-{CONTROL_PLANE}" in out
        assert sum(line.startswith("pod/coredns-") for line in out) == 2
    finally:
        server.stop()


def test_off_by_default() -> None:
    cluster = Cluster()
    assert cluster.store.list(cluster.rt("Pod"), "kube-system") == []


def test_reshape_moves_the_daemonsets_with_the_workers() -> None:
    cluster = Cluster(system_pods=True)
    cluster.reshape(ClusterShape(nodes=1))
    pods = cluster.store.list(cluster.rt("Pod"), "kube-system")
    workers = {p["spec"]["nodeName"] for p in pods} - {CONTROL_PLANE}
    assert workers == {"sim-worker"}
    assert sum(p["metadata"]["name"].startswith("kube-proxy-") for p in pods) == 2
