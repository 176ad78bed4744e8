from __future__ import annotations

from orchestrator.analyzers import Finding, Registry, Scope, Snapshot, analyze

from .builders import NS, event, obj, pod, run


def test_warning_events_of_any_kind() -> None:
    ev = event("Ingress", "web", "Sync", "error syncing load balancer: quota", count=6)
    (f,) = run({"Event": [ev]}, ["Event"])
    assert f.object == f"{NS}/Ingress/web" and f.confidence == "medium"
    assert "x6" in f.evidence[0] and "error syncing load balancer" in f.evidence[0]


def test_event_findings_give_way_to_specific_ones() -> None:
    p = pod("web", [{"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff"}}}])
    found = run({"Pod": [p], "Event": [event("Pod", "web", "Failed", "Error: ImagePullBackOff")]}, ["Pod", "Event"])
    assert [f.analyzer for f in found] == ["pods"]


def test_a_failing_analyzer_becomes_one_line_and_the_rest_go_on() -> None:
    registry = Registry()

    @registry.analyzer("Pod")
    def broken(reads: Snapshot, scope: Scope) -> list[Finding]:
        raise KeyError("status")

    @registry.analyzer("Node")
    def fine(reads: Snapshot, scope: Scope) -> list[Finding]:
        return [Finding("Node", None, "n1", "token=abc123 leaked", ["password: hunter2"], "high")]

    report = analyze(Snapshot({"Pod": [obj("Pod", "x")]}), Scope((NS,)), registry=registry)
    assert report.errors == ["analyzer broken (Pod) failed: KeyError: 'status'"]
    (f,) = report.findings
    assert "abc123" not in f.cause and "hunter2" not in f.evidence[0]  # scrubbed on the way out
