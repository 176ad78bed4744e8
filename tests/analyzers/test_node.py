from __future__ import annotations

import pytest

from .builders import obj, only, pod, run

MESSAGE = "0/2 nodes are available: 1 node(s) were unschedulable, 1 node(s) had untolerated taint {gpu: true}"


def _node(name: str, **spec_status: dict) -> dict:
    labels = {"kubernetes.io/hostname": name}
    return obj(
        "Node",
        name,
        ns=None,
        labels=labels,
        spec=spec_status.get("spec", {}),
        status=spec_status.get("status", {"conditions": [{"type": "Ready", "status": "True"}]}),
    )


def _pending(selector: dict | None = None) -> dict:
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": MESSAGE}
    return pod(
        "p",
        spec={"containers": [{"name": "a"}], "nodeSelector": selector or {}},
        status={"phase": "Pending", "conditions": [cond]},
    )


@pytest.mark.parametrize(
    ("node", "cause", "confidence"),
    [
        (
            _node(
                "n1",
                status={
                    "conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "PLEG"}]
                },
            ),
            "not Ready",
            "high",
        ),
        (
            _node("n1", status={"conditions": [{"type": "DiskPressure", "status": "True", "message": "disk"}]}),
            "DiskPressure",
            "high",
        ),
        (_node("n1", spec={"unschedulable": True}), "cordoned", "high"),
        (
            _node("n1", spec={"taints": [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]}),
            "taint gpu=true:NoSchedule",
            "medium",
        ),
    ],
)
def test_node_problems(node: dict, cause: str, confidence: str) -> None:
    f = only(run({"Node": [node], "Pod": [_pending({"kubernetes.io/hostname": "n1"})]}, ["Node"]), "Node", "n1")
    assert cause in f.cause and f.confidence == confidence and f.object == "/Node/n1"


def test_control_plane_taint_alone_is_quiet() -> None:
    cp = _node("cp", spec={"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]})
    assert run({"Node": [cp], "Pod": []}, ["Node"]) == []
