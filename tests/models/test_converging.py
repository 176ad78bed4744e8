"""A diagnosis kept while the cluster converges on its fix says so once, however many rounds it takes."""

from __future__ import annotations

from orchestrator.builtin.policy import CONVERGING, converging


def test_each_round_restates_what_is_still_open_without_repeating_the_last() -> None:
    first = {
        "summary": "Deployment web: bad image.",
        "entities": [{"name": "ns/Deployment/web", "contributing_factor": True}],
    }
    once, root, _ = converging(first, ["workload_available: 1 old replica pending termination"])
    twice, _, _ = converging(once, ["alerts_cleared: KubePodNotReady firing"])
    assert root == "ns/Deployment/web"
    assert twice["summary"].count(CONVERGING) == 1 and twice["summary"].startswith("Deployment web: bad image.")
    assert "KubePodNotReady" in twice["summary"] and "pending termination" not in twice["summary"]
    assert twice["mitigations"] == []
