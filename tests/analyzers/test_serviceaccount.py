from __future__ import annotations

from .builders import NS, event, only, pod, run

DENIED = 'pods is forbidden: User "system:serviceaccount:shop:reporter" cannot list resource "pods" in API group "" in the namespace "shop"'


def test_denials_in_events_and_logs_name_the_service_account() -> None:
    p = pod("rep-1", spec={"containers": [{"name": "c"}], "serviceAccountName": "reporter"})
    logs = {(NS, "rep-1", "c"): f"ERROR {DENIED}\n"}
    f = only(
        run({"Event": [event("Pod", "rep-1", "Failed", DENIED)], "Pod": [p]}, ["ServiceAccount"], logs),
        "ServiceAccount",
        "reporter",
    )
    assert f.object == f"{NS}/ServiceAccount/reporter"
    assert "not allowed to list pods" in f.cause
    assert any(line.startswith("log rep-1/c") for line in f.evidence)
    assert "used by pod(s) rep-1" in f.evidence


def test_quota_forbidden_is_not_rbac() -> None:
    ev = event("ReplicaSet", "x", "FailedCreate", 'pods "x" is forbidden: exceeded quota: q')
    assert run({"Event": [ev], "Pod": []}, ["ServiceAccount"]) == []
