"""Every simulated ITBench fault, end to end through the official client.

For each fault and each catalogue solution that applies on plain Kubernetes: build the cluster from a
plan (the demo warms up, then the fault is injected), serve it, see the catalogue's symptoms through
`kubernetes.client` and its alerts through the Alertmanager API, apply the solution as kubectl would,
advance the virtual clock and see the workload recover and the alerts clear.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from kubernetes.client.exceptions import ApiException

from orchestrator.sim.cluster import Cluster
from orchestrator.sim.faults import FAULTS, NOT_SIMULATED, FaultError, inject, validate_fault
from tests.sim.helpers import (
    MERGE,
    STRATEGIC,
    Sim,
    condition,
    container_index,
    container_statuses,
    healthy,
    is_ready,
    matching_alerts,
    patch_deployment,
    pod_events,
    previous_template,
    raw,
    read_deployment,
    rollout_undo,
    served_plan,
    waiting_reasons,
    workload_pods,
)

NS = "otel-demo"
DEMO = "opentelemetry-demo"
SYMPTOM_TIMEOUT = 600.0  # virtual seconds for a fault to show
ALERT_TIMEOUT = 600.0
HEAL_TIMEOUT = 900.0  # HPA scale-down waits out its 5-minute stabilisation window
APP_ALERTS = {"HighRequestErrorRate", "HighRequestLatency", "NoRequestsReceived"}


# ================================================================================================ cases
@dataclass
class Case:
    fault: str
    target: str  # the workload (or Service/Secret) named in args
    args: dict
    symptom: Callable[[Sim, Case], bool]
    alerts: tuple[str, ...]
    solutions: dict[str, Callable[[Sim, Case], None]]
    recovered: Callable[[Sim, Case], bool] | None = None  # default: the target workload is healthy
    options: dict = field(default_factory=dict)
    namespace: str = NS
    application: str = DEMO
    workload: str | None = None  # the workload behind a Service/Secret target, for recovery checks

    @property
    def deployment(self) -> str:
        return self.workload or self.target


def deployment_args(name: str, container: str | None = None, namespace: str = NS, **extra: object) -> dict:
    args: dict = {
        "kubernetesObject": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
        }
    }
    if container:
        args["container"] = {"name": container}
    args.update(extra)
    return args


def object_args(kind: str, name: str, namespace: str = NS, **extra: object) -> dict:
    return {
        "kubernetesObject": {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": namespace}},
        **extra,
    }


# ------------------------------------------------------------------------------------------ symptoms
def pods(sim: Sim, c: Case) -> list[dict]:
    return workload_pods(sim, c.namespace, c.deployment)


def pending_unschedulable(fragment: str) -> Callable[[Sim, Case], bool]:
    """A pod stays Pending, PodScheduled=False/Unschedulable, with a FailedScheduling event."""

    def check(sim: Sim, c: Case) -> bool:
        for p in pods(sim, c):
            sched = condition(p, "PodScheduled")
            if (
                p["status"].get("phase") == "Pending"
                and sched.get("status") == "False"
                and sched.get("reason") == "Unschedulable"
            ):
                events = [
                    e
                    for e in pod_events(sim, c.namespace, p["metadata"]["name"])
                    if e.get("reason") == "FailedScheduling"
                ]
                if any(fragment in e.get("message", "") for e in events):
                    return True
        return False

    return check


def init_crash_looping(sim: Sim, c: Case) -> bool:
    for p in pods(sim, c):
        inits = container_statuses(p, init=True)
        crashed = any(
            "CrashLoopBackOff" in waiting_reasons({"status": {"initContainerStatuses": [s]}}, init=True)
            and ((s.get("lastState") or {}).get("terminated") or {}).get("exitCode") == 1
            for s in inits
        )
        if (
            p["status"].get("phase") == "Pending"
            and crashed
            and waiting_reasons(p) <= {"PodInitializing"}
            and waiting_reasons(p)
        ):
            return True
    return False


def init_hanging(sim: Sim, c: Case) -> bool:
    for p in pods(sim, c):
        running = any("running" in (s.get("state") or {}) for s in container_statuses(p, init=True))
        if p["status"].get("phase") == "Pending" and running and waiting_reasons(p) == {"PodInitializing"}:
            return True
    return False


def crash_looping(terminated_reason: str | None = None) -> Callable[[Sim, Case], bool]:
    def check(sim: Sim, c: Case) -> bool:
        for p in pods(sim, c):
            for s in container_statuses(p):
                waiting = ((s.get("state") or {}).get("waiting") or {}).get("reason")
                last = (s.get("lastState") or {}).get("terminated") or {}
                if (
                    waiting == "CrashLoopBackOff"
                    and last
                    and (terminated_reason is None or last.get("reason") == terminated_reason)
                ):
                    return True
        return False

    return check


def image_pull_failing(sim: Sim, c: Case) -> bool:
    return any(
        p["status"].get("phase") == "Pending" and waiting_reasons(p) & {"ErrImagePull", "ImagePullBackOff"}
        for p in pods(sim, c)
    )


def pull_event(fragment: str) -> Callable[[Sim, Case], bool]:
    """A Failed event on one of the pods carries the runtime's pull error."""

    def check(sim: Sim, c: Case) -> bool:
        return any(
            e.get("reason") == "Failed" and fragment in e.get("message", "")
            for p in pods(sim, c)
            for e in pod_events(sim, c.namespace, p["metadata"]["name"])
        )

    return check


def running_not_ready(sim: Sim, c: Case) -> bool:
    for p in pods(sim, c):
        ready = condition(p, "Ready")
        if (
            p["status"].get("phase") == "Running"
            and ready.get("status") == "False"
            and ready.get("reason") == "ContainersNotReady"
        ):
            return True
    return False


def env_rolled(var: str, value: str) -> Callable[[Sim, Case], bool]:
    def check(sim: Sim, c: Case) -> bool:
        for p in pods(sim, c):
            env = {e["name"]: e.get("value") for e in p["spec"]["containers"][0].get("env") or []}
            if env.get(var) == value and p["status"].get("phase") == "Running" and is_ready(p):
                return True
        return False

    return check


def logs_mention(workload: str, text: str) -> Callable[[Sim, Case], bool]:
    """Some pod of `workload` logs `text` (the caller's view of the fault)."""

    def check(sim: Sim, c: Case) -> bool:
        for p in workload_pods(sim, c.namespace, workload):
            try:
                log = sim.core.read_namespaced_pod_log(
                    p["metadata"]["name"], c.namespace, container=p["spec"]["containers"][0]["name"]
                )
            except ApiException:
                continue
            if text in log:
                return True
        return False

    return check


def calls_failing(caller: str, callee: str) -> Callable[[Sim, Case], bool]:
    """The caller's calls to `callee` fail (Prometheus: app_call_errors_per_second > 0)."""

    def check(sim: Sim, c: Case) -> bool:
        query = f'app_call_errors_per_second{{namespace="{c.namespace}",service="{caller}",callee="{callee}"}} > 0'
        return bool(sim.get_json(f"/api/v1/query?query={urllib.parse.quote(query)}")["data"]["result"])

    return check


def policy_exists(sim: Sim, c: Case) -> bool:
    try:
        sim.networking.read_namespaced_network_policy(f"{c.deployment}-ingress", c.namespace)
    except ApiException:
        return False
    return True


def dns_policy_none(sim: Sim, c: Case) -> bool:
    return any(p["spec"].get("dnsPolicy") == "None" and p["status"].get("phase") == "Running" for p in pods(sim, c))


def both(*checks: Callable[[Sim, Case], bool]) -> Callable[[Sim, Case], bool]:
    return lambda sim, c: all(ch(sim, c) for ch in checks)


def service_target_port(port: int) -> Callable[[Sim, Case], bool]:
    def check(sim: Sim, c: Case) -> bool:
        svc = raw(sim.core.read_namespaced_service(c.target, c.namespace, _preload_content=False))
        return all(p.get("targetPort") == port for p in svc["spec"]["ports"])

    return check


def service_gone(sim: Sim, c: Case) -> bool:
    try:
        sim.core.read_namespaced_service(c.target, c.namespace)
    except ApiException as err:
        return err.status == 404
    return False


def no_endpoints(sim: Sim, c: Case) -> bool:
    ep = raw(sim.core.read_namespaced_endpoints(c.target, c.namespace, _preload_content=False))
    return not ep.get("subsets")


def scaled_to_zero(sim: Sim, c: Case) -> bool:
    return read_deployment(sim, c.namespace, c.deployment)["spec"]["replicas"] == 0 and not pods(sim, c)


def hpa_maxed(sim: Sim, c: Case) -> bool:
    hpa = raw(sim.autoscaling.read_namespaced_horizontal_pod_autoscaler(c.target, c.namespace, _preload_content=False))
    return (hpa.get("status") or {}).get("currentReplicas") == hpa["spec"]["maxReplicas"] > 1


def quota_rejects(sim: Sim, c: Case) -> bool:
    if pods(sim, c):
        return False
    quota = raw(sim.core.read_namespaced_resource_quota("strict-resource-quota", c.namespace, _preload_content=False))
    if not quota["spec"]["hard"]:
        return False
    rs_events = [e for e in sim.core.list_namespaced_event(c.namespace).items if e.reason == "FailedCreate"]
    return any(
        "exceeded quota: strict-resource-quota" in (e.message or "")
        and e.involved_object.name.startswith(f"{c.deployment}-")
        for e in rs_events
    )


def limits_removed(sim: Sim, c: Case) -> bool:
    running = [p for p in pods(sim, c) if p["status"].get("phase") == "Running" and is_ready(p)]
    return bool(running) and all(
        not (ct.get("resources") or {}).get("limits") for p in running for ct in p["spec"]["containers"]
    )


def no_ready_pod(sim: Sim, c: Case) -> bool:
    return not any(is_ready(p) for p in pods(sim, c))


# ------------------------------------------------------------------------------------------ recovery
def limits_back(sim: Sim, c: Case) -> bool:
    return healthy(sim, c.namespace, c.deployment) and all(
        (ct.get("resources") or {}).get("limits") for p in pods(sim, c) for ct in p["spec"]["containers"]
    )


def app_errors_gone(sim: Sim, c: Case) -> bool:
    query = urllib.parse.quote(f'sum(app_errors_per_second{{namespace="{c.namespace}"}})')
    result = sim.get_json(f"/api/v1/query?query={query}")["data"]["result"]
    return healthy(sim, c.namespace, c.deployment) and all(float(r["value"][1]) == 0.0 for r in result)


def service_serving(port: int) -> Callable[[Sim, Case], bool]:
    def check(sim: Sim, c: Case) -> bool:
        try:
            ep = raw(sim.core.read_namespaced_endpoints(c.target, c.namespace, _preload_content=False))
        except ApiException:
            return False
        ready = [s for s in ep.get("subsets") or [] if s.get("addresses")]
        return bool(ready) and all(p["port"] == port for s in ready for p in s["ports"]) and app_errors_gone(sim, c)

    return check


def hpa_relaxed(sim: Sim, c: Case) -> bool:
    hpa = raw(sim.autoscaling.read_namespaced_horizontal_pod_autoscaler(c.target, c.namespace, _preload_content=False))
    return (hpa.get("status") or {}).get("currentReplicas", 0) < hpa["spec"]["maxReplicas"] and healthy(
        sim, c.namespace, c.deployment
    )


# ------------------------------------------------------------------------------------------ solutions
def undo(sim: Sim, c: Case) -> None:
    rollout_undo(sim, c.namespace, c.deployment)


def edit_remove(*paths: str) -> Callable[[Sim, Case], None]:
    """`kubectl edit` deleting fields (paths under spec.template.spec, `{c}` = the target container index)."""

    def solve(sim: Sim, c: Case) -> None:
        dep = read_deployment(sim, c.namespace, c.deployment)
        container = (c.args.get("container") or {}).get("name") or dep["spec"]["template"]["spec"]["containers"][0][
            "name"
        ]
        i = container_index(dep, container)
        patch_deployment(
            sim,
            c.namespace,
            c.deployment,
            [{"op": "remove", "path": "/spec/template/spec/" + p.format(c=i)} for p in paths],
        )

    return solve


def edit_container_back(field_name: str) -> Callable[[Sim, Case], None]:
    """`kubectl edit` putting one container field back to its value in the previous revision."""

    def solve(sim: Sim, c: Case) -> None:
        dep = read_deployment(sim, c.namespace, c.deployment)
        container = (c.args.get("container") or {}).get("name") or dep["spec"]["template"]["spec"]["containers"][0][
            "name"
        ]
        i = container_index(dep, container)
        before = previous_template(sim, c.namespace, c.deployment)["spec"]["containers"][i]
        path = f"/spec/template/spec/containers/{i}/{field_name}"
        op = (
            {"op": "replace", "path": path, "value": before[field_name]}
            if field_name in before
            else {"op": "remove", "path": path}
        )
        patch_deployment(sim, c.namespace, c.deployment, [op])

    return solve


def edit_init_command(sim: Sim, c: Case) -> None:
    patch_deployment(
        sim,
        c.namespace,
        c.deployment,
        [{"op": "replace", "path": "/spec/template/spec/initContainers/0/command", "value": ["sh", "-c", "true"]}],
    )


def fix_init_configmap(sim: Sim, c: Case) -> None:
    script = '#!/bin/sh\necho "init: configuration OK"\nexit 0\n'
    sim.core.patch_namespaced_config_map(
        f"{c.deployment}-config", c.namespace, {"data": {"init.sh": script}}, _content_type=STRATEGIC
    )


def uncordon_workers(sim: Sim, c: Case) -> None:
    for node in sim.core.list_node(label_selector="node-role.kubernetes.io/node=").items:
        if node.spec.unschedulable:
            sim.core.patch_node(node.metadata.name, {"spec": {"unschedulable": None}}, _content_type=STRATEGIC)


def raise_quota(sim: Sim, c: Case) -> None:
    body = {"spec": {"hard": {"requests.memory": "64Gi", "limits.memory": "64Gi"}}}
    sim.core.patch_namespaced_resource_quota("strict-resource-quota", c.namespace, body, _content_type=MERGE)


def delete_quota(sim: Sim, c: Case) -> None:
    sim.core.delete_namespaced_resource_quota("strict-resource-quota", c.namespace)


def fix_hpa_target(sim: Sim, c: Case) -> None:
    hpa = sim.cluster.catalog[c.application].service(c.target).hpa
    metrics = [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": hpa["cpuUtilization"]}},
        }
    ]
    sim.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
        c.target, c.namespace, {"spec": {"metrics": metrics}}, _content_type=MERGE
    )


def scale_to_one(sim: Sim, c: Case) -> None:
    sim.apps.patch_namespaced_deployment_scale(
        c.deployment, c.namespace, {"spec": {"replicas": 1}}, _content_type=MERGE
    )


def edit_replicas(sim: Sim, c: Case) -> None:
    patch_deployment(sim, c.namespace, c.deployment, [{"op": "replace", "path": "/spec/replicas", "value": 1}])


def edit_env_back(var: str) -> Callable[[Sim, Case], None]:
    def solve(sim: Sim, c: Case) -> None:
        dep = read_deployment(sim, c.namespace, c.deployment)
        i = container_index(dep, c.args["container"]["name"])
        before = {
            e["name"]: e for e in previous_template(sim, c.namespace, c.deployment)["spec"]["containers"][i]["env"]
        }
        env = dep["spec"]["template"]["spec"]["containers"][i]["env"]
        j = next(k for k, e in enumerate(env) if e["name"] == var)
        patch_deployment(
            sim,
            c.namespace,
            c.deployment,
            [{"op": "replace", "path": f"/spec/template/spec/containers/{i}/env/{j}", "value": before[var]}],
        )

    return solve


def edit_service_target_port(sim: Sim, c: Case) -> None:
    # The correct value is the port the workload's container listens on.
    dep = read_deployment(sim, c.namespace, c.deployment)
    port = dep["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    svc = raw(sim.core.read_namespaced_service(c.target, c.namespace, _preload_content=False))
    ports = [{**p, "targetPort": port} for p in svc["spec"]["ports"]]
    sim.core.patch_namespaced_service(c.target, c.namespace, {"spec": {"ports": ports}}, _content_type=MERGE)


def edit_service_selector(sim: Sim, c: Case) -> None:
    # The correct selector is what the workload's pods carry (the chart's `app.kubernetes.io/name`).
    dep = read_deployment(sim, c.namespace, c.deployment)
    labels = dep["spec"]["template"]["metadata"]["labels"]
    svc = raw(sim.core.read_namespaced_service(c.target, c.namespace, _preload_content=False))
    selector = {k: labels[k] for k in svc["spec"]["selector"]}
    sim.core.patch_namespaced_service(c.target, c.namespace, {"spec": {"selector": selector}}, _content_type=MERGE)


def recreate_service(sim: Sim, c: Case) -> None:
    line = next(ch for rec in sim.injected for ch in rec["changes"] if ch.startswith("manifest: "))
    manifest = json.loads(line[len("manifest: ") :])
    sim.core.create_namespaced_service(c.namespace, manifest)


def restore_secret(sim: Sim, c: Case) -> None:
    svc = next(s for s in sim.cluster.catalog[c.application].services if c.target in s.secrets)
    data = {k: base64.b64encode(v.encode()).decode() for k, v in svc.secrets[c.target].items()}
    sim.core.patch_namespaced_secret(c.target, c.namespace, {"data": data}, _content_type=MERGE)


def allow_ingress_ports(sim: Sim, c: Case) -> None:
    dep = read_deployment(sim, c.namespace, c.deployment)
    ports = [
        {"protocol": "TCP", "port": p["containerPort"]}
        for ct in dep["spec"]["template"]["spec"]["containers"]
        for p in ct.get("ports") or []
    ]
    sim.networking.patch_namespaced_network_policy(
        f"{c.deployment}-ingress", c.namespace, {"spec": {"ingress": [{"ports": ports}]}}, _content_type=MERGE
    )


def delete_network_policy(sim: Sim, c: Case) -> None:
    sim.networking.delete_namespaced_network_policy(f"{c.deployment}-ingress", c.namespace)


def restore_dns_policy(sim: Sim, c: Case) -> None:
    patch_deployment(
        sim,
        c.namespace,
        c.deployment,
        [
            {"op": "replace", "path": "/spec/template/spec/dnsPolicy", "value": "ClusterFirst"},
            {"op": "remove", "path": "/spec/template/spec/dnsConfig"},
        ],
    )


def higher_priority_class(sim: Sim, c: Case) -> None:
    body = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "recommendation-critical"},
        "value": 20000,
    }
    sim.scheduling.create_priority_class(body)
    patch_deployment(
        sim,
        c.namespace,
        c.deployment,
        [{"op": "replace", "path": "/spec/template/spec/priorityClassName", "value": "recommendation-critical"}],
    )


def remove_valkey_script(sim: Sim, c: Case) -> None:
    dep = read_deployment(sim, c.namespace, c.deployment)
    spec = dep["spec"]["template"]["spec"]
    i = container_index(dep, c.args["container"]["name"])
    before = previous_template(sim, c.namespace, c.deployment)["spec"]["containers"][i]
    vol = next(k for k, v in enumerate(spec["volumes"]) if v["name"] == "valkey-storage-script")
    mount = next(k for k, m in enumerate(spec["containers"][i]["volumeMounts"]) if m["name"] == "valkey-storage-script")
    ops = [
        {"op": "remove", "path": f"/spec/template/spec/containers/{i}/volumeMounts/{mount}"},
        {"op": "remove", "path": f"/spec/template/spec/volumes/{vol}"},
        {"op": "replace", "path": f"/spec/template/spec/containers/{i}/command", "value": before["command"]},
    ]
    patch_deployment(sim, c.namespace, c.deployment, ops)
    sim.core.delete_namespaced_config_map("valkey-storage-script", c.namespace)


def fix_valkey_script(sim: Sim, c: Case) -> None:
    script = '#!/bin/sh\n# Start the server (no preloading).\nexec valkey-server --requirepass "$VALKEY_PASSWORD"\n'
    sim.core.patch_namespaced_config_map(
        "valkey-storage-script", c.namespace, {"data": {"valkey-storage.sh": script}}, _content_type=STRATEGIC
    )


# ------------------------------------------------------------------------------------------ the table
CASES: list[Case] = [
    Case(
        "cordoned-kubernetes-worker-node",
        "ad",
        deployment_args("ad"),
        pending_unschedulable("node(s) were unschedulable"),
        ("KubePodNotReady",),
        {"rollout-undo": undo, "edit-node-selector": edit_remove("nodeSelector"), "uncordon": uncordon_workers},
    ),
    Case(
        "crashing-kubernetes-workload-init-container",
        "payment",
        deployment_args("payment"),
        init_crash_looping,
        ("KubeContainerWaiting",),
        {
            "rollout-undo": undo,
            "edit-configmap": fix_init_configmap,
            "remove-init-container": edit_remove("initContainers"),
        },
    ),
    Case(
        "failing-name-resolution-kubernetes-workload-dns-policy",
        "checkout",
        deployment_args("checkout"),
        both(dns_policy_none, calls_failing("checkout", "product-catalog")),
        ("HighRequestErrorRate",),
        {"rollout-undo": undo, "edit-dns-policy": restore_dns_policy},
        recovered=app_errors_gone,
    ),
    Case(
        "hanging-kubernetes-workload-init-container",
        "email",
        deployment_args("email"),
        init_hanging,
        ("KubeContainerWaiting",),
        {
            "rollout-undo": undo,
            "edit-init-command": edit_init_command,
            "remove-init-container": edit_remove("initContainers"),
        },
    ),
    Case(
        "ingress-port-blocking-network-policy",
        "frontend",
        deployment_args("frontend"),
        both(policy_exists, calls_failing("frontend-proxy", "frontend")),
        ("NoRequestsReceived", "HighRequestErrorRate"),
        {"edit-network-policy": allow_ingress_ports, "delete-network-policy": delete_network_policy},
        recovered=app_errors_gone,
    ),
    Case(
        "insufficient-kubernetes-resource-quota",
        "ad",
        deployment_args("ad"),
        quota_rejects,
        ("KubeDeploymentReplicasMismatch",),
        {"edit-resource-quota": raise_quota, "delete-resource-quota": delete_quota},
    ),
    Case(
        "insufficient-kubernetes-workload-container-resources",
        "postgresql",
        deployment_args("postgresql", "postgresql"),
        crash_looping("OOMKilled"),
        ("KubePodCrashLooping",),
        {"rollout-undo": undo, "edit-resources": edit_container_back("resources")},
    ),
    Case(
        "invalid-kubernetes-workload-container-command",
        "product-catalog",
        deployment_args("product-catalog", "product-catalog"),
        crash_looping(),
        ("KubePodCrashLooping",),
        {"rollout-undo": undo, "edit-command": edit_container_back("command")},
    ),
    Case(
        "misconfigured-kubernetes-horizontal-pod-autoscaler",
        "image-provider",
        deployment_args("image-provider"),
        hpa_maxed,
        ("KubeHpaMaxedOut",),
        {"edit-hpa": fix_hpa_target},
        recovered=hpa_relaxed,
        options={"autoscaling": {"kubernetes": {"hpa": True}}},
    ),
    Case(
        "misconfigured-kubernetes-workload-container-readiness-probe",
        "frontend",
        deployment_args("frontend", "frontend"),
        running_not_ready,
        ("KubePodNotReady",),
        {"rollout-undo": undo, "remove-readiness-probe": edit_remove("containers/{c}/readinessProbe")},
    ),
    Case(
        "modified-kubernetes-workload-container-environment-variable",
        "shipping",
        {
            **deployment_args("shipping"),
            "container": {"name": "shipping", "env": {"name": "QUOTE_ADDR", "value": "quote:0000"}},
        },
        both(env_rolled("QUOTE_ADDR", "quote:0000"), calls_failing("shipping", "quote")),
        ("HighRequestErrorRate",),  # catalogue: none (varies); ITBench's v1 ground truth for this sample
        {"rollout-undo": undo, "edit-env": edit_env_back("QUOTE_ADDR")},
        recovered=app_errors_gone,
    ),
    Case(
        "modified-target-port-kubernetes-service",
        "ad",
        object_args("Service", "ad", targetPort=8080),
        both(service_target_port(8080), calls_failing("frontend", "ad")),
        ("HighRequestErrorRate",),
        {"edit-service": edit_service_target_port},
        recovered=service_serving(9555),
    ),
    Case(
        "nonexistent-kubernetes-workload-container-image",
        "product-catalog",
        deployment_args("product-catalog", "product-catalog"),
        image_pull_failing,
        ("KubePodNotReady",),
        {"rollout-undo": undo, "edit-image": edit_container_back("image")},
    ),
    Case(
        "nonexistent-kubernetes-workload-node",
        "checkout",
        deployment_args("checkout"),
        pending_unschedulable("didn't match Pod's node affinity/selector"),
        ("KubePodNotReady",),
        {"rollout-undo": undo, "edit-node-selector": edit_remove("nodeSelector")},
    ),
    Case(
        "nonexistent-kubernetes-workload-persistent-volume-claim",
        "quote",
        deployment_args("quote", "quote"),
        pending_unschedulable('persistentvolumeclaim "quote" not found'),
        ("KubePodNotReady",),
        # The catalogue's "edit the claim's storageClassName" needs a claim; there is none to edit here.
        {"rollout-undo": undo, "edit-volume-claim": edit_remove("containers/{c}/volumeMounts", "volumes")},
    ),
    Case(
        "priority-kubernetes-workload-priority-preemption",
        "recommendation",
        deployment_args("recommendation"),
        pending_unschedulable("Insufficient cpu"),
        ("KubePodNotReady",),
        {
            "rollout-undo": undo,
            "edit-node-selector": edit_remove("nodeSelector"),
            "higher-priority": higher_priority_class,
        },
    ),
    Case(
        "scaled-to-zero-kubernetes-workload",
        "accounting",
        deployment_args("accounting"),
        scaled_to_zero,
        ("NoRequestsReceived", "HighRequestErrorRate"),
        # `rollout undo` needs an earlier revision; the scale change made none, so kubectl has nothing to undo.
        {"scale": scale_to_one, "edit-replicas": edit_replicas},
        recovered=app_errors_gone,
    ),
    Case(
        "unassigned-kubernetes-workload-container-resource-limits",
        "cart",
        deployment_args("cart"),
        limits_removed,
        (),
        {"rollout-undo": undo, "edit-resources": edit_container_back("resources")},
        recovered=limits_back,
    ),
    Case(
        "unschedulable-kubernetes-workload-pod-anti-affinity-rule",
        "currency",
        deployment_args("currency"),
        pending_unschedulable("didn't match pod anti-affinity rules"),
        ("KubePodNotReady",),
        {"rollout-undo": undo, "edit-affinity": edit_remove("affinity")},
    ),
    Case(
        "unsupported-architecture-kubernetes-workload-container-image",
        "quote",
        deployment_args("quote", "quote"),
        both(image_pull_failing, pull_event("no matching manifest for linux/amd64")),
        ("KubePodNotReady",),
        # "Move it to a node of a supported architecture": every simulated node is amd64, so none exists.
        {"rollout-undo": undo, "edit-image": edit_container_back("image")},
    ),
    Case(
        "valkey-workload-changed-password",
        "valkey-cart",
        deployment_args("valkey-cart", "valkey-cart"),
        both(logs_mention("cart", "WRONGPASS"), calls_failing("cart", "valkey-cart")),
        ("HighRequestLatency",),
        {"edit-secret": lambda sim, c: restore_secret(sim, Case(**{**c.__dict__, "target": "valkey-credentials"}))},
        recovered=app_errors_gone,
    ),
    Case(
        "valkey-workload-out-of-memory",
        "valkey-cart",
        deployment_args("valkey-cart", "valkey-cart"),
        crash_looping("OOMKilled"),
        ("KubePodCrashLooping",),
        {"rollout-undo": undo, "remove-volumes": remove_valkey_script, "edit-script": fix_valkey_script},
    ),
    Case(
        "invalid-kubernetes-service-selector",
        "cart",
        object_args("Service", "cart"),
        both(no_endpoints, calls_failing("frontend", "cart")),
        ("HighRequestErrorRate",),
        {"edit-service": edit_service_selector},
        recovered=service_serving(7070),
    ),
    Case(
        "deleted-kubernetes-service",
        "product-catalog",
        object_args("Service", "product-catalog"),
        both(service_gone, calls_failing("checkout", "product-catalog")),
        ("HighRequestErrorRate",),
        {"create-service": recreate_service},
        recovered=service_serving(3550),
    ),
    Case(
        "corrupted-kubernetes-secret-credentials",
        "valkey-credentials",
        object_args("Secret", "valkey-credentials"),
        both(logs_mention("cart", "WRONGPASS"), calls_failing("cart", "valkey-cart")),
        ("HighRequestErrorRate",),
        {"restore-secret": restore_secret},
        recovered=app_errors_gone,
        workload="cart",
    ),
]

validate_fault(CASES[0].fault, CASES[0].args)  # loads the fault families into FAULTS
# The same injectors on the other application: nothing in them is specific to the demo.
BOOK_INFO = "book-info"
CASES += [
    Case(
        "invalid-kubernetes-service-selector",
        "details",
        object_args("Service", "details", BOOK_INFO),
        both(no_endpoints, calls_failing("productpage", "details")),
        ("HighRequestErrorRate",),
        {"edit-service": edit_service_selector},
        recovered=service_serving(9080),
        namespace=BOOK_INFO,
        application=BOOK_INFO,
    ),
    Case(
        "unsupported-architecture-kubernetes-workload-container-image",
        "ratings",
        deployment_args("ratings", "ratings", BOOK_INFO),
        both(image_pull_failing, pull_event("no matching manifest for linux/amd64")),
        ("KubePodNotReady",),
        {"rollout-undo": undo},
        namespace=BOOK_INFO,
        application=BOOK_INFO,
    ),
]
PARAMS = [
    pytest.param(
        c, s, id=f"{FAULTS[c.fault].index}-{c.fault}-{s}" + ("" if c.application == DEMO else f"-{c.application}")
    )
    for c in CASES
    for s in c.solutions
]


# ================================================================================================ tests
def test_every_plain_kubernetes_fault_is_covered() -> None:
    simulated = {f.id for f in FAULTS.values()}
    assert {c.fault for c in CASES} == simulated
    assert sorted(f.index for f in FAULTS.values()) == [
        1,
        2,
        4,
        5,
        6,
        7,
        8,
        9,
        11,
        12,
        13,
        14,
        15,
        16,
        17,
        19,
        20,
        24,
        25,
        26,
        27,
        28,
        29,
        30,
        36,
    ]
    assert not simulated & set(NOT_SIMULATED)


def _describe(sim: Sim, c: Case) -> str:
    """What the target looks like, for assertion messages."""
    lines = [f"injected: {sim.injected}"]
    for p in workload_pods(sim, c.namespace, c.deployment):
        st = p.get("status") or {}
        lines.append(
            f"pod {p['metadata']['name']} phase={st.get('phase')} conditions={[(x['type'], x['status'], x.get('reason')) for x in st.get('conditions') or []]} "
            f"waiting={waiting_reasons(p)} init={[s.get('state') for s in container_statuses(p, init=True)]}"
        )
        lines += [
            f"  event {e.get('reason')}: {e.get('message')}"
            for e in pod_events(sim, c.namespace, p["metadata"]["name"])[-3:]
        ]
    lines += [f"alert {a['labels']}" for a in sim.alerts()]
    return "\n".join(lines)


def _related(sim: Sim, c: Case, names: set[str]) -> list[dict]:
    # Pod and HPA alerts name the workload; application alerts may fire on any caller in the namespace.
    out = [
        a for a in matching_alerts(sim, names - APP_ALERTS, c.namespace) if a["labels"].get("workload") == c.deployment
    ]
    return out + matching_alerts(sim, names & APP_ALERTS, c.namespace)


@pytest.mark.parametrize(("case", "solution"), PARAMS)
def test_fault_symptoms_alerts_and_solution(case: Case, solution: str) -> None:
    plan = {
        "name": f"test-{case.fault}",
        "applications": [(case.application, case.options)],
        "faults": [{"id": case.fault, "args": case.args}],
        "warmup": 120,
    }
    with served_plan(plan) as sim:
        assert sim.wait_for(lambda: case.symptom(sim, case), SYMPTOM_TIMEOUT), (
            f"{case.fault}: symptoms never showed\n{_describe(sim, case)}"
        )
        for name in case.alerts:
            found = sim.wait_for(lambda n=name: _related(sim, case, {n}), ALERT_TIMEOUT)
            assert found, f"{case.fault}: alert {name} never fired\n{_describe(sim, case)}"

        case.solutions[solution](sim, case)

        recovered = case.recovered or (lambda s, c: healthy(s, c.namespace, c.deployment))
        assert sim.wait_for(lambda: recovered(sim, case), HEAL_TIMEOUT), (
            f"{case.fault}/{solution}: did not recover\n{_describe(sim, case)}"
        )
        if case.alerts:
            cleared = sim.wait_for(lambda: not _related(sim, case, set(case.alerts)), HEAL_TIMEOUT)
            assert cleared, f"{case.fault}/{solution}: alerts still firing\n{_describe(sim, case)}"


# ================================================================================================ validation
@pytest.fixture(scope="module")
def demo() -> Cluster:
    cluster = Cluster()
    cluster.install_application(DEMO)
    cluster.advance(30)
    return cluster


@pytest.mark.parametrize(
    ("fid", "args", "message"),
    [
        (
            "nonexistent-kubernetes-workload-container-image",
            deployment_args("nope", "nope"),
            "deployment otel-demo/nope not found",
        ),
        (
            "invalid-kubernetes-workload-container-command",
            deployment_args("cart", "nope"),
            "container nope not found in deployment otel-demo/cart",
        ),
        ("deleted-kubernetes-service", object_args("Service", "nope"), "service otel-demo/nope not found"),
        ("corrupted-kubernetes-secret-credentials", object_args("Secret", "nope"), "secret otel-demo/nope not found"),
        ("valkey-workload-out-of-memory", deployment_args("cart", "cart"), "is not a Valkey server"),
        (
            "scaled-to-zero-kubernetes-workload",
            {"kubernetesObject": {"kind": "StatefulSet", "metadata": {"name": "cart", "namespace": NS}}},
            "statefulset otel-demo/cart not found",
        ),
    ],
)
def test_injection_errors_name_the_object(demo: Cluster, fid: str, args: dict, message: str) -> None:
    with pytest.raises(FaultError, match=message):
        inject(demo, fid, args)


def test_template_faults_cut_a_new_revision(demo: Cluster) -> None:
    rs_rt = demo.rt("ReplicaSet")
    before = {
        rs["metadata"]["name"] for rs in demo.store.list(rs_rt, NS) if rs["metadata"]["name"].startswith("email-")
    }
    record = inject(demo, "hanging-kubernetes-workload-init-container", deployment_args("email"))
    after = {rs["metadata"]["name"] for rs in demo.store.list(rs_rt, NS) if rs["metadata"]["name"].startswith("email-")}
    assert len(after - before) == 1, record
    dep = demo.store.get(demo.rt("Deployment"), NS, "email")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert record["changes"] and all(isinstance(ch, str) for ch in record["changes"])


def test_deleted_service_records_its_manifest(demo: Cluster) -> None:
    record = inject(demo, "deleted-kubernetes-service", object_args("Service", "quote"))
    manifest = json.loads(next(ch for ch in record["changes"] if ch.startswith("manifest: "))[len("manifest: ") :])
    assert manifest["metadata"] == {
        "name": "quote",
        "namespace": NS,
        "labels": {"app.kubernetes.io/name": "quote", "app.kubernetes.io/part-of": DEMO},
    }
    assert manifest["spec"]["selector"] == {"app.kubernetes.io/name": "quote"}
    assert "clusterIP" not in manifest["spec"]
    assert demo.store.find(demo.rt("Service"), NS, "quote") is None


def test_statefulset_targets_get_a_new_controller_revision(demo: Cluster) -> None:
    labels = {"app.kubernetes.io/name": "cache"}
    demo.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "cache", "namespace": NS, "labels": labels},
            "spec": {
                "serviceName": "cache",
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {"name": "cache", "image": "busybox:1.37", "command": ["sh", "-c", "sleep infinity"]}
                        ]
                    },
                },
            },
        }
    )
    demo.advance(30)
    args = {
        "kubernetesObject": {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "cache", "namespace": NS},
        },
        "container": {"name": "cache"},
    }
    inject(demo, "invalid-kubernetes-workload-container-command", args)
    sts = demo.store.get(demo.rt("StatefulSet"), NS, "cache")
    assert sts["spec"]["template"]["spec"]["containers"][0]["command"] == ["invalid-command"]
    revisions = [
        cr for cr in demo.store.list(demo.rt("ControllerRevision"), NS) if cr["metadata"]["name"].startswith("cache-")
    ]
    assert sorted(cr["revision"] for cr in revisions) == [1, 2]
