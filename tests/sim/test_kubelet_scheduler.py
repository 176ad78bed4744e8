"""Kubelet, scheduler, HPA and quota controllers on an in-process Cluster and the virtual clock.

Pods are written straight into the store (no API server) and time is moved with `cluster.advance`,
so each case checks the state and the events a real cluster would show after that much time.
"""

from __future__ import annotations

import pytest

from orchestrator.sim.apps import Application, Service
from orchestrator.sim.clock import Clock
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.controllers.kubelet import (
    Shell,
    ShellHost,
    container_usage,
    throttle_factor,
)
from orchestrator.sim.controllers.quota import check_pod_admission
from orchestrator.sim.objects import pod_ready

MiB = 2**20
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: fixed timestamps
SHOP = "shop"


# --------------------------------------------------------------------------------------------- fixtures
@pytest.fixture
def cluster() -> Cluster:
    return Cluster(clock=Clock(START))


def shop_app() -> Application:
    """A one-service application: the image, command, port and working set the kubelet judges by."""
    api = Service(
        name="api",
        image="registry.example.com/shop/api:1.0",
        platforms=["linux/amd64"],
        command=["/app/api"],
        port=8080,
        usage_memory=100 * MiB,
        usage_cpu=0.2,
        readiness={"httpGet": {"path": "/healthz", "port": 8080}},
        logs={"ready": ["api listening on :8080"]},
    )
    return Application(
        name="shop",
        namespace=SHOP,
        services=[api],
        images={"registry.example.com/shop/arm-tool:1.0": {"platforms": ["linux/arm64"]}, "busybox:1.36": {}},
    )


@pytest.fixture
def shop(cluster: Cluster) -> Cluster:
    cluster.store.create(cluster.rt("Namespace"), {"metadata": {"name": SHOP}})
    cluster.applications[SHOP] = shop_app()
    return cluster


def api_container(**extra: object) -> dict:
    return {"name": "api", "image": "registry.example.com/shop/api:1.0", **extra}


def make_pod(cluster: Cluster, name: str, containers: list[dict], namespace: str = "default", **spec: object) -> dict:
    body = {
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {"containers": containers, **spec},
    }
    created = cluster.store.create(cluster.rt("Pod"), body)
    cluster.reconcile()
    return created


def get_pod(cluster: Cluster, name: str, namespace: str = "default") -> dict:
    return cluster.store.get(cluster.rt("Pod"), namespace, name)


def status_of(cluster: Cluster, name: str, namespace: str = "default", container: str | None = None) -> dict:
    statuses = get_pod(cluster, name, namespace)["status"].get("containerStatuses") or []
    return next(s for s in statuses if container is None or s["name"] == container)


def events(cluster: Cluster, name: str, namespace: str = "default", reason: str | None = None) -> list[dict]:
    found = cluster.events_for(get_pod(cluster, name, namespace))
    return [e for e in found if reason is None or e["reason"] == reason]


def condition(pod: dict, ctype: str) -> dict:
    return next(c for c in pod["status"]["conditions"] if c["type"] == ctype)


# --------------------------------------------------------------------------------------------- kubelet
def test_healthy_pod_runs_and_becomes_ready(shop: Cluster) -> None:
    make_pod(shop, "web", [api_container(readinessProbe={"httpGet": {"path": "/healthz", "port": 8080}})], SHOP)
    shop.advance(10)
    pod = get_pod(shop, "web", SHOP)
    assert pod["status"]["phase"] == "Running"
    assert pod_ready(pod)
    cs = status_of(shop, "web", SHOP)
    assert cs["ready"] and cs["started"] and "running" in cs["state"]
    assert cs["image"] == "registry.example.com/shop/api:1.0" and cs["containerID"].startswith("containerd://")
    assert pod["status"]["podIP"] and pod["status"]["hostIP"]
    assert [e["reason"] for e in events(shop, "web", SHOP)] == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    lines = shop.logs.lines(pod["metadata"]["uid"], "api", 0)
    assert [text for _, text in lines] == ["api listening on :8080"]
    memory, cpu = container_usage(shop, pod, "api")
    assert memory == 100 * MiB and cpu == pytest.approx(0.2)


def test_missing_image_backs_off(cluster: Cluster) -> None:
    make_pod(cluster, "bad", [{"name": "web", "image": "nginx:9.9-nonexistent"}])
    cluster.advance(30)
    cs = status_of(cluster, "bad")
    assert cs["state"]["waiting"]["reason"] == "ImagePullBackOff"
    assert get_pod(cluster, "bad")["status"]["phase"] == "Pending"
    failed = [e["message"] for e in events(cluster, "bad", reason="Failed")]
    ref = "docker.io/library/nginx:9.9-nonexistent"
    assert (
        f'Failed to pull image "nginx:9.9-nonexistent": rpc error: code = NotFound desc = failed to pull and unpack '
        f'image "{ref}": failed to resolve reference "{ref}": {ref}: not found'
    ) in failed
    assert "Error: ImagePullBackOff" in failed
    backoff = events(cluster, "bad", reason="BackOff")
    assert backoff and backoff[0]["message"] == 'Back-off pulling image "nginx:9.9-nonexistent"'
    # Back-off doubles: 10 s then 20 s, so three pulls happen in the first ~40 s, not more.
    cluster.advance(15)
    assert events(cluster, "bad", reason="Pulling")[0]["count"] == 3


def test_image_for_another_architecture(shop: Cluster) -> None:
    make_pod(shop, "arm", [{"name": "tool", "image": "registry.example.com/shop/arm-tool:1.0"}], SHOP)
    shop.advance(2.5)  # the pull fails after 2 s; ErrImagePull shows until the back-off starts
    waiting = status_of(shop, "arm", SHOP)["state"]["waiting"]
    assert waiting["reason"] == "ErrImagePull"
    assert waiting["message"].endswith("no matching manifest for linux/amd64 in the manifest list entries")
    shop.advance(5)
    assert status_of(shop, "arm", SHOP)["state"]["waiting"]["reason"] == "ImagePullBackOff"


def test_docker_hub_architecture_organisation(cluster: Cluster) -> None:
    make_pod(cluster, "arm", [{"name": "web", "image": "docker.io/arm64v8/nginx:1.27"}])
    cluster.advance(10)
    failed = [e["message"] for e in events(cluster, "arm", reason="Failed")]
    assert any(m.endswith("no matching manifest for linux/amd64 in the manifest list entries") for m in failed)


def test_bad_command_crash_loops_with_growing_restarts(cluster: Cluster) -> None:
    make_pod(cluster, "cmd", [{"name": "app", "image": "busybox:1.36", "command": ["invalid-command"]}])
    cluster.advance(10)
    first = status_of(cluster, "cmd")["restartCount"]
    cluster.advance(60)
    cs = status_of(cluster, "cmd")
    assert cs["restartCount"] > first >= 1
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["state"]["waiting"]["message"].startswith("back-off ")
    last = cs["lastState"]["terminated"]
    assert last["reason"] == "StartError" and last["exitCode"] == 128
    assert 'exec: "invalid-command": executable file not found in $PATH: unknown' in last["message"]
    pod = get_pod(cluster, "cmd")
    backoff = events(cluster, "cmd", reason="BackOff")[0]["message"]
    assert backoff == f"Back-off restarting failed container app in pod cmd_default({pod['metadata']['uid']})"


def test_memory_limit_below_working_set_is_oom_killed(shop: Cluster) -> None:
    make_pod(shop, "small", [api_container(resources={"limits": {"memory": "50Mi"}})], SHOP)
    shop.advance(30)
    cs = status_of(shop, "small", SHOP)
    assert cs["restartCount"] >= 1
    last = cs["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("OOMKilled", 137)


def test_script_allocation_is_oom_killed(cluster: Cluster) -> None:
    script = "echo filling; dd if=/dev/zero of=/dev/shm/fill bs=1M count=64; sleep 3600"
    make_pod(
        cluster,
        "dd",
        [
            {
                "name": "fill",
                "image": "busybox:1.36",
                "command": ["sh", "-c", script],
                "resources": {"limits": {"memory": "32Mi"}},
            }
        ],
    )
    cluster.advance(10)
    cs = status_of(cluster, "dd")
    terminated = cs["lastState"].get("terminated") or cs["state"].get("terminated")
    assert terminated["reason"] == "OOMKilled"


def test_hanging_init_container_keeps_pod_pending(cluster: Cluster) -> None:
    init = {"name": "wait", "image": "busybox:1.36", "command": ["sh", "-c", "sleep infinity"]}
    make_pod(cluster, "init", [{"name": "web", "image": "nginx:1.27"}], initContainers=[init])
    cluster.advance(120)
    pod = get_pod(cluster, "init")
    assert pod["status"]["phase"] == "Pending"
    assert "running" in pod["status"]["initContainerStatuses"][0]["state"]
    assert status_of(cluster, "init")["state"]["waiting"]["reason"] == "PodInitializing"
    initialized = condition(pod, "Initialized")
    assert initialized["status"] == "False" and initialized["message"] == "containers with incomplete status: [wait]"


def test_instant_init_container_lets_app_start(cluster: Cluster) -> None:
    init = {"name": "noop", "image": "busybox:1.36", "command": ["sh", "-c", "true"]}
    make_pod(cluster, "quick", [{"name": "web", "image": "nginx:1.27"}], initContainers=[init])
    cluster.advance(10)
    pod = get_pod(cluster, "quick")
    assert pod["status"]["phase"] == "Running" and pod_ready(pod)
    assert pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


def test_failing_init_container_crash_loops(cluster: Cluster) -> None:
    init = {"name": "check", "image": "busybox:1.36", "command": ["sh", "-c", "echo invalid configuration >&2; exit 1"]}
    make_pod(cluster, "initfail", [{"name": "web", "image": "nginx:1.27"}], initContainers=[init])
    cluster.advance(40)
    pod = get_pod(cluster, "initfail")
    ics = pod["status"]["initContainerStatuses"][0]
    assert pod["status"]["phase"] == "Pending"
    assert ics["restartCount"] >= 2 and ics["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert ics["lastState"]["terminated"]["exitCode"] == 1
    previous = cluster.logs.lines(pod["metadata"]["uid"], "check", ics["restartCount"] - 1)
    assert [text for _, text in previous] == ["invalid configuration"]


def test_readiness_probe_on_wrong_port(shop: Cluster) -> None:
    probe = {"tcpSocket": {"port": 9090}, "periodSeconds": 5}
    make_pod(shop, "probe", [api_container(readinessProbe=probe)], SHOP)
    shop.advance(30)
    pod = get_pod(shop, "probe", SHOP)
    assert pod["status"]["phase"] == "Running" and not pod_ready(pod)
    assert condition(pod, "Ready")["message"] == "containers with unready status: [api]"
    ip = pod["status"]["podIP"]
    unhealthy = events(shop, "probe", SHOP, reason="Unhealthy")
    assert len(unhealthy) == 1 and unhealthy[0]["count"] > 1
    assert unhealthy[0]["message"] == f"Readiness probe failed: dial tcp {ip}:9090: connect: connection refused"


def test_failing_liveness_probe_restarts_container(shop: Cluster) -> None:
    probe = {"tcpSocket": {"port": 9090}, "periodSeconds": 10, "failureThreshold": 3}
    make_pod(shop, "live", [api_container(livenessProbe=probe)], SHOP)
    shop.advance(40)
    cs = status_of(shop, "live", SHOP)
    assert cs["restartCount"] >= 1
    assert cs["lastState"]["terminated"]["exitCode"] == 137
    killing = events(shop, "live", SHOP, reason="Killing")[0]["message"]
    assert killing == "Container api failed liveness probe, will be restarted"
    assert events(shop, "live", SHOP, reason="Unhealthy")[0]["message"].startswith("Liveness probe failed: dial tcp ")


def test_http_readiness_probe_on_wrong_path_gets_404(shop: Cluster) -> None:
    make_pod(shop, "path", [api_container(readinessProbe={"httpGet": {"path": "/ready", "port": 8080}})], SHOP)
    shop.advance(15)
    assert not pod_ready(get_pod(shop, "path", SHOP))
    assert (
        events(shop, "path", SHOP, reason="Unhealthy")[0]["message"]
        == "Readiness probe failed: HTTP probe failed with statuscode: 404"
    )


def test_missing_secret_and_configmap(cluster: Cluster) -> None:
    env = [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
    make_pod(cluster, "env", [{"name": "web", "image": "nginx:1.27", "env": env}])
    make_pod(
        cluster,
        "vol",
        [{"name": "web", "image": "nginx:1.27"}],
        volumes=[{"name": "conf", "configMap": {"name": "web-conf"}}],
    )
    cluster.advance(10)
    waiting = status_of(cluster, "env")["state"]["waiting"]
    assert waiting == {"reason": "CreateContainerConfigError", "message": 'secret "db" not found'}
    assert status_of(cluster, "vol")["state"]["waiting"]["reason"] == "ContainerCreating"
    mount = events(cluster, "vol", reason="FailedMount")[0]["message"]
    assert mount == 'MountVolume.SetUp failed for volume "conf" : configmap "web-conf" not found'
    cluster.store.create(
        cluster.rt("Secret"), {"metadata": {"name": "db", "namespace": "default"}, "data": {"other": "eA=="}}
    )
    cluster.advance(5)
    message = status_of(cluster, "env")["state"]["waiting"]["message"]
    assert message == "couldn't find key password in Secret default/db"
    cluster.store.create(
        cluster.rt("ConfigMap"), {"metadata": {"name": "web-conf", "namespace": "default"}, "data": {"a": "b"}}
    )
    cluster.advance(10)  # the next mount retry, then the image pull
    assert "running" in status_of(cluster, "vol")["state"]


def test_cpu_limit_below_usage_throttles(shop: Cluster) -> None:
    make_pod(shop, "slow", [api_container(resources={"limits": {"cpu": "100m"}})], SHOP)
    shop.advance(10)
    pod = get_pod(shop, "slow", SHOP)
    assert throttle_factor(shop, pod, "api") == pytest.approx(2.0)
    assert container_usage(shop, pod, "api")[1] == pytest.approx(0.1)


def test_deleted_pod_is_forgotten(cluster: Cluster) -> None:
    pod = make_pod(
        cluster, "gone", [{"name": "app", "image": "busybox:1.36", "command": ["sh", "-c", "echo hi; sleep 100"]}]
    )
    cluster.advance(5)
    uid = pod["metadata"]["uid"]
    assert cluster.logs.lines(uid, "app", 0)
    cluster.store.delete(cluster.rt("Pod"), "default", "gone")
    cluster.reconcile()
    assert not cluster.logs.lines(uid, "app", 0)


def test_pod_on_missing_node_stays_pending(cluster: Cluster) -> None:
    make_pod(cluster, "lost", [{"name": "web", "image": "nginx:1.27"}], nodeName="no-such-node")
    cluster.advance(30)
    status = get_pod(cluster, "lost").get("status") or {}
    assert status.get("phase", "Pending") == "Pending" and not status.get("containerStatuses")


# --------------------------------------------------------------------------------------------- shell model
class FakeHost(ShellHost):
    def __init__(self) -> None:
        self.env = {"NAME": "world"}
        self.lines: list[str] = []
        self.allocated = 0

    def log(self, line: str) -> None:
        self.lines.append(line)

    def allocate(self, nbytes: int) -> None:
        self.allocated += nbytes


def run_script(script: str) -> tuple[FakeHost, list[tuple[str, float]], int | None]:
    host = FakeHost()
    gen = Shell(host).run(script)
    yielded = []
    try:
        for _ in range(20):
            yielded.append(next(gen))
    except StopIteration as stop:
        return host, yielded, stop.value
    return host, yielded, None


def test_shell_model() -> None:
    host, yielded, code = run_script("echo hello $NAME\nfor i in 1 2; do echo $i; done\nsleep 5 && exit 3; echo never")
    assert host.lines == ["hello world", "1", "2"] and yielded == [("sleep", 5.0)] and code == 3
    host, yielded, code = run_script("dd if=/dev/zero of=/tmp/x bs=1M count=8 2>/dev/null; true")
    assert host.allocated == 8 * MiB and code == 0
    assert run_script("while true; do echo tick; sleep 10; done")[2] is None  # runs for ever
    assert run_script("sleep infinity")[1] == [("forever", 0.0)]
    assert run_script("false || exit 7")[2] == 7
    assert run_script("if false; then exit 1; else exit 4; fi")[2] == 4


# --------------------------------------------------------------------------------------------- scheduler
def test_cordoned_nodes_and_selector_mismatch(cluster: Cluster) -> None:
    node_rt = cluster.rt("Node")
    for name in ("sim-worker", "sim-worker2"):
        cluster.store.mutate(node_rt, "", name, lambda n: n["spec"].__setitem__("unschedulable", True))
    make_pod(
        cluster,
        "pinned",
        [{"name": "web", "image": "nginx:1.27"}],
        nodeSelector={"kubernetes.io/hostname": "sim-worker"},
    )
    cluster.advance(120)
    pod = get_pod(cluster, "pinned")
    assert not pod["spec"].get("nodeName")
    expected = (
        "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated "
        "taint {node-role.kubernetes.io/control-plane: }, 2 node(s) were unschedulable. preemption: 0/4 nodes are "
        "available: 4 Preemption is not helpful for scheduling."
    )
    scheduled = condition(pod, "PodScheduled")
    assert (scheduled["status"], scheduled["reason"], scheduled["message"]) == ("False", "Unschedulable", expected)
    failed = events(cluster, "pinned", reason="FailedScheduling")
    assert (
        len(failed) == 1
        and failed[0]["message"] == expected
        and failed[0]["source"]["component"] == "default-scheduler"
    )
    assert failed[0]["count"] == 1  # nothing changed: no re-post within the flush interval
    cluster.advance(300)
    assert events(cluster, "pinned", reason="FailedScheduling")[0]["count"] == 2
    cluster.store.mutate(node_rt, "", "sim-worker", lambda n: n["spec"].pop("unschedulable"))
    cluster.advance(5)
    assert get_pod(cluster, "pinned")["spec"]["nodeName"] == "sim-worker"
    assert (
        events(cluster, "pinned", reason="Scheduled")[0]["message"]
        == "Successfully assigned default/pinned to sim-worker"
    )


def test_pods_spread_over_workers(cluster: Cluster) -> None:
    for i in range(6):
        make_pod(cluster, f"p{i}", [{"name": "web", "image": "nginx:1.27"}])
    nodes = [get_pod(cluster, f"p{i}")["spec"]["nodeName"] for i in range(6)]
    assert sorted(nodes) == ["sim-worker", "sim-worker", "sim-worker2", "sim-worker2", "sim-worker3", "sim-worker3"]


def test_missing_claim_fails_scheduling(cluster: Cluster) -> None:
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    make_pod(cluster, "db", [{"name": "db", "image": "postgres:17.2"}], volumes=volumes)
    message = events(cluster, "db", reason="FailedScheduling")[0]["message"]
    assert message.startswith('0/4 nodes are available: persistentvolumeclaim "data" not found.')
    claim = {
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {"resources": {"requests": {"storage": "1Gi"}}},
    }
    cluster.store.create(cluster.rt("PersistentVolumeClaim"), claim)
    cluster.advance(10)
    assert get_pod(cluster, "db")["status"]["phase"] == "Running"
    assert cluster.store.get(cluster.rt("PersistentVolumeClaim"), "default", "data")["status"]["phase"] == "Bound"


def test_preemption_by_higher_priority_pod(cluster: Cluster) -> None:
    cluster.store.create(cluster.rt("PriorityClass"), {"metadata": {"name": "high"}, "value": 1000})
    pin = {"kubernetes.io/hostname": "sim-worker"}
    for name in ("low-a", "low-b"):
        make_pod(
            cluster,
            name,
            [{"name": "web", "image": "nginx:1.27", "resources": {"requests": {"cpu": "3500m"}}}],
            nodeSelector=pin,
        )
    cluster.advance(10)
    make_pod(
        cluster,
        "high",
        [{"name": "web", "image": "nginx:1.27", "resources": {"requests": {"cpu": "4"}}}],
        nodeSelector=pin,
        priorityClassName="high",
    )
    cluster.advance(10)
    high = get_pod(cluster, "high")
    assert high["spec"]["nodeName"] == "sim-worker" and high["status"]["phase"] == "Running"
    survivors = [n for n in ("low-a", "low-b") if cluster.store.find(cluster.rt("Pod"), "default", n)]
    assert len(survivors) == 1  # one victim is enough to fit
    preempted = [e for e in cluster.store.list(cluster.rt("Event"), "default") if e["reason"] == "Preempted"]
    assert len(preempted) == 1
    assert preempted[0]["message"] == f"Preempted by pod {high['metadata']['uid']} on node sim-worker"


# --------------------------------------------------------------------------------------------- HPA
def test_hpa_scales_to_max_when_target_is_tiny(cluster: Cluster) -> None:
    labels = {"app": "web"}
    container = {"name": "web", "image": "nginx:1.27", "resources": {"requests": {"cpu": "10m"}}}
    cluster.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }
    )
    cluster.advance(20)
    target = {"type": "Utilization", "averageUtilization": 1}
    cluster.apply(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1,
                "maxReplicas": 5,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": target}}],
            },
        }
    )
    cluster.advance(120)
    assert cluster.store.get(cluster.rt("Deployment"), "default", "web")["spec"]["replicas"] == 5
    hpa = cluster.store.get(cluster.rt("HorizontalPodAutoscaler"), "default", "web")
    assert hpa["status"]["desiredReplicas"] == 5 and hpa["status"]["currentReplicas"] == 5
    limited = next(c for c in hpa["status"]["conditions"] if c["type"] == "ScalingLimited")
    assert (limited["status"], limited["reason"]) == ("True", "TooManyReplicas")
    assert hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] > 1
    rescales = [e["message"] for e in cluster.events_for(hpa) if e["reason"] == "SuccessfulRescale"]
    assert rescales[0] == "New size: 5; reason: cpu resource utilization (percentage of request) above target"


# --------------------------------------------------------------------------------------------- quota
def quota(cluster: Cluster, hard: dict) -> None:
    cluster.store.create(
        cluster.rt("ResourceQuota"),
        {"metadata": {"name": "strict-resource-quota", "namespace": "default"}, "spec": {"hard": hard}},
    )
    cluster.reconcile()


def test_quota_status_and_admission(cluster: Cluster) -> None:
    limits = {"requests": {"memory": "512Mi"}, "limits": {"memory": "1Gi"}}
    make_pod(cluster, "big", [{"name": "web", "image": "nginx:1.27", "resources": limits}])
    quota(cluster, {"limits.memory": "1Gi", "requests.memory": "2Gi", "pods": "10"})
    status = cluster.store.get(cluster.rt("ResourceQuota"), "default", "strict-resource-quota")["status"]
    assert status["used"] == {"limits.memory": "1Gi", "requests.memory": "512Mi", "pods": "1"}
    small = {
        "metadata": {"name": "x", "namespace": "default"},
        "spec": {"containers": [{"name": "web", "resources": {"limits": {"memory": "256Mi"}}}]},
    }
    assert check_pod_admission(cluster, small) == (
        'pods "x" is forbidden: exceeded quota: strict-resource-quota, requested: limits.memory=256Mi, '
        "used: limits.memory=1Gi, limited: limits.memory=1Gi"
    )
    bare = {"metadata": {"name": "y", "namespace": "default"}, "spec": {"containers": [{"name": "web"}]}}
    assert check_pod_admission(cluster, bare) == (
        'pods "y" is forbidden: failed quota: strict-resource-quota: must specify limits.memory for: web; requests.memory for: web'
    )
