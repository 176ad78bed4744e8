"""Facts of the built-in application models that upstream manifests and ITBench faults rely on."""

from __future__ import annotations

import yaml

from orchestrator.sim.builtin import builtin_scenarios
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.scenario import normalise


def test_book_info_reviews_containers_are_named_as_upstream() -> None:
    cluster = Cluster()
    cluster.install_application("book-info", {})
    cluster.advance(60)
    pods = cluster.store.list(cluster.rt("Pod"), "book-info")
    for version in ("v1", "v2", "v3"):
        (pod,) = [p for p in pods if p["metadata"]["name"].startswith(f"reviews-{version}-")]
        assert [c["name"] for c in pod["spec"]["containers"]] == ["reviews"]
        assert pod["status"]["phase"] == "Running"
        assert all(cs["ready"] for cs in pod["status"]["containerStatuses"])


def test_fault_36_targets_a_secret_the_application_creates() -> None:
    """corrupted-kubernetes-secret-credentials (ITBench fault 36) needs a Secret with data to corrupt."""
    targets = []
    for name, path in builtin_scenarios().items():
        plan = normalise(yaml.safe_load(path.read_text()), str(path))
        for fault in plan["faults"]:
            if fault["id"] == "corrupted-kubernetes-secret-credentials":
                meta = fault["args"]["kubernetesObject"]["metadata"]
                targets.append((name, plan["applications"], meta["namespace"], meta["name"]))
    assert targets
    for name, apps, namespace, secret in targets:
        cluster = Cluster()
        for app, options in apps:
            cluster.install_application(app, options)
        found = cluster.store.find(cluster.rt("Secret"), namespace, secret)
        assert found is not None and found.get("data"), (name, namespace, secret)
