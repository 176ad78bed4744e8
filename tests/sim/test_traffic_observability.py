"""Traffic model and observability: healthy traffic, faults made directly through the store, the
errors, logs and alerts they cause within 10 virtual minutes, and the alerts clearing on repair.
Also the Prometheus/Alertmanager HTTP API and the alert-rule semantics on their own."""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from orchestrator.sim.cluster import Cluster
from orchestrator.sim.observability import (
    AlertManager,
    builtin_rules,
    fingerprint,
    go_float,
    load_rules,
    parse_matchers,
    render_template,
)
from orchestrator.sim.promql import HistorySource, Sample
from orchestrator.sim.server import ApiServer
from orchestrator.sim.traffic import expected_rates

NS = "otel-demo"
FAULT_WINDOW = 600.0  # alerts must fire within 10 virtual minutes of a fault
HEAL_WINDOW = 300.0


# ================================================================================================ helpers
def advance_until(c: Cluster, check: Callable[[], Any], limit: float, step: float = 5.0) -> float | None:
    """Advance the virtual clock until check() holds; the seconds it took, or None on timeout."""
    elapsed = 0.0
    while not check():
        if elapsed >= limit:
            return None
        c.advance(step)
        elapsed += step
    return elapsed


def firing(c: Cluster) -> set[tuple[str, str]]:
    """(alertname, service or workload) of the firing alerts."""
    out = set()
    for a in c.observability.alerts.active():
        if a["state"] == "firing":
            labels = a["labels"]
            out.add((labels["alertname"], labels.get("service") or labels.get("workload") or ""))
    return out


def traffic_ok(c: Cluster) -> bool:
    """Every service of the call graph receives requests and none fails."""
    wanted = {k: v for app in c.applications.values() for k, v in expected_rates(app).items()}
    for key, expected in wanted.items():
        st = c.traffic.services.get(key)
        if expected > 0 and (st is None or st.rps <= 0 or st.error_rps > 0):
            return False
    return True


def logs_of(c: Cluster, service: str, namespace: str = NS) -> str:
    """Every log line of the service's pods (all container instances still kept)."""
    lines = []
    for pod in c.store.list(c.rt("Pod"), namespace):
        if not pod["metadata"]["name"].startswith(service + "-"):
            continue
        restarts = {
            cs["name"]: cs.get("restartCount", 0) for cs in (pod.get("status") or {}).get("containerStatuses") or ()
        }
        for container, restart in restarts.items():
            for r in range(restart + 1):
                lines += [line for _, line in c.logs.lines(pod["metadata"]["uid"], container, r)]
    return "\n".join(lines)


def mutate(c: Cluster, kind: str, name: str, fn: Callable[[dict], None], namespace: str = NS) -> None:
    c.store.mutate(c.rt(kind), namespace, name, fn)
    c.after_write()


def set_env(container: str, var: str, value: str) -> Callable[[dict], None]:
    def fn(obj: dict) -> None:
        for cont in obj["spec"]["template"]["spec"]["containers"]:
            if cont["name"] == container:
                for e in cont["env"]:
                    if e["name"] == var:
                        e["value"] = value

    return fn


def healthy_cluster() -> Cluster:
    c = Cluster()
    c.install_application("opentelemetry-demo")
    assert advance_until(c, lambda: traffic_ok(c), 300) is not None, c.traffic.services
    c.advance(180)  # past every `for:` window: a healthy cluster stays quiet
    return c


@pytest.fixture
def cluster() -> Cluster:
    return healthy_cluster()


# ================================================================================================ healthy
def test_healthy_cluster_has_traffic_everywhere_and_no_alert(cluster: Cluster) -> None:
    c = cluster
    assert firing(c) == set()
    assert traffic_ok(c)
    app = c.applications[NS]
    assert c.traffic.stats(NS, app.entry or "").rps == pytest.approx(app.requests_per_second)
    assert (NS, app.generator) not in {k for k, v in c.traffic.expected.items() if v > 0}
    for key, st in c.traffic.services.items():
        assert st.p95_seconds < 1.0, key
    # Success lines from the model's `request` logs.
    assert "GET /api/products 200" in logs_of(c, "frontend")


def test_expected_rates_follow_the_call_graph() -> None:
    app = Cluster().catalog["opentelemetry-demo"]
    rates = expected_rates(app)
    assert rates[(NS, "frontend-proxy")] == pytest.approx(40)
    assert rates[(NS, "load-generator")] == 0
    assert rates[(NS, "flagd")] == 0  # nobody calls it: not part of the call graph
    assert rates[(NS, "accounting")] > 0  # a kafka consumer


def test_book_info_spreads_reviews_over_versions() -> None:
    c = Cluster()
    c.install_application("book-info")
    assert advance_until(c, lambda: traffic_ok(c), 300) is not None, c.traffic.services
    versions = [c.traffic.stats("book-info", f"reviews-v{i}").rps for i in (1, 2, 3)]
    assert sum(versions) == pytest.approx(10, rel=0.01)
    assert all(v == pytest.approx(10 / 3, rel=0.05) for v in versions)
    assert c.traffic.stats("book-info", "ratings").rps == pytest.approx(20 / 3, rel=0.05)


# ================================================================================================ faults
def test_deleted_service_breaks_its_callers_and_heals(cluster: Cluster) -> None:
    c = cluster
    svc_rt = c.rt("Service")
    saved = copy.deepcopy(c.store.get(svc_rt, NS, "quote"))
    c.store.delete(svc_rt, NS, "quote")
    c.after_write()

    shipping = c.traffic.stats(NS, "shipping")
    assert shipping.error_ratio == pytest.approx(1.0)
    assert "dns error" in (shipping.by_callee["quote"].error or "")
    assert c.traffic.stats(NS, "quote").rps == 0
    took = advance_until(
        c, lambda: {("HighRequestErrorRate", "shipping"), ("NoRequestsReceived", "quote")} <= firing(c), FAULT_WINDOW
    )
    assert took is not None, firing(c)
    assert "failed to get quote: error sending request for url (http://quote:8090/getquote)" in logs_of(c, "shipping")

    for k in ("uid", "resourceVersion", "creationTimestamp"):
        saved["metadata"].pop(k, None)
    c.store.create(svc_rt, saved)
    c.after_write()
    assert advance_until(c, lambda: not firing(c), HEAL_WINDOW) is not None, firing(c)
    assert traffic_ok(c)


def test_bad_address_in_deployment_template_refuses_connections(cluster: Cluster) -> None:
    c = cluster
    mutate(c, "Deployment", "shipping", set_env("shipping", "QUOTE_ADDR", "quote:0000"))
    # Only the rolled-out pod reads the new value.
    assert advance_until(c, lambda: c.traffic.stats(NS, "shipping").error_ratio > 0.99, FAULT_WINDOW) is not None
    assert advance_until(c, lambda: ("HighRequestErrorRate", "shipping") in firing(c), FAULT_WINDOW) is not None
    logs = logs_of(c, "shipping")
    assert "error sending request for url (http://quote:0000/getquote)" in logs
    assert "Connection refused (os error 111)" in logs
    assert c.traffic.stats(NS, "checkout").error_rps > 0  # the failure reaches the callers

    mutate(c, "Deployment", "shipping", set_env("shipping", "QUOTE_ADDR", "http://quote:8090"))
    assert advance_until(c, lambda: not firing(c) and traffic_ok(c), HEAL_WINDOW) is not None, firing(c)


def test_deny_all_ingress_policy_times_out_callers(cluster: Cluster) -> None:
    c = cluster
    policy = {
        "metadata": {"name": "deny-frontend", "namespace": NS},
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "frontend"}}, "policyTypes": ["Ingress"]},
    }
    np_rt = c.rt("NetworkPolicy")
    c.store.create(np_rt, policy)
    c.after_write()

    proxy = c.traffic.stats(NS, "frontend-proxy")
    assert proxy.error_ratio == pytest.approx(1.0)
    assert proxy.p95_seconds >= 10
    assert c.traffic.stats(NS, "frontend").rps == 0
    want = {
        ("HighRequestErrorRate", "frontend-proxy"),
        ("HighRequestLatency", "frontend-proxy"),
        ("NoRequestsReceived", "frontend"),
    }
    assert advance_until(c, lambda: want <= firing(c), FAULT_WINDOW) is not None, firing(c)
    assert "upstream_reset_before_response_started{connection_timeout}" in logs_of(c, "frontend-proxy")

    c.store.delete(np_rt, NS, "deny-frontend")
    c.after_write()
    assert advance_until(c, lambda: not firing(c), HEAL_WINDOW) is not None, firing(c)


def test_policy_allowing_only_the_proxy_keeps_traffic(cluster: Cluster) -> None:
    c = cluster
    policy = {
        "metadata": {"name": "frontend-from-proxy", "namespace": NS},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "frontend"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "frontend-proxy"}}}],
                    "ports": [{"port": 8080}],
                }
            ],
        },
    }
    c.store.create(c.rt("NetworkPolicy"), policy)
    c.after_write()
    assert traffic_ok(c)

    def wrong_port(obj: dict) -> None:
        obj["spec"]["ingress"][0]["ports"] = [{"port": 9090}]

    mutate(c, "NetworkPolicy", "frontend-from-proxy", wrong_port)
    assert c.traffic.stats(NS, "frontend-proxy").error_ratio == pytest.approx(1.0)


def test_changed_secret_fails_authentication(cluster: Cluster) -> None:
    c = cluster
    original = copy.deepcopy(c.store.get(c.rt("Secret"), NS, "valkey-credentials")["data"])

    def set_password(data: dict) -> Callable[[dict], None]:
        return lambda obj: obj.__setitem__("data", data)

    mutate(c, "Secret", "valkey-credentials", set_password({"valkey-password": base64.b64encode(b"hunter2").decode()}))
    cart = c.traffic.stats(NS, "cart")
    assert cart.error_ratio == pytest.approx(1.0)
    assert "WRONGPASS" in (cart.last_error or "")
    assert cart.p95_seconds >= 10  # the client reconnects until its deadline
    want = {("HighRequestErrorRate", "cart"), ("HighRequestLatency", "cart")}
    assert advance_until(c, lambda: want <= firing(c), FAULT_WINDOW) is not None, firing(c)
    assert "WRONGPASS invalid username-password pair or user is disabled." in logs_of(c, "cart")

    mutate(c, "Secret", "valkey-credentials", set_password(original))
    assert advance_until(c, lambda: not firing(c), HEAL_WINDOW) is not None, firing(c)


def test_consumer_without_pods_shows_as_broker_delivery_errors(cluster: Cluster) -> None:
    c = cluster
    mutate(c, "Deployment", "accounting", lambda o: o["spec"].__setitem__("replicas", 0))
    assert advance_until(c, lambda: c.traffic.stats(NS, "kafka").error_rps > 0, FAULT_WINDOW) is not None
    assert c.traffic.stats(NS, "accounting").rps == 0
    assert c.traffic.stats(NS, "fraud-detection").rps > 0
    want = {("HighRequestErrorRate", "kafka"), ("NoRequestsReceived", "accounting")}
    assert advance_until(c, lambda: want <= firing(c), FAULT_WINDOW) is not None, firing(c)

    mutate(c, "Deployment", "accounting", lambda o: o["spec"].__setitem__("replicas", 1))
    assert advance_until(c, lambda: not firing(c), HEAL_WINDOW) is not None, firing(c)


def test_dns_config_pointing_nowhere_times_out_lookups(cluster: Cluster) -> None:
    c = cluster

    def bad_dns(obj: dict) -> None:
        spec = obj["spec"]["template"]["spec"]
        spec["dnsPolicy"] = "None"
        spec["dnsConfig"] = {"nameservers": ["192.0.2.53"]}

    mutate(c, "Deployment", "recommendation", bad_dns)
    assert advance_until(c, lambda: c.traffic.stats(NS, "recommendation").error_ratio > 0.99, FAULT_WINDOW) is not None
    assert c.traffic.stats(NS, "recommendation").p95_seconds >= 10
    assert "context deadline exceeded" in logs_of(c, "recommendation")


def test_cpu_limit_below_demand_saturates_the_service(cluster: Cluster) -> None:
    c = cluster

    def starve(obj: dict) -> None:
        container = obj["spec"]["template"]["spec"]["containers"][0]
        container.setdefault("resources", {}).setdefault("limits", {})["cpu"] = "5m"  # it needs 20m

    mutate(c, "Deployment", "product-catalog", starve)
    want = {("HighRequestLatency", "product-catalog"), ("HighRequestErrorRate", "product-catalog")}
    assert advance_until(c, lambda: want <= firing(c), FAULT_WINDOW) is not None, firing(c)
    assert "DeadlineExceeded" in logs_of(c, "checkout")


def test_no_load_without_a_ready_generator(cluster: Cluster) -> None:
    c = cluster
    mutate(c, "Deployment", "load-generator", lambda o: o["spec"].__setitem__("replicas", 0))
    assert advance_until(c, lambda: c.traffic.stats(NS, "frontend-proxy").rps == 0, 120) is not None
    assert all(st.rps == 0 for st in c.traffic.services.values())


# ================================================================================================ metrics and HTTP
def test_scrape_has_kube_state_and_application_series(cluster: Cluster) -> None:
    c = cluster
    names = {s.name for s in c.observability.history.at(c.now())}
    for name in (
        "kube_pod_info",
        "kube_pod_owner",
        "kube_pod_status_phase",
        "kube_pod_status_ready",
        "kube_pod_container_status_restarts_total",
        "kube_pod_container_resource_requests",
        "kube_deployment_spec_replicas",
        "kube_deployment_status_replicas_available",
        "kube_node_spec_unschedulable",
        "kube_node_status_condition",
        "namespace_workload_pod:kube_pod_owner:relabel",
        "app_requests_per_second",
        "app_errors_per_second",
        "app_request_latency_p95_seconds",
        "app_expected_requests_per_second",
        "container_memory_working_set_bytes",
        "container_cpu_usage_seconds_total",
    ):
        assert name in names, name
    rps = c.observability.query('sum(rate(app_requests_total{service="frontend"}[2m]))')
    assert isinstance(rps, list) and rps[0].value == pytest.approx(40, rel=0.01)


def test_prometheus_and_alertmanager_http_api(cluster: Cluster) -> None:
    c = cluster
    c.store.delete(c.rt("Service"), NS, "quote")
    c.after_write()
    assert advance_until(c, lambda: ("HighRequestErrorRate", "shipping") in firing(c), FAULT_WINDOW) is not None

    async def run() -> None:
        async with TestClient(TestServer(ApiServer(c).app())) as http:
            r = await http.get("/api/v1/query", params={"query": 'app_requests_per_second{service="frontend"}'})
            body = await r.json()
            assert r.status == 200 and body["status"] == "success"
            assert body["data"]["resultType"] == "vector"
            assert body["data"]["result"][0]["metric"]["service"] == "frontend"
            assert float(body["data"]["result"][0]["value"][1]) > 0

            r = await http.post("/api/v1/query", data={"query": "sum(app_errors_per_second) > 0", "time": str(c.now())})
            assert (await r.json())["data"]["result"]

            r = await http.get("/api/v1/query", params={"query": "sum(rate(app_requests_total[1m]"})
            body = await r.json()
            assert r.status == 400 and body["status"] == "error" and body["errorType"] == "bad_data"

            r = await http.get(
                "/api/v1/query_range",
                params={
                    "query": 'app_requests_per_second{service="quote"}',
                    "start": str(c.now() - 120),
                    "end": str(c.now()),
                    "step": "60s",
                },
            )
            body = await r.json()
            assert body["data"]["resultType"] == "matrix" and len(body["data"]["result"][0]["values"]) == 3

            body = await (await http.get("/api/v1/alerts")).json()
            names = {a["labels"]["alertname"] for a in body["data"]["alerts"]}
            assert "HighRequestErrorRate" in names

            body = await (await http.get("/api/v1/rules")).json()
            rules = {r["name"]: r for g in body["data"]["groups"] for r in g["rules"]}
            assert rules["HighRequestErrorRate"]["state"] == "firing"
            assert rules["KubePodCrashLooping"]["state"] == "inactive"

            body = await (await http.get("/api/v1/label/service/values")).json()
            assert "quote" in body["data"]
            body = await (await http.get("/api/v1/labels")).json()
            assert {"__name__", "namespace", "pod"} <= set(body["data"])
            r = await http.get("/api/v1/series", params={"match[]": 'kube_deployment_spec_replicas{deployment="cart"}'})
            assert [s["deployment"] for s in (await r.json())["data"]] == ["cart"]

            am = await (await http.get("/api/v2/alerts", params={"filter": 'alertname="HighRequestErrorRate"'})).json()
            assert am and all(a["labels"]["alertname"] == "HighRequestErrorRate" for a in am)
            shipping = next(a for a in am if a["labels"].get("service") == "shipping")
            assert shipping["status"] == {"state": "active", "silencedBy": [], "inhibitedBy": []}
            assert shipping["receivers"] == [{"name": "default"}] and len(shipping["fingerprint"]) == 16
            assert shipping["annotations"]["description"].endswith("fail.")
            assert await (await http.get("/api/v2/alerts", params={"active": "false"})).json() == []
            status = await (await http.get("/api/v2/status")).json()
            assert status["cluster"]["status"] == "ready"
            # The Kubernetes API still answers next to Prometheus.
            assert (await http.get(f"/api/v1/namespaces/{NS}/pods")).status == 200

    asyncio.run(run())


# ================================================================================================ units
RULE = """
groups:
  - name: test
    rules:
      - alert: Broken
        expr: up == 0
        for: 1m
        labels: {severity: critical}
        annotations:
          description: "{{ $labels.job }} is down ({{ $value }})"
"""


def test_alert_pending_firing_and_immediate_resolution() -> None:
    am = AlertManager(load_rules(RULE))
    hist = HistorySource(retention=1800, lookback=300)

    def at(ts: float, value: float) -> list[dict]:
        hist.add(ts, [Sample("up", {"job": "api"}, value)])
        am.evaluate(hist, ts)
        return am.active()

    assert at(0, 1) == []
    (a,) = at(10, 0)
    assert a["state"] == "pending" and a["activeAt"] == 10
    assert a["labels"] == {"job": "api", "severity": "critical", "alertname": "Broken"}
    assert a["annotations"]["description"] == "api is down (0)"
    assert at(60, 0)[0]["state"] == "pending"
    assert at(70, 0)[0]["state"] == "firing"
    assert at(75, 1) == []  # resolved at once, and kept out of active()
    assert at(80, 0)[0]["state"] == "pending"  # a new episode starts over


def test_builtin_rules_parse_and_cover_the_catalogue() -> None:
    names = {r.name for g in builtin_rules("library") for r in g.rules}
    assert {
        "KubePodNotReady",
        "KubePodCrashLooping",
        "KubeContainerWaiting",
        "KubeDeploymentReplicasMismatch",
        "KubeStatefulSetReplicasMismatch",
        "KubeHpaMaxedOut",
        "HighRequestErrorRate",
        "HighRequestLatency",
        "NoRequestsReceived",
    } <= names
    # The library's compressed durations: scenarios page within minutes.
    assert all(r.for_seconds <= 300 for g in builtin_rules("library") for r in g.rules)
    assert {r.name for g in builtin_rules("kube-prometheus") for r in g.rules} >= names


def test_formatting_helpers() -> None:
    assert go_float(1.0) == "1e+00"
    assert go_float(0.25) == "2.5e-01"
    assert go_float(123.5) == "1.235e+02"
    assert render_template("{{ $value | humanizePercentage }}", {}, 0.5) == "50%"
    assert render_template('{{ printf "%.1f" $value }}s {{ $labels.x }}', {"x": "y"}, 2.25) == "2.2s y"
    assert render_template("{{ $value | humanize }}", {}, 1500.0) == "1.5k"
    assert parse_matchers('{alertname="A",severity=~"crit.*"}') == [
        ("alertname", "=", "A"),
        ("severity", "=~", "crit.*"),
    ]
    assert fingerprint({"a": "b"}) == fingerprint({"a": "b"}) != fingerprint({"a": "c"})
