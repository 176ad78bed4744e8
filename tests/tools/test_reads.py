"""Every read tool against a healthy Astronomy Shop and one with a bad image rolled out (product-catalog)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.tools.conftest import NS, Cluster, start_cluster

BAD = "product-catalog"


def by_name(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["name"] == name)


# ---------------------------------------------------------------------------------------------- alerts
async def test_get_alerts_healthy_is_quiet(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("get_alerts", {})
    assert r.ok, r.error
    assert r.content == {"alerts": [], "count": 0}


async def test_get_alerts_faulted_names_the_pod_alert(faulted: Cluster) -> None:
    r = await faulted.toolbox().call("get_alerts", {"namespace": NS})
    assert r.ok, r.error
    alerts = r.content["alerts"]
    assert r.content["count"] == len(alerts) > 0
    not_ready = [a for a in alerts if a["name"] == "KubePodNotReady"]
    assert not_ready and not_ready[0]["labels"]["workload"] == BAD
    first = alerts[0]
    assert set(first) >= {"name", "state", "severity", "labels", "summary", "startsAt"}
    assert first["state"] == "active" and first["summary"]
    # Most severe first.
    order = {"critical": 0, "warning": 2}
    assert [order.get(a["severity"], 9) for a in alerts] == sorted(order.get(a["severity"], 9) for a in alerts)


async def test_get_alerts_filters_by_namespace(faulted: Cluster) -> None:
    r = await faulted.toolbox().call("get_alerts", {"namespace": "book-info"})
    assert r.ok and r.content["alerts"] == []


# ---------------------------------------------------------------------------------------------- workloads
async def test_list_workloads_healthy(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("list_workloads", {"namespace": NS})
    assert r.ok, r.error
    rows = r.content["workloads"]
    assert r.content["count"] == len(rows) >= 20 and r.content["unhealthy"] == 0
    cart = by_name(rows, "cart")
    assert cart == {
        "kind": "Deployment",
        "name": "cart",
        "namespace": NS,
        "desired": 1,
        "ready": 1,
        "available": 1,
        "updated": 1,
        "revision": 1,
        "images": ["ghcr.io/open-telemetry/demo:2.0.2-cart"],
        "paused": False,
        "problems": [],
    }


async def test_list_workloads_faulted_puts_the_broken_one_first(faulted: Cluster) -> None:
    r = await faulted.toolbox().call("list_workloads", {"namespace": NS})
    assert r.ok, r.error
    first = r.content["workloads"][0]
    assert first["name"] == BAD and first["revision"] == 2
    assert "0/1 ready" in first["problems"]
    assert first["images"] == ["ghcr.io/open-telemetry/demo:2.0.2-product-catalog-nonexistent"]
    assert r.content["unhealthy"] == 1


async def test_list_workloads_unknown_namespace(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("list_workloads", {"namespace": "nowhere"})
    assert not r.ok and r.error == "namespace nowhere not found"


# ---------------------------------------------------------------------------------------------- pods
async def test_list_pods_faulted(faulted: Cluster) -> None:
    r = await faulted.toolbox().call("list_pods", {"namespace": NS})
    assert r.ok, r.error
    bad = r.content["pods"][0]
    assert bad["name"].startswith(f"{BAD}-")
    assert bad["owner"] == f"Deployment/{BAD}"
    assert bad["phase"] == "Pending" and bad["ready"] == "0/1"
    assert {"ImagePullBackOff", "ContainersNotReady"} <= set(bad["reasons"]) or "ErrImagePull" in bad["reasons"]
    assert bad["node"] and isinstance(bad["age_seconds"], int) and bad["age_seconds"] >= 0
    assert "nonexistent" in bad["message"]
    assert r.content["unhealthy"] == 1


async def test_list_pods_healthy_and_selector(healthy: Cluster) -> None:
    tb = healthy.toolbox()
    r = await tb.call("list_pods", {"namespace": NS})
    assert r.ok and r.content["unhealthy"] == 0
    assert all(p["reasons"] == [] and p["phase"] == "Running" for p in r.content["pods"])
    one = await tb.call("list_pods", {"namespace": NS, "selector": "app.kubernetes.io/name=cart"})
    assert one.ok and [p["owner"] for p in one.content["pods"]] == ["Deployment/cart"]


async def test_list_pods_bad_selector_is_an_error(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("list_pods", {"namespace": NS, "selector": "a in (b"})
    assert not r.ok and "rejected by the API server (400)" in r.error


# ---------------------------------------------------------------------------------------------- resources
@pytest.mark.parametrize("kind", ["Service", "service", "svc", "services", "service.v1"])
async def test_list_resources_services_and_aliases(faulted: Cluster, kind: str) -> None:
    r = await faulted.toolbox().call("list_resources", {"kind": kind, "namespace": NS})
    assert r.ok, r.error
    assert r.content["kind"] == "Service"
    catalog = by_name(r.content["items"], BAD)["summary"]
    assert catalog == {
        "type": "ClusterIP",
        "selector": {"app.kubernetes.io/name": BAD},
        "ports": [{"port": 3550, "targetPort": 3550, "name": "tcp-service"}],
        "endpoints_ready": 0,
    }
    assert by_name(r.content["items"], "cart")["summary"]["endpoints_ready"] == 1


async def test_list_resources_cluster_scoped_and_other_kinds(healthy: Cluster) -> None:
    tb = healthy.toolbox()
    nodes = await tb.call("list_resources", {"kind": "nodes"})
    assert nodes.ok and nodes.content["count"] == 4
    worker = by_name(nodes.content["items"], "sim-worker")["summary"]
    assert worker["unschedulable"] is False and worker["ready"] is True and worker["allocatable"]["cpu"] == "8"
    control = by_name(nodes.content["items"], "sim-control-plane")["summary"]
    assert control["taints"] == ["node-role.kubernetes.io/control-plane:NoSchedule"]
    pcs = await tb.call("list_resources", {"kind": "PriorityClass"})
    assert by_name(pcs.content["items"], "system-node-critical")["summary"]["value"] == 2000001000
    deps = await tb.call("list_resources", {"kind": "deploy", "namespace": NS})
    assert by_name(deps.content["items"], "cart")["summary"]["images"] == ["ghcr.io/open-telemetry/demo:2.0.2-cart"]
    pods = await tb.call("list_resources", {"kind": "po", "namespace": NS})
    assert all(i["summary"]["owner"].startswith("Deployment/") for i in pods.content["items"])
    eps = await tb.call("list_resources", {"kind": "ep", "namespace": NS})
    assert by_name(eps.content["items"], "cart")["summary"] == {"ready": 1, "not_ready": 0, "ports": [7070]}
    secrets = await tb.call("list_resources", {"kind": "secret", "namespace": NS})
    assert secrets.content["items"] == [
        {"name": "valkey-credentials", "namespace": NS, "summary": {"type": "Opaque", "keys": ["valkey-password"]}}
    ]


async def test_list_resources_rejects_a_kind_the_cluster_does_not_serve(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("list_resources", {"kind": "Widget"})
    assert not r.ok and r.error == "unknown kind 'Widget': the cluster serves no resource by that name"


# ---------------------------------------------------------------------------------------------- describe
async def test_describe_deployment_faulted(faulted: Cluster) -> None:
    r = await faulted.toolbox().call("describe", {"kind": "deploy", "name": BAD})  # namespace from the scope
    assert r.ok, r.error
    assert r.content["object"] == f"{NS}/Deployment/{BAD}" and r.targets == [f"{NS}/Deployment/{BAD}"]
    container = r.content["spec"]["template"]["containers"][0]
    assert container["image"].endswith("-nonexistent")
    assert container["ports"] == [{"name": "service", "containerPort": 3550, "protocol": "TCP"}]
    assert container["readinessProbe"]["tcpSocket"] == {"port": 3550}
    assert r.content["status"]["revision"] == 2 and r.content["status"]["ready"] == 0
    assert {e["reason"] for e in r.content["events"]} >= {"ScalingReplicaSet"}


async def test_describe_shows_secret_references_not_values(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("describe", {"kind": "Deployment", "name": "cart", "namespace": NS})
    env = r.content["spec"]["template"]["containers"][0]["env"]
    assert {"name": "VALKEY_PASSWORD", "secretKeyRef": "valkey-credentials/valkey-password"} in env
    secret = await healthy.toolbox().call("describe", {"kind": "secret", "name": "valkey-credentials"})
    assert secret.content["spec"] == {"type": "Opaque", "data": {"valkey-password": "<redacted 18 bytes>"}}


async def test_describe_pod_statuses(faulted: Cluster) -> None:
    tb = faulted.toolbox()
    pod = (await tb.call("list_pods", {"namespace": NS})).content["pods"][0]["name"]
    r = await tb.call("describe", {"kind": "pod", "name": pod, "namespace": NS})
    assert r.ok, r.error
    assert r.content["spec"]["owner"] == f"Deployment/{BAD}"
    status = r.content["status"]
    assert status["phase"] == "Pending" and status["node"]
    cs = status["containerStatuses"][0]
    assert cs["ready"] is False and cs["restartCount"] == 0
    assert cs["state"]["state"] == "waiting" and cs["state"]["reason"] in ("ImagePullBackOff", "ErrImagePull")
    assert any(c["type"] == "Ready" and c["status"] == "False" for c in status["conditions"])
    assert any(e["reason"] == "Failed" for e in r.content["events"])


async def test_describe_service_reports_endpoints_and_matching_pods(faulted: Cluster) -> None:
    tb = faulted.toolbox()
    bad = await tb.call("describe", {"kind": "svc", "name": BAD, "namespace": NS})
    assert bad.ok, bad.error
    assert bad.content["spec"]["ports"] == [{"port": 3550, "targetPort": 3550, "name": "tcp-service"}]
    assert bad.content["spec"]["clusterIP"]
    assert bad.content["endpoints"]["ready"] == [] and len(bad.content["endpoints"]["not_ready"]) == 1
    assert bad.content["matching_pods"] == 1 and bad.content["status"]["matching_pods_ready"] == 0
    good = await tb.call("describe", {"kind": "Service", "name": "cart", "namespace": NS})
    assert len(good.content["endpoints"]["ready"]) == 1 and good.content["status"]["pod_container_ports"] == [7070]


async def test_describe_node_and_not_found(healthy: Cluster) -> None:
    tb = healthy.toolbox()
    node = await tb.call("describe", {"kind": "node", "name": "sim-worker"})
    assert node.ok and node.content["object"] == "/Node/sim-worker"
    assert node.content["spec"]["unschedulable"] is False and node.content["status"]["ready"] is True
    assert node.content["status"]["pods"] > 0
    missing = await tb.call("describe", {"kind": "deployment", "name": "nope", "namespace": NS})
    assert not missing.ok and missing.error == "deployment otel-demo/nope not found"
    no_ns = await healthy.toolbox(namespaces=[]).call("describe", {"kind": "deployment", "name": "cart"})
    assert not no_ns.ok and "'namespace'" in no_ns.error


# ---------------------------------------------------------------------------------------------- events
async def test_get_events_for_a_deployment_include_its_pods(faulted: Cluster) -> None:
    tb = faulted.toolbox()
    r = await tb.call("get_events", {"namespace": NS, "object": f"Deployment/{BAD}"})
    assert r.ok, r.error
    events = r.content["events"]
    assert events and all(e["type"] == "Warning" for e in events)
    assert all(e["object"].startswith(f"Pod/{BAD}-") for e in events)
    assert any("nonexistent" in e["message"] for e in events)
    assert [e["last_seen"] for e in events] == sorted((e["last_seen"] for e in events), reverse=True)
    everything = await tb.call(
        "get_events", {"namespace": NS, "object": f"deploy/{BAD}", "warnings_only": False, "limit": 100}
    )
    reasons = {e["reason"] for e in everything.content["events"]}
    assert {"ScalingReplicaSet", "Failed"} <= reasons
    objects = {e["object"].split("/")[0] for e in everything.content["events"]}
    assert objects >= {"Deployment", "ReplicaSet", "Pod"}
    two = await tb.call("get_events", {"namespace": NS, "object": f"Deployment/{BAD}", "limit": 2})
    assert len(two.content["events"]) == 2 and two.content["truncated"] >= 1


async def test_get_events_healthy_has_no_warnings(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("get_events", {"namespace": NS})
    assert r.ok and r.content["events"] == []


async def test_get_events_rejects_a_malformed_object(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("get_events", {"namespace": NS, "object": "cart"})
    assert not r.ok and "expected Kind/name" in r.error


# ---------------------------------------------------------------------------------------------- logs
async def test_get_logs_by_workload_and_pod(healthy: Cluster) -> None:
    tb = healthy.toolbox()
    r = await tb.call("get_logs", {"namespace": NS, "workload": "Deployment/cart", "tail": 5})
    assert r.ok, r.error
    assert r.content["container"] == "cart" and r.content["pod"].startswith("cart-")
    assert len(r.content["lines"]) == 5 and r.content["previous"] is False
    again = await tb.call("get_logs", {"namespace": NS, "pod": r.content["pod"], "tail": 500})
    assert again.ok and 5 < len(again.content["lines"]) <= 200


async def test_get_logs_of_a_pod_that_never_started(faulted: Cluster) -> None:
    r = await faulted.toolbox().call("get_logs", {"namespace": NS, "workload": f"Deployment/{BAD}"})
    assert not r.ok
    assert r.error.startswith(f"no logs for pod {NS}/{BAD}-") and "waiting to start" in r.error


async def test_get_logs_needs_a_pod_or_workload(healthy: Cluster) -> None:
    tb = healthy.toolbox()
    r = await tb.call("get_logs", {"namespace": NS})
    assert not r.ok and "'pod'" in r.error
    r = await tb.call("get_logs", {"namespace": NS, "workload": "Deployment/cart", "container": "nope"})
    assert not r.ok and r.error.startswith("container nope not found in pod cart-")


# ---------------------------------------------------------------------------------------------- history
async def test_rollout_history_shows_the_image_change(faulted: Cluster) -> None:
    r = await faulted.toolbox().call("rollout_history", {"kind": "Deployment", "name": BAD, "namespace": NS})
    assert r.ok, r.error
    assert r.content["current_revision"] == 2
    first, second = r.content["revisions"]
    assert first["revision"] == 1 and first["change"] == []
    assert second["images"] == ["ghcr.io/open-telemetry/demo:2.0.2-product-catalog-nonexistent"]
    assert second["change"] == [
        "containers[product-catalog].image: ghcr.io/open-telemetry/demo:2.0.2-product-catalog"
        " -> ghcr.io/open-telemetry/demo:2.0.2-product-catalog-nonexistent"
    ]


async def test_rollout_history_healthy_and_wrong_kind(healthy: Cluster) -> None:
    tb = healthy.toolbox()
    r = await tb.call("rollout_history", {"kind": "deploy", "name": "cart", "namespace": NS})
    assert r.ok and r.content["current_revision"] == 1 and len(r.content["revisions"]) == 1
    wrong = await tb.call("rollout_history", {"kind": "Service", "name": "cart", "namespace": NS})
    assert not wrong.ok and wrong.error.startswith("kind Service is not supported here")


# ---------------------------------------------------------------------------------------------- metrics
async def test_query_metrics(faulted: Cluster, healthy: Cluster) -> None:
    query = f'sum by (service) (app_errors_per_second{{namespace="{NS}"}}) > 0'
    bad = await faulted.toolbox().call("query_metrics", {"query": query})
    assert bad.ok, bad.error
    values = [row["value"] for row in bad.content["result"]]
    assert values and values == sorted(values, reverse=True) and values[0] > 0
    assert {row["metric"]["service"] for row in bad.content["result"]} >= {"frontend"}
    good = await healthy.toolbox().call("query_metrics", {"query": query})
    assert good.ok and good.content["result"] == []
    scalar = await healthy.toolbox().call("query_metrics", {"query": "1 + 1"})
    assert scalar.content["result"] == [{"metric": {}, "value": 2.0}]


async def test_query_metrics_reports_promql_errors(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("query_metrics", {"query": "sum(("})
    assert not r.ok and r.error.startswith('Prometheus answered 400: invalid parameter "query"')
    assert "\n" not in r.error


async def test_results_are_json(faulted: Cluster) -> None:
    tb = faulted.toolbox()
    for name, args in [
        ("list_workloads", {"namespace": NS}),
        ("list_pods", {"namespace": NS}),
        ("describe", {"kind": "deploy", "name": BAD, "namespace": NS}),
        ("get_alerts", {}),
    ]:
        r = await tb.call(name, args)
        assert json.loads(json.dumps(r.content)) == r.content


# ---------------------------------------------------------------------------------------------- crash loops
@pytest.fixture(scope="module")
def crashing() -> Iterator[Cluster]:
    """payment's new init container crashes; product-catalog's new command does not exist."""
    c = start_cluster()
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment"}
    c.inject(
        "crashing-kubernetes-workload-init-container",
        {"kubernetesObject": deployment | {"metadata": {"name": "payment", "namespace": NS}}},
    )
    c.inject(
        "invalid-kubernetes-workload-container-command",
        {
            "kubernetesObject": deployment | {"metadata": {"name": BAD, "namespace": NS}},
            "container": {"name": BAD},
        },
    )
    c.advance(400)
    try:
        yield c
    finally:
        c.api.close()
        c.server.stop()


async def test_crash_loop_reasons(crashing: Cluster) -> None:
    pods = (await crashing.toolbox().call("list_pods", {"namespace": NS})).content["pods"]
    payment = next(p for p in pods if p["owner"] == "Deployment/payment")
    assert {"Init:CrashLoopBackOff", "Init:Error", "PodInitializing"} <= set(payment["reasons"])
    catalog = next(p for p in pods if p["owner"] == f"Deployment/{BAD}")
    assert {"CrashLoopBackOff", "StartError"} <= set(catalog["reasons"]) and catalog["restarts"] > 0
    assert "invalid-command" in catalog["message"]  # the termination message, not "back-off ..."


async def test_logs_of_crashing_containers(crashing: Cluster) -> None:
    tb = crashing.toolbox()
    init = await tb.call("get_logs", {"namespace": NS, "workload": "Deployment/payment"})
    assert init.ok, init.error
    assert init.content["container"] == "init-config"  # the failing init container, not the waiting app
    assert any("invalid configuration" in line for line in init.content["lines"])
    never_started = await tb.call("get_logs", {"namespace": NS, "workload": f"Deployment/{BAD}"})
    assert never_started.ok and never_started.content["lines"] == []
    assert never_started.content["note"].startswith("no log lines; last terminated: StartError (exit code 128)")


async def test_history_lists_added_init_containers_by_name(crashing: Cluster) -> None:
    r = await crashing.toolbox().call("rollout_history", {"kind": "deploy", "name": "payment", "namespace": NS})
    change = r.content["revisions"][-1]["change"]
    assert any(line.startswith("initContainers[init-config]: added {") for line in change), change
    assert any(line.startswith("volumes[") for line in change), change
