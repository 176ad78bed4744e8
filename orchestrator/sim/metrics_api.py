"""The resource metrics API (metrics.k8s.io/v1beta1), as metrics-server serves it to `kubectl top`.

Figures are the kubelet's own container usage, the same the simulated cAdvisor series report, so
`kubectl top` and PromQL agree. Nodes add their pods' usage to a fixed system overhead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .clock import rfc3339
from .controllers.kubelet import container_usage
from .errors import ApiError

if TYPE_CHECKING:
    from .cluster import Cluster
    from .resources import ResourceType

WINDOW = "15s"  # metrics-server's default resolution
# What the node's system daemons and kubelet use, besides pods.
NODE_OVERHEAD_CPU = 0.08
NODE_OVERHEAD_MEMORY = 640 * 1024**2


def _cpu(cores: float) -> str:
    return f"{round(cores * 1e9)}n"


def _memory(nbytes: float) -> str:
    return f"{round(nbytes / 1024)}Ki"


def _running(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and bool((pod.get("spec") or {}).get("nodeName"))


def pod_metrics(cluster: Cluster, pod: dict) -> dict:
    now = cluster.now()
    meta = pod["metadata"]
    containers = []
    for c in pod["spec"].get("containers") or []:
        memory, cpu = container_usage(cluster, pod, c.get("name", ""))
        containers.append({"name": c["name"], "usage": {"cpu": _cpu(cpu), "memory": _memory(memory)}})
    return {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "creationTimestamp": rfc3339(now),
            "labels": meta.get("labels") or {},
        },
        "timestamp": rfc3339(now - 5),
        "window": WINDOW,
        "containers": containers,
    }


def node_metrics(cluster: Cluster, node: dict, pods: list[dict]) -> dict:
    now = cluster.now()
    name = node["metadata"]["name"]
    cpu, memory = NODE_OVERHEAD_CPU, float(NODE_OVERHEAD_MEMORY)
    for pod in pods:
        if pod["spec"].get("nodeName") != name:
            continue
        for c in pod["spec"].get("containers") or []:
            m, cores = container_usage(cluster, pod, c.get("name", ""))
            cpu += cores
            memory += m
    return {
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": name,
            "creationTimestamp": rfc3339(now),
            "labels": node["metadata"].get("labels") or {},
        },
        "timestamp": rfc3339(now - 5),
        "window": WINDOW,
        "usage": {"cpu": _cpu(cpu), "memory": _memory(memory)},
    }


def table(listing: dict, include_object: str) -> dict:
    """`kubectl get podmetrics|nodemetrics`: the columns metrics-server's table convertor prints."""
    cols = [
        {"name": "Name", "type": "string", "format": "name", "description": "Name of the resource", "priority": 0},
        {"name": "CPU", "type": "string", "format": "", "description": "CPU usage", "priority": 0},
        {"name": "Memory", "type": "string", "format": "", "description": "Memory usage", "priority": 0},
        {
            "name": "Window",
            "type": "string",
            "format": "",
            "description": "Interval the usage is taken over",
            "priority": 0,
        },
    ]
    rows = []
    for item in listing["items"]:
        usages = [c["usage"] for c in item["containers"]] if "containers" in item else [item["usage"]]
        cpu = sum(int(u["cpu"].rstrip("n")) for u in usages)
        memory = sum(int(u["memory"].rstrip("Ki")) for u in usages)
        row: dict = {"cells": [item["metadata"]["name"], f"{cpu // 1_000_000}m", f"{memory // 1024}Mi", item["window"]]}
        if include_object == "Object":
            row["object"] = item
        elif include_object == "Metadata":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": item["metadata"],
            }
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "columnDefinitions": cols, "rows": rows}


def serve(
    cluster: Cluster, rt: ResourceType, namespace: str | None, name: str | None, pred: Callable[[dict], bool]
) -> dict:
    """The PodMetrics/NodeMetrics object or list a GET asks for (selectors apply to the pod or node)."""
    store = cluster.store
    if rt.kind == "PodMetrics":
        if name is not None:
            pod = store.get(cluster.rt("Pod"), namespace or "default", name)
            if not _running(pod):
                raise ApiError(404, f'podmetrics.metrics.k8s.io "{namespace}/{name}" not found')
            return pod_metrics(cluster, pod)
        pods = [p for p in store.list(cluster.rt("Pod"), namespace) if _running(p) and pred(p)]
        pods.sort(key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"]["name"]))
        items = [pod_metrics(cluster, p) for p in pods]
    else:
        running = [p for p in store.list(cluster.rt("Pod")) if _running(p)]
        if name is not None:
            return node_metrics(cluster, store.get(cluster.rt("Node"), "", name), running)
        nodes = sorted(store.list(cluster.rt("Node"), None, pred), key=lambda n: n["metadata"]["name"])
        items = [node_metrics(cluster, n, running) for n in nodes]
    return {"kind": f"{rt.kind}List", "apiVersion": rt.api_version, "metadata": {}, "items": items}
