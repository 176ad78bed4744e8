"""Scheduling faults: nodes, node selectors, affinity, priorities, quotas, autoscalers and replicas.

The scheduler, quota admission and HPA controller do the rest: these injectors only write the objects
an operator would (a cordon, a nodeSelector, a PriorityClass, a ResourceQuota, an HPA target).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from ..controllers.quota import format_quantity, pod_amount
from ..objects import parse_quantity
from . import FaultError, fault
from .workload import (
    HELPER_IMAGE,
    app_service,
    create,
    delete_pods,
    load,
    load_target,
    pick_worker,
    pod_spec,
    save,
    target_ref,
    who,
    workload_pods,
)

if TYPE_CHECKING:
    from ..cluster import Cluster

HOSTNAME_LABEL = "kubernetes.io/hostname"
QUOTA_NAME = "strict-resource-quota"  # the name ITBench's ground truth gives the quota
HIGH_PRIORITY_CLASS = "application-critical"
LOW_PRIORITY_CLASS = "application-non-critical"
PREEMPTOR_NAME = "critical-data-collector"
PREEMPTOR_REPLICAS = 4
ANTI_AFFINITY_DAEMONSET = "application-operator"
ABSURD_CPU_UTILIZATION = 1  # percent: any pod that does anything is "over target"


# ============================================================================================ nodes
@fault("cordoned-kubernetes-worker-node", 1)
def cordoned_worker_node(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    node = copy.deepcopy(pick_worker(cluster, workload))
    node_name = node["metadata"]["name"]
    # Only the node the workload is pinned to is cordoned, so every catalogue fix heals on its own:
    # rollout undo and a corrected nodeSelector move the pods to a schedulable worker, and uncordoning
    # opens the pinned node again. (Cordoning every worker would leave the first two fixes stuck.)
    changes = []
    if not (node.get("spec") or {}).get("unschedulable"):
        node.setdefault("spec", {})["unschedulable"] = True  # what `kubectl cordon` writes
        save(cluster, node)
        changes.append(f"node {node_name} cordoned (spec.unschedulable=true)")
    pod_spec(workload).setdefault("nodeSelector", {})[HOSTNAME_LABEL] = node_name
    save(cluster, workload)
    changes.append(
        f"{who(workload)}: nodeSelector {HOSTNAME_LABEL}={node_name}; its new pods can only go to the cordoned node"
    )
    return changes


@fault("nonexistent-kubernetes-workload-node", 16)
def nonexistent_node(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    existing = {n["metadata"]["name"] for n in cluster.store.list(cluster.rt("Node"))}
    node_name = "nonexistent-node"
    while node_name in existing:
        node_name += "-x"
    pod_spec(workload).setdefault("nodeSelector", {})[HOSTNAME_LABEL] = node_name
    save(cluster, workload)
    return [f"{who(workload)}: nodeSelector {HOSTNAME_LABEL}={node_name} (no such node)"]


# ============================================================================================ affinity
@fault("unschedulable-kubernetes-workload-pod-anti-affinity-rule", 25)
def unschedulable_anti_affinity(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    ns = workload["metadata"]["namespace"]
    changes = []
    # A DaemonSet puts one pod on every node (it tolerates every taint); the workload then refuses to
    # share a node with it, so no node is left for its new pods.
    if cluster.store.find(cluster.rt("DaemonSet"), ns, ANTI_AFFINITY_DAEMONSET) is None:
        labels = {"app.kubernetes.io/name": ANTI_AFFINITY_DAEMONSET}
        create(
            cluster,
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": ANTI_AFFINITY_DAEMONSET, "namespace": ns, "labels": dict(labels)},
                "spec": {
                    "selector": {"matchLabels": dict(labels)},
                    "template": {
                        "metadata": {"labels": dict(labels)},
                        "spec": {
                            "tolerations": [{"operator": "Exists"}],
                            "containers": [
                                {
                                    "name": "worker",
                                    "image": HELPER_IMAGE,
                                    "command": ["sh", "-c", "sleep infinity"],
                                    "resources": {
                                        "requests": {"cpu": "1m", "memory": "4Mi"},
                                        "limits": {"memory": "16Mi"},
                                    },
                                }
                            ],
                        },
                    },
                },
            },
        )
        changes.append(f"created daemonset {ns}/{ANTI_AFFINITY_DAEMONSET}: one pod on every node")
    term = {
        "labelSelector": {
            "matchExpressions": [
                {"key": "app.kubernetes.io/name", "operator": "In", "values": [ANTI_AFFINITY_DAEMONSET]}
            ]
        },
        "topologyKey": HOSTNAME_LABEL,
    }
    anti = pod_spec(workload).setdefault("affinity", {}).setdefault("podAntiAffinity", {})
    terms = anti.setdefault("requiredDuringSchedulingIgnoredDuringExecution", [])
    if term not in terms:
        terms.append(term)
    save(cluster, workload)
    changes.append(
        f"{who(workload)}: required pod anti-affinity against app.kubernetes.io/name={ANTI_AFFINITY_DAEMONSET} "
        f"on topology {HOSTNAME_LABEL}"
    )
    return changes


# ============================================================================================ priority
def _ensure_priority_class(cluster: Cluster, name: str, value: int, description: str) -> str | None:
    if cluster.store.find(cluster.rt("PriorityClass"), "", name) is not None:
        return None
    create(
        cluster,
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            "value": value,
            "globalDefault": False,
            "preemptionPolicy": "PreemptLowerPriority",
            "description": description,
        },
    )
    return f"created priorityclass {name} (value {value})"


@fault("priority-kubernetes-workload-priority-preemption", 19)
def priority_preemption(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    ns, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
    node = pick_worker(cluster, workload)
    node_name = node["metadata"]["name"]
    changes = [
        c
        for c in (
            _ensure_priority_class(
                cluster, HIGH_PRIORITY_CLASS, 10000, "High priority class for application workloads"
            ),
            _ensure_priority_class(cluster, LOW_PRIORITY_CLASS, 1, "Lower priority class for application workloads"),
        )
        if c
    ]
    # The target: low priority and pinned to one node, so once preempted it has nowhere else to go.
    spec = pod_spec(workload)
    spec.setdefault("nodeSelector", {})[HOSTNAME_LABEL] = node_name
    spec["priorityClassName"] = LOW_PRIORITY_CLASS
    if pod_amount({"spec": spec}, "requests", "cpu") <= 0 and spec.get("containers"):
        # A pod that requests no CPU fits on any node however full; give it the smallest real request.
        spec["containers"][0].setdefault("resources", {}).setdefault("requests", {})["cpu"] = "10m"
        changes.append(f"{who(workload)}: container {spec['containers'][0]['name']} requests cpu=10m")
    save(cluster, workload)
    changes.append(
        f"{who(workload)}: priorityClassName {LOW_PRIORITY_CLASS}, nodeSelector {HOSTNAME_LABEL}={node_name}"
    )
    # The preemptor: high priority, pinned to the same node, its replicas together requesting the node's
    # whole allocatable CPU, so it evicts every lower-priority pod there and leaves no room to return.
    alloc = parse_quantity(((node.get("status") or {}).get("allocatable") or {}).get("cpu", "0"))
    per_pod_m = int(alloc * 1000) // PREEMPTOR_REPLICAS
    if per_pod_m <= 0:
        raise FaultError(f"node {node_name} reports no allocatable cpu")
    hog_name = PREEMPTOR_NAME
    if cluster.store.find(cluster.rt("Deployment"), ns, hog_name) is not None:
        hog_name = f"{PREEMPTOR_NAME}-{name}"
    labels = {"app.kubernetes.io/name": hog_name}
    cpu = format_quantity(per_pod_m / 1000, "cpu")
    create(
        cluster,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": hog_name, "namespace": ns, "labels": dict(labels)},
            "spec": {
                "replicas": PREEMPTOR_REPLICAS,
                "selector": {"matchLabels": dict(labels)},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {
                        "priorityClassName": HIGH_PRIORITY_CLASS,
                        "nodeSelector": {HOSTNAME_LABEL: node_name},
                        "containers": [
                            {
                                "name": "worker",
                                "image": HELPER_IMAGE,
                                "command": ["sh", "-c", "sleep infinity"],
                                "resources": {"requests": {"cpu": cpu, "memory": "1Mi"}},
                            }
                        ],
                    },
                },
            },
        },
    )
    changes.append(
        f"created deployment {ns}/{hog_name}: {PREEMPTOR_REPLICAS} replicas x cpu={cpu} with priorityClassName "
        f"{HIGH_PRIORITY_CLASS} on node {node_name} (its whole allocatable cpu)"
    )
    return changes


# ============================================================================================ quota
@fault("insufficient-kubernetes-resource-quota", 7)
def insufficient_resource_quota(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    ns = workload["metadata"]["namespace"]
    pods = [
        p
        for p in cluster.store.list(cluster.rt("Pod"), ns)
        if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]
    used_requests = sum(pod_amount(p, "requests", "memory") for p in pods)
    used_limits = sum(pod_amount(p, "limits", "memory") for p in pods)
    mine = workload_pods(cluster, workload)
    own_requests = sum(pod_amount(p, "requests", "memory") for p in mine)
    own_limits = sum(pod_amount(p, "limits", "memory") for p in mine)
    # Half of what the namespace uses once the workload's own pods are gone: the rest of the
    # namespace already exceeds it, so every pod the workload's controller creates is rejected.
    hard = {
        "requests.memory": _half_mib(used_requests - own_requests),
        "limits.memory": _half_mib(used_limits - own_limits),
    }
    if cluster.store.find(cluster.rt("ResourceQuota"), ns, QUOTA_NAME) is not None:
        quota = load(cluster, "ResourceQuota", ns, QUOTA_NAME)
        quota["spec"] = {"hard": hard}
        save(cluster, quota)
    else:
        create(
            cluster,
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": QUOTA_NAME, "namespace": ns},
                "spec": {"hard": hard},
            },
        )
    changes = [
        f"resourcequota {ns}/{QUOTA_NAME}: hard requests.memory={hard['requests.memory']} limits.memory={hard['limits.memory']} "
        f"(the namespace uses requests.memory={format_quantity(used_requests, 'memory')} "
        f"limits.memory={format_quantity(used_limits, 'memory')})"
    ]
    deleted = delete_pods(cluster, workload)
    return changes + (deleted or [f"{who(workload)} had no pods to delete; its next pod will be rejected"])


def _half_mib(amount: float) -> str:
    """Half of an amount in whole MiB (at least 1Mi): a limit a namespace already past it cannot meet."""
    mib = int(amount / 2 / 2**20)
    return f"{max(1, mib)}Mi"


# ============================================================================================ autoscaling
@fault("misconfigured-kubernetes-horizontal-pod-autoscaler", 11)
def misconfigured_hpa(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    kind, ns, name = target_ref(args)
    hpa_rt = cluster.rt("HorizontalPodAutoscaler")
    hpa = cluster.store.find(hpa_rt, ns, name)
    if hpa is None:  # not named after the workload: the one that scales it, if any
        hpa = next(
            (
                h
                for h in cluster.store.list(hpa_rt, ns)
                if ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == name
                and ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("kind", kind) == workload["kind"]
            ),
            None,
        )
    changes = []
    if hpa is None:
        # Autoscaling was not enabled for this workload: create the autoscaler the chart would have.
        _, svc = app_service(cluster, ns, name)
        settings = (svc.hpa if svc is not None else None) or {}
        replicas = int((workload.get("spec") or {}).get("replicas", 1))
        min_r = int(settings.get("minReplicas", max(1, replicas)))
        max_r = int(settings.get("maxReplicas", min_r + 2))
        hpa = create(
            cluster,
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": name, "namespace": ns, "labels": dict(workload["metadata"].get("labels") or {})},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": workload["kind"], "name": name},
                    "minReplicas": min_r,
                    "maxReplicas": max_r,
                    "metrics": [],
                },
            },
        )
        changes.append(f"created horizontalpodautoscaler {ns}/{name} for {who(workload)} (min {min_r}, max {max_r})")
    hpa = copy.deepcopy(hpa)
    metrics = hpa["spec"].setdefault("metrics", [])
    cpu = next(
        (m for m in metrics if m.get("type") == "Resource" and (m.get("resource") or {}).get("name") == "cpu"), None
    )
    before = None
    if cpu is None:
        cpu = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}
        metrics.append(cpu)
    else:
        before = (cpu["resource"].get("target") or {}).get("averageUtilization")
    cpu["resource"]["target"] = {"type": "Utilization", "averageUtilization": ABSURD_CPU_UTILIZATION}
    save(cluster, hpa)
    changes.append(
        f"horizontalpodautoscaler {ns}/{hpa['metadata']['name']}: cpu target averageUtilization "
        f"{before if before is not None else '(none)'}% -> {ABSURD_CPU_UTILIZATION}%, so it scales to maxReplicas "
        f"{hpa['spec'].get('maxReplicas')}"
    )
    return changes


# ============================================================================================ replicas
@fault("scaled-to-zero-kubernetes-workload", 20)
def scaled_to_zero(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    before = (workload.get("spec") or {}).get("replicas", 1)
    workload["spec"]["replicas"] = 0
    save(cluster, workload)
    return [f"{who(workload)}: replicas {before} -> 0"]
