"""API failures (403, 500, timeouts, nobody listening) come back as ok=False with a readable line, through
the simulator's reliability rules; nothing raises."""

from __future__ import annotations

import socket

from kubernetes import client

from orchestrator.tools import ActionPolicy, Toolbox, ToolContext
from tests.tools.conftest import NS, Cluster


async def test_server_errors_on_reads(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.fail_requests("/pods", 500)
    r = await tb.call("list_pods", {"namespace": NS})
    assert not r.ok
    assert r.error == "the API server failed (500): Internal error occurred: injected by the simulator"
    cluster.heal_requests()
    assert (await tb.call("list_pods", {"namespace": NS})).ok


async def test_forbidden_reads(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.fail_requests("/secrets", 403)
    r = await tb.call("describe", {"kind": "secret", "name": "valkey-credentials", "namespace": NS})
    assert not r.ok
    assert r.error.startswith('forbidden (403): User "system:serviceaccount:sre-agent:sre-agent" cannot get')
    # Other reads still work.
    assert (await tb.call("describe", {"kind": "deploy", "name": "cart", "namespace": NS})).ok


async def test_observability_failures(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.fail_requests("/api/v2/alerts", 503)
    alerts = await tb.call("get_alerts", {})
    assert not alerts.ok and alerts.error.startswith("Alertmanager answered 503")
    cluster.fail_requests("/api/v1/query", 500)
    metrics = await tb.call("query_metrics", {"query": "up"})
    assert not metrics.ok and metrics.error.startswith("Prometheus answered 500")


async def test_forbidden_writes_fail_at_the_dry_run(cluster: Cluster) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="auto"))
    cluster.fail_requests("deployments/cart", 403, methods=["PATCH"])
    r = await tb.call("scale", {"kind": "deploy", "name": "cart", "namespace": NS, "replicas": 2})
    assert not r.ok
    assert r.error.startswith("dry run failed: forbidden (403)")
    assert r.write is not None and r.write["mode"] == "failed" and r.write["dry_run_ok"] is False
    dep = cluster.apps.read_namespaced_deployment("cart", NS)
    assert dep.spec.replicas == 1


async def test_a_slow_api_server_times_out(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    tb.ctx.kube.timeout = 0.5
    cluster.control("POST", "reliability", {"path": "/deployments", "latency": 3.0})
    r = await tb.call("describe", {"kind": "deploy", "name": "cart", "namespace": NS})
    assert not r.ok and r.error.startswith("cannot reach the cluster:") and "timed out" in r.error.lower()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_nobody_listening() -> None:
    cfg = client.Configuration()
    cfg.host = f"http://127.0.0.1:{_closed_port()}"
    cfg.retries = 0
    with client.ApiClient(cfg) as api:
        tb = Toolbox(ToolContext(api, alertmanager_url=cfg.host, namespaces=[NS]))
        r = await tb.call("list_workloads", {"namespace": NS})
        assert not r.ok and r.error.startswith("cannot reach the cluster:")
        assert "refused" in r.error.lower()
        alerts = await tb.call("get_alerts", {})
        assert not alerts.ok and alerts.error.startswith(f"cannot reach Alertmanager at {cfg.host}")
