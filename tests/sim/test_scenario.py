"""Scenario files: a user's own application model, clear one-line errors for bad input, and the library
of built-in scenarios, each a named folder, with what each is about."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator.sim import (
    ScenarioFacts,
    builtin_scenarios,
    describe_scenario,
    resolve_scenario,
    scenario_problem,
)
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.faults import FaultError
from orchestrator.sim.scenario import ScenarioError, inject_faults, load_scenario

SHOP = {
    "apiVersion": "sim.sre-agent.dev/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "tiny-shop"},
    "spec": {
        "namespace": "tiny",
        "load": {"generator": "loadgen", "entry": "web", "requestsPerSecond": 5},
        "services": [
            {"name": "loadgen", "image": "busybox:1.37", "command": ["sh", "-c", "sleep infinity"]},
            {
                "name": "web",
                "image": "example.com/web:1.0",
                "port": 8080,
                "protocol": "http",
                "env": {"DB_ADDR": "db:5432"},
                "calls": [{"service": "db", "addressEnv": "DB_ADDR"}],
            },
            {"name": "db", "image": "example.com/db:1.0", "port": 5432, "protocol": "tcp"},
        ],
    },
}


def write(path: Path, doc: object) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def scenario(apps: list, faults: list | None = None, objects: list | None = None) -> dict:
    spec: dict = {"applications": apps, "faults": faults or [], "warmup": 60}
    if objects is not None:
        spec["objects"] = objects
    return {"apiVersion": "sim.sre-agent.dev/v1alpha1", "kind": "Scenario", "metadata": {"name": "t"}, "spec": spec}


def web_fault(fault: str) -> dict:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "tiny"}}
    return {"id": fault, "args": {"kubernetesObject": target}}


def test_own_application_file_installs_and_serves_traffic(tmp_path: Path) -> None:
    write(tmp_path / "shop.yaml", SHOP)
    path = write(tmp_path / "scenario.yaml", scenario([{"file": "shop.yaml"}]))
    cluster = Cluster()
    load_scenario(cluster, path)
    cluster.advance(60)
    pods = cluster.store.list(cluster.rt("Pod"), "tiny")
    assert len(pods) == 3 and all(p["status"]["phase"] == "Running" for p in pods)
    assert cluster.traffic.services[("tiny", "db")].rps > 0
    # A fault from the catalogue works on it too: the database's Service goes away, web errors.
    cluster_faults = [
        {
            "id": "deleted-kubernetes-service",
            "args": {
                "kubernetesObject": {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "db", "namespace": "tiny"},
                }
            },
        }
    ]
    inject_faults(cluster, cluster_faults)
    cluster.advance(30)
    assert cluster.traffic.services[("tiny", "web")].error_rps > 0


def test_a_scenario_brings_objects_of_its_own_and_records_what_its_faults_changed_cluster_wide(
    tmp_path: Path,
) -> None:
    write(tmp_path / "shop.yaml", SHOP)
    note = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "runbook", "namespace": "tiny"}}
    extra = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "extra"}}
    doc = scenario(
        [{"file": "shop.yaml"}], [web_fault("cordoned-kubernetes-worker-node")], [note | {"data": {"a": "b"}}, extra]
    )
    cluster = Cluster()
    load_scenario(cluster, write(tmp_path / "scenario.yaml", doc))
    assert cluster.store.get(cluster.rt("ConfigMap"), "tiny", "runbook")["data"] == {"a": "b"}
    assert cluster.store.find(cluster.rt("Namespace"), "", "extra") is not None
    # The fault cordoned the node web runs on: the one cluster-scoped object it changed, recorded by name.
    cordoned = [n["metadata"]["name"] for n in cluster.store.list(cluster.rt("Node")) if n["spec"].get("unschedulable")]
    assert [record["clusterObjects"] for record in cluster.injected] == [[f"Node/{name}" for name in cordoned]]
    assert len(cordoned) == 1
    inject_faults(cluster, [web_fault("scaled-to-zero-kubernetes-workload")])  # a namespaced change only
    assert cluster.injected[-1]["clusterObjects"] == []


@pytest.mark.parametrize(
    ("doc", "error", "message"),
    [
        ("spec: [unclosed", ScenarioError, "not valid YAML"),
        ({"kind": "Pod"}, ScenarioError, "not a scenario"),
        (scenario([{"name": "nope"}]), ScenarioError, "spec.applications[0].name: unknown application 'nope'"),
        (scenario([{"file": "missing.yaml"}]), ScenarioError, "spec.applications[0].file"),
        (scenario(["opentelemetry-demo"], [{"id": "no-such-fault"}]), FaultError, "unknown fault id 'no-such-fault'"),
        (scenario(["opentelemetry-demo"], [{"id": "opentelemetry-demo-feature-flag"}]), FaultError, "is not simulated"),
        (
            scenario(["opentelemetry-demo"], [{"id": "scaled-to-zero-kubernetes-workload", "args": {}}]),
            FaultError,
            "args.kubernetesObject.metadata.name is required",
        ),
        (scenario([], objects=[{"kind": "ConfigMap"}]), ScenarioError, "spec.objects[0]: a Kubernetes object needs"),
        (
            scenario([], objects=[{"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "x"}}]),
            ScenarioError,
            "spec.objects[0] (Gadget/x): the server doesn't have a resource type 'Gadget'",
        ),
    ],
)
def test_bad_scenarios_name_the_field(tmp_path: Path, doc: object, error: type, message: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(doc) if isinstance(doc, str) else write(path, doc)
    with pytest.raises(error) as err:
        load_scenario(Cluster(), path)
    assert message in str(err.value)


def test_sim_serve_reports_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "scenario.yaml", scenario([{"name": "nope"}]))
    out = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "sim", "serve", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "unknown application 'nope'" in out.stderr
    assert "Traceback" not in out.stderr


# ============================================================================================ the library
def test_every_library_scenario_is_a_named_folder_that_loads() -> None:
    scenarios = builtin_scenarios()
    assert len(scenarios) >= 30
    for name, path in scenarios.items():
        assert path.name == "scenario.yaml" and path.parent.name == name
        assert resolve_scenario(name) == path
        assert scenario_problem(path) is None, name
        doc = yaml.safe_load(path.read_text())
        assert doc["metadata"]["name"] == name


def test_an_unknown_name_lists_the_library() -> None:
    with pytest.raises(FileNotFoundError, match=r"no built-in scenario of that name \(built-in: .*healthy-otel-demo"):
        resolve_scenario("nope")


def test_a_scenario_says_what_it_is_about(tmp_path: Path) -> None:
    write(tmp_path / "shop.yaml", SHOP)
    target = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "details", "namespace": "book-info"}}
    doc = scenario(
        [{"file": "shop.yaml"}, {"name": "book-info"}],
        [{"id": "invalid-kubernetes-service-selector", "args": {"kubernetesObject": target}}],
    )
    doc["metadata"]["annotations"] = {"sim.sre-agent.dev/summary": "book details are missing"}
    facts = describe_scenario(write(tmp_path / "scenario.yaml", doc))
    assert facts == ScenarioFacts(
        name="t",
        applications=("tiny-shop", "book-info"),
        faults=(("invalid-kubernetes-service-selector", "book-info/Service/details"),),
        namespaces=("book-info",),
        summary="book details are missing",
    )
    assert describe_scenario(builtin_scenarios()["healthy-otel-demo"]).summary is None
