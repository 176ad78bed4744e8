"""The verifier gate against the simulator over HTTP: every check fails on a faulted cluster and passes once
the fix is applied through the official client and the virtual clock has moved; required_checks composes
what a PASS needs; unreadable evidence (Alertmanager down, API 500/403, cluster gone) fails, never passes."""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from kubernetes import client

from orchestrator.checks import CHECK_NAMES, parse_target
from orchestrator.checks.alerts import firing
from orchestrator.checks.kube import quantity
from orchestrator.checks.targets import Target, TargetError
from orchestrator.sim import resolve_scenario
from orchestrator.sim.runner import SimulatorServer
from orchestrator.verify import CheckSpec, Gate, Verdict
from tests.sim.helpers import Sim

NS = "otel-demo"
FAULT_SECONDS = 300.0  # virtual seconds for a fault's symptoms and alerts to show
HEAL_TIMEOUT = 900.0  # an HPA scales down only after its 5-minute stabilisation window
STEP = 60.0
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
REVISION = "deployment.kubernetes.io/revision"


# ================================================================================================ harness
class Served(Sim):
    def gate(self, namespaces: tuple[str, ...] = (NS,), alerts: tuple[dict, ...] = ()) -> Gate:
        return Gate(self.api, self.server.url, list(namespaces), list(alerts))


@contextmanager
def served(scenario: str | None) -> Iterator[Served]:
    server = SimulatorServer.start(scenario=resolve_scenario(scenario) if scenario else None)
    api = client.ApiClient(server.client_configuration())
    try:
        yield Served(server, api)
    finally:
        api.close()
        server.stop()


def judge(gate: Gate, checks: list[CheckSpec]) -> Verdict:
    return asyncio.run(gate.evaluate(checks))


def wait_for_pass(sim: Served, gate: Gate, checks: list[CheckSpec], timeout: float = HEAL_TIMEOUT) -> Verdict:
    """Advance the virtual clock until the verdict passes (or time is up): the last verdict either way."""
    elapsed = 0.0
    while True:
        verdict = judge(gate, checks)
        if verdict.passed or elapsed >= timeout:
            return verdict
        sim.server.advance(STEP)
        elapsed += STEP


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ================================================================================================ fixes (as kubectl sends them)
def rollout_undo(sim: Served, name: str) -> None:
    """`kubectl rollout undo deployment/<name>`: the previous ReplicaSet's template, without its hash label."""
    dep = json.loads(sim.apps.read_namespaced_deployment(name, NS, _preload_content=False).data)
    sets = json.loads(sim.apps.list_namespaced_replica_set(NS, _preload_content=False).data)["items"]
    current = int(dep["metadata"]["annotations"][REVISION])
    owned = [
        rs
        for rs in sets
        if any(r.get("uid") == dep["metadata"]["uid"] for r in rs["metadata"].get("ownerReferences") or [])
        and int(rs["metadata"].get("annotations", {}).get(REVISION, 0)) < current
    ]
    previous = max(owned, key=lambda rs: int(rs["metadata"]["annotations"][REVISION]))
    template = copy.deepcopy(previous["spec"]["template"])
    template["metadata"]["labels"].pop("pod-template-hash", None)
    sim.apps.patch_namespaced_deployment(
        name, NS, [{"op": "replace", "path": "/spec/template", "value": template}], _content_type=JSON_PATCH
    )


def undo(name: str) -> Callable[[Served], None]:
    return lambda sim: rollout_undo(sim, name)


def fix_target_port(sim: Served) -> None:
    ports = [{"name": "tcp-service", "port": 9555, "targetPort": 9555, "protocol": "TCP"}]
    sim.core.patch_namespaced_service("ad", NS, {"spec": {"ports": ports}}, _content_type=MERGE)


def fix_selector(sim: Served) -> None:
    body = {"spec": {"selector": {"app.kubernetes.io/name": "cart"}}}
    sim.core.patch_namespaced_service("cart", NS, body, _content_type=MERGE)


def cordoned_node(sim: Served) -> str:
    return next(n.metadata.name for n in sim.core.list_node().items if n.spec.unschedulable)


def uncordon(sim: Served) -> None:
    sim.core.patch_node(cordoned_node(sim), {"spec": {"unschedulable": None}}, _content_type=MERGE)


def raise_quota(sim: Served) -> None:
    body = {"spec": {"hard": {"requests.memory": "64Gi", "limits.memory": "64Gi"}}}
    sim.core.patch_namespaced_resource_quota("strict-resource-quota", NS, body, _content_type=MERGE)


def delete_quota(sim: Served) -> None:
    sim.core.delete_namespaced_resource_quota("strict-resource-quota", NS)


def fix_hpa(sim: Served) -> None:
    metrics = [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}
    ]
    client.AutoscalingV2Api(sim.api).patch_namespaced_horizontal_pod_autoscaler(
        "image-provider", NS, {"spec": {"metrics": metrics}}, _content_type=MERGE
    )


def scale_to_one(sim: Served) -> None:
    sim.apps.patch_namespaced_deployment_scale("accounting", NS, {"spec": {"replicas": 1}}, _content_type=MERGE)


# ================================================================================================ fault cases
def specs(*rows: tuple) -> Callable[[Served], list[CheckSpec]]:
    return lambda sim: [CheckSpec(*row) for row in rows]


@dataclass
class FaultCase:
    id: str
    scenario: str
    checks: Callable[[Served], list[CheckSpec]]  # each fails on the faulted cluster, passes after the fix
    fix: Callable[[Served], None]
    remediated: Callable[[Served], list[str]]  # what the fix touched: the gate's required set must pass too
    alerts: list[dict] = field(default_factory=list)


DEP_CATALOG = f"{NS}/Deployment/product-catalog"
CASES = [
    FaultCase(
        "bad-image-rollout-undo",
        "image",
        specs(
            ("workload_available", DEP_CATALOG),
            ("no_pending_or_crashlooping", DEP_CATALOG),
            ("no_pending_or_crashlooping", NS),
            ("endpoints_ready", f"{NS}/Service/product-catalog"),
            ("endpoints_ready", DEP_CATALOG),
            ("service_selects_pods", f"{NS}/Service/product-catalog"),
            ("alerts_cleared", NS),
            ("alerts_cleared", DEP_CATALOG, "KubePodNotReady"),
            ("alerts_cleared", None, "KubePodNotReady"),
        ),
        undo("product-catalog"),
        lambda sim: [DEP_CATALOG],
        alerts=[{"name": "KubePodNotReady", "labels": {"namespace": NS, "workload": "product-catalog"}}],
    ),
    FaultCase(
        "crash-command-rollout-undo",
        "crash",
        specs(
            ("no_recent_restarts", DEP_CATALOG),
            ("no_recent_restarts", NS),
            ("no_pending_or_crashlooping", DEP_CATALOG),
            ("workload_available", DEP_CATALOG),
        ),
        undo("product-catalog"),
        lambda sim: [DEP_CATALOG],
    ),
    FaultCase(
        "service-target-port-edit",
        "service-port",
        specs(("service_ports_match", f"{NS}/Service/ad"), ("alerts_cleared", NS)),
        fix_target_port,
        lambda sim: [f"{NS}/Service/ad"],
    ),
    FaultCase(
        "service-selector-edit",
        "service-selector-cart",
        specs(("service_selects_pods", f"{NS}/Service/cart"), ("endpoints_ready", f"{NS}/Service/cart")),
        fix_selector,
        lambda sim: [f"{NS}/Service/cart"],
    ),
    FaultCase(
        "cordoned-node-uncordon",
        "scheduling",
        lambda sim: [
            CheckSpec("node_schedulable", f"Node/{cordoned_node(sim)}"),
            CheckSpec("node_schedulable", NS),
            CheckSpec("workload_available", f"{NS}/Deployment/ad"),
            CheckSpec("no_pending_or_crashlooping", f"{NS}/Deployment/ad"),
        ],
        uncordon,
        lambda sim: [f"Node/{cordoned_node(sim)}"],
    ),
    FaultCase(
        "quota-raise",
        "quota",
        specs(
            ("quota_admits_pods", f"{NS}/ResourceQuota/strict-resource-quota"),
            ("quota_admits_pods", NS),
            ("workload_available", f"{NS}/Deployment/ad"),
        ),
        raise_quota,
        lambda sim: [f"{NS}/ResourceQuota/strict-resource-quota"],
    ),
    FaultCase(
        "quota-delete",
        "quota",
        specs(("quota_admits_pods", f"{NS}/ResourceQuota/strict-resource-quota"), ("quota_admits_pods", NS)),
        delete_quota,
        lambda sim: [f"{NS}/ResourceQuota/strict-resource-quota"],
    ),
    FaultCase(
        "hpa-edit-target",
        "hpa-image-provider",
        specs(("hpa_within_limits", f"{NS}/HorizontalPodAutoscaler/image-provider"), ("alerts_cleared", NS)),
        fix_hpa,
        lambda sim: [f"{NS}/HorizontalPodAutoscaler/image-provider"],
    ),
    FaultCase(
        "scaled-to-zero-scale",
        "scale",
        specs(("workload_available", f"{NS}/Deployment/accounting"), ("alerts_cleared", NS)),
        scale_to_one,
        lambda sim: [f"{NS}/Deployment/accounting"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_checks_fail_on_the_fault_and_pass_after_the_fix(case: FaultCase) -> None:
    with served(case.scenario) as sim:
        sim.server.advance(FAULT_SECONDS)
        gate = sim.gate(alerts=tuple(case.alerts))
        checks = case.checks(sim)
        required = gate.required_checks(case.remediated(sim), [], [])

        before = judge(gate, checks)
        for result in before.results:
            assert not result.passed, f"{result.name} {result.target} passed on the faulted cluster: {result.evidence}"
            assert result.error is None, result.error  # failed on what it read, not on a read error
            assert result.evidence and result.value
        assert len(before.objections) == len(checks)
        assert not judge(gate, required).passed

        case.fix(sim)
        after = wait_for_pass(sim, gate, list(dict.fromkeys(checks + required)))
        assert after.passed, "\n".join(after.objections)
        assert all(r.evidence and r.error is None for r in after.results)


# ================================================================================================ the gate's judgement
def test_a_healthy_cluster_passes_and_each_verdict_reads_afresh() -> None:
    with served("healthy-hpa") as sim:
        gate = sim.gate()
        checks = gate.required_checks([], [], [])
        assert checks == [CheckSpec("alerts_cleared", NS), CheckSpec("no_pending_or_crashlooping", NS)]
        verdict = judge(gate, checks)
        assert verdict.passed, verdict.objections
        assert verdict.objections == [] and verdict.at.endswith("Z")
        assert verdict.to_dict()["results"][0]["value"]["firing"] == []

        # The same gate, the cluster changed underneath: the next verdict sees it.
        sim.apps.patch_namespaced_deployment_scale("quote", NS, {"spec": {"replicas": 0}}, _content_type=MERGE)
        check = [CheckSpec("workload_available", f"{NS}/Deployment/quote")]
        result = judge(gate, check).results[0]
        assert not result.passed and result.value["desired"] == 0
        assert "0 replicas desired" in result.evidence


def test_pending_alerts_do_not_count_as_firing() -> None:
    with served("image") as sim:
        sim.server.advance(30)  # the pod is Pending; KubePodNotReady waits out its `for: 2m`
        states = {
            a["labels"]["alertname"]: a["state"]
            for a in json.loads(urllib.request.urlopen(f"{sim.server.url}/api/v1/alerts").read())["data"]["alerts"]
            if a["labels"].get("workload") == "product-catalog"
        }
        assert states.get("KubePodNotReady") == "pending"
        check = [CheckSpec("alerts_cleared", DEP_CATALOG, "KubePodNotReady")]
        gate = sim.gate()
        assert judge(gate, check).passed
        sim.server.advance(FAULT_SECONDS)
        result = judge(gate, check).results[0]
        assert not result.passed
        assert result.value["firing"][0]["alertname"] == "KubePodNotReady"
        # A gate scoped to no namespace watches the whole cluster rather than nothing.
        unscoped = judge(Gate(sim.api, sim.server.url, [], []), [CheckSpec("alerts_cleared")]).results[0]
        assert not unscoped.passed and unscoped.value["scope"] == "any namespace"


def test_restarts_are_judged_on_the_cluster_clock() -> None:
    with served("crash") as sim:
        sim.server.advance(FAULT_SECONDS)
        result = judge(sim.gate(), [CheckSpec("no_recent_restarts", DEP_CATALOG)]).results[0]
        assert not result.passed
        recent = result.value["recent"][0]
        # in back-off: a restart however long ago it last died
        assert recent["container"] == "product-catalog" and recent["seconds_ago"] >= 0
        # The simulator's virtual clock runs minutes ahead of this machine's: "now" must be the cluster's.
        cluster_now = parse_time(result.value["now"])
        assert cluster_now > time.time() + 120
        assert cluster_now <= parse_time(sim.server.state()["time"])


def test_without_a_date_header_the_cluster_clock_is_the_newest_timestamp_served() -> None:
    # A proxy may drop the Date header: "now" is then the newest time the namespace's pods and events show.
    from orchestrator.checks.reads import Reads
    from orchestrator.checks.registry import Context
    from orchestrator.checks.workloads import server_now

    with served("crash") as sim:
        sim.server.advance(FAULT_SECONDS)
        ctx = Context(Reads(sim.api), [NS])
        ctx.reads.list("Pod", NS)
        dated = server_now(ctx, NS)
        ctx.reads.server_time = None  # what a response without the header leaves
        undated = server_now(ctx, NS)
        cluster_now = parse_time(sim.server.state()["time"])
    assert dated is not None and undated is not None
    assert cluster_now - 30 <= undated <= cluster_now  # the crash loop's events are seconds old
    assert abs(dated - cluster_now) < 1


def test_restarts_older_than_the_window_pass() -> None:
    """valkey-cart OOM-loops; fixing its start script heals the pod in place, so its restarts stay on record."""
    with served("valkey-oom") as sim:
        sim.server.advance(FAULT_SECONDS)
        gate = sim.gate()
        check = [CheckSpec("no_recent_restarts", f"{NS}/Deployment/valkey-cart")]
        before = judge(gate, check).results[0]
        assert not before.passed and before.value["recent"][0]["reason"] == "OOMKilled"
        script = '#!/bin/sh\nexec valkey-server --requirepass "$VALKEY_PASSWORD"\n'
        sim.core.patch_namespaced_config_map(
            "valkey-storage-script", NS, {"data": {"valkey-storage.sh": script}}, _content_type=MERGE
        )
        after = wait_for_pass(sim, gate, check)
        assert after.passed, after.objections
        assert after.results[0].value["restarts_total"] > 0 and after.results[0].value["recent"] == []


def test_statefulsets_are_judged_like_deployments() -> None:
    labels = {"app.kubernetes.io/name": "cache"}
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "cache", "namespace": NS, "labels": labels},
        "spec": {
            "serviceName": "cache",
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "cache", "image": "busybox:1.37", "command": ["sleep", "infinity"]}]},
            },
        },
    }
    target = f"{NS}/StatefulSet/cache"
    with served("healthy-hpa") as sim:
        sim.apps.create_namespaced_stateful_set(NS, sts)
        gate = sim.gate()
        checks = [c for c in gate.required_checks([target], [], []) if c.name != "alerts_cleared"]
        assert names(checks) == [
            ("workload_available", target),
            ("no_pending_or_crashlooping", target),
            ("no_recent_restarts", target),
        ]
        assert wait_for_pass(sim, gate, checks).passed
        patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "busybox:no-such-tag"}]
        sim.apps.patch_namespaced_stateful_set("cache", NS, patch, _content_type=JSON_PATCH)
        sim.server.advance(FAULT_SECONDS)
        available, pods, _ = judge(gate, checks).results
        assert not available.passed and available.value["updated"] < 2
        assert not pods.passed and any(
            "ImagePullBackOff" in p or "ErrImagePull" in p for p in pods.value["unhealthy"].values()
        )


def parse_time(text: str) -> float:
    from orchestrator.checks.kube import parse_time as parse

    value = parse(text)
    assert value is not None, text
    return value


# ================================================================================================ unreadable evidence
def test_unreachable_alertmanager_fails_alerts_cleared() -> None:
    with served(None) as sim:
        url = f"http://127.0.0.1:{closed_port()}"
        gate = Gate(sim.api, url, [NS], [])
        verdict = judge(gate, [CheckSpec("alerts_cleared", NS)])
        result = verdict.results[0]
        assert not verdict.passed and not result.passed
        assert result.error.startswith(f"cannot read alerts at {url}: ")
        assert "\n" not in result.error
        assert verdict.objections == [f"alerts_cleared {NS}: {result.error}"]

        no_url = judge(Gate(sim.api, None, [NS], []), [CheckSpec("alerts_cleared")]).results[0]
        assert not no_url.passed and "no Alertmanager URL" in no_url.error


def test_api_errors_fail_the_checks_that_needed_the_read() -> None:
    with served("healthy-hpa") as sim:
        gate = sim.gate()
        checks = [
            CheckSpec("no_pending_or_crashlooping", NS),
            CheckSpec("workload_available", f"{NS}/Deployment/ad"),
            CheckSpec("service_selects_pods", f"{NS}/Service/ad"),
        ]
        sim.control("POST", "reliability", {"path": "/pods", "status": 500})
        verdict = judge(gate, checks)
        pods, workload, service = verdict.results
        assert not verdict.passed
        assert (
            not pods.passed
            and pods.error == f"cannot list pods in {NS}: 500 Internal error occurred: injected by the simulator"
        )
        assert not service.passed and service.error == pods.error  # it needs the pods too
        assert workload.passed, workload.error  # its reads were fine
        assert len(verdict.objections) == 2

        sim.control("DELETE", "reliability")
        sim.control("POST", "reliability", {"path": "/deployments/", "status": 403})
        workload = judge(gate, checks).results[1]
        assert not workload.passed
        assert workload.error.startswith(f"cannot get deployments {NS}/ad: 403 forbidden")

        sim.control("DELETE", "reliability")
        assert judge(gate, checks).passed  # nothing of the failed reads was kept


def test_an_unreachable_cluster_fails_every_check() -> None:
    cfg = client.Configuration()
    cfg.host = f"http://127.0.0.1:{closed_port()}"
    cfg.retries = 0
    with client.ApiClient(cfg) as api:
        gate = Gate(api, None, [NS], [])
        verdict = judge(gate, [CheckSpec("workload_available", DEP_CATALOG), CheckSpec("node_schedulable", NS)])
    assert not verdict.passed
    for result in verdict.results:
        assert result.error.startswith(f"cannot reach the cluster at {cfg.host}: "), result.error
        assert "object at 0x" not in result.error and "\n" not in result.error


def test_bad_check_specs_fail_with_a_named_error() -> None:
    with served(None) as sim:
        gate = sim.gate()
        verdict = judge(
            gate,
            [
                CheckSpec("workload_healthy", DEP_CATALOG),
                CheckSpec("workload_available", "a/b/c/d"),
                CheckSpec("service_ports_match", DEP_CATALOG),
                CheckSpec("hpa_within_limits"),
            ],
        )
        errors = [r.error for r in verdict.results]
        assert errors[0].startswith("unknown check 'workload_healthy' (known: ")
        assert errors[1].startswith("target 'a/b/c/d': expected")
        assert errors[2] == f"service_ports_match cannot check {DEP_CATALOG} (it checks Service)"
        assert errors[3].startswith("hpa_within_limits cannot check without a target")
        assert not verdict.passed and len(verdict.objections) == 4

        empty = judge(gate, [])
        assert not empty.passed and empty.objections == [
            "no check was required: nothing proves the incident is resolved"
        ]


def test_a_missing_object_fails_without_a_read_error() -> None:
    with served(None) as sim:
        result = judge(sim.gate(), [CheckSpec("workload_available", f"{NS}/Deployment/nope")]).results[0]
        assert not result.passed and result.error is None
        assert result.value == {"exists": False} and result.evidence == f"{NS}/Deployment/nope not found"


# ================================================================================================ required_checks
@pytest.fixture(scope="module")
def healthy() -> Iterator[Served]:
    with served("healthy-hpa") as sim:
        yield sim


def names(checks: list[CheckSpec]) -> list[tuple[str, str | None]]:
    return [(c.name, c.target) for c in checks]


def test_required_checks_compose_remediated_alerts_playbook_and_extra(healthy: Served) -> None:
    alerts = ({"name": "HighRequestErrorRate", "labels": {"namespace": NS, "service": "frontend"}},)
    gate = healthy.gate(alerts=alerts)
    checks = gate.required_checks(
        [DEP_CATALOG, f"{NS}/deploy/product-catalog"],  # the same object twice, spelled two ways
        ["endpoints_ready", "node_schedulable", "alerts_cleared", "workload_available"],
        [
            CheckSpec("no_recent_restarts", f"{NS}/Deployment/cart"),
            CheckSpec("quota_admits_pods"),
            CheckSpec("workload_available", f"{NS}/deploy/product-catalog"),  # already required
        ],
    )
    assert checks == [
        CheckSpec("workload_available", DEP_CATALOG),
        CheckSpec("no_pending_or_crashlooping", DEP_CATALOG),
        CheckSpec("no_recent_restarts", DEP_CATALOG),
        CheckSpec("alerts_cleared", NS),
        CheckSpec("alerts_cleared", NS, "HighRequestErrorRate"),
        CheckSpec("endpoints_ready", DEP_CATALOG),
        CheckSpec("node_schedulable", NS),
        CheckSpec("no_recent_restarts", f"{NS}/Deployment/cart"),
        CheckSpec("quota_admits_pods", NS),
    ]
    assert judge(gate, checks).passed


def test_a_check_name_the_gate_does_not_know_is_advisory_not_required(healthy: Served) -> None:
    gate = healthy.gate()
    with_words = gate.required_checks([DEP_CATALOG], ["pods are healthy again", "workload_available"], [])
    assert with_words == gate.required_checks([DEP_CATALOG], ["workload_available"], [])
    assert gate.required_checks([DEP_CATALOG], ["pods are healthy again", "workload_available"], []) == with_words
    assert gate.advisory == ["pods are healthy again"]
    verdict = judge(gate, with_words)
    assert verdict.passed and verdict.advisory == ["pods are healthy again"]
    assert verdict.to_dict()["advisory"] == ["pods are healthy again"]
    gate.required_checks([DEP_CATALOG], ["workload_available"], [])
    assert gate.advisory == []  # each composition says what it set aside, nothing carried over


def test_nothing_remediated_still_requires_alerts_and_pods_for_every_namespace(healthy: Served) -> None:
    gate = healthy.gate(namespaces=(NS, "book-info"), alerts=({"labels": {"alertname": "KubeNodeUnschedulable"}},))
    assert gate.required_checks([], [], []) == [
        CheckSpec("alerts_cleared", NS),
        CheckSpec("alerts_cleared", "book-info"),
        CheckSpec("alerts_cleared", None, "KubeNodeUnschedulable"),  # a node alert has no namespace
        CheckSpec("no_pending_or_crashlooping", NS),
        CheckSpec("no_pending_or_crashlooping", "book-info"),
    ]


def test_a_remediated_service_requires_its_three_checks(healthy: Served) -> None:
    svc = f"{NS}/Service/ad"
    assert names(healthy.gate().required_checks([svc], ["workload_available"], [])) == [
        ("service_selects_pods", svc),
        ("endpoints_ready", svc),
        ("service_ports_match", svc),
        ("alerts_cleared", NS),
        ("workload_available", f"{NS}/Deployment/ad"),  # the playbook's workload check, on what the Service selects
    ]


def test_a_remediated_hpa_requires_its_limits_and_its_target(healthy: Served) -> None:
    hpa = f"{NS}/HorizontalPodAutoscaler/ad"
    assert names(healthy.gate().required_checks([hpa], [], [])) == [
        ("hpa_within_limits", hpa),
        ("workload_available", f"{NS}/Deployment/ad"),
        ("alerts_cleared", NS),
    ]


def test_a_remediated_quota_requires_every_workload_of_its_namespace(healthy: Served) -> None:
    quota = f"{NS}/ResourceQuota/strict-resource-quota"
    checks = names(healthy.gate().required_checks([quota], [], []))
    deployments = {d.metadata.name for d in healthy.apps.list_namespaced_deployment(NS).items}
    assert checks[0] == ("quota_admits_pods", quota)
    assert {t for n, t in checks if n == "workload_available"} == {f"{NS}/Deployment/{d}" for d in deployments}
    assert checks[-1] == ("alerts_cleared", NS)


def test_a_remediated_network_policy_requires_the_workloads_it_selects(healthy: Served) -> None:
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "verify-frontend", "namespace": NS},
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "frontend"}}, "ingress": [{}]},
    }
    client.NetworkingV1Api(healthy.api).create_namespaced_network_policy(NS, policy)
    gate = healthy.gate()
    assert names(gate.required_checks([f"{NS}/NetworkPolicy/verify-frontend"], [], [])) == [
        ("workload_available", f"{NS}/Deployment/frontend"),
        ("no_pending_or_crashlooping", f"{NS}/Deployment/frontend"),
        ("alerts_cleared", NS),
    ]
    # Deleted (the other catalogue fix): nothing to resolve, the namespace's pods stand in.
    assert names(gate.required_checks([f"{NS}/NetworkPolicy/gone"], [], [])) == [
        ("no_pending_or_crashlooping", NS),
        ("alerts_cleared", NS),
    ]


def test_a_remediated_secret_requires_the_workloads_that_use_it(healthy: Served) -> None:
    # The client (cart) and the server (valkey-cart) both read the password from it.
    assert names(healthy.gate().required_checks([f"{NS}/Secret/valkey-credentials"], [], [])) == [
        ("workload_available", f"{NS}/Deployment/cart"),
        ("no_pending_or_crashlooping", f"{NS}/Deployment/cart"),
        ("workload_available", f"{NS}/Deployment/valkey-cart"),
        ("no_pending_or_crashlooping", f"{NS}/Deployment/valkey-cart"),
        ("alerts_cleared", NS),
    ]


def test_a_remediated_node_requires_its_workloads_and_the_namespace_pods(healthy: Served) -> None:
    pod = next(p for p in healthy.core.list_namespaced_pod(NS).items if p.metadata.name.startswith("ad-"))
    node = pod.spec.node_name
    on_node = {
        p.metadata.owner_references[0].name.rsplit("-", 1)[0]
        for p in healthy.core.list_namespaced_pod(NS).items
        if p.spec.node_name == node
    }
    checks = names(healthy.gate().required_checks([f"Node/{node}"], [], []))
    assert checks[0] == ("node_schedulable", f"Node/{node}")
    assert {t for n, t in checks if n == "workload_available"} == {f"{NS}/Deployment/{d}" for d in on_node}
    assert checks[-2:] == [("no_pending_or_crashlooping", NS), ("alerts_cleared", NS)]


def test_an_unreadable_remediated_entity_becomes_a_failing_check(healthy: Served) -> None:
    gate = healthy.gate()
    checks = gate.required_checks(["otel-demo/Deployment/product-catalog/extra"], [], [])
    assert checks[0] == CheckSpec("workload_available", "otel-demo/Deployment/product-catalog/extra")
    result = judge(gate, checks[:1]).results[0]
    assert not result.passed and result.error.startswith("target 'otel-demo/Deployment/product-catalog/extra'")


# ================================================================================================ small pure parts
def test_targets_parse_kubectl_spellings() -> None:
    assert parse_target("otel-demo") == Target(namespace="otel-demo")
    assert parse_target("otel-demo/svc/ad") == Target("otel-demo", "Service", "ad")
    assert str(parse_target("otel-demo/hpa/ad")) == "otel-demo/HorizontalPodAutoscaler/ad"
    assert (
        parse_target("/Node/sim-worker")
        == parse_target("otel-demo/node/sim-worker")
        == Target(None, "Node", "sim-worker")
    )
    for bad in ("", "a//b", "Deployment/x", "a/b/c/d"):
        with pytest.raises(TargetError):
            parse_target(bad)


def test_silenced_alerts_still_fire_and_pending_ones_do_not() -> None:
    assert firing({"labels": {}, "status": {"state": "active"}})
    assert firing({"labels": {}, "status": {"state": "suppressed", "silencedBy": ["x"]}})
    assert not firing({"labels": {"alertstate": "pending"}, "status": {"state": "active"}})
    assert not firing({"labels": {}, "status": {"state": "pending"}})


def test_quantities() -> None:
    assert quantity("64Gi") == 64 * 2**30
    assert quantity("250m") * 4 == 1
    assert quantity("1e3") == 1000
    assert quantity("1.5G") == 1_500_000_000
    assert quantity("lots") is None


def test_every_check_is_registered() -> None:
    assert set(CHECK_NAMES) == {
        "workload_available",
        "no_pending_or_crashlooping",
        "no_recent_restarts",
        "endpoints_ready",
        "service_selects_pods",
        "service_ports_match",
        "alerts_cleared",
        "node_schedulable",
        "quota_admits_pods",
        "hpa_within_limits",
        "job_complete",
        "pvc_bound",
        "ingress_backends_ready",
        "node_pressure_cleared",
        "rules_evaluate",
    }
