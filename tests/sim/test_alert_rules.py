"""The two built-in alert rule sets: kube-prometheus' rules on their real `for:` durations (scalable for
demos), and the scenario library's compressed set, which stays the default of an embedded cluster."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from orchestrator.sim.builtin import resolve_scenario
from orchestrator.sim.cluster import WORKER_NODES, Cluster
from orchestrator.sim.observability import builtin_rules
from orchestrator.sim.runner import SimulatorServer
from orchestrator.sim.scenario import load_scenario

# kube-prometheus (kubernetes-mixin and general.rules) durations, in seconds.
REAL_FOR = {
    "KubePodCrashLooping": 900,
    "KubePodNotReady": 900,
    "KubeDeploymentGenerationMismatch": 900,
    "KubeDeploymentReplicasMismatch": 900,
    "KubeDeploymentRolloutStuck": 900,
    "KubeStatefulSetReplicasMismatch": 900,
    "KubeStatefulSetGenerationMismatch": 900,
    "KubeDaemonSetNotScheduled": 600,
    "KubeDaemonSetMisScheduled": 900,
    "KubeContainerWaiting": 3600,
    "KubeJobNotCompleted": 0,
    "KubeJobFailed": 900,
    "KubeHpaReplicasMismatch": 900,
    "KubeHpaMaxedOut": 900,
    "KubePersistentVolumeFillingUp": 60,
    "KubePersistentVolumeErrors": 300,
    "KubeQuotaFullyUsed": 900,
    "KubeQuotaExceeded": 900,
    "CPUThrottlingHigh": 900,
    "KubeNodeNotReady": 900,
    "KubeNodeUnreachable": 900,
    "KubeNodeMemoryPressure": 600,
    "TargetDown": 600,
}
# What the scenario library, the ITBench scenarios and the calibrated bench were tuned with.
LIBRARY_FOR = {
    "KubePodNotReady": 120,
    "KubePodCrashLooping": 60,
    "KubeContainerWaiting": 180,
    "KubeDeploymentReplicasMismatch": 180,
    "KubeStatefulSetReplicasMismatch": 180,
    "KubeHpaMaxedOut": 120,
    "HighRequestErrorRate": 60,
    "HighRequestLatency": 60,
    "NoRequestsReceived": 120,
    "KubeNodeUnschedulable": 300,
}


def durations(cluster: Cluster) -> dict[str, float]:
    return {r.name: r.for_seconds for r in cluster.observability.alerts.rules}


def states(cluster: Cluster) -> dict[str, str]:
    return {a["labels"]["alertname"]: a["state"] for a in cluster.observability.alerts.active()}


def test_kube_prometheus_durations_are_the_real_ones() -> None:
    written = {r.name: r.for_seconds for g in builtin_rules("kube-prometheus") for r in g.rules}
    assert {k: written.get(k) for k in REAL_FOR} == REAL_FOR
    assert all(r.health == "unknown" for g in builtin_rules("kube-prometheus") for r in g.rules)


def test_an_embedded_cluster_keeps_the_library_timings() -> None:
    assert durations(Cluster()) == LIBRARY_FOR
    server = SimulatorServer.create()
    assert durations(server.cluster) == LIBRARY_FOR


def test_the_scale_shortens_every_for() -> None:
    cluster = Cluster(alert_rules="kube-prometheus", alert_for_scale=0.1)
    got = durations(cluster)
    assert got["KubePodNotReady"] == pytest.approx(90)
    assert got["KubeContainerWaiting"] == pytest.approx(360)
    cluster.observability.alerts.set_for_scale(1.0)
    assert durations(cluster)["KubePodNotReady"] == 900
    with pytest.raises(ValueError, match="unknown alert rule set"):
        Cluster(alert_rules="nope")


def pending_pod(cluster: Cluster) -> None:
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "stuck", "namespace": "default"},
            "spec": {"nodeSelector": {"disk": "nvme"}, "containers": [{"name": "app", "image": "nginx:1.27"}]},
        }
    )
    cluster.after_write()


def test_kube_pod_not_ready_waits_fifteen_minutes() -> None:
    cluster = Cluster(alert_rules="kube-prometheus")
    pending_pod(cluster)
    cluster.advance(14 * 60)
    assert states(cluster) == {"KubePodNotReady": "pending"}
    cluster.advance(60 + 5)
    (alert,) = cluster.observability.alerts.firing()
    assert alert.labels["pod"] == "stuck" and alert.labels["workload_type"] == "pod"


def test_kube_pod_not_ready_at_demo_scale() -> None:
    cluster = Cluster(alert_rules="kube-prometheus", alert_for_scale=0.1)
    pending_pod(cluster)
    cluster.advance(100)
    assert states(cluster) == {"KubePodNotReady": "firing"}


def test_crash_loop_fires_after_fifteen_minutes_across_restarts() -> None:
    cluster = Cluster(alert_rules="kube-prometheus")
    cluster.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "crasher", "namespace": "default"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "crasher"}},
                "template": {
                    "metadata": {"labels": {"app": "crasher"}},
                    "spec": {
                        "containers": [{"name": "app", "image": "busybox:1.37", "command": ["sh", "-c", "exit 1"]}]
                    },
                },
            },
        }
    )
    cluster.after_write()
    cluster.advance(10 * 60)
    assert states(cluster).get("KubePodCrashLooping") == "pending"
    cluster.advance(10 * 60)
    firing = {a.labels["alertname"]: a.labels for a in cluster.observability.alerts.firing()}
    assert firing["KubePodCrashLooping"]["workload"] == "crasher"
    assert firing["KubeDeploymentReplicasMismatch"]["workload"] == "crasher"


def test_node_not_ready_and_kubelet_target() -> None:
    cluster = Cluster(alert_rules="kube-prometheus")
    node = WORKER_NODES[0]

    def not_ready(obj: dict) -> None:
        for c in obj["status"]["conditions"]:
            if c["type"] == "Ready":
                c["status"] = "False"

    cluster.store.mutate(cluster.rt("Node"), "", node, not_ready, status=True)
    cluster.advance(5)
    up = cluster.observability.query('up{job="kubelet"}')
    assert isinstance(up, list)
    assert {s.labels["node"]: s.value for s in up}[node] == 0
    cluster.advance(9 * 60)
    assert states(cluster) == {"KubeNodeNotReady": "pending", "TargetDown": "pending"}
    cluster.advance(60 + 5)
    firing = {a.labels["alertname"]: a.labels for a in cluster.observability.alerts.firing()}
    assert firing["TargetDown"]["job"] == "kubelet"
    assert "KubeNodeNotReady" not in firing  # 15 minutes


def test_node_memory_pressure_from_a_memory_hog() -> None:
    """The kubelet owns the MemoryPressure condition: a pod with no limit that eats the node's memory sets
    it (and is evicted); the condition holds for the 5-minute transition period, long enough for the rule
    at a tenth of its 10 minutes."""
    cluster = Cluster(alert_rules="kube-prometheus", alert_for_scale=0.1)
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "hog", "namespace": "default"},
            "spec": {
                "containers": [
                    {"name": "stress", "image": "alexeiled/stress-ng", "args": ["--vm", "4", "--vm-bytes", "8G"]}
                ]
            },
        }
    )
    cluster.after_write()
    cluster.advance(30)
    assert states(cluster).get("KubeNodeMemoryPressure") == "pending"
    cluster.advance(60 + 5)
    firing = {a.labels["alertname"]: a.labels for a in cluster.observability.alerts.firing()}
    hog = cluster.store.get(cluster.rt("Pod"), "default", "hog")
    assert hog is not None and firing["KubeNodeMemoryPressure"]["node"] == hog["spec"]["nodeName"]


def test_bad_image_rollout_on_kube_prometheus_rules() -> None:
    """The library's otel-demo-bad-image on kube-prometheus' rules at half their durations: Pending after
    7.5m, the rollout stuck 7.5m after its 10-minute progress deadline, the container waiting 30m."""
    cluster = Cluster(alert_rules="kube-prometheus", alert_for_scale=0.5)
    load_scenario(cluster, resolve_scenario("otel-demo-bad-image"))
    cluster.advance(510)
    firing = {a.labels["alertname"] for a in cluster.observability.alerts.firing()}
    assert "KubePodNotReady" in firing and "KubeDeploymentRolloutStuck" not in firing
    cluster.advance(600)
    firing = {a.labels["alertname"] for a in cluster.observability.alerts.firing()}
    assert "KubeDeploymentRolloutStuck" in firing and "KubeContainerWaiting" not in firing
    cluster.advance(800)  # some retries show ErrImagePull at a scrape: the alert must not start over
    alerts = {a.labels["alertname"]: a.labels for a in cluster.observability.alerts.firing()}
    assert alerts["KubeContainerWaiting"]["workload"] == "product-catalog"


def test_quota_exceeded_by_pods_admitted_before_the_quota() -> None:
    """The library's quota scenario: the quota is created under pods that already exceed it."""
    cluster = Cluster(alert_rules="kube-prometheus")
    load_scenario(cluster, resolve_scenario("quota"))
    cluster.advance(14 * 60)
    assert "KubeQuotaExceeded" not in {a.labels["alertname"] for a in cluster.observability.alerts.firing()}
    cluster.advance(2 * 60)
    exceeded = [a.labels for a in cluster.observability.alerts.firing() if a.labels["alertname"] == "KubeQuotaExceeded"]
    assert {a["resource"] for a in exceeded} == {"requests.memory", "limits.memory"}
    assert {a["namespace"] for a in exceeded} == {"otel-demo"}


def test_sim_serve_defaults_to_kube_prometheus_durations() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "sim", "serve", "--alert-for-scale", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line
        with urllib.request.urlopen(line.split()[-1] + "/sim/v1/state", timeout=30) as response:
            state = json.load(response)
        assert state["alertRules"] == {"set": "kube-prometheus", "forScale": 0.5}
        with urllib.request.urlopen(line.split()[-1] + "/api/v1/rules", timeout=30) as response:
            rules = json.load(response)["data"]["groups"]
        durations = {r["name"]: r["duration"] for g in rules for r in g["rules"]}
        assert durations["KubePodNotReady"] == 450
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_sim_serve_rejects_an_unknown_rule_set() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "sim", "serve", "--alert-rules", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "--alert-rules must be kube-prometheus or library" in out.stderr
