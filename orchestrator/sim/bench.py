"""Simulator benchmark: the figures behind `sre-agent bench sim`.

- load: wall time to build a cluster and load the Astronomy Shop scenario (install + warm-up);
- at N pods, app-shaped: ten namespaces of Deployments behind Services (so Endpoints, EndpointSlices
  and the scheduler have real work), one namespace holding a tenth of the pods:
  - start: wall time to build that cluster and bring every pod to Running;
  - list: p50/p99 of LIST pods across all namespaces and in one namespace, over HTTP through the
    official kubernetes client;
  - patch: p50/p99 of a strategic-merge label patch on a pod behind a Service (admission, commit and
    the reconcile the write triggers);
  - reconcile: wall time per virtual minute of `advance(60)`.
Goals: load < 1 s; list pods p50 < 20 ms at 1,000 pods; at 10,000 pods a start < 15 s, a patch p99
< 50 ms and a one-namespace LIST p50 at most a quarter of the all-namespaces LIST.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .builtin import resolve_scenario
from .cluster import Cluster
from .runner import SimulatorServer
from .scenario import load_scenario
from .shape import ClusterShape

BENCH_NAMESPACES = 10
REPLICAS = 10  # pods per Deployment
PODS_PER_NODE = 500
GOALS = {
    "load_seconds": 1.0,
    "list_p50_ms_at_1000": 20.0,
    "start_seconds_at_10000": 15.0,
    "patch_p99_ms_at_10000": 50.0,
    "namespace_list_share_at_10000": 0.25,
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def _timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_namespace(i: int) -> str:
    return f"bench-{i:02d}"


def _app(namespace: str, name: str, replicas: int) -> list[dict]:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": namespace}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "busybox:1.37",
                            "command": ["sh", "-c", "sleep infinity"],
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}},
                        }
                    ]
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    return [deployment, service]


def build_app_cluster(pods: int) -> Cluster:
    """A cluster of about `pods` app-shaped pods in ten namespaces, every pod Running."""
    nodes = max(3, -(-pods // PODS_PER_NODE) + 1)
    cluster = Cluster(shape=ClusterShape(nodes=nodes, cpu="64", memory="256Gi", pods=PODS_PER_NODE))
    per_namespace = max(1, pods // BENCH_NAMESPACES)
    for i in range(BENCH_NAMESPACES):
        ns = bench_namespace(i)
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        left, app = per_namespace, 0
        while left > 0:
            for obj in _app(ns, f"app-{app:03d}", min(REPLICAS, left)):
                cluster.apply(obj)
            left -= REPLICAS
            app += 1
    cluster.after_write()
    cluster.advance(30)
    return cluster


def _read(response: Any) -> bytes:
    # With _preload_content=False the client returns the raw HTTP response, which its types do not say.
    return response.read()


def _ms(values: list[float], q: float) -> float:
    return round(statistics.median(values) if q == 0.5 else _percentile(values, q), 2)


def measure(pods: int, samples: int) -> dict[str, Any]:
    """The figures at one pod count, on a fresh app-shaped cluster."""
    from kubernetes import client

    t0 = time.perf_counter()
    cluster = build_app_cluster(pods)
    start = time.perf_counter() - t0
    server = SimulatorServer(cluster)
    server.start_thread()
    try:
        api = client.CoreV1Api(client.ApiClient(server.client_configuration()))
        one = bench_namespace(0)

        def count() -> tuple[int, int, int]:
            every = cluster.store.list(cluster.rt("Pod"))
            running = sum(1 for p in every if (p.get("status") or {}).get("phase") == "Running")
            return len(every), running, len(cluster.store.list(cluster.rt("Pod"), one))

        total, running, in_one = server.call(count)
        api.list_pod_for_all_namespaces()  # warm the connection pool
        lists = _timed(lambda: _read(api.list_pod_for_all_namespaces(_preload_content=False)), samples)
        ns_lists = _timed(lambda: _read(api.list_namespaced_pod(one, _preload_content=False)), samples)
        target = server.call(lambda: cluster.store.list(cluster.rt("Pod"), one)[0]["metadata"]["name"])
        counter = iter(range(10**9))
        patches = _timed(
            lambda: _read(
                api.patch_namespaced_pod(
                    target, one, {"metadata": {"labels": {"bench": str(next(counter))}}}, _preload_content=False
                )
            ),
            samples,
        )
        t1 = time.perf_counter()
        server.advance(60)
        reconcile = time.perf_counter() - t1
    finally:
        server.stop()
    return {
        "pods": total,
        "running": running,
        "pods_in_one_namespace": in_one,
        "start_seconds": round(start, 2),
        "list_p50_ms": _ms(lists, 0.5),
        "list_p99_ms": _ms(lists, 0.99),
        "namespace_list_p50_ms": _ms(ns_lists, 0.5),
        "namespace_list_p99_ms": _ms(ns_lists, 0.99),
        "patch_p50_ms": _ms(patches, 0.5),
        "patch_p99_ms": _ms(patches, 0.99),
        "reconcile_seconds_per_virtual_minute": round(reconcile, 3),
    }


def run_benchmark(pod_counts: list[int], samples: int = 200) -> dict[str, Any]:
    lines: list[str] = []
    results: dict[str, Any] = {"goals": GOALS}

    t0 = time.perf_counter()
    cluster = Cluster()
    load_scenario(cluster, resolve_scenario("healthy-otel-demo"))
    load = time.perf_counter() - t0
    results["load_seconds"] = round(load, 3)
    lines.append(f"load Astronomy Shop scenario (install + 120 s virtual warm-up): {load * 1000:.0f} ms")

    results["at"] = {}
    for n in pod_counts:
        row = measure(n, samples)
        results["at"][str(n)] = row
        lines.append(
            f"{row['pods']:>5} pods ({row['running']} Running, {row['pods_in_one_namespace']} in one namespace): "
            f"start {row['start_seconds']} s | "
            f"list all p50 {row['list_p50_ms']} ms p99 {row['list_p99_ms']} ms | "
            f"list one namespace p50 {row['namespace_list_p50_ms']} ms p99 {row['namespace_list_p99_ms']} ms | "
            f"patch p50 {row['patch_p50_ms']} ms p99 {row['patch_p99_ms']} ms | "
            f"reconcile {row['reconcile_seconds_per_virtual_minute'] * 1000:.0f} ms per virtual minute"
        )
    results["lines"] = lines
    return results
