"""Simulator benchmark: the figures behind `sre-agent bench sim`.

- load: wall time to build a cluster and load the Astronomy Shop scenario (install + warm-up);
- list/patch: p50/p95 over HTTP through the official kubernetes client, at N pods;
- reconcile: wall time per virtual minute of `advance(60)` at N pods.
Goals from the design: load < 1 s, list pods p50 < 20 ms at 1,000 pods.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .builtin import resolve_scenario
from .cluster import Cluster
from .runner import SimulatorServer
from .scenario import load_scenario

BENCH_NAMESPACE = "bench"


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


def _fill(server: SimulatorServer, pods: int) -> None:
    """Grow a bench Deployment so the cluster holds about `pods` pods in all."""

    def grow() -> None:
        cluster = server.cluster
        if cluster.store.find(cluster.rt("Namespace"), "", BENCH_NAMESPACE) is None:
            cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": BENCH_NAMESPACE}})
        existing = len(cluster.store.list(cluster.rt("Pod")))
        bench = cluster.store.find(cluster.rt("Deployment"), BENCH_NAMESPACE, "filler")
        current = bench["spec"]["replicas"] if bench else 0
        want = max(0, pods - (existing - current))
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "filler", "namespace": BENCH_NAMESPACE},
            "spec": {
                "replicas": want,
                "selector": {"matchLabels": {"app": "filler"}},
                "template": {
                    "metadata": {"labels": {"app": "filler"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "pause",
                                "image": "busybox:1.37",
                                "command": ["sh", "-c", "sleep infinity"],
                                "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}},
                            }
                        ]
                    },
                },
            },
        }
        if bench is None:
            cluster.apply(body)
        else:
            body["metadata"] = bench["metadata"]
            cluster.update(body)
        # Four nodes of 110 pods would cap the count: give the bench room.
        for node in cluster.store.list(cluster.rt("Node")):
            if node["status"]["capacity"]["pods"] != "2000":
                cluster.store.mutate(cluster.rt("Node"), "", node["metadata"]["name"], _more_pods, status=True)
        cluster.after_write()
        cluster.advance(30)

    server.call(grow)


def _more_pods(node: dict) -> None:
    node["status"]["capacity"]["pods"] = "2000"
    node["status"]["allocatable"]["pods"] = "2000"


def _read(response: Any) -> bytes:
    # With _preload_content=False the client returns the raw HTTP response, which its types do not say.
    return response.read()


def run_benchmark(pod_counts: list[int], samples: int = 200) -> dict[str, Any]:
    from kubernetes import client

    lines: list[str] = []
    results: dict[str, Any] = {"goals": {"load_seconds": 1.0, "list_p50_ms_at_1000": 20.0}}

    t0 = time.perf_counter()
    cluster = Cluster()
    load_scenario(cluster, resolve_scenario("healthy-otel-demo"))
    load = time.perf_counter() - t0
    results["load_seconds"] = round(load, 3)
    lines.append(f"load Astronomy Shop scenario (install + 120 s virtual warm-up): {load * 1000:.0f} ms")

    server = SimulatorServer(cluster)
    server.start_thread()
    try:
        api = client.CoreV1Api(client.ApiClient(server.client_configuration()))
        results["at"] = {}
        for n in pod_counts:
            _fill(server, n)
            total = server.call(lambda: len(cluster.store.list(cluster.rt("Pod"))))
            api.list_pod_for_all_namespaces()  # warm the connection pool
            lists = _timed(lambda: _read(api.list_pod_for_all_namespaces(_preload_content=False)), samples)
            target = server.call(lambda: cluster.store.list(cluster.rt("Pod"), BENCH_NAMESPACE)[0]["metadata"]["name"])
            counter = iter(range(10**9))
            patches = _timed(
                lambda target=target, counter=counter: _read(
                    api.patch_namespaced_pod(
                        target,
                        BENCH_NAMESPACE,
                        {"metadata": {"labels": {"bench": str(next(counter))}}},
                        _preload_content=False,
                    )
                ),
                samples,
            )
            t1 = time.perf_counter()
            server.advance(60)
            reconcile = time.perf_counter() - t1
            row = {
                "pods": total,
                "list_p50_ms": round(statistics.median(lists), 2),
                "list_p95_ms": round(_percentile(lists, 0.95), 2),
                "patch_p50_ms": round(statistics.median(patches), 2),
                "patch_p95_ms": round(_percentile(patches, 0.95), 2),
                "reconcile_seconds_per_virtual_minute": round(reconcile, 3),
            }
            results["at"][str(n)] = row
            lines.append(
                f"{total:>5} pods: list pods (all namespaces) p50 {row['list_p50_ms']} ms p95 {row['list_p95_ms']} ms | "
                f"strategic-merge patch p50 {row['patch_p50_ms']} ms p95 {row['patch_p95_ms']} ms | "
                f"reconcile {row['reconcile_seconds_per_virtual_minute'] * 1000:.0f} ms per virtual minute"
            )
    finally:
        server.stop()
    results["lines"] = lines
    return results
