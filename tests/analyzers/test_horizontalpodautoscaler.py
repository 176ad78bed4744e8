from __future__ import annotations

import pytest

from .builders import NS, obj, only, run


def _hpa(target: int = 80, current: int = 3, conditions: list | None = None) -> dict:
    spec = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "maxReplicas": 3,
        "metrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}},
            }
        ],
    }
    return obj(
        "HorizontalPodAutoscaler", "web", spec=spec, status={"currentReplicas": current, "conditions": conditions or []}
    )


@pytest.mark.parametrize(
    ("hpa", "cause", "confidence"),
    [
        (_hpa(target=1), "implausibly low", "high"),
        (_hpa(target=80), "pinned at maxReplicas", "medium"),
        (
            _hpa(
                current=1,
                conditions=[
                    {
                        "type": "ScalingActive",
                        "status": "False",
                        "reason": "FailedGetResourceMetric",
                        "message": "no metrics",
                    }
                ],
            ),
            "cannot compute",
            "high",
        ),
        (
            _hpa(
                current=1,
                conditions=[
                    {"type": "AbleToScale", "status": "False", "reason": "FailedGetScale", "message": "no scale"}
                ],
            ),
            "cannot scale",
            "high",
        ),
    ],
)
def test_autoscaler_problems(hpa: dict, cause: str, confidence: str) -> None:
    f = only(
        run(
            {"HorizontalPodAutoscaler": [hpa], "Deployment": [obj("Deployment", "web")], "Event": []},
            ["HorizontalPodAutoscaler"],
        ),
        "HorizontalPodAutoscaler",
        "web",
    )
    assert cause in f.cause and f.confidence == confidence and f.owner == f"{NS}/Deployment/web"


def test_missing_target() -> None:
    f = only(
        run({"HorizontalPodAutoscaler": [_hpa(current=1)], "Deployment": [], "Event": []}, ["HorizontalPodAutoscaler"]),
        "HorizontalPodAutoscaler",
        "web",
    )
    assert "does not exist" in f.cause
