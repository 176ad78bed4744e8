from __future__ import annotations

import pytest

from .builders import obj, only, pod, run


@pytest.mark.parametrize(
    ("spec", "status", "cause"),
    [
        (
            {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}},
            {"disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1},
            "allows no disruption (minAvailable=1)",
        ),
        (
            {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
            {"disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 2, "expectedPods": 2},
            "fewer pods are healthy",
        ),
        (
            {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "nope"}}},
            {"disruptionsAllowed": 0, "expectedPods": 0},
            "selects no pod",
        ),
    ],
)
def test_budgets(spec: dict, status: dict, cause: str) -> None:
    pdb = obj("PodDisruptionBudget", "db", spec=spec, status=status)
    f = only(
        run({"PodDisruptionBudget": [pdb], "Pod": [pod("db-0", labels={"app": "db"})]}, ["PodDisruptionBudget"]),
        "PodDisruptionBudget",
        "db",
    )
    assert cause in f.cause
