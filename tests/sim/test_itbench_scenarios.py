"""ITBench-shaped scenarios end to end: load an `itbench.io/v2` Scenario file, see alerts fire within
10 virtual minutes, apply the ground truth's solution with kubectl, and see every alert clear.

The cases mirror ITBench's sample SRE scenarios (fault id, target, ground-truth alerts, solution). They
are written here in ITBench's schema rather than read from ITBench, so the suite needs nothing outside
the repository.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from orchestrator.sim.runner import SimulatorServer

KUBECTL = shutil.which("kubectl")


@dataclass
class Case:
    scenario: str
    fault: str
    kind: str
    name: str
    namespace: str = "otel-demo"
    extra: dict = field(default_factory=dict)
    alerts: tuple[str, ...] = ()
    fix: list[list[str]] = field(default_factory=list)  # kubectl argument lists
    app: str = "opentelemetryDemo"
    options: dict = field(default_factory=dict)
    more_targets: tuple[str, ...] = ()
    manifest: dict | None = None  # created with `kubectl create -f` before the fix commands


def undo(name: str) -> list[list[str]]:
    return [["rollout", "undo", f"deployment/{name}"]]


CASES = [
    Case(
        "scenario-102",
        "insufficient-kubernetes-resource-quota",
        "Deployment",
        "ad",
        alerts=("KubeDeploymentReplicasMismatch",),
        # The ground truth's `edit resourcequota`: raise the hard limits.
        fix=[
            [
                "patch",
                "resourcequota",
                "strict-resource-quota",
                "--type=merge",
                "-p",
                '{"spec":{"hard":{"requests.memory":"64Gi","limits.memory":"64Gi"}}}',
            ]
        ],
    ),
    Case(
        "scenario-114",
        "deleted-kubernetes-service",
        "Service",
        "product-catalog",
        alerts=("HighRequestErrorRate",),
        # "Create the manifest with the expected values."
        manifest={
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "product-catalog", "labels": {"app.kubernetes.io/name": "product-catalog"}},
            "spec": {
                "selector": {"app.kubernetes.io/name": "product-catalog"},
                "ports": [{"name": "tcp-service", "port": 3550, "targetPort": 3550}],
            },
        },
    ),
    Case(
        "scenario-105",
        "invalid-kubernetes-workload-container-command",
        "Deployment",
        "product-catalog",
        extra={"container": {"name": "product-catalog"}},
        alerts=("KubePodCrashLooping",),
        fix=undo("product-catalog"),
    ),
    Case(
        "scenario-16",
        "modified-kubernetes-workload-container-environment-variable",
        "Deployment",
        "shipping",
        extra={"container": {"name": "shipping", "env": {"name": "QUOTE_ADDR", "value": "quote:0000"}}},
        fix=undo("shipping"),
    ),
    Case(
        "scenario-20",
        "nonexistent-kubernetes-workload-container-image",
        "Deployment",
        "product-catalog",
        extra={"container": {"name": "product-catalog"}},
        alerts=("KubePodNotReady",),
        fix=undo("product-catalog"),
    ),
    Case(
        "scenario-30",
        "modified-target-port-kubernetes-service",
        "Service",
        "ad",
        extra={"targetPort": 8080},
        alerts=("HighRequestErrorRate",),
        fix=[
            [
                "patch",
                "service",
                "ad",
                "--type=json",
                "-p",
                '[{"op":"replace","path":"/spec/ports/0/targetPort","value":9555}]',
            ]
        ],
    ),
    Case(
        "scenario-31",
        "ingress-port-blocking-network-policy",
        "Deployment",
        "frontend",
        alerts=("HighRequestErrorRate", "NoRequestsReceived"),
        fix=[["delete", "networkpolicy", "frontend-ingress"]],
    ),
    Case(
        "scenario-36",
        "invalid-kubernetes-service-selector",
        "Service",
        "details",
        namespace="book-info",
        app="bookInfo",
        alerts=("HighRequestErrorRate",),
        fix=[
            [
                "patch",
                "service",
                "details",
                "--type=json",
                "-p",
                '[{"op":"replace","path":"/spec/selector","value":{"app":"details"}}]',
            ]
        ],
    ),
    Case(
        "scenario-45",
        "hanging-kubernetes-workload-init-container",
        "Deployment",
        "email",
        alerts=("KubeContainerWaiting",),
        fix=undo("email"),
    ),
    Case(
        "scenario-46",
        "insufficient-kubernetes-workload-container-resources",
        "Deployment",
        "postgresql",
        extra={"container": {"name": "postgresql"}},
        alerts=("KubePodCrashLooping",),
        fix=undo("postgresql"),
    ),
    Case(
        "scenario-49",
        "misconfigured-kubernetes-workload-container-readiness-probe",
        "Deployment",
        "frontend",
        extra={"container": {"name": "frontend"}},
        alerts=("KubePodNotReady",),
        fix=undo("frontend"),
    ),
    Case(
        "scenario-58",
        "scaled-to-zero-kubernetes-workload",
        "Deployment",
        "accounting",
        alerts=("HighRequestErrorRate", "NoRequestsReceived"),
        fix=[["scale", "--replicas=1", "deployment/accounting"]],
    ),
    Case(
        "scenario-38",
        "misconfigured-kubernetes-horizontal-pod-autoscaler",
        "Deployment",
        "fraud-detection",
        more_targets=("frontend", "image-provider"),
        options={"autoscaling": {"kubernetes": {"hpa": True}}},
        alerts=("KubeHpaMaxedOut",),
        fix=[
            [
                "patch",
                "hpa",
                name,
                "--type=merge",
                "-p",
                '{"spec":{"metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}]}}',
            ]
            for name in ("fraud-detection", "frontend", "image-provider")
        ],
    ),
]


def scenario_document(case: Case) -> dict:
    def injection(name: str) -> dict:
        api = "v1" if case.kind == "Service" else "apps/v1"
        args = {
            "kubernetesObject": {
                "apiVersion": api,
                "kind": case.kind,
                "metadata": {"name": name, "namespace": case.namespace},
            }
        }
        args.update(case.extra)
        return {"args": args, "id": case.fault}

    app = {"enabled": True}
    if case.options:
        app["options"] = case.options
    return {
        "apiVersion": "itbench.io/v2",
        "kind": "Scenario",
        "metadata": {"name": case.scenario},
        "spec": {
            "applications": {case.app: app},
            "faults": [{"injections": [injection(n) for n in (case.name, *case.more_targets)]}],
            "tools": {"sre": {"enabled": True}},
        },
    }


def firing(server: SimulatorServer) -> set[str]:
    with urllib.request.urlopen(f"{server.url}/api/v2/alerts") as r:
        return {a["labels"]["alertname"] for a in json.load(r)}


def kubectl(server: SimulatorServer, kubeconfig: Path, namespace: str, args: list[str]) -> str:
    assert KUBECTL, "kubectl is required (the CI script installs Debian's kubernetes-client)"
    out = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "-n", namespace, *args], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("case", CASES, ids=[c.scenario for c in CASES])
def test_scenario_fires_and_heals(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario_document(case), sort_keys=False))
    server = SimulatorServer.start(path)
    try:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        seen: set[str] = set()
        for _ in range(20):  # up to 10 virtual minutes, looking every 30 s
            server.advance(30)
            seen |= firing(server)
            if seen and set(case.alerts) <= seen:
                break
        assert seen, "no alert fired within 10 virtual minutes"
        assert set(case.alerts) <= seen, f"ground-truth alerts {case.alerts} not all fired; saw {sorted(seen)}"
        if case.manifest:
            manifest = tmp_path / "manifest.yaml"
            manifest.write_text(yaml.safe_dump(case.manifest))
            kubectl(server, kubeconfig, case.namespace, ["create", "--validate=false", "-f", str(manifest)])
        for args in case.fix:
            kubectl(server, kubeconfig, case.namespace, args)
        for _ in range(30):  # up to 15 virtual minutes
            server.advance(30)
            if not firing(server):
                break
        assert not firing(server), f"alerts still firing after the fix: {sorted(firing(server))}"
    finally:
        server.stop()
