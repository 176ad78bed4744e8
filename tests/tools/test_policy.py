"""The ActionPolicy in front of every write: modes, allowed actions and namespaces, the approver, and the
server-side dry run that always comes first."""

from __future__ import annotations

import pytest

from orchestrator.tools import ActionPolicy, ActionRequest
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
    assert (await ActionPolicy(mode="auto", allowed_namespaces={"book-info"}).decide(node)).allowed


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
    assert not r.ok and r.error == "denied: remediation mode is off: read-only run"
    assert r.write == {
        "action": "scale",
        "target": f"{NS}/Deployment/cart",
        "mode": "denied",
        "change": "scale deployment otel-demo/cart from 1 to 2 replicas",
        "revert": "kubectl scale deployment/cart -n otel-demo --replicas=1",
        "dry_run_ok": False,
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
    assert not declined.ok and declined.error == "denied: approval required and the approver declined"
    assert declined.write["mode"] == "denied" and declined.write["dry_run_ok"] is True
    assert stamp(cluster) == before
    assert seen[0].action == "scale" and seen[0].target == f"{NS}/Deployment/cart"
    assert seen[0].change == "scale deployment otel-demo/cart from 1 to 2 replicas"
    assert seen[0].args == SCALE_CART

    nobody = await cluster.toolbox(ActionPolicy(mode="approve")).call("scale", SCALE_CART)
    assert not nobody.ok and nobody.error == "denied: approval required and nobody approved"

    approved = await cluster.toolbox(ActionPolicy(mode="approve", approver=yes)).call("scale", SCALE_CART)
    assert approved.ok and approved.write["mode"] == "applied"
    assert stamp(cluster)[2] == 2


async def test_allowed_actions_and_namespaces(cluster: Cluster) -> None:
    narrow = cluster.toolbox(ActionPolicy(mode="auto", allowed_actions={"rollout_undo"}))
    r = await narrow.call("scale", SCALE_CART)
    assert not r.ok and r.error == "denied: action scale is not allowed (allowed actions: rollout_undo)"
    elsewhere = cluster.toolbox(ActionPolicy(mode="auto", allowed_namespaces={"book-info"}))
    r = await elsewhere.call("scale", SCALE_CART)
    assert not r.ok and r.error == "denied: namespace otel-demo is not allowed (allowed namespaces: book-info)"
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
    assert not secret.ok and secret.error == "denied: Secret edits are not offered by this toolbox"
    deployment = await tb.call("delete_resource", {"kind": "deploy", "name": "cart", "namespace": NS})
    assert not deployment.ok and deployment.error.startswith("denied: deleting a Deployment is not offered")
    assert cluster.apps.read_namespaced_deployment("cart", NS).metadata.name == "cart"
    assert secret.write["mode"] == deployment.write["mode"] == "denied"
    assert deployment.targets == [f"{NS}/Deployment/cart"]
