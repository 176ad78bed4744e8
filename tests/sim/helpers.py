"""Shared helpers for simulator tests: a served cluster read through the official client, the
Alertmanager API, waiting on the virtual clock, and kubectl's `rollout undo` as a JSON patch."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from orchestrator.sim.cluster import Cluster
from orchestrator.sim.runner import SimulatorServer
from orchestrator.sim.scenario import apply_plan
from orchestrator.tools.workload_writes import deployment_rollback_patch

REVISION = "deployment.kubernetes.io/revision"
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass
class Sim:
    """A served cluster and the API objects a test reads it with."""

    server: SimulatorServer
    api: client.ApiClient
    injected: list[dict] = field(default_factory=list)

    @property
    def cluster(self) -> Cluster:
        return self.server.cluster

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def autoscaling(self) -> client.AutoscalingV2Api:
        return client.AutoscalingV2Api(self.api)

    @property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api)

    @property
    def networking(self) -> client.NetworkingV1Api:
        return client.NetworkingV1Api(self.api)

    @property
    def scheduling(self) -> client.SchedulingV1Api:
        return client.SchedulingV1Api(self.api)

    def advance(self, seconds: float) -> dict:
        return self.server.advance(seconds)

    def wait_for(self, check: Callable[[], Any], timeout: float = 900, step: float = 30.0) -> Any:
        """Advance the virtual clock `step` seconds at a time until check() is truthy; its last value
        (falsy on timeout)."""
        waited = 0.0
        while True:
            value = check()
            if value or waited >= timeout:
                return value
            self.advance(step)
            waited += step

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """The simulator's control API: `path` under /sim/v1/ (advance, state, inject, reliability)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.server.url}/sim/v1/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    # ------------------------------------------------------------------ raw reads (JSON as served)
    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.server.url}{path}", timeout=30) as resp:
            return json.loads(resp.read())

    def alerts(self) -> list[dict]:
        """Active alerts from the Alertmanager v2 API."""
        return [
            a for a in self.get_json("/api/v2/alerts") if (a.get("status") or {}).get("state", "active") == "active"
        ]


@contextmanager
def served_plan(plan: dict) -> Iterator[Sim]:
    """Build the cluster in-process from a plan, then serve it for the official client."""
    cluster = Cluster()
    apply_plan(cluster, plan)
    server = SimulatorServer(cluster)
    server.start_thread()
    try:
        api = client.ApiClient(server.client_configuration())
        try:
            yield Sim(server, api, injected=list(cluster.injected))
        finally:
            api.close()
    finally:
        server.stop()


def raw(resp: Any) -> Any:
    """The JSON body of a `_preload_content=False` call."""
    return json.loads(resp.data)


# ---------------------------------------------------------------------------------------------- pods
def workload_pod_pattern(name: str, kind: str = "Deployment") -> re.Pattern[str]:
    if kind == "StatefulSet":
        return re.compile(rf"^{re.escape(name)}-\d+$")
    return re.compile(rf"^{re.escape(name)}-[a-z0-9]{{6,10}}-[a-z0-9]{{5}}$")


def workload_pods(sim: Sim, namespace: str, name: str, kind: str = "Deployment") -> list[dict]:
    """The workload's pods by name (what `kubectl get pods | grep` shows), as raw JSON."""
    pattern = workload_pod_pattern(name, kind)
    items = raw(sim.core.list_namespaced_pod(namespace, _preload_content=False))["items"]
    return [p for p in items if pattern.match(p["metadata"]["name"]) and not p["metadata"].get("deletionTimestamp")]


def container_statuses(pod: dict, init: bool = False) -> list[dict]:
    return (pod.get("status") or {}).get("initContainerStatuses" if init else "containerStatuses") or []


def waiting_reasons(pod: dict, init: bool = False) -> set[str]:
    return {((s.get("state") or {}).get("waiting") or {}).get("reason", "") for s in container_statuses(pod, init)} - {
        ""
    }


def is_ready(pod: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def condition(pod: dict, ctype: str) -> dict:
    return next((c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == ctype), {})


def pod_events(sim: Sim, namespace: str, pod_name: str) -> list[dict]:
    selector = f"involvedObject.name={pod_name}"
    return raw(sim.core.list_namespaced_event(namespace, field_selector=selector, _preload_content=False))["items"]


def events_for(sim: Sim, namespace: str, name: str, kind: str | None = None) -> list[dict]:
    selector = f"involvedObject.name={name}" + (f",involvedObject.kind={kind}" if kind else "")
    return raw(sim.core.list_namespaced_event(namespace, field_selector=selector, _preload_content=False))["items"]


def healthy(sim: Sim, namespace: str, name: str) -> bool:
    """Every desired replica exists, is Running and Ready, and no stale pod is left over."""
    dep = raw(sim.apps.read_namespaced_deployment(name, namespace, _preload_content=False))
    want = int(dep["spec"].get("replicas", 1))
    pods = workload_pods(sim, namespace, name)
    ready = [p for p in pods if (p.get("status") or {}).get("phase") == "Running" and is_ready(p)]
    status = dep.get("status") or {}
    return len(pods) == want and len(ready) == want and int(status.get("availableReplicas", 0)) == want


# ---------------------------------------------------------------------------------------------- alerts
def matching_alerts(
    sim: Sim, names: set[str], namespace: str, workload: str | None = None, service: str | None = None
) -> list[dict]:
    """Active alerts with one of `names` in the namespace, narrowed to a workload/service if given."""
    out = []
    for a in sim.alerts():
        labels = a.get("labels") or {}
        if labels.get("alertname") not in names or labels.get("namespace") != namespace:
            continue
        if workload is not None and "workload" in labels and labels["workload"] != workload:
            continue
        if service is not None and "service" in labels and labels["service"] != service:
            continue
        out.append(a)
    return out


def firing(sim: Sim, name: str, namespace: str, workload: str | None = None, service: str | None = None) -> bool:
    return bool(matching_alerts(sim, {name}, namespace, workload, service))


# ---------------------------------------------------------------------------------------------- kubectl
def replica_sets(sim: Sim, namespace: str, name: str) -> tuple[dict, list[dict]]:
    dep = raw(sim.apps.read_namespaced_deployment(name, namespace, _preload_content=False))
    sel = ",".join(f"{k}={v}" for k, v in sorted(dep["spec"]["selector"]["matchLabels"].items()))
    items = raw(sim.apps.list_namespaced_replica_set(namespace, label_selector=sel, _preload_content=False))["items"]
    owned = [
        rs
        for rs in items
        if any(r.get("uid") == dep["metadata"]["uid"] for r in rs["metadata"].get("ownerReferences") or [])
    ]
    return dep, owned


def _revision(obj: dict) -> int:
    return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))


def previous_template(sim: Sim, namespace: str, name: str) -> dict:
    """The pod template of the revision before the current one (`kubectl rollout history --revision`)."""
    dep, sets = replica_sets(sim, namespace, name)
    return _previous_rs(dep, sets)["spec"]["template"]


def _previous_rs(dep: dict, sets: list[dict]) -> dict:
    current = _revision(dep)
    older = [rs for rs in sets if 0 < _revision(rs) < current]
    if not older:
        raise AssertionError(f"deployment {dep['metadata']['name']}: no rollout history before revision {current}")
    return max(older, key=_revision)


def rollout_undo(sim: Sim, namespace: str, name: str) -> None:
    """`kubectl rollout undo deployment/<name>`: a JSON patch of spec.template (and annotations) back to
    the previous ReplicaSet's template without its pod-template-hash label, exactly as kubectl sends it."""
    dep, sets = replica_sets(sim, namespace, name)
    patch = deployment_rollback_patch(dep, _previous_rs(dep, sets))
    sim.apps.patch_namespaced_deployment(name, namespace, patch, _content_type=JSON_PATCH)


def patch_deployment(sim: Sim, namespace: str, name: str, ops: list[dict]) -> None:
    """What `kubectl edit` sends for a change: here as JSON patch operations."""
    sim.apps.patch_namespaced_deployment(name, namespace, ops, _content_type=JSON_PATCH)


def container_index(dep: dict, container: str) -> int:
    for i, c in enumerate(dep["spec"]["template"]["spec"]["containers"]):
        if c["name"] == container:
            return i
    raise AssertionError(f"no container {container} in deployment {dep['metadata']['name']}")


def read_deployment(sim: Sim, namespace: str, name: str) -> dict:
    return raw(sim.apps.read_namespaced_deployment(name, namespace, _preload_content=False))


def kubectl() -> str:
    """kubectl's path. It is required, not optional: .ci/run installs it, and a test that needs it must fail
    without it rather than skip."""
    import shutil

    path = shutil.which("kubectl")
    assert path, "kubectl is required (the CI script installs Debian's kubernetes-client)"
    return path
