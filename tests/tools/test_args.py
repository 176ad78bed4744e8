"""Malformed calls, the way models make them, come back as ok=False with an error naming what is wrong."""

from __future__ import annotations

import pytest

from orchestrator.tools import Toolbox
from orchestrator.tools.kinds import resolve_kind, split_object
from orchestrator.tools.registry import read_names, write_names
from tests.tools.conftest import NS, Cluster


def test_toolbox_offers_every_tool_with_a_schema(healthy: Cluster) -> None:
    tb = healthy.toolbox()
    assert [t.name for t in tb.reads] == list(read_names())  # the order itself: tests/tools/test_registry.py
    assert [t.name for t in tb.writes] == list(write_names())
    for tool in tb.tools.values():
        assert tool.parameters["type"] == "object" and tool.parameters["additionalProperties"] is False
        assert set(tool.parameters["required"]) <= set(tool.parameters["properties"])
        assert tool.description
    assert [t.name for t in tb.subset(["describe", "scale"])] == ["describe", "scale"]
    assert tb.get("describe") is tb.tools["describe"] and tb.get("nope") is None
    with pytest.raises(ValueError, match="unknown tool nope; available: get_alerts"):
        tb.subset(["describe", "nope"])


async def test_unknown_tool(healthy: Cluster) -> None:
    r = await healthy.toolbox().call("kubectl", {"cmd": "get pods"})
    assert not r.ok and r.error.startswith("unknown tool kubectl; available: get_alerts, list_workloads")
    assert r.content == {"error": r.error}


@pytest.mark.parametrize(
    ("name", "args", "error"),
    [
        ("list_pods", {"namespace": NS, "labels": "x"}, "unknown argument 'labels' (allowed: namespace, selector)"),
        ("list_pods", {}, "missing required argument 'namespace'"),
        ("list_pods", {"namespace": ""}, "missing required argument 'namespace'"),
        ("describe", {"kind": "deploy"}, "missing required argument 'name'"),
        ("get_logs", {"namespace": NS, "pod": "x", "tail": "lots"}, "argument 'tail' must be an integer, not \"lots\""),
        ("get_logs", {"namespace": NS, "pod": "x", "tail": 0}, "argument 'tail' must be at least 1; got 0"),
        ("get_events", {"namespace": NS, "warnings_only": "maybe"}, "argument 'warnings_only' must be a boolean"),
        ("scale", {"kind": "deploy", "name": "cart", "namespace": NS, "replicas": -1}, "must be at least 0"),
        ("scale", {"kind": "deploy", "name": "cart", "namespace": NS, "replicas": 1000}, "must be at most 100"),
        ("patch", {"kind": "svc", "name": "cart", "patch": {}, "patch_type": "yaml"}, "must be one of strategic"),
        ("list_pods", ["otel-demo"], "arguments must be a JSON object, not list"),
        ("list_pods", "{not json", "arguments must be a JSON object, got unparseable text"),
        ("describe", {"kind": "Gadget", "name": "x", "namespace": NS}, "unknown kind 'Gadget'"),
        ("rollout_undo", {"kind": "svc", "name": "cart", "namespace": NS}, "kind Service is not supported here"),
    ],
)
async def test_bad_arguments(healthy: Cluster, name: str, args: object, error: str) -> None:
    r = await healthy.toolbox().call(name, args)
    assert not r.ok
    assert error in r.error
    assert "\n" not in r.error


async def test_harmless_coercions_are_accepted(healthy: Cluster) -> None:
    tb = healthy.toolbox()
    r = await tb.call("get_logs", {"namespace": NS, "workload": "Deployment/cart", "tail": "3", "previous": "false"})
    assert r.ok, r.error
    assert len(r.content["lines"]) == 3
    as_text = await tb.call("list_pods", '{"namespace": "otel-demo", "selector": "app.kubernetes.io/name=ad"}')
    assert as_text.ok and len(as_text.content["pods"]) == 1
    no_args = await tb.call("get_alerts", None)
    assert no_args.ok


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Deployment", "Deployment"),
        ("deployment", "Deployment"),
        ("deploy", "Deployment"),
        ("deployments", "Deployment"),
        ("deployment.apps", "Deployment"),
        ("apps/v1/Deployment", "Deployment"),
        ("STS", "StatefulSet"),
        ("netpol", "NetworkPolicy"),
        ("networkpolicies", "NetworkPolicy"),
        ("hpa", "HorizontalPodAutoscaler"),
        ("quota", "ResourceQuota"),
        ("pvc", "PersistentVolumeClaim"),
        ("cm", "ConfigMap"),
        ("no", "Node"),
        ("pc", "PriorityClass"),
        ("ep", "Endpoints"),
    ],
)
def test_kind_aliases(text: str, kind: str) -> None:
    assert resolve_kind(text).kind == kind


def test_object_references() -> None:
    assert (split_object("deploy/cart")[0].kind, split_object("deploy/cart")[1]) == ("Deployment", "cart")
    assert split_object("otel-demo/Deployment/cart")[1] == "cart"
    assert split_object("cart", default_kind="Deployment")[0].kind == "Deployment"


async def test_toolbox_without_observability_urls(healthy: Cluster) -> None:
    from orchestrator.tools import ToolContext

    tb = Toolbox(ToolContext(healthy.api, namespaces=[NS]))
    alerts = await tb.call("get_alerts", {})
    assert not alerts.ok and alerts.error == "no Alertmanager URL is configured for this run"
    metrics = await tb.call("query_metrics", {"query": "up"})
    assert not metrics.ok and metrics.error == "no Prometheus URL is configured for this run"
