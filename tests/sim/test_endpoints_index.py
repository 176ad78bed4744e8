"""Endpoints picked through the per-pass label index are the pods a full selector match would pick."""

from __future__ import annotations

from orchestrator.sim.bench import build_app_cluster
from orchestrator.sim.controllers.endpoints import PodsBySelector
from orchestrator.sim.selectors import selector_from_spec


def _addresses(ep: dict) -> list[str]:
    return sorted(a["targetRef"]["name"] for s in ep.get("subsets") or [] for a in s.get("addresses") or [])


def test_endpoints_match_a_brute_force_selection() -> None:
    cluster = build_app_cluster(60)
    pod_rt, ep_rt = cluster.rt("Pod"), cluster.rt("Endpoints")
    # A Service selecting across apps (one shared label) and one whose selector no pod carries.
    for name, selector in (("everyone", {"app.kubernetes.io/part-of": "bench-00"}), ("nobody", {"tier": "none"})):
        cluster.apply(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": "bench-00"},
                "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080}]},
            }
        )
    cluster.after_write()
    services = cluster.store.list(cluster.rt("Service"), "bench-00")
    assert len(services) >= 3
    for svc in services:
        sel = selector_from_spec(svc["spec"]["selector"])
        expected = sorted(
            p["metadata"]["name"]
            for p in cluster.store.list(pod_rt, "bench-00")
            if sel.matches(p["metadata"].get("labels") or {})
        )
        got = _addresses(cluster.store.get(ep_rt, "bench-00", svc["metadata"]["name"]))
        assert got == expected
    assert len(_addresses(cluster.store.get(ep_rt, "bench-00", "everyone"))) == 6
    assert _addresses(cluster.store.get(ep_rt, "bench-00", "nobody")) == []


def test_the_index_requires_every_label_of_the_selector() -> None:
    cluster = build_app_cluster(20)
    index = PodsBySelector(cluster)
    pods = index.select("bench-00", {"app.kubernetes.io/name": "app-000"})
    assert len(pods) == 2
    assert index.select("bench-00", {"app.kubernetes.io/name": "app-000", "absent": "x"}) == []
