from __future__ import annotations

from .builders import NS, event, pod, run

PREEMPTOR_UID = "9f1c"


def _preemptor() -> dict:
    spec = {"containers": [{"name": "app"}], "priorityClassName": "high-priority", "priority": 1000000}
    p = pod("payments", spec=spec)
    p["metadata"]["uid"] = PREEMPTOR_UID
    return p


def test_a_preempted_pod_that_is_gone_names_its_preemptor() -> None:
    ev = event("Pod", "analytics", "Preempted", f"Preempted by pod {PREEMPTOR_UID} on node w1", type_="Normal")
    (f,) = [f for f in run({"Pod": [_preemptor()], "Event": [ev]}, ["Pod"]) if f.analyzer == "preempted"]
    assert f.object == f"{NS}/Pod/analytics" and f.confidence == "high"
    assert f.cause.startswith(f"it was preempted on node w1 by pod {NS}/payments of higher priority")
    assert f"pod {NS}/payments: priorityClassName=high-priority, priority=1000000" in f.evidence
    assert f"pod {NS}/analytics no longer exists" in f.evidence
    assert f.remedy and "Allocated resources" in f.remedy[0]


def test_a_preempted_pod_still_there_is_medium() -> None:
    ev = event("Pod", "analytics", "Preempted", "Preempted by pod 0000 on node w1", type_="Normal")
    found = run({"Pod": [pod("analytics")], "Event": [ev]}, ["Pod"])
    (f,) = [f for f in found if f.analyzer == "preempted"]
    assert f.confidence == "medium" and "by a pod (uid 0000)" in f.cause
