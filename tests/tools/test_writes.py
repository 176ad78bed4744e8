"""Each write tool heals the simulated fault it is the mitigation for, seen through the read tools:
the workload becomes healthy, application errors stop and the alerts clear.

Faults are injected into a running healthy cluster through the simulator's control API, exactly as
ITBench scenarios name them.
"""

from __future__ import annotations

import re
from typing import Any

from kubernetes import client

from orchestrator.tools import ActionPolicy, Toolbox, ToolContext
from tests.tools.conftest import NS, Cluster
from tests.tools.recording_proxy import RecordingProxy


def deployment_args(name: str, container: str | None = None, **extra: Any) -> dict:
    args: dict = {
        "kubernetesObject": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS}}
    }
    if container:
        args["container"] = {"name": container}
    return args | extra


def service_args(name: str) -> dict:
    return {"kubernetesObject": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS}}}


async def workload_row(tb: Toolbox, name: str) -> dict:
    r = await tb.call("list_workloads", {"namespace": NS})
    assert r.ok, r.error
    return next(w for w in r.content["workloads"] if w["name"] == name)


async def workload_healthy(tb: Toolbox, name: str) -> bool:
    row = await workload_row(tb, name)
    return not row["problems"] and row["ready"] == row["desired"] > 0


async def app_errors(tb: Toolbox) -> float:
    r = await tb.call("query_metrics", {"query": f'sum(app_errors_per_second{{namespace="{NS}"}})'})
    assert r.ok, r.error
    return sum(row["value"] or 0.0 for row in r.content["result"])


async def alerts_about(tb: Toolbox, name: str) -> list[dict]:
    r = await tb.call("get_alerts", {"namespace": NS})
    assert r.ok, r.error
    return [a for a in r.content["alerts"] if name in (a["labels"].get("workload"), a["labels"].get("service"))]


async def wait_for(cluster: Cluster, check: Any, timeout: float = 900) -> Any:
    """Advance the virtual clock until the async check is truthy; returns its last value."""
    waited = 0.0
    while True:
        value = await check()
        if value or waited >= timeout:
            return value
        cluster.advance(30)
        waited += 30


async def heals(cluster: Cluster, tb: Toolbox, workload: str, errors_too: bool = False) -> None:
    async def healthy() -> bool:
        if not await workload_healthy(tb, workload):
            return False
        return not errors_too or await app_errors(tb) == 0

    assert await wait_for(cluster, healthy), await workload_row(tb, workload)

    async def quiet() -> bool:
        return not await alerts_about(tb, workload)

    assert await wait_for(cluster, quiet), await alerts_about(tb, workload)


def applied(r: Any, action: str, target: str) -> None:
    assert r.ok, r.error
    assert r.write["action"] == action and r.write["mode"] == "applied" and r.write["dry_run_ok"] is True
    assert r.targets == [target] and r.write["target"] == target
    assert r.write["change"] and r.write["revert"]


# ---------------------------------------------------------------------------------------------- rollouts
async def test_rollout_undo_heals_a_bad_image(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.inject(
        "nonexistent-kubernetes-workload-container-image", deployment_args("product-catalog", "product-catalog")
    )
    assert await wait_for(cluster, lambda: _not_healthy(tb, "product-catalog"))
    r = await tb.call("rollout_undo", {"kind": "deploy", "name": "product-catalog", "namespace": NS})
    applied(r, "rollout_undo", f"{NS}/Deployment/product-catalog")
    assert r.write["revert"] == "kubectl rollout undo deployment/product-catalog -n otel-demo --to-revision=2"
    assert "from revision 2 to revision 1" in r.write["change"] and "-nonexistent -> " in r.write["change"]
    await heals(cluster, tb, "product-catalog", errors_too=True)
    history = await tb.call("rollout_history", {"kind": "deploy", "name": "product-catalog", "namespace": NS})
    assert history.content["current_revision"] == 3  # kubectl semantics: the old ReplicaSet is promoted
    again = await tb.call(
        "rollout_undo", {"kind": "deploy", "name": "product-catalog", "namespace": NS, "to_revision": 3}
    )
    assert not again.ok and again.error.startswith("nothing to change: revision 3 has the same pod template")


async def _not_healthy(tb: Toolbox, name: str) -> bool:
    return not await workload_healthy(tb, name)


async def test_set_image_heals_a_bad_image(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    good = (await workload_row(tb, "product-catalog"))["images"][0]
    cluster.inject(
        "nonexistent-kubernetes-workload-container-image", deployment_args("product-catalog", "product-catalog")
    )
    assert await wait_for(cluster, lambda: _not_healthy(tb, "product-catalog"))
    args = {"kind": "deploy", "name": "product-catalog", "namespace": NS, "container": "product-catalog", "image": good}
    r = await tb.call("set_image", args)
    applied(r, "set_image", f"{NS}/Deployment/product-catalog")
    assert r.write["revert"].startswith("kubectl set image deployment/product-catalog product-catalog=")
    await heals(cluster, tb, "product-catalog")
    wrong = await tb.call("set_image", {**args, "container": "nope"})
    assert not wrong.ok
    assert (
        wrong.error == "container nope not found in deployment otel-demo/product-catalog; containers: product-catalog"
    )


async def test_rollout_undo_of_a_statefulset(cluster: Cluster) -> None:
    labels = {"app.kubernetes.io/name": "cache"}
    container = {"name": "cache", "image": "busybox:1.37", "command": ["sh", "-c", "sleep infinity"]}
    body = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "cache", "namespace": NS, "labels": labels},
        "spec": {
            "serviceName": "cache",
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    cluster.apps.create_namespaced_stateful_set(NS, body)
    tb = cluster.toolbox()
    assert await wait_for(cluster, lambda: workload_healthy(tb, "cache"))
    args = {
        "kubernetesObject": {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "cache", "namespace": NS},
        }
    }
    cluster.inject("invalid-kubernetes-workload-container-command", args | {"container": {"name": "cache"}})
    history = await tb.call("rollout_history", {"kind": "sts", "name": "cache", "namespace": NS})
    assert history.ok and history.content["current_revision"] == 2
    assert any("containers[cache].command" in line for line in history.content["revisions"][1]["change"])
    assert await wait_for(cluster, lambda: _not_healthy(tb, "cache"))
    r = await tb.call("rollout_undo", {"kind": "StatefulSet", "name": "cache", "namespace": NS})
    applied(r, "rollout_undo", f"{NS}/StatefulSet/cache")
    assert await wait_for(cluster, lambda: workload_healthy(tb, "cache"))
    sts = cluster.apps.read_namespaced_stateful_set("cache", NS)
    assert sts.spec.template.spec.containers[0].command == ["sh", "-c", "sleep infinity"]


async def test_rollout_restart_replaces_the_pods(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    before = (await tb.call("list_pods", {"namespace": NS, "selector": "app.kubernetes.io/name=email"})).content["pods"]
    r = await tb.call("rollout_restart", {"kind": "deploy", "name": "email", "namespace": NS})
    applied(r, "rollout_restart", f"{NS}/Deployment/email")

    async def replaced() -> bool:
        pods = (await tb.call("list_pods", {"namespace": NS, "selector": "app.kubernetes.io/name=email"})).content[
            "pods"
        ]
        return {p["name"] for p in pods}.isdisjoint(p["name"] for p in before) and await workload_healthy(tb, "email")

    assert await wait_for(cluster, replaced)


# ---------------------------------------------------------------------------------------------- scale, env, resources
async def test_scale_from_zero(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.inject("scaled-to-zero-kubernetes-workload", deployment_args("accounting"))
    row = await workload_row(tb, "accounting")
    assert row["desired"] == 0 and "scaled to zero" in row["problems"]
    r = await tb.call("scale", {"kind": "deploy", "name": "accounting", "namespace": NS, "replicas": 1})
    applied(r, "scale", f"{NS}/Deployment/accounting")
    assert r.write["revert"] == "kubectl scale deployment/accounting -n otel-demo --replicas=0"
    await heals(cluster, tb, "accounting", errors_too=True)


async def test_set_env_heals_a_modified_variable(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    env = {"name": "QUOTE_ADDR", "value": "quote:0000"}
    cluster.inject(
        "modified-kubernetes-workload-container-environment-variable",
        deployment_args("shipping") | {"container": {"name": "shipping", "env": env}},
    )
    history = await tb.call("rollout_history", {"kind": "deploy", "name": "shipping", "namespace": NS})
    line = next(c for c in history.content["revisions"][-1]["change"] if "env[QUOTE_ADDR]" in c)
    old = re.match(r"containers\[shipping\]\.env\[QUOTE_ADDR\]: (\S+) -> quote:0000", line).group(1)
    assert await wait_for(cluster, lambda: _errors(tb))
    args = {"kind": "deploy", "name": "shipping", "namespace": NS, "container": "shipping", "env_name": "QUOTE_ADDR"}
    r = await tb.call("set_env", args | {"value": old})
    applied(r, "set_env", f"{NS}/Deployment/shipping")
    assert r.write["revert"] == "kubectl set env deployment/shipping -n otel-demo -c shipping QUOTE_ADDR=quote:0000"
    await heals(cluster, tb, "shipping", errors_too=True)
    same = await tb.call("set_env", args | {"value": old})
    assert not same.ok and same.error.startswith("nothing to change: env QUOTE_ADDR of container shipping")


async def _errors(tb: Toolbox) -> bool:
    return await app_errors(tb) > 0


async def test_set_env_removes_a_variable(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    args = {"kind": "deploy", "name": "checkout", "namespace": NS, "container": "checkout", "env_name": "GOMEMLIMIT"}
    r = await tb.call("set_env", args)
    applied(r, "set_env", f"{NS}/Deployment/checkout")
    assert r.content["diff"] == ["spec.template.spec.containers[checkout].env[GOMEMLIMIT]: removed"]
    dep = cluster.apps.read_namespaced_deployment("checkout", NS)
    assert "GOMEMLIMIT" not in [e.name for e in dep.spec.template.spec.containers[0].env]
    gone = await tb.call("set_env", args)
    assert not gone.ok and gone.error == "nothing to change: env GOMEMLIMIT is not set in container checkout"


async def test_set_resources_heals_an_oom_kill(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    before = cluster.apps.read_namespaced_deployment("postgresql", NS).spec.template.spec.containers[0].resources
    cluster.inject("insufficient-kubernetes-workload-container-resources", deployment_args("postgresql", "postgresql"))

    async def oom() -> bool:
        pods = (await tb.call("list_pods", {"namespace": NS, "selector": "app.kubernetes.io/name=postgresql"})).content
        return any("OOMKilled" in p["reasons"] for p in pods["pods"])

    assert await wait_for(cluster, oom)
    args = {"kind": "deploy", "name": "postgresql", "namespace": NS, "container": "postgresql"}
    r = await tb.call("set_resources", args | {"requests": before.requests, "limits": before.limits})
    applied(r, "set_resources", f"{NS}/Deployment/postgresql")
    assert r.write["revert"].startswith(
        "kubectl set resources deployment/postgresql -n otel-demo -c postgresql --requests="
    )
    await heals(cluster, tb, "postgresql")
    bad = await tb.call("set_resources", args | {"limits": {"memory": "lots"}})
    assert not bad.ok and "'lots' is not a Kubernetes quantity" in bad.error


# ---------------------------------------------------------------------------------------------- nodes, policies, quotas
async def test_uncordon_heals_a_cordoned_node(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.inject("cordoned-kubernetes-worker-node", deployment_args("ad"))
    nodes = (await tb.call("list_resources", {"kind": "node"})).content["items"]
    cordoned = [n["name"] for n in nodes if n["summary"]["unschedulable"]]
    assert len(cordoned) == 1
    # A Node is cluster-scoped: no namespace bounds it, so it is changed only when allowed by name.
    denied = await tb.call("uncordon", {"node": cordoned[0]})
    assert not denied.ok and denied.error.startswith(f"denied by policy: Node/{cordoned[0]} is cluster-scoped")
    tb.ctx.policy.allowed_cluster_objects = {f"Node/{cordoned[0]}"}
    r = await tb.call("uncordon", {"node": cordoned[0]})
    applied(r, "uncordon", f"/Node/{cordoned[0]}")
    assert r.write["revert"] == f"kubectl cordon {cordoned[0]}"
    await heals(cluster, tb, "ad")
    again = await tb.call("uncordon", {"node": cordoned[0]})
    assert not again.ok and again.error == f"nothing to change: node {cordoned[0]} is not cordoned"


async def test_deleting_a_blocking_network_policy(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.inject("ingress-port-blocking-network-policy", deployment_args("frontend"))
    policies = (await tb.call("list_resources", {"kind": "netpol", "namespace": NS})).content["items"]
    assert [p["name"] for p in policies] == ["frontend-ingress"]
    assert policies[0]["summary"]["ingress_rules"] >= 0
    assert await wait_for(cluster, lambda: _errors(tb))
    r = await tb.call("delete_resource", {"kind": "NetworkPolicy", "name": "frontend-ingress", "namespace": NS})
    applied(r, "delete_resource", f"{NS}/NetworkPolicy/frontend-ingress")
    assert r.write["revert"].startswith("echo '{") and r.write["revert"].endswith("' | kubectl create -f -")
    await heals(cluster, tb, "frontend", errors_too=True)


async def test_deleting_a_strict_resource_quota(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.inject("insufficient-kubernetes-resource-quota", deployment_args("ad"))
    quotas = (await tb.call("list_resources", {"kind": "quota", "namespace": NS})).content["items"]
    assert quotas[0]["name"] == "strict-resource-quota" and quotas[0]["summary"]["hard"]
    assert await wait_for(cluster, lambda: _not_healthy(tb, "ad"))
    r = await tb.call("delete_resource", {"kind": "quota", "name": "strict-resource-quota", "namespace": NS})
    applied(r, "delete_resource", f"{NS}/ResourceQuota/strict-resource-quota")
    await heals(cluster, tb, "ad")


# ---------------------------------------------------------------------------------------------- services, pods
async def test_restore_service_after_it_was_deleted(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.inject("deleted-kubernetes-service", service_args("product-catalog"))
    gone = await tb.call("describe", {"kind": "svc", "name": "product-catalog", "namespace": NS})
    assert not gone.ok and gone.error == "service otel-demo/product-catalog not found"
    assert await wait_for(cluster, lambda: _errors(tb))
    args = {"namespace": NS, "name": "product-catalog", "workload": "Deployment/product-catalog"}
    r = await tb.call("restore_service", args)
    applied(r, "restore_service", f"{NS}/Service/product-catalog")
    assert r.write["revert"] == "kubectl delete service product-catalog -n otel-demo"
    assert r.content["manifest"]["spec"]["ports"] == [
        {"name": "service", "port": 3550, "targetPort": 3550, "protocol": "TCP"}
    ]

    async def serving() -> bool:
        svc = await tb.call("describe", {"kind": "svc", "name": "product-catalog", "namespace": NS})
        return svc.ok and len(svc.content["endpoints"]["ready"]) == 1 and await app_errors(tb) == 0

    assert await wait_for(cluster, serving)
    exists = await tb.call("restore_service", args)
    assert not exists.ok and exists.error == "nothing to change: service otel-demo/product-catalog exists"


async def test_patch_heals_a_wrong_service_selector(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    cluster.inject("invalid-kubernetes-service-selector", service_args("cart"))
    svc = await tb.call("describe", {"kind": "svc", "name": "cart", "namespace": NS})
    assert svc.content["matching_pods"] == 0 and svc.content["endpoints"]["ready"] == []
    wrong = svc.content["spec"]["selector"]["app.kubernetes.io/name"]
    patch = {"spec": {"selector": {"app.kubernetes.io/name": "cart"}}}
    r = await tb.call("patch", {"kind": "svc", "name": "cart", "namespace": NS, "patch": patch, "patch_type": "merge"})
    applied(r, "patch", f"{NS}/Service/cart")
    assert r.content["diff"] == [f"spec.selector.app.kubernetes.io/name: {wrong} -> cart"]
    assert wrong in r.write["revert"] and r.write["revert"].startswith(
        "kubectl patch service cart -n otel-demo --type merge"
    )

    async def serving() -> bool:
        svc = await tb.call("describe", {"kind": "svc", "name": "cart", "namespace": NS})
        return len(svc.content["endpoints"]["ready"]) == 1 and await app_errors(tb) == 0

    assert await wait_for(cluster, serving)
    same = await tb.call("patch", {"kind": "svc", "name": "cart", "namespace": NS, "patch": patch})
    assert not same.ok and same.error == "nothing to change: the patch leaves service otel-demo/cart as it is"


async def test_delete_pod_lets_the_owner_replace_it(cluster: Cluster) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="auto", allowed_actions={"delete_pod"}))
    pod = (await tb.call("list_pods", {"namespace": NS, "selector": "app.kubernetes.io/name=ad"})).content["pods"][0]
    r = await tb.call("delete_pod", {"namespace": NS, "name": pod["name"]})
    applied(r, "delete_pod", f"{NS}/Pod/{pod['name']}")
    assert r.write["change"].endswith("(ReplicaSet/" + pod["name"].rsplit("-", 1)[0] + " re-creates it)")

    async def replaced() -> bool:
        pods = (await tb.call("list_pods", {"namespace": NS, "selector": "app.kubernetes.io/name=ad"})).content["pods"]
        return [p["name"] for p in pods if p["name"] != pod["name"]] and await workload_healthy(tb, "ad")

    assert await wait_for(cluster, replaced)


# ---------------------------------------------------------------------------------------------- bare pods
def bare_pod(cluster: Cluster, name: str, selector: dict[str, str]) -> None:
    container = {"name": "app", "image": "nginx:1.27"}
    cluster.core.create_namespaced_pod(
        NS, {"metadata": {"name": name}, "spec": {"containers": [container], "nodeSelector": selector}}
    )


async def test_patch_re_creates_a_bare_pod_whose_spec_may_not_change(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    bare_pod(cluster, "importer", {"disk": "nvme", "kubernetes.io/os": "linux"})
    cluster.advance(30)
    drop = {"spec": {"nodeSelector": {"disk": None}}}
    r = await tb.call(
        "patch", {"kind": "pod", "name": "importer", "namespace": NS, "patch": drop, "patch_type": "merge"}
    )
    applied(r, "patch", f"{NS}/Pod/importer")
    assert (
        r.write["change"].startswith(f"re-create bare pod {NS}/importer")
        and "nodeSelector.disk: removed" in r.write["change"]
    )
    assert '"disk":"nvme"' in r.write["revert"] and r.write["revert"].endswith("kubectl replace --force -f -")
    pod = cluster.core.read_namespaced_pod("importer", NS)
    assert pod.spec.node_selector == {"kubernetes.io/os": "linux"}

    async def running() -> bool:
        return cluster.core.read_namespaced_pod("importer", NS).status.phase == "Running"

    assert await wait_for(cluster, running)


async def test_patch_does_not_re_create_what_an_owner_or_a_node_holds(cluster: Cluster) -> None:
    tb = cluster.toolbox()
    owned = (await tb.call("list_pods", {"namespace": NS, "selector": "app.kubernetes.io/name=ad"})).content["pods"][0]
    patch = {"spec": {"nodeSelector": {"disk": "nvme"}}}
    r = await tb.call(
        "patch", {"kind": "pod", "name": owned["name"], "namespace": NS, "patch": patch, "patch_type": "merge"}
    )
    assert not r.ok and r.write is None and "change the owner instead" in r.error
    bare_pod(cluster, "placed", {"kubernetes.io/os": "linux"})
    cluster.advance(30)
    r = await tb.call(
        "patch", {"kind": "pod", "name": "placed", "namespace": NS, "patch": patch, "patch_type": "merge"}
    )
    assert not r.ok and "already bound to a node" in r.error
    bare_pod(cluster, "waiting", {"disk": "nvme"})
    ops = [{"op": "remove", "path": "/spec/nodeSelector"}]
    r = await tb.call("patch", {"kind": "pod", "name": "waiting", "namespace": NS, "patch": ops, "patch_type": "json"})
    assert not r.ok and "takes a merge patch" in r.error
    assert cluster.core.read_namespaced_pod("waiting", NS).spec.node_selector == {"disk": "nvme"}


# ---------------------------------------------------------------------------------------------- failed pods
def failing_job(cluster: Cluster, name: str) -> None:
    """A Job whose pods exit 1: with backoffLimit 1 it leaves two pods in phase Failed, as a real one would."""
    container = {"name": "task", "image": "busybox:1.36", "command": ["sh", "-c", "exit 1"]}
    template = {"spec": {"restartPolicy": "Never", "containers": [container]}}
    cluster.batch.create_namespaced_job(
        NS, {"metadata": {"name": name}, "spec": {"backoffLimit": 1, "template": template}}
    )


async def test_delete_failed_pods_deletes_only_that_workloads_terminated_pods(cluster: Cluster) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="auto", allowed_actions={"delete_failed_pods"}))
    failing_job(cluster, "import")
    none = await tb.call("delete_failed_pods", {"kind": "Job", "name": "import", "namespace": NS})
    assert not none.ok and none.error == f"nothing to change: job {NS}/import has no pod in phase Failed"
    failing_job(cluster, "export")
    cluster.advance(120)
    failed = {p.metadata.name for p in cluster.core.list_namespaced_pod(NS, field_selector="status.phase=Failed").items}
    mine = sorted(n for n in failed if n.startswith("import-"))
    assert len(mine) == 2 and len(failed) == 4

    r = await tb.call("delete_failed_pods", {"kind": "job", "name": "import", "namespace": NS})
    applied(r, "delete_failed_pods", f"{NS}/Job/import")
    assert r.write["change"] == f"delete 2 failed pods of job {NS}/import: {', '.join(mine)}"
    assert r.write["revert"].startswith("nothing to undo")
    left = {p.metadata.name for p in cluster.core.list_namespaced_pod(NS).items}
    assert not left & set(mine) and failed - set(mine) <= left  # the other Job's records are left


async def test_delete_failed_pods_is_refused_for_a_kind_without_pods_of_its_own(cluster: Cluster) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="auto"))
    r = await tb.call("delete_failed_pods", {"kind": "Service", "name": "cart", "namespace": NS})
    assert not r.ok and "kind must be a Deployment, StatefulSet, DaemonSet or Job, not Service" in (r.error or "")


async def test_a_pod_patch_sends_one_dry_run_per_request_the_policy_judges(cluster: Cluster) -> None:
    # In dry-run mode nothing is applied, so every request the API server sees for the Pod is a dry run.
    bare_pod(cluster, "importer", {"disk": "nvme", "kubernetes.io/os": "linux"})
    cluster.advance(30)
    with RecordingProxy(cluster.url) as proxy:
        api = client.ApiClient(proxy.configuration())
        ctx = ToolContext(api, namespaces=[NS], policy=ActionPolicy(mode="dry-run"))
        tb = Toolbox(ctx)
        label = {"metadata": {"labels": {"batch": "nightly"}}}
        r = await tb.call(
            "patch", {"kind": "pod", "name": "importer", "namespace": NS, "patch": label, "patch_type": "merge"}
        )
        assert r.ok and r.write["mode"] == "dry-run" and "nightly" in r.write["change"], r
        # a field a Pod may change in place: the one dry run of the patch is both the probe and the preview
        assert proxy.dry_runs("PATCH", "/pods/importer") == 1
        assert [m for m, path, _ in proxy.requests if path.endswith("/pods/importer")] == ["GET", "PATCH"]

        proxy.requests.clear()
        drop = {"spec": {"nodeSelector": {"disk": None}}}
        r = await tb.call(
            "patch", {"kind": "pod", "name": "importer", "namespace": NS, "patch": drop, "patch_type": "merge"}
        )
        assert r.ok and r.write["change"].startswith(f"re-create bare pod {NS}/importer"), r
        # one the Pod may not change in place: the refused patch, then the re-creation's delete and create
        assert proxy.dry_runs("PATCH", "/pods/importer") == 1
        assert proxy.dry_runs("DELETE", "/pods/importer") == 1 and proxy.dry_runs("POST", f"/{NS}/pods") == 1
        api.close()
    assert cluster.core.read_namespaced_pod("importer", NS).spec.node_selector["disk"] == "nvme"  # nothing applied


def _versioned(cluster: Cluster, name: str, labels: dict[str, str], port: int) -> None:
    container = {"name": "server", "image": "busybox:1.36", "command": ["sleep", "infinity"]}
    container["ports"] = [{"name": "http", "containerPort": port}]
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    cluster.apps.create_namespaced_deployment(NS, body)


def _front(cluster: Cluster, name: str, selector: dict[str, str], port: int) -> None:
    spec = {"selector": selector, "ports": [{"name": "http", "port": port, "targetPort": port}]}
    cluster.core.create_namespaced_service(
        NS, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}
    )


async def test_restore_service_fronts_every_version_it_fronted(cluster: Cluster) -> None:
    # Two versions of one service behind one Service: restored for one of them, it selects both again.
    _versioned(cluster, "pricing-blue", {"app": "pricing", "track": "blue"}, 8088)
    _versioned(cluster, "pricing-green", {"app": "pricing", "track": "green"}, 8088)
    _front(cluster, "pricing", {"app": "pricing"}, 8088)
    cluster.advance(60)
    cluster.core.delete_namespaced_service("pricing", NS)
    tb = cluster.toolbox()
    args = {"namespace": NS, "name": "pricing", "workload": "Deployment/pricing-green"}
    r = await tb.call("restore_service", args)
    applied(r, "restore_service", f"{NS}/Service/pricing")
    assert r.content["manifest"]["spec"]["selector"] == {"app": "pricing"}
    assert "pricing-green, pricing-blue" in r.write["change"]
    cluster.advance(30)
    svc = await tb.call("describe", {"kind": "svc", "name": "pricing", "namespace": NS})
    assert svc.content["matching_pods"] == 2


async def test_restore_service_keeps_one_workloads_selector_when_the_shared_labels_reach_further(
    cluster: Cluster,
) -> None:
    # A third version has a Service of its own: the shared labels would take it in, so they are not used.
    _versioned(cluster, "pricing-blue", {"app": "pricing", "track": "blue"}, 8088)
    _versioned(cluster, "pricing-green", {"app": "pricing", "track": "green"}, 8088)
    _versioned(cluster, "pricing-canary", {"app": "pricing", "track": "canary"}, 8088)
    _front(cluster, "pricing-canary", {"app": "pricing", "track": "canary"}, 8088)
    tb = cluster.toolbox()
    args = {"namespace": NS, "name": "pricing", "workload": "Deployment/pricing-green"}
    r = await tb.call("restore_service", args)
    applied(r, "restore_service", f"{NS}/Service/pricing")
    assert r.content["manifest"]["spec"]["selector"] == {"app": "pricing", "track": "green"}
