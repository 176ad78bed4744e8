"""The ActionPolicy in front of every write: modes, allowed actions and namespaces, cluster-scoped objects
allowed by name, the blast-radius limits, the approver, and the server-side dry run that comes before the
approver. Every rule is driven through the real tools against the simulator."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.tools import ActionPolicy, ActionRequest, Toolbox
from tests.tools.conftest import NS, Cluster

SCALE_CART = {"kind": "Deployment", "name": "cart", "namespace": NS, "replicas": 2}


def stamp(cluster: Cluster, name: str = "cart") -> tuple[str, int, int]:
    dep = cluster.apps.read_namespaced_deployment(name, NS)
    return dep.metadata.resource_version, dep.metadata.generation, dep.spec.replicas


# ---------------------------------------------------------------------------------------------- decide()
async def test_decide_per_mode() -> None:
    request = ActionRequest("scale", f"{NS}/Deployment/cart", "scale deployment otel-demo/cart from 1 to 2", {})
    off = await ActionPolicy(mode="off").decide(request)
    assert (off.allowed, off.mode, off.reason) == (False, "denied", "remediation mode is off: read-only run")
    dry = await ActionPolicy(mode="dry-run").decide(request)
    assert (dry.allowed, dry.mode) == (True, "dry-run")
    auto = await ActionPolicy(mode="auto").decide(request)
    assert (auto.allowed, auto.mode) == (True, "applied")
    nobody = await ActionPolicy(mode="approve").decide(request)
    assert (nobody.allowed, nobody.mode, nobody.reason) == (False, "denied", "approval required and nobody approved")
    narrow = await ActionPolicy(mode="auto", allowed_actions={"rollout_undo", "uncordon"}).decide(request)
    assert not narrow.allowed
    assert narrow.reason == "action scale is not allowed (allowed actions: rollout_undo, uncordon)"
    elsewhere = await ActionPolicy(mode="auto", allowed_namespaces={"book-info"}).decide(request)
    assert (
        not elsewhere.allowed
        and elsewhere.reason == "namespace otel-demo is not allowed (allowed namespaces: book-info)"
    )
    node = ActionRequest("uncordon", "/Node/sim-worker", "uncordon node sim-worker", {})
    unnamed = await ActionPolicy(mode="auto").decide(node)  # no namespace bounds a Node: only its name does
    assert not unnamed.allowed and unnamed.reason == (
        "Node/sim-worker is cluster-scoped and the incident does not allow it by name (remediation.allowedClusterObjects)"
    )
    named = ActionPolicy(mode="auto", allowed_namespaces={"book-info"}, allowed_cluster_objects={"Node/sim-worker"})
    assert (await named.decide(node)).allowed
    other = ActionRequest("uncordon", "/Node/sim-worker2", "uncordon node sim-worker2", {})
    assert not (await named.decide(other)).allowed


def test_allowed_actions_must_be_write_tools() -> None:
    assert ActionPolicy(allowed_actions=set()).allowed_actions == set()  # nothing allowed is a valid choice
    with pytest.raises(ValueError, match="allowed actions must be write tools, not get_alerts, scael"):
        ActionPolicy(mode="auto", allowed_actions={"scael", "get_alerts"})


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="remediation mode must be one of auto, approve, dry-run, off, not 'yolo'"):
        ActionPolicy(mode="yolo")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- through the tools
async def test_mode_off_denies_without_touching_the_cluster(cluster: Cluster) -> None:
    before = stamp(cluster)
    r = await cluster.toolbox(ActionPolicy(mode="off")).call("scale", SCALE_CART)
    assert not r.ok and r.error == "denied by policy: remediation mode is off: read-only run"
    assert r.write == {  # denied from the arguments alone: the workload was never read
        "action": "scale",
        "target": f"{NS}/Deployment/cart",
        "mode": "denied",
        "change": f"scale {NS}/Deployment/cart",
        "revert": "",
        "dry_run_ok": False,
        "reason": "remediation mode is off: read-only run",
    }
    assert r.targets == [f"{NS}/Deployment/cart"]
    assert stamp(cluster) == before


async def test_dry_run_mode_validates_but_changes_nothing(cluster: Cluster) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="dry-run"))
    before = stamp(cluster)
    scaled = await tb.call("scale", SCALE_CART)
    assert scaled.ok, scaled.error
    assert scaled.write["mode"] == "dry-run" and scaled.write["dry_run_ok"] is True
    assert scaled.content["applied"] is False and scaled.content["diff"] == ["spec.replicas: 1 -> 2"]
    image = await tb.call(
        "set_image", {"kind": "deploy", "name": "cart", "namespace": NS, "container": "cart", "image": "busybox:1.37"}
    )
    assert image.ok and image.write["mode"] == "dry-run"
    assert image.content["diff"] == [
        "spec.template.spec.containers[cart].image: ghcr.io/open-telemetry/demo:2.0.2-cart -> busybox:1.37"
    ]
    cluster.advance(60)
    assert stamp(cluster) == before
    assert cluster.apps.read_namespaced_deployment("cart", NS).spec.template.spec.containers[0].image.endswith("cart")


async def test_approve_mode_asks_the_approver_after_the_dry_run(cluster: Cluster) -> None:
    seen: list[ActionRequest] = []

    async def no(request: ActionRequest) -> bool:
        seen.append(request)
        return False

    async def yes(request: ActionRequest) -> bool:
        seen.append(request)
        return True

    before = stamp(cluster)
    declined = await cluster.toolbox(ActionPolicy(mode="approve", approver=no)).call("scale", SCALE_CART)
    assert not declined.ok and declined.error == "denied by policy: approval required and the approver declined"
    assert declined.write["mode"] == "denied" and declined.write["dry_run_ok"] is True
    assert stamp(cluster) == before
    assert seen[0].action == "scale" and seen[0].target == f"{NS}/Deployment/cart"
    assert seen[0].change == "scale deployment otel-demo/cart from 1 to 2 replicas"
    assert seen[0].args == SCALE_CART

    nobody = await cluster.toolbox(ActionPolicy(mode="approve")).call("scale", SCALE_CART)
    assert not nobody.ok and nobody.error == "denied by policy: approval required and nobody approved"

    approved = await cluster.toolbox(ActionPolicy(mode="approve", approver=yes)).call("scale", SCALE_CART)
    assert approved.ok and approved.write["mode"] == "applied"
    assert stamp(cluster)[2] == 2


async def test_allowed_actions_and_namespaces(cluster: Cluster) -> None:
    narrow = cluster.toolbox(ActionPolicy(mode="auto", allowed_actions={"rollout_undo"}))
    r = await narrow.call("scale", SCALE_CART)
    assert not r.ok and r.error == "denied by policy: action scale is not allowed (allowed actions: rollout_undo)"
    elsewhere = cluster.toolbox(ActionPolicy(mode="auto", allowed_namespaces={"book-info"}))
    r = await elsewhere.call("scale", SCALE_CART)
    assert (
        not r.ok and r.error == "denied by policy: namespace otel-demo is not allowed (allowed namespaces: book-info)"
    )
    assert stamp(cluster)[2] == 1


async def test_a_rejected_dry_run_is_reported_and_nothing_is_applied(cluster: Cluster) -> None:
    before = stamp(cluster)
    approvals: list[ActionRequest] = []

    async def yes(request: ActionRequest) -> bool:
        approvals.append(request)
        return True

    tb = cluster.toolbox(ActionPolicy(mode="approve", approver=yes))
    bad = [{"op": "replace", "path": "/spec/nothing/here", "value": 1}]
    r = await tb.call("patch", {"kind": "deploy", "name": "cart", "namespace": NS, "patch": bad, "patch_type": "json"})
    assert not r.ok and r.error.startswith("dry run failed: rejected by the API server")
    assert r.write["mode"] == "failed" and r.write["dry_run_ok"] is False
    assert approvals == []  # nobody is asked to approve a change the API server refuses
    assert stamp(cluster) == before


async def test_secret_edits_and_other_deletions_are_not_offered(cluster: Cluster) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="auto"))
    secret = await tb.call(
        "patch", {"kind": "secret", "name": "valkey-credentials", "namespace": NS, "patch": {"data": {}}}
    )
    assert not secret.ok and secret.error == "denied by policy: Secret edits are not offered by this toolbox"
    deployment = await tb.call("delete_resource", {"kind": "deploy", "name": "cart", "namespace": NS})
    assert not deployment.ok and deployment.error.startswith("denied by policy: deleting a Deployment is not offered")
    assert cluster.apps.read_namespaced_deployment("cart", NS).metadata.name == "cart"
    assert secret.write["mode"] == deployment.write["mode"] == "denied"
    assert deployment.targets == [f"{NS}/Deployment/cart"]


# ---------------------------------------------------------------------------------------------- before any read
WRITES_ELSEWHERE: list[tuple[str, dict[str, Any]]] = [
    ("scale", {"kind": "deploy", "name": "coredns", "namespace": "kube-system", "replicas": 0}),
    ("delete_pod", {"namespace": "kube-system", "name": "no-such-pod"}),
    ("patch", {"kind": "cm", "name": "no-such-map", "namespace": "kube-system", "patch": {"data": {"a": "b"}}}),
    ("rollout_restart", {"kind": "Deployment", "name": "no-such-app", "namespace": "nowhere"}),
    ("uncordon", {"node": "sim-worker"}),
    ("uncordon", {"node": "no-such-node"}),
    ("patch", {"kind": "no", "name": "sim-worker", "patch": {"spec": {"unschedulable": True}}}),
    ("patch", {"kind": "nodes", "name": "no-such-node", "patch": {"spec": {"unschedulable": True}}}),
    ("delete_resource", {"kind": "ns", "name": "otel-demo", "namespace": NS}),
    ("restore_service", {"namespace": "kube-system", "name": "no-such-svc", "workload": "Deployment/coredns"}),
]


@pytest.mark.parametrize(("tool", "args"), WRITES_ELSEWHERE)
async def test_a_write_outside_the_policy_is_denied_before_any_cluster_call(
    cluster: Cluster, tool: str, args: dict
) -> None:
    """Every request to the API server fails while these run: an answer that is a denial made no call, so
    whether the object exists cannot show through ("not found" never comes back)."""
    tb = cluster.toolbox(ActionPolicy(mode="auto", allowed_namespaces={NS}))
    cluster.fail_requests(".", 500)
    try:
        r = await tb.call(tool, args)
        read = await tb.call("describe", {"kind": "deploy", "name": "cart", "namespace": NS})
    finally:
        cluster.heal_requests()
    assert not read.ok and "(500)" in str(read.error)  # any call that reached the API server failed
    assert not r.ok and r.error.startswith("denied by policy: "), r.error
    assert "not found" not in r.error and "500" not in r.error
    assert r.write is not None and r.write["mode"] == "denied" and r.write["reason"] == r.error.split(": ", 1)[1]


async def test_an_unknown_kind_is_an_argument_error_and_a_cluster_scoped_one_is_denied_before_any_call(
    cluster: Cluster,
) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="auto"))
    # A kind neither the tools nor the cluster's discovery know (a custom resource is looked up there).
    r = await tb.call("patch", {"kind": "Gadget", "name": "admin", "patch": {"rules": []}})
    assert not r.ok and r.error.startswith("unknown kind 'Gadget'") and r.write is None
    cluster.fail_requests(".", 500)
    try:
        # A kind the tools know that is cluster-scoped (RBAC included) is a policy matter, before any call.
        denied = await tb.call("patch", {"kind": "ClusterRole", "name": "admin", "patch": {"rules": []}})
    finally:
        cluster.heal_requests()
    assert not denied.ok and denied.error.startswith("denied by policy: ClusterRole/admin is cluster-scoped")


# ---------------------------------------------------------------------------------------------- cluster-scoped objects
async def test_a_node_is_changed_only_when_allowed_by_name(cluster: Cluster) -> None:
    def cordoned(name: str) -> bool:
        return bool(cluster.core.read_node(name).spec.unschedulable)

    cordon = {"spec": {"unschedulable": True}}
    tb = cluster.toolbox(ActionPolicy(mode="auto", allowed_cluster_objects={"Node/sim-worker2"}))
    r = await tb.call("patch", {"kind": "node", "name": "sim-worker", "patch": cordon})
    assert not r.ok and r.error.startswith("denied by policy: Node/sim-worker is cluster-scoped")
    assert not cordoned("sim-worker")
    r = await tb.call("patch", {"kind": "node", "name": "sim-worker2", "patch": cordon})
    assert r.ok and r.write["mode"] == "applied" and r.write["target"] == "/Node/sim-worker2"
    assert cordoned("sim-worker2")
    r = await tb.call("uncordon", {"node": "sim-worker2"})
    assert r.ok and not cordoned("sim-worker2")


async def test_a_namespace_is_never_deleted_even_when_allowed_by_name(cluster: Cluster) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="auto", allowed_cluster_objects={f"Namespace/{NS}"}))
    r = await tb.call("delete_resource", {"kind": "Namespace", "name": NS, "namespace": NS})
    assert not r.ok and r.error == "denied by policy: deleting a Namespace is never offered"
    assert cluster.core.read_namespace(NS).status.phase == "Active"


# ---------------------------------------------------------------------------------------------- blast radius
async def test_a_serving_workload_is_not_scaled_to_zero(cluster: Cluster) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="auto"))
    assert cluster.apps.read_namespaced_deployment("frontend", NS).status.ready_replicas
    scaled = await tb.call("scale", {"kind": "deploy", "name": "frontend", "namespace": NS, "replicas": 0})
    assert not scaled.ok and scaled.error.startswith("denied by policy: Deployment/frontend is serving (1 ready")
    assert scaled.write["mode"] == "denied" and scaled.write["dry_run_ok"] is True  # judged on the dry run
    zero = {"spec": {"replicas": 0}}
    patched = await tb.call("patch", {"kind": "deploy", "name": "frontend", "namespace": NS, "patch": zero})
    assert not patched.ok and patched.error == scaled.error  # the same rule, whichever tool asks
    assert cluster.apps.read_namespaced_deployment("frontend", NS).spec.replicas == 1
    assert (await tb.call("scale", {"kind": "deploy", "name": "frontend", "namespace": NS, "replicas": 2})).ok

    # A workload that serves nothing may be scaled to 0: that stops no traffic.
    broken = {
        "metadata": {"name": "never-ready", "labels": {"app": "never-ready"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "never-ready"}},
            "template": {
                "metadata": {"labels": {"app": "never-ready"}},
                "spec": {"containers": [{"name": "c", "image": "registry.invalid/none:1"}]},
            },
        },
    }
    cluster.apps.create_namespaced_deployment(NS, broken)
    cluster.advance(60)
    r = await tb.call("scale", {"kind": "deploy", "name": "never-ready", "namespace": NS, "replicas": 0})
    assert r.ok and r.write["mode"] == "applied", r.error


async def test_a_run_changes_at_most_its_limit_of_objects(cluster: Cluster) -> None:
    async def restart(tb: Toolbox, name: str) -> Any:
        return await tb.call("rollout_restart", {"kind": "deploy", "name": name, "namespace": NS})

    tb = cluster.toolbox(ActionPolicy(mode="auto", max_objects=2))
    assert (await restart(tb, "cart")).ok and (await restart(tb, "ad")).ok
    generation = cluster.apps.read_namespaced_deployment("frontend", NS).metadata.generation
    third = await restart(tb, "frontend")
    assert not third.ok and third.error == (
        "denied by policy: this run has already changed 2 objects, its limit (remediation.maxObjectsChanged: 2); "
        f"{NS}/Deployment/frontend would be one more"
    )
    assert cluster.apps.read_namespaced_deployment("frontend", NS).metadata.generation == generation
    assert (await restart(tb, "cart")).ok  # an object already changed is no further spread

    dry = cluster.toolbox(ActionPolicy(mode="dry-run", max_objects=1))  # what a dry run would change counts too
    assert (await restart(dry, "cart")).ok
    assert (await restart(dry, "ad")).error.startswith("denied by policy: this run has already changed 1 objects")


async def test_the_approver_is_never_asked_about_a_write_the_rules_deny(cluster: Cluster) -> None:
    asked: list[ActionRequest] = []

    async def yes(request: ActionRequest) -> bool:
        asked.append(request)
        return True

    tb = cluster.toolbox(ActionPolicy(mode="approve", approver=yes, allowed_namespaces={NS}))
    for tool, args in WRITES_ELSEWHERE:
        assert not (await tb.call(tool, args)).ok
    assert not (await tb.call("scale", {"kind": "deploy", "name": "frontend", "namespace": NS, "replicas": 0})).ok
    assert asked == []
    assert (await tb.call("scale", SCALE_CART)).ok and [r.target for r in asked] == [f"{NS}/Deployment/cart"]
