"""The container runtime model, through the official client over HTTP (and kubectl for logs).

Each case creates its own small manifest, moves the virtual clock and checks what a real cluster
would show: pod phase and container states, the kubelet's events in its words, logs, node
conditions and Prometheus series.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from tests.sim.helpers import Sim, condition, container_statuses, events_for, is_ready, raw, served_plan

KUBECTL = shutil.which("kubectl")
NS = "default"
CRASHING_API = {
    "repository": "registry.example.com/team/orders",
    "tags": ["1.*"],
    "entrypoint": ["/app/orders"],
    "programs": {
        "/app/orders": {
            "exit": 1,
            "logs": [
                "Traceback (most recent call last):",
                '  File "/app/orders.py", line 12, in <module>',
                "KeyError: 'DATABASE_URL'",
            ],
        }
    },
}


FAILING_WEB = {
    "repository": "registry.example.com/team/web",
    "tags": ["2.*"],
    "cmd": ["/web"],
    "programs": {"/web": {"serve": {"port": 8080, "status": 503}}},
}


DB_CLIENT = {
    "repository": "registry.example.com/team/checkout",
    "cmd": ["/checkout"],
    "programs": {
        "/checkout": {
            "serve": {"port": 8000},
            "connects": {
                "env": "DB_HOST",
                "port_env": "DB_PORT",
                "port": 5432,
                "after": 5,
                "logs": ["cannot reach database {host}:{port}: Name or service not known"],
            },
        }
    },
}
API_CLIENT = {  # a web app that calls the API named by a URL variable on every request
    "repository": "registry.example.com/team/front",
    "cmd": ["/front"],
    "programs": {
        "/front": {
            "serve": {"port": 5000},
            "connects": {"env": "API_URL", "per_request": True, "logs": ["Failed to resolve '{host}'"]},
        }
    },
}


@pytest.fixture
def sim() -> Iterator[Sim]:
    images = [CRASHING_API, FAILING_WEB, DB_CLIENT, API_CLIENT]
    plan = {"name": "runtime", "applications": [], "faults": [], "warmup": 0, "images": images}
    with served_plan(plan) as s:
        yield s


# ---------------------------------------------------------------------------------------------- helpers
def create_pod(sim: Sim, name: str, containers: list[dict], **spec: object) -> None:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}}}
    body["spec"] = {"containers": containers, **spec}
    sim.core.create_namespaced_pod(NS, body)


def create_deployment(sim: Sim, name: str, containers: list[dict], replicas: int = 1) -> None:
    labels = {"app": name}
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
        },
    }
    sim.apps.create_namespaced_deployment(NS, body)


def pod(sim: Sim, name: str) -> dict:
    return raw(sim.core.read_namespaced_pod(name, NS, _preload_content=False))


def pods_of(sim: Sim, app: str) -> list[dict]:
    return raw(sim.core.list_namespaced_pod(NS, label_selector=f"app={app}", _preload_content=False))["items"]


def status(sim: Sim, name: str, init: bool = False) -> dict:
    return container_statuses(pod(sim, name), init)[0]


def messages(sim: Sim, name: str, reason: str) -> list[str]:
    return [e["message"] for e in events_for(sim, NS, name) if e["reason"] == reason]


def log(sim: Sim, name: str, container: str | None = None, previous: bool = False) -> list[str]:
    text = sim.core.read_namespaced_pod_log(name, NS, container=container, previous=previous)
    return text.splitlines()


def kubectl(sim: Sim, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    assert KUBECTL, "kubectl is required"
    config = sim.server.write_kubeconfig(tmp_path / "kubeconfig")
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "-n", NS, *args], capture_output=True, text=True, timeout=60
    )


def query(sim: Sim, expr: str) -> list[dict]:
    from urllib.parse import quote

    return sim.get_json(f"/api/v1/query?query={quote(expr)}")["data"]["result"]


# ---------------------------------------------------------------------------------------------- images
def test_unknown_tag_of_a_public_image_fails_to_pull(sim: Sim) -> None:
    create_pod(sim, "nope", [{"name": "web", "image": "nginx:1.99.9-nope"}])
    create_pod(sim, "good", [{"name": "web", "image": "nginx:1.27"}])
    sim.advance(2.5)
    waiting = status(sim, "nope")["state"]["waiting"]
    ref = "docker.io/library/nginx:1.99.9-nope"
    assert waiting["reason"] == "ErrImagePull"
    assert waiting["message"] == (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f'failed to resolve reference "{ref}": {ref}: not found'
    )
    sim.advance(30)
    assert status(sim, "nope")["state"]["waiting"]["reason"] == "ImagePullBackOff"
    assert pod(sim, "nope")["status"]["phase"] == "Pending"
    failed = messages(sim, "nope", "Failed")
    assert f'Failed to pull image "nginx:1.99.9-nope": {waiting["message"]}' in failed
    assert {"Error: ErrImagePull", "Error: ImagePullBackOff"} <= set(failed)
    assert messages(sim, "nope", "BackOff") == ['Back-off pulling image "nginx:1.99.9-nope"']
    # A tag nginx publishes runs nginx: its entrypoint's log, listening on port 80.
    assert "running" in status(sim, "good")["state"]
    assert "Configuration complete; ready for start up" in log(sim, "good")[1]


def test_private_registry_without_pull_secret_is_unauthorized(sim: Sim) -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:1.4.2"
    create_pod(sim, "private", [{"name": "api", "image": image}])
    sim.advance(20)
    assert status(sim, "private")["state"]["waiting"]["reason"] == "ImagePullBackOff"
    failed = messages(sim, "private", "Failed")
    assert (
        f'Failed to pull image "{image}": rpc error: code = Unknown desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": unexpected status from HEAD request to '
        "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/team/api/manifests/1.4.2: 401 Unauthorized"
    ) in failed
    # With a pull secret for that registry the same image pulls and runs.
    auth = {"auths": {"123456789012.dkr.ecr.us-east-1.amazonaws.com": {"auth": base64.b64encode(b"AWS:x").decode()}}}
    secret = {
        "metadata": {"name": "ecr"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(auth).encode()).decode()},
    }
    sim.core.create_namespaced_secret(NS, secret)
    create_pod(sim, "authorized", [{"name": "api", "image": image}], imagePullSecrets=[{"name": "ecr"}])
    create_pod(sim, "typo", [{"name": "api", "image": image}], imagePullSecrets=[{"name": "ecr-typo"}])
    sim.advance(10)
    assert "running" in status(sim, "authorized")["state"]
    assert messages(sim, "typo", "FailedToRetrieveImagePullSecret") == [
        "Unable to retrieve some image pull secrets (ecr-typo); attempting to pull the image may not succeed."
    ]


def test_container_that_crashes_at_start_crash_loops_with_its_traceback(sim: Sim, tmp_path: Path) -> None:
    create_deployment(sim, "orders", [{"name": "orders", "image": "registry.example.com/team/orders:1.3"}])
    sim.advance(60)
    (p,) = pods_of(sim, "orders")
    name = p["metadata"]["name"]
    cs = container_statuses(p)[0]
    assert cs["restartCount"] >= 2 and cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    last = cs["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("Error", 1)
    assert messages(sim, name, "BackOff") == [
        f"Back-off restarting failed container orders in pod {name}_{NS}({p['metadata']['uid']})"
    ]
    previous = kubectl(sim, tmp_path, "logs", name, "--previous")
    assert previous.returncode == 0, previous.stderr
    assert previous.stdout.splitlines()[-1] == "KeyError: 'DATABASE_URL'"


def test_logs_previous_without_a_previous_instance_is_a_bad_request(sim: Sim, tmp_path: Path) -> None:
    create_pod(sim, "steady", [{"name": "web", "image": "nginx:1.27"}])
    sim.advance(10)
    with pytest.raises(ApiException) as err:
        sim.core.read_namespaced_pod_log("steady", NS, previous=True)
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == 'previous terminated container "web" in pod "steady" not found'
    out = kubectl(sim, tmp_path, "logs", "steady", "--previous")
    assert out.returncode == 1
    assert 'previous terminated container "web" in pod "steady" not found' in out.stderr


def test_image_default_commands(sim: Sim) -> None:
    # busybox's CMD is `sh`: without a terminal it exits at once, and the Deployment crash-loops.
    create_pod(sim, "shell", [{"name": "box", "image": "busybox:1.37"}])
    # postgres refuses to start without a superuser password.
    create_pod(sim, "db", [{"name": "postgres", "image": "postgres:17.2"}])
    create_pod(
        sim,
        "db-ok",
        [{"name": "postgres", "image": "postgres:17.2", "env": [{"name": "POSTGRES_PASSWORD", "value": "x"}]}],
    )
    sim.advance(40)
    shell = status(sim, "shell")
    assert (
        shell["lastState"]["terminated"]["reason"] == "Completed" and shell["lastState"]["terminated"]["exitCode"] == 0
    )
    assert shell["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    db = status(sim, "db")
    assert db["lastState"]["terminated"]["exitCode"] == 1
    assert log(sim, "db", previous=True)[:2] == [
        "Error: Database is uninitialized and superuser password is not specified.",
        "       You must specify POSTGRES_PASSWORD to a non-empty value for the",
    ]
    assert "running" in status(sim, "db-ok")["state"] and status(sim, "db-ok")["restartCount"] == 0
    # Entrypoint scripts run their arguments (what `kubectl run --image=curlimages/curl -- curl ...` sends).
    create_pod(
        sim,
        "curl-args",
        [{"name": "c", "image": "curlimages/curl:8.11.1", "args": ["curl", "-sS", "http://gone/"]}],
        restartPolicy="Never",
    )
    create_pod(sim, "curl-bare", [{"name": "c", "image": "curlimages/curl:8.11.1"}], restartPolicy="Never")
    create_pod(
        sim, "node-app", [{"name": "c", "image": "node:20-alpine", "args": ["node", "server.js"], "workingDir": "/app"}]
    )
    sim.advance(5)
    assert log(sim, "curl-args") == ["curl: (6) Could not resolve host: gone"]
    assert log(sim, "curl-bare") == ["curl: try 'curl --help' or 'curl --manual' for more information"]
    assert status(sim, "curl-bare")["state"]["terminated"]["exitCode"] == 2
    assert "Error: Cannot find module '/app/server.js'" in log(sim, "node-app")
    # A command the image does not have cannot start.
    create_pod(sim, "missing", [{"name": "box", "image": "alpine:3.20", "command": ["gunicorn", "app:app"]}])
    sim.advance(5)
    last = status(sim, "missing")
    terminated = last["state"].get("terminated") or last["lastState"]["terminated"]
    assert terminated["reason"] == "StartError" and terminated["exitCode"] == 128
    assert 'exec: "gunicorn": executable file not found in $PATH: unknown' in terminated["message"]


# ---------------------------------------------------------------------------------------------- shell
def test_shell_exit_codes_logs_and_env(sim: Sim) -> None:
    script = 'echo "hello $WHO"; false || echo recovered; true && echo chained; cat /etc/app/missing.conf; exit 3'
    env = [{"name": "WHO", "value": "world"}]
    create_pod(
        sim,
        "script",
        [{"name": "sh", "image": "busybox:1.37", "command": ["sh", "-c", script], "env": env}],
        restartPolicy="Never",
    )
    create_pod(
        sim,
        "done",
        [{"name": "sh", "image": "alpine:3.20", "command": ["sh", "-c", "sleep 5; echo finished"]}],
        restartPolicy="Never",
    )
    create_pod(sim, "idle", [{"name": "sh", "image": "ubuntu:24.04", "command": ["tail", "-f", "/dev/null"]}])
    sim.advance(3)
    assert pod(sim, "done")["status"]["phase"] == "Running"  # still sleeping
    sim.advance(10)
    p = pod(sim, "script")
    assert p["status"]["phase"] == "Failed"
    terminated = container_statuses(p)[0]["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("Error", 3)
    assert log(sim, "script") == [
        "hello world",
        "recovered",
        "chained",
        "cat: can't open '/etc/app/missing.conf': No such file or directory",
    ]
    done = pod(sim, "done")
    assert done["status"]["phase"] == "Succeeded"
    assert container_statuses(done)[0]["state"]["terminated"]["reason"] == "Completed"
    assert log(sim, "done") == ["finished"]
    sim.advance(600)
    assert "running" in status(sim, "idle")["state"] and status(sim, "idle")["restartCount"] == 0


def test_init_container_crash_keeps_the_pod_initializing(sim: Sim) -> None:
    init = {"name": "check-config", "image": "busybox:1.37", "command": ["sh", "-c", "cat /config/settings.yaml"]}
    create_pod(sim, "init", [{"name": "web", "image": "nginx:1.27"}], initContainers=[init])
    sim.advance(60)
    p = pod(sim, "init")
    ics = container_statuses(p, init=True)[0]
    assert p["status"]["phase"] == "Pending"
    assert ics["restartCount"] >= 2 and ics["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert ics["lastState"]["terminated"]["exitCode"] == 1
    assert status(sim, "init")["state"]["waiting"]["reason"] == "PodInitializing"
    assert condition(p, "Initialized")["message"] == "containers with incomplete status: [check-config]"
    assert log(sim, "init", "check-config", previous=True) == [
        "cat: can't open '/config/settings.yaml': No such file or directory"
    ]


# ---------------------------------------------------------------------------------------------- memory and CPU
def test_memory_hog_over_its_limit_is_oom_killed_bare_pod(sim: Sim) -> None:
    # The Kubernetes docs' memory-demo-2: stress allocates 250M against a 100Mi limit.
    hog = {
        "name": "memory-demo-2-ctr",
        "image": "polinux/stress",
        "command": ["stress"],
        "args": ["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"],
        "resources": {"requests": {"memory": "50Mi"}, "limits": {"memory": "100Mi"}},
    }
    fits = {**hog, "name": "fits", "args": ["--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1"]}
    fits["resources"] = {"limits": {"memory": "200Mi"}}
    create_pod(sim, "memory-demo-2", [hog])
    create_pod(sim, "memory-demo", [fits])
    sim.advance(60)
    cs = status(sim, "memory-demo-2")
    assert cs["restartCount"] >= 2 and cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert (cs["lastState"]["terminated"]["reason"], cs["lastState"]["terminated"]["exitCode"]) == ("OOMKilled", 137)
    assert status(sim, "memory-demo")["restartCount"] == 0
    series = query(sim, 'container_memory_working_set_bytes{pod="memory-demo"}')
    assert 150 * 2**20 <= float(series[0]["value"][1]) <= 200 * 2**20


def test_memory_hog_over_its_limit_is_oom_killed_deployment(sim: Sim) -> None:
    leak = "data = bytearray(512 * 1024 * 1024); import time; time.sleep(3600)"
    create_deployment(
        sim,
        "leaky",
        [
            {
                "name": "app",
                "image": "python:3.12-slim",
                "command": ["python", "-c", leak],
                "resources": {"limits": {"memory": "256Mi"}},
            }
        ],
        replicas=2,
    )
    sim.advance(60)
    pods = pods_of(sim, "leaky")
    assert len(pods) == 2
    for p in pods:
        cs = container_statuses(p)[0]
        assert cs["restartCount"] >= 1
        assert cs["lastState"]["terminated"]["reason"] == "OOMKilled"
    reasons = query(sim, 'kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}')
    assert len(reasons) == 2


def test_busy_loop_over_its_cpu_limit_is_throttled(sim: Sim) -> None:
    def limited(pod: str, image: str, cpu: str, **run: list[str]) -> None:
        create_pod(sim, pod, [{"name": pod, "image": image, **run, "resources": {"limits": {"cpu": cpu}}}])

    limited("spin", "busybox:1.37", "200m", command=["sh", "-c", "while true; do :; done"])
    limited("burn", "progrium/stress", "1", args=["--cpu", "2"])
    # An image the catalogue does not know, named after the tool it runs: the tool still does what its
    # arguments say (it is not taken for a server).
    limited("uncatalogued", "registry.example.com/tools/stress:1.0", "100m", command=["stress", "--cpu", "4"])
    limited("calm", "busybox:1.37", "200m", command=["sleep", "3600"])
    sim.advance(600)
    ratio = (
        "sum by (pod) (increase(container_cpu_cfs_throttled_periods_total[5m]))"
        " / sum by (pod) (increase(container_cpu_cfs_periods_total[5m]))"
    )
    by_pod = {r["metric"]["pod"]: float(r["value"][1]) for r in query(sim, ratio)}
    assert by_pod["spin"] > 0.25 and by_pod["burn"] > 0.25 and by_pod["uncatalogued"] > 0.25 and by_pod["calm"] == 0
    usage = {
        r["metric"]["pod"]: float(r["value"][1]) for r in query(sim, "rate(container_cpu_usage_seconds_total[5m])")
    }
    assert usage["spin"] == pytest.approx(0.2, rel=0.05) and usage["burn"] == pytest.approx(1.0, rel=0.05)


def test_unlimited_memory_hog_puts_the_node_under_pressure_and_is_evicted(sim: Sim) -> None:
    create_pod(
        sim, "hog", [{"name": "stress", "image": "alexeiled/stress-ng", "args": ["--vm", "4", "--vm-bytes", "8G"]}]
    )
    sim.advance(30)
    p = pod(sim, "hog")
    node_name = p["spec"]["nodeName"]
    assert p["status"]["phase"] == "Failed" and p["status"]["reason"] == "Evicted"
    message = p["status"]["message"]
    assert message.startswith("The node was low on resource: memory. Threshold quantity: 100Mi, available: ")
    assert "Container stress was using " in message and ", request is 0, has larger consumption of memory. " in message
    disruption = condition(p, "DisruptionTarget")
    assert (disruption["status"], disruption["reason"]) == ("True", "TerminationByKubelet")
    assert messages(sim, "hog", "Evicted") == [message]
    node = raw(sim.core.read_node(node_name, _preload_content=False))
    pressure = condition(node, "MemoryPressure")
    assert (pressure["status"], pressure["reason"]) == ("True", "KubeletHasInsufficientMemory")
    assert {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}.items() <= next(
        t for t in node["spec"]["taints"] if t["key"] == "node.kubernetes.io/memory-pressure"
    ).items()
    node_events = {e["reason"] for e in events_for(sim, NS, node_name, kind="Node")}
    assert {"NodeHasInsufficientMemory", "EvictionThresholdMet"} <= node_events
    # After the pressure transition period without pressure the condition and taint clear.
    sim.advance(330)
    node = raw(sim.core.read_node(node_name, _preload_content=False))
    assert condition(node, "MemoryPressure")["status"] == "False"
    assert not any(t["key"] == "node.kubernetes.io/memory-pressure" for t in node["spec"].get("taints") or [])


def test_eviction_picks_the_pod_furthest_over_its_request(sim: Sim) -> None:
    guaranteed = {"requests": {"memory": "20Gi", "cpu": "1"}, "limits": {"memory": "20Gi", "cpu": "1"}}
    create_pod(
        sim,
        "big",
        [
            {
                "name": "db",
                "image": "alexeiled/stress-ng",
                "args": ["--vm", "1", "--vm-bytes", "18G"],
                "resources": guaranteed,
            }
        ],
        nodeName="sim-worker",
    )
    create_pod(
        sim,
        "besteffort",
        [{"name": "cache", "image": "alexeiled/stress-ng", "args": ["--vm", "1", "--vm-bytes", "14G"]}],
        nodeName="sim-worker",
    )
    sim.advance(30)
    assert pod(sim, "besteffort")["status"].get("reason") == "Evicted"
    assert pod(sim, "big")["status"]["phase"] == "Running"


# ---------------------------------------------------------------------------------------------- probes
def test_exec_liveness_probe_follows_the_files_the_script_writes(sim: Sim) -> None:
    # The Kubernetes docs' liveness-exec example.
    script = "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5, "periodSeconds": 5}
    create_pod(
        sim,
        "liveness-exec",
        [{"name": "liveness", "image": "busybox:1.37", "args": ["/bin/sh", "-c", script], "livenessProbe": probe}],
    )
    sim.advance(25)
    assert status(sim, "liveness-exec")["restartCount"] == 0 and not messages(sim, "liveness-exec", "Unhealthy")
    sim.advance(25)
    cs = status(sim, "liveness-exec")
    assert cs["restartCount"] == 1
    assert (cs["lastState"]["terminated"]["exitCode"], cs["lastState"]["terminated"]["reason"]) == (137, "Error")
    assert messages(sim, "liveness-exec", "Unhealthy") == [
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"
    ]
    assert messages(sim, "liveness-exec", "Killing") == ["Container liveness failed liveness probe, will be restarted"]


def test_http_liveness_probe_of_a_server_that_starts_failing(sim: Sim) -> None:
    # The Kubernetes docs' liveness-http example: /healthz answers 500 after 10 seconds.
    probe = {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 3, "periodSeconds": 3}
    agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.40"
    create_pod(
        sim, "liveness-http", [{"name": "liveness", "image": agnhost, "args": ["liveness"], "livenessProbe": probe}]
    )
    sim.advance(10)
    assert status(sim, "liveness-http")["restartCount"] == 0
    sim.advance(15)
    cs = status(sim, "liveness-http")
    assert cs["restartCount"] == 1 and cs["lastState"]["terminated"]["exitCode"] == 137
    assert messages(sim, "liveness-http", "Unhealthy") == [
        "Liveness probe failed: HTTP probe failed with statuscode: 500"
    ]
    assert messages(sim, "liveness-http", "Killing") == ["Container liveness failed liveness probe, will be restarted"]


def test_readiness_probes_against_what_the_process_listens_on(sim: Sim) -> None:
    http = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5}
    create_pod(
        sim, "shell", [{"name": "app", "image": "busybox:1.37", "command": ["sleep", "3600"], "readinessProbe": http}]
    )
    create_pod(sim, "nginx", [{"name": "web", "image": "nginx:1.27", "readinessProbe": http}])
    wrong = {"tcpSocket": {"port": 8080}, "periodSeconds": 5}
    create_pod(sim, "nginx-8080", [{"name": "web", "image": "nginx:1.27", "readinessProbe": wrong}])
    sim.advance(30)
    shell = pod(sim, "shell")
    ip = shell["status"]["podIP"]
    assert not is_ready(shell) and shell["status"]["phase"] == "Running"
    assert messages(sim, "shell", "Unhealthy") == [
        f'Readiness probe failed: Get "http://{ip}:80/": dial tcp {ip}:80: connect: connection refused'
    ]
    assert is_ready(pod(sim, "nginx"))
    other = pod(sim, "nginx-8080")
    assert not is_ready(other)
    ip = other["status"]["podIP"]
    assert messages(sim, "nginx-8080", "Unhealthy") == [
        f"Readiness probe failed: dial tcp {ip}:8080: connect: connection refused"
    ]


# ---------------------------------------------------------------------------------------------- references
def test_missing_configmap_secret_and_key(sim: Sim) -> None:
    env_cm = [{"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "LOG_LEVEL"}}}]
    create_pod(sim, "no-cm", [{"name": "app", "image": "nginx:1.27", "env": env_cm}])
    create_pod(
        sim, "no-secret", [{"name": "app", "image": "nginx:1.27", "envFrom": [{"secretRef": {"name": "db-creds"}}]}]
    )
    volume = [{"name": "creds", "secret": {"secretName": "tls-certs"}}]
    mount = [{"name": "creds", "mountPath": "/etc/tls"}]
    create_pod(sim, "no-volume", [{"name": "app", "image": "nginx:1.27", "volumeMounts": mount}], volumes=volume)
    sim.advance(10)
    assert status(sim, "no-cm")["state"]["waiting"] == {
        "reason": "CreateContainerConfigError",
        "message": 'configmap "app-config" not found',
    }
    assert 'Error: configmap "app-config" not found' in messages(sim, "no-cm", "Failed")
    assert status(sim, "no-secret")["state"]["waiting"]["message"] == 'secret "db-creds" not found'
    assert status(sim, "no-volume")["state"]["waiting"]["reason"] == "ContainerCreating"
    assert messages(sim, "no-volume", "FailedMount") == [
        'MountVolume.SetUp failed for volume "creds" : secret "tls-certs" not found'
    ]
    sim.core.create_namespaced_config_map(NS, {"metadata": {"name": "app-config"}, "data": {"OTHER": "x"}})
    sim.advance(5)
    assert (
        status(sim, "no-cm")["state"]["waiting"]["message"]
        == "couldn't find key LOG_LEVEL in ConfigMap default/app-config"
    )


# ---------------------------------------------------------------------------------------------- network clients
def test_a_start_up_dependency_named_in_env_must_resolve(sim: Sim) -> None:
    sim.core.create_namespaced_service(NS, {"metadata": {"name": "db"}, "spec": {"ports": [{"port": 5432}]}})

    def checkout(name: str, host: str) -> None:
        env = [{"name": "DB_HOST", "value": host}, {"name": "DB_PORT", "value": "5433"}]
        create_pod(sim, name, [{"name": "checkout", "image": "registry.example.com/team/checkout:1", "env": env}])

    checkout("good", "db")  # a Service without endpoints still resolves: the app waits for it
    checkout("bad", "db-prod")
    sim.advance(60)
    assert status(sim, "good")["state"].get("running") and status(sim, "good")["restartCount"] == 0
    bad = status(sim, "bad")
    assert bad["restartCount"] >= 1 and bad["lastState"]["terminated"]["exitCode"] == 1
    assert "cannot reach database db-prod:5433: Name or service not known" in log(sim, "bad", previous=True)


def test_a_per_request_dependency_that_does_not_resolve_fails_each_request(sim: Sim) -> None:
    env = [{"name": "API_URL", "value": "https://memcom/gimme/"}]
    create_pod(sim, "front", [{"name": "front", "image": "registry.example.com/team/front:1", "env": env}])
    sim.advance(20)
    assert status(sim, "front")["ready"] and "Failed to resolve 'memcom'" not in log(sim, "front")
    ip = pod(sim, "front")["status"]["podIP"]
    for name in ("c1", "c2"):
        command = ["curl", "-sS", "-f", f"http://{ip}:5000/"]
        create_pod(
            sim, name, [{"name": "c", "image": "curlimages/curl:8.11.1", "command": command}], restartPolicy="Never"
        )
    sim.advance(20)
    assert log(sim, "front").count("Failed to resolve 'memcom'") == 2
    assert log(sim, "c1") == ["curl: (22) The requested URL returned error: 500"]


def test_http_clients_resolve_services_and_obey_endpoints_and_policies(sim: Sim) -> None:
    create_pod(sim, "web", [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}])
    for name, selector, target in (
        ("web", {"app": "web"}, 80),
        ("empty", {"app": "nobody"}, 80),
        ("wrong", {"app": "web"}, 8080),
    ):
        svc = {
            "metadata": {"name": name},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": target}]},
        }
        sim.core.create_namespaced_service(NS, svc)
    sim.advance(10)

    def client(name: str, command: list[str], image: str = "curlimages/curl:8.11.1") -> None:
        create_pod(sim, name, [{"name": "c", "image": image, "command": command}], restartPolicy="Never")

    client("dns", ["curl", "-sS", "http://orders-api/healthz"])
    client("short", ["curl", "-sS", "http://web/"])
    client("fqdn", ["curl", "-sS", "-f", "http://web.default.svc.cluster.local/"])
    client("no-endpoints", ["curl", "-sS", "http://empty.default/"])
    client("target-port", ["curl", "-sS", "http://wrong/"])
    client("service-port", ["curl", "-sS", "--connect-timeout", "3", "http://web:8080/"])
    client("wget", ["wget", "-q", "-O-", "http://orders-api.default:8080/"], image="busybox:1.37")
    sim.advance(10)

    def result(name: str) -> tuple[int, list[str]]:
        return container_statuses(pod(sim, name))[0]["state"]["terminated"]["exitCode"], log(sim, name)

    assert result("dns") == (6, ["curl: (6) Could not resolve host: orders-api"])
    assert result("short") == (0, []) and result("fqdn") == (0, [])
    assert result("no-endpoints") == (
        7,
        ["curl: (7) Failed to connect to empty.default port 80 after 0 ms: Couldn't connect to server"],
    )
    assert result("wget") == (1, ["wget: bad address 'orders-api.default'"])
    # The Service sends to a port nginx does not listen on: the pod refuses.
    assert result("target-port") == (
        7,
        ["curl: (7) Failed to connect to wrong port 80 after 0 ms: Couldn't connect to server"],
    )
    # A port the Service does not expose: nothing answers on the cluster IP.
    assert result("service-port") == (28, ["curl: (28) Connection timed out after 3001 milliseconds"])
    assert pod(sim, "dns")["status"]["phase"] == "Failed" and pod(sim, "short")["status"]["phase"] == "Succeeded"
    # A default-deny ingress policy on the server: the connection times out.
    deny = {
        "metadata": {"name": "deny"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]},
    }
    sim.networking.create_namespaced_network_policy(NS, deny)
    client("blocked", ["curl", "-sS", "--max-time", "5", "http://web/"])
    sim.advance(3)
    assert pod(sim, "blocked")["status"]["phase"] == "Running"  # still waiting on the connection
    sim.advance(10)
    assert result("blocked") == (28, ["curl: (28) Connection timed out after 5001 milliseconds"])


def test_common_memory_and_cpu_idioms(sim: Sim) -> None:
    limits = {"limits": {"memory": "128Mi", "cpu": "500m"}}
    idioms = {
        "tail-zero": ["sh", "-c", "tail /dev/zero"],
        "shm-fill": ["sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M"],
        "py-leak": ["python3", "-c", "a = []\nwhile True:\n    a.append(' ' * 10**7)"],
        "py-string": ["python3", "-c", "s = ' ' * (512 * 1024 * 1024); input()"],
    }
    for name, command in idioms.items():
        image = "python:3.12" if command[0].startswith("python") else "busybox:1.37"
        create_pod(sim, name, [{"name": "c", "image": image, "command": command, "resources": limits}])
    create_pod(
        sim,
        "yes",
        [{"name": "c", "image": "busybox:1.37", "command": ["sh", "-c", "yes > /dev/null"], "resources": limits}],
    )
    sim.advance(30)
    for name in idioms:
        last = status(sim, name)["lastState"].get("terminated") or {}
        assert last.get("reason") == "OOMKilled", name
    assert status(sim, "yes")["restartCount"] == 0
    sim.advance(300)
    usage = query(sim, 'rate(container_cpu_usage_seconds_total{pod="yes"}[5m])')
    assert float(usage[0]["value"][1]) == pytest.approx(0.5, rel=0.05)


def test_files_every_container_sees(sim: Sim) -> None:
    script = "cat /etc/resolv.conf; cat /sys/fs/cgroup/memory.max; test -f /etc/hostname && echo has-hostname"
    create_pod(
        sim,
        "files",
        [
            {
                "name": "c",
                "image": "busybox:1.37",
                "command": ["sh", "-c", script],
                "resources": {"limits": {"memory": "64Mi"}},
            }
        ],
        restartPolicy="Never",
    )
    sim.advance(5)
    assert log(sim, "files") == [
        "search default.svc.cluster.local svc.cluster.local cluster.local",
        "nameserver 10.96.0.10",
        "options ndots:5",
        str(64 * 2**20),
        "has-hostname",
    ]


def test_http_errors_dns_timeouts_and_localhost(sim: Sim) -> None:
    ready = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5}
    web = {"name": "web", "image": "registry.example.com/team/web:2.1", "readinessProbe": ready}
    create_pod(sim, "web", [web])
    svc = {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    sim.core.create_namespaced_service(NS, svc)
    sim.advance(20)
    assert not is_ready(pod(sim, "web"))
    assert messages(sim, "web", "Unhealthy") == ["Readiness probe failed: HTTP probe failed with statuscode: 503"]
    # Straight to the pod (a Service only sends to ready pods): curl -f fails on the 503, wget too.
    ip = pod(sim, "web")["status"]["podIP"]
    curl = ["curl", "-sSf", f"http://{ip}:8080/"]
    create_pod(sim, "fail", [{"name": "c", "image": "curlimages/curl:8.11.1", "command": curl}], restartPolicy="Never")
    wget = ["wget", "-q", "-O-", f"http://{ip}:8080/"]
    create_pod(sim, "wget", [{"name": "c", "image": "busybox:1.37", "command": wget}], restartPolicy="Never")
    local = ["sh", "-c", "curl -sS http://localhost:8080/ || echo no-local-server"]
    create_pod(
        sim, "local", [{"name": "c", "image": "curlimages/curl:8.11.1", "command": local}], restartPolicy="Never"
    )
    sim.advance(5)
    assert log(sim, "fail") == ["curl: (22) The requested URL returned error: 503"]
    assert status(sim, "fail")["state"]["terminated"]["exitCode"] == 22
    assert log(sim, "wget") == ["wget: server returned error: HTTP/1.1 503 Service Unavailable"]
    assert log(sim, "local") == [
        "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn't connect to server",
        "no-local-server",
    ]
    # Egress denied to everything, DNS included: the resolver times out before curl gives up on the name.
    deny = {
        "metadata": {"name": "no-egress"},
        "spec": {"podSelector": {"matchLabels": {"app": "isolated"}}, "policyTypes": ["Egress"]},
    }
    sim.networking.create_namespaced_network_policy(NS, deny)
    create_pod(
        sim,
        "isolated",
        [{"name": "c", "image": "curlimages/curl:8.11.1", "command": ["curl", "-sS", "http://web/"]}],
        restartPolicy="Never",
    )
    sim.advance(5)
    assert pod(sim, "isolated")["status"]["phase"] == "Running"
    sim.advance(10)
    assert log(sim, "isolated") == ["curl: (6) Could not resolve host: web"]


def test_start_guard_in_a_script_follows_the_environment(sim: Sim) -> None:
    guard = 'if [ -z "$DATABASE_URL" ]; then echo "DATABASE_URL is not set" >&2; exit 1; fi; exec sleep infinity'
    env = [{"name": "DATABASE_URL", "valueFrom": {"configMapKeyRef": {"name": "db", "key": "url", "optional": True}}}]
    create_pod(sim, "guarded", [{"name": "app", "image": "alpine:3.20", "command": ["sh", "-c", guard], "env": env}])
    sim.advance(30)
    cs = status(sim, "guarded")
    assert cs["restartCount"] >= 2 and cs["lastState"]["terminated"]["exitCode"] == 1
    assert log(sim, "guarded", previous=True) == ["DATABASE_URL is not set"]
    sim.core.create_namespaced_config_map(NS, {"metadata": {"name": "db"}, "data": {"url": "postgres://db:5432/app"}})
    sim.core.delete_namespaced_pod("guarded", NS, grace_period_seconds=0)
    sim.advance(5)
    create_pod(sim, "guarded", [{"name": "app", "image": "alpine:3.20", "command": ["sh", "-c", guard], "env": env}])
    sim.advance(30)
    cs = status(sim, "guarded")
    assert "running" in cs["state"] and cs["restartCount"] == 0
