"""The offline playbook model on faults aimed at workloads and Services the library scenarios do not use:
what it concludes must follow from Kubernetes objects, not from the shape of one target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _run(runs_root: Path, tmp: Path, name: str, scenario: Path, namespaces: list[str]) -> tuple[int, Path]:
    inc = write_incident(tmp, name, scenario, scope={"namespaces": namespaces})
    out = runs_root / name
    code, _, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    return code, out


def test_a_workload_scaled_to_zero_behind_a_service_is_the_root_not_the_service(
    runs_root: Path, tmp_path: Path
) -> None:
    # The Service in front of it selects no pod then, rightly: its selector still selects the pod template.
    scenario = _scenario(
        tmp_path,
        "zero-behind-service",
        "opentelemetryDemo",
        _fault("scaled-to-zero-kubernetes-workload", "Deployment", "otel-demo", "currency"),
    )
    code, out = _run(runs_root, tmp_path, "zero-behind-service", scenario, ["otel-demo"])
    assert code == 0
    assert root_causes(out) == {"otel-demo/Deployment/currency"}
    assert [w["action"] for w in writes(out)] == ["scale"]


def test_two_faults_fixed_in_turn_are_both_root_causes(runs_root: Path, tmp_path: Path) -> None:
    # The first round fixes one; the verifier still objects, the second round finds and fixes the other.
    # The first cause, no longer visible once fixed, stays in the diagnosis beside the second.
    scenario = _scenario(
        tmp_path,
        "fixed-in-turn",
        "opentelemetryDemo,bookInfo",
        _fault("modified-target-port-kubernetes-service", "Service", "otel-demo", "email", targetPort=7777),
        _fault("scaled-to-zero-kubernetes-workload", "Deployment", "book-info", "reviews-v2"),
    )
    code, out = _run(runs_root, tmp_path, "fixed-in-turn", scenario, ["otel-demo", "book-info"])
    assert code == 0
    assert root_causes(out) == {"otel-demo/Service/email", "book-info/Deployment/reviews-v2"}
    assert sorted(w["action"] for w in writes(out)) == ["patch", "scale"]


def test_a_policy_that_blocks_the_entry_point_is_found_when_no_call_fails(runs_root: Path, tmp_path: Path) -> None:
    # The load comes from outside the application's call graph: no call between services fails, only
    # alerts say the healthy workloads receive nothing. The path in to the entry point is read.
    scenario = _scenario(
        tmp_path,
        "entry-blocked",
        "opentelemetryDemo",
        _fault("ingress-port-blocking-network-policy", "Deployment", "otel-demo", "frontend-proxy"),
    )
    code, out = _run(runs_root, tmp_path, "entry-blocked", scenario, ["otel-demo"])
    assert code == 0
    assert root_causes(out) == {"otel-demo/Deployment/frontend-proxy", "otel-demo/NetworkPolicy/frontend-proxy-ingress"}
    assert [w["action"] for w in writes(out)] == ["delete_resource"]


def test_a_workload_that_calls_nothing_gets_cluster_dns_back_without_any_alert(runs_root: Path, tmp_path: Path) -> None:
    # It resolves no name, so nothing fails and no alert fires; its DNS settings still answer nothing.
    scenario = _scenario(
        tmp_path,
        "dns-leaf",
        "opentelemetryDemo",
        _fault("failing-name-resolution-kubernetes-workload-dns-policy", "Deployment", "otel-demo", "quote"),
    )
    code, out = _run(runs_root, tmp_path, "dns-leaf", scenario, ["otel-demo"])
    assert code == 0
    assert root_causes(out) == {"otel-demo/Deployment/quote"}
    assert [w["action"] for w in writes(out)] == ["patch"]
