"""After any write, the controllers that work from the store's change log leave the cluster where a full
walk of it would: a fresh set of controllers, whose first pass walks everything, finds nothing to do."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from orchestrator.sim.bench import bench_namespace, build_app_cluster
from orchestrator.sim.builtin import resolve_scenario
from orchestrator.sim.clock import Clock
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.controllers.endpoints import EndpointsController
from orchestrator.sim.controllers.endpointslices import EndpointSliceController
from orchestrator.sim.controllers.kubelet import _kubelet_of
from orchestrator.sim.controllers.scheduler import Scheduler
from orchestrator.sim.controllers.workloads import DeploymentController, ReplicaSetController
from orchestrator.sim.promql import Sample, SampleIndex
from orchestrator.sim.runner import SimulatorServer
from orchestrator.sim.scenario import ScenarioError, load_scenario
from orchestrator.sim.store import Store

NS = bench_namespace(0)


@pytest.fixture
def served() -> Iterator[tuple[SimulatorServer, client.ApiClient]]:
    server = SimulatorServer(build_app_cluster(600))  # six apps of ten pods in each namespace
    server.start_thread()
    api = client.ApiClient(server.client_configuration())
    try:
        yield server, api
    finally:
        api.close()
        server.stop()


def _writes_a_full_walk_would_make(cluster: Cluster) -> int:
    """Run fresh controllers (their first pass walks the whole cluster); how many writes they make."""
    before = cluster.store.resource_version
    for controller in (
        DeploymentController(),
        ReplicaSetController(),
        Scheduler(),
        EndpointsController(),
        EndpointSliceController(),
    ):
        controller.reconcile(cluster)
    return cluster.store.resource_version - before


def _pod_names(api: client.ApiClient, app: str) -> list[str]:
    pods = client.CoreV1Api(api).list_namespaced_pod(NS, label_selector=f"app.kubernetes.io/name={app}").items
    return sorted(p.metadata.name for p in pods if not p.metadata.deletion_timestamp)


def _addresses(api: client.ApiClient, service: str) -> list[str]:
    ep = client.CoreV1Api(api).read_namespaced_endpoints(service, NS)
    return sorted(a.target_ref.name for s in ep.subsets or [] for a in s.addresses or [])


def test_each_kind_of_write_leaves_nothing_for_a_full_walk(served: tuple[SimulatorServer, client.ApiClient]) -> None:
    server, api = served
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    first = _pod_names(api, "app-000")[0]
    writes: list[tuple[str, Callable[[], object]]] = [
        # A pod relabelled out of its Service, and one deleted (its ReplicaSet replaces it).
        (
            "relabel",
            lambda: core.patch_namespaced_pod(first, NS, {"metadata": {"labels": {"app.kubernetes.io/name": "x"}}}),
        ),
        ("delete pod", lambda: core.delete_namespaced_pod(_pod_names(api, "app-001")[0], NS)),
        ("scale up", lambda: apps.patch_namespaced_deployment_scale("app-002", NS, {"spec": {"replicas": 4}})),
        ("scale down", lambda: apps.patch_namespaced_deployment_scale("app-003", NS, {"spec": {"replicas": 1}})),
        (
            "retarget",
            lambda: core.patch_namespaced_service(
                "app-004", NS, {"spec": {"selector": {"app.kubernetes.io/name": "app-005"}}}
            ),
        ),
        ("delete service", lambda: core.delete_namespaced_service("app-005", NS)),
        ("hand-edit endpoints", lambda: core.patch_namespaced_endpoints("app-000", NS, {"subsets": []})),
        (
            "new template",
            lambda: apps.patch_namespaced_deployment(
                "app-001", NS, {"spec": {"template": {"metadata": {"annotations": {"v": "2"}}}}}
            ),
        ),
    ]
    for what, write in writes:
        write()
        assert server.call(lambda: _writes_a_full_walk_would_make(server.cluster)) == 0, what
    # And what a reader sees right after those writes is the end state.
    assert first not in _addresses(api, "app-000")
    assert _addresses(api, "app-000") == [n for n in _pod_names(api, "app-000")]
    assert _addresses(api, "app-004") == _pod_names(api, "app-005")
    assert len(_pod_names(api, "app-002")) == 4
    assert len(_pod_names(api, "app-003")) == 1
    server.advance(60)
    assert server.call(lambda: _writes_a_full_walk_would_make(server.cluster)) == 0


def test_the_label_index_answers_as_a_scan_in_list_order() -> None:
    store = Store(Clock(start=0.0))
    store.create(store.rtype("Namespace"), {"metadata": {"name": "a"}})
    pod = store.rtype("Pod")
    for i in range(12):
        labels = {"app": "web" if i % 2 else "db", "tier": str(i % 3)}
        store.create(pod, {"metadata": {"name": f"p{i}", "namespace": "a", "labels": labels}, "spec": {}})
    store.mutate(pod, "a", "p1", lambda o: o["metadata"]["labels"].update(app="db"))
    store.mutate(pod, "a", "p2", lambda o: o["metadata"]["labels"].update(app="web"))
    store.delete(pod, "a", "p3")
    store.create(pod, {"metadata": {"name": "p3", "namespace": "a", "labels": {"app": "web", "tier": "0"}}})

    for wanted in ({"app": "web"}, {"app": "db", "tier": "1"}, {"tier": "0"}, {"app": "none"}):
        scan = [
            o["metadata"]["name"] for o in store.list(pod, "a") if wanted.items() <= o["metadata"]["labels"].items()
        ]
        assert [e.obj["metadata"]["name"] for e in store.labelled(pod, "a", wanted)] == scan
    assert store.labelled(pod, "elsewhere", {"app": "web"}) == []


def test_an_application_runs_at_the_replica_count_its_scenario_asks(tmp_path: Path) -> None:
    doc = {
        "apiVersion": "sim.sre-agent.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "bigger"},
        "spec": {"applications": [{"name": "book-info", "options": {"replicas": 3}}], "warmup": 60},
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc))
    cluster = Cluster()
    load_scenario(cluster, path)
    deployments = cluster.store.list(cluster.rt("Deployment"), "book-info")
    assert deployments
    for dep in deployments:
        assert dep["spec"]["replicas"] == 3
        assert dep["status"].get("readyReplicas") == 3, dep["metadata"]["name"]

    doc["spec"]["applications"][0]["options"]["replicas"] = "many"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ScenarioError, match=r"spec.applications\[0\].options.replicas"):
        load_scenario(Cluster(), path)


def test_a_create_refused_by_quota_is_retried_when_its_back_off_ends_without_a_write_to_its_replicaset() -> None:
    cluster = Cluster()
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "q"}})
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "pods", "namespace": "q"}}
    cluster.apply({**quota, "spec": {"hard": {"pods": "1"}}})
    labels = {"app": "web"}
    cluster.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "q"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "busybox:1.37", "command": ["sleep", "3600"]}]},
                },
            },
        }
    )
    cluster.after_write()
    cluster.advance(5)
    assert len(cluster.store.list(cluster.rt("Pod"), "q")) == 1
    # Only the quota changes; the ReplicaSet learns of it when its back-off ends, as the time moves.
    cluster.store.mutate(cluster.rt("ResourceQuota"), "q", "pods", lambda o: o["spec"]["hard"].update(pods="5"))
    cluster.after_write()
    assert len(cluster.store.list(cluster.rt("Pod"), "q")) == 1
    cluster.advance(15)
    assert len(cluster.store.list(cluster.rt("Pod"), "q")) == 2
    assert _writes_a_full_walk_would_make(cluster) == 0


def _gauges(samples: list) -> list[tuple]:
    """A scrape without its counters (a fresh collector's counters start again at zero)."""
    counters = ("_total", "cfs_periods", "cfs_throttled")
    return [(s.name, tuple(s.labels.items()), s.value) for s in samples if not any(c in s.name for c in counters)]


def test_a_scrape_that_reuses_unwritten_objects_samples_equals_a_scrape_from_scratch() -> None:
    cluster = build_app_cluster(200)
    pods = cluster.rt("Pod")
    collector = cluster.observability._collector
    first = cluster.store.list(pods, NS)[0]["metadata"]["name"]
    writes: list[tuple[str, Callable[[], object]]] = [
        ("nothing", lambda: None),
        ("relabel", lambda: cluster.store.mutate(pods, NS, first, lambda o: o["metadata"]["labels"].update(x="1"))),
        ("delete pod", lambda: cluster.store.delete(pods, NS, cluster.store.list(pods, NS)[1]["metadata"]["name"])),
        (
            "scale",
            lambda: cluster.store.mutate(
                cluster.rt("Deployment"), NS, "app-001", lambda o: o["spec"].update(replicas=3)
            ),
        ),
        ("delete namespace", lambda: cluster.store.delete(cluster.rt("Namespace"), "", bench_namespace(3))),
    ]
    for what, write in writes:
        write()
        cluster.after_write()
        cluster.advance(5)
        now = cluster.now()
        incremental = collector.collect(now)
        assert _gauges(incremental.samples) == _gauges(type(collector)(cluster).collect(now).samples), what
        # Indexed from its parts' groupings, the scrape is indexed as the whole would be.
        assert incremental.by_name == SampleIndex(incremental.samples).by_name, what
        assert list(incremental.by_name) == list(SampleIndex(incremental.samples).by_name), what


def test_a_query_sees_series_added_to_a_scrape_after_a_matcher_filtered_it() -> None:
    cluster = Cluster()
    cluster.advance(5)
    obs, now = cluster.observability, cluster.now()
    query = '{namespace="elsewhere"}'
    assert obs.query(query) == []
    assert obs.query(query) == []  # the matchers' memory of the scrape's lists answers this one
    obs._append(now, [Sample("ALERTS", {"alertname": "X", "namespace": "elsewhere"}, 1.0)])
    assert [s.labels["alertname"] for s in obs.query(query)] == ["X"]


@pytest.fixture
def collected() -> Iterator[None]:
    """Collect the test's clusters when it ends: left as cycles, they would be frozen into the heap of the
    next embedded server a test starts (`SimulatorServer.start_thread`) and collected in its `stop`."""
    yield
    gc.collect()


def _traffic_seen(cluster: Cluster) -> tuple[dict, dict]:
    """What the traffic model shows: every service's rates and errors, and every container's log."""
    stats = {key: dataclasses.asdict(st) for key, st in cluster.traffic.services.items()}
    logs = {key: {r: list(lines) for r, lines in per.items()} for key, per in cluster.logs._lines.items()}
    return stats, logs


def test_traffic_that_reuses_an_unchanged_evaluation_equals_one_evaluated_every_step(collected: None) -> None:
    scenario = resolve_scenario("otel-demo-bad-image")
    reusing, fresh = (SimulatorServer.create(scenario, seed=0).cluster for _ in range(2))
    reused = 0

    def step_both(seconds: int) -> None:
        nonlocal reused
        for _ in range(seconds // 5):
            before = dict(reusing.traffic.services)
            fresh.traffic._evaluated.clear()  # builds and evaluates from scratch every step
            fresh.traffic._all_dirty = True
            reusing.advance(5)
            fresh.advance(5)
            reused += any(st is before.get(key) for key, st in reusing.traffic.services.items())
            assert _traffic_seen(reusing) == _traffic_seen(fresh), reusing.now()

    step_both(300)
    assert reused > 0  # the comparison covered steps that reused an evaluation
    assert any(e.lines for e in reusing.traffic._evaluated.values())  # and wrote logs from a plan of its lines
    edits: list[tuple[str, Callable[[dict], None], bool]] = [
        ("status message", lambda p: p["status"].update(message="nothing a graph reads"), True),
        ("annotation", lambda p: p["metadata"].setdefault("annotations", {}).update(note="a fieldRef reads it"), False),
    ]
    for what, edit, kept in edits:
        graph = reusing.traffic._graphs["otel-demo"]
        for cluster in (reusing, fresh):
            pod = cluster.store.list(cluster.rt("Pod"), "otel-demo")[0]["metadata"]["name"]
            cluster.store.mutate(cluster.rt("Pod"), "otel-demo", pod, edit, status=what.startswith("status"))
            cluster.after_write()
        assert (reusing.traffic._graphs["otel-demo"] is graph) == kept, what
        step_both(10)
    for cluster in (reusing, fresh):  # a CPU limit below the demand: throttled pods from now on
        cluster.store.mutate(
            cluster.rt("Deployment"),
            "otel-demo",
            "frontend",
            lambda d: d["spec"]["template"]["spec"]["containers"][0].update(resources={"limits": {"cpu": "10m"}}),
        )
        cluster.after_write()
    step_both(300)
    throttled = _traffic_seen(reusing)[0][("otel-demo", "frontend")]
    assert throttled["p95_seconds"] > 0
    for cluster in (reusing, fresh):  # the process's CPU demand doubles with no write to any object
        kubelet = _kubelet_of(cluster)
        assert kubelet is not None
        for run in kubelet.runs.values():
            container = run.container("frontend") if run.namespace == "otel-demo" else None
            if container is not None:
                container.cpu *= 2
    step_both(30)
    assert _traffic_seen(reusing)[0][("otel-demo", "frontend")] != throttled


def _alerting_seen(cluster: Cluster) -> tuple[list[dict], list[tuple]]:
    """Every pending and firing alert, and every rule's health, as Prometheus' API shows them."""
    alerts = cluster.observability.alerts
    return alerts.active(), [(r.name, r.health, r.last_error, r.last_evaluation) for r in alerts.rules]


def test_rules_that_reuse_a_value_of_unchanged_series_alert_as_rules_evaluated_every_step(collected: None) -> None:
    scenario = resolve_scenario("otel-demo-bad-image")
    reusing, fresh = (SimulatorServer.create(scenario, seed=0).cluster for _ in range(2))
    evaluated = 0

    def step_both(seconds: int) -> None:
        nonlocal evaluated
        for _ in range(seconds // 5):
            for rule in fresh.observability.alerts.rules:
                rule.memo = None  # evaluates from scratch every step
            before = {r.name: r.memo for r in reusing.observability.alerts.rules}
            reusing.advance(5)
            fresh.advance(5)
            evaluated += sum(r.memo is not before[r.name] for r in reusing.observability.alerts.rules)
            assert _alerting_seen(reusing) == _alerting_seen(fresh), reusing.now()

    step_both(300)
    assert _alerting_seen(reusing)[0]  # the fault's alerts are pending or firing
    for cluster in (reusing, fresh):  # fewer frontend pods: the pod alerts' inputs change
        cluster.store.mutate(cluster.rt("Deployment"), "otel-demo", "frontend", lambda d: d["spec"].update(replicas=0))
        cluster.after_write()
    step_both(120)
    rules = len(reusing.observability.alerts.rules)
    # Some evaluations were reused (fewer than one per rule and step) and some were not.
    assert 0 < evaluated < rules * (300 + 120) // 5
