from __future__ import annotations

from .builders import obj, only, run


def test_unavailable_daemon_pods() -> None:
    ds = obj("DaemonSet", "agent", status={"desiredNumberScheduled": 4, "numberReady": 3, "numberUnavailable": 1})
    f = only(run({"DaemonSet": [ds], "Event": []}, ["DaemonSet"]), "DaemonSet", "agent")
    assert f.cause == "1 of 4 daemon pods are unavailable"
    assert "numberUnavailable=1" in f.evidence[0]
