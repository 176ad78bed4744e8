"""The offline playbook model on faults aimed at workloads and Services the library scenarios do not use:
what it concludes must follow from Kubernetes objects, not from the shape of one target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import root_causes, run_cli, write_incident, writes


def _scenario(tmp: Path, name: str, apps: str, *faults: dict[str, Any]) -> Path:
    doc = {
        "apiVersion": "itbench.io/v2",
        "kind": "Scenario",
        "metadata": {"name": name},
        "spec": {
            "applications": {app: {"enabled": True} for app in apps.split(",")},
            "faults": [{"injections": [f]} for f in faults],
        },
    }
    path = tmp / f"{name}.scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _fault(fid: str, kind: str, namespace: str, name: str, **args: Any) -> dict[str, Any]:
    api = "v1" if kind == "Service" else "apps/v1"
    target = {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace}}
    return {"id": fid, "args": {"kubernetesObject": target, **args}}


CASES = [
    # A workload scaled to 0 behind a Service is the root, not the Service: the Service's selector still
    # selects the pod template, it merely finds no pod then.
    pytest.param(
        "opentelemetryDemo",
        [_fault("scaled-to-zero-kubernetes-workload", "Deployment", "otel-demo", "currency")],
        {"otel-demo/Deployment/currency"},
        ["scale"],
        id="zero-behind-service",
    ),
    # Two faults fixed in turn: the verifier still objects after the first round, the second finds and
    # fixes the other, and the first cause, no longer visible once fixed, stays in the diagnosis.
    pytest.param(
        "opentelemetryDemo,bookInfo",
        [
            _fault("modified-target-port-kubernetes-service", "Service", "otel-demo", "email", targetPort=7777),
            _fault("scaled-to-zero-kubernetes-workload", "Deployment", "book-info", "reviews-v2"),
        ],
        {"otel-demo/Service/email", "book-info/Deployment/reviews-v2"},
        ["patch", "scale"],
        id="fixed-in-turn",
    ),
    # A policy that blocks the entry point: the load comes from outside the call graph, so no call between
    # services fails and only alerts say the healthy workloads receive nothing. The path in is read.
    pytest.param(
        "opentelemetryDemo",
        [_fault("ingress-port-blocking-network-policy", "Deployment", "otel-demo", "frontend-proxy")],
        {"otel-demo/Deployment/frontend-proxy", "otel-demo/NetworkPolicy/frontend-proxy-ingress"},
        ["delete_resource"],
        id="entry-blocked",
    ),
    # A workload that calls nothing gets cluster DNS back without any alert: it resolves no name, so nothing
    # fails; its DNS settings still answer nothing.
    pytest.param(
        "opentelemetryDemo",
        [_fault("failing-name-resolution-kubernetes-workload-dns-policy", "Deployment", "otel-demo", "quote")],
        {"otel-demo/Deployment/quote"},
        ["patch"],
        id="dns-leaf",
    ),
]


@pytest.mark.parametrize(("apps", "faults", "roots", "actions"), CASES)
def test_a_fault_on_another_target_is_found_and_fixed(
    runs_root: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    apps: str,
    faults: list[dict[str, Any]],
    roots: set[str],
    actions: list[str],
) -> None:
    name = request.node.callspec.id
    scenario = _scenario(tmp_path, name, apps, *faults)
    namespaces = sorted({f["args"]["kubernetesObject"]["metadata"]["namespace"] for f in faults})
    inc = write_incident(tmp_path, name, scenario, scope={"namespaces": namespaces})
    out = runs_root / name
    code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 0
    assert root_causes(out) == roots
    assert sorted(w["action"] for w in writes(out)) == actions
