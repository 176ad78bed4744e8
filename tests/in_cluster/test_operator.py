"""The operator against a served simulator: an Incident for a real fault ends Resolved, the root cause in
its status and the fault healed; approvals wait on annotations; each phase change is an Event."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from orchestrator.operator.controller import OperatorConfig

from .helpers import operator, served, wait_until

SUMMARY = "Product pages and checkout fail with errors; product-catalog pods are not ready"
ROOT = "otel-demo/Deployment/product-catalog"


def phase(obj: dict) -> str | None:
    return (obj.get("status") or {}).get("phase")


def catalog_image(api: client.ApiClient) -> str:
    dep = client.AppsV1Api(api).read_namespaced_deployment("product-catalog", "otel-demo")
    return str(dep.spec.template.spec.containers[0].image)


def test_an_incident_for_a_fault_ends_resolved_with_its_root_cause(tmp_path: Path) -> None:
    with served(tmp_path) as cluster:
        config = OperatorConfig(executor=cluster.settings(tmp_path / "runs"), namespaces=["otel-demo"])
        with operator(config, cluster.kubeconfig):
            cluster.create("catalog-down", summary=SUMMARY)
            done = wait_until(
                lambda: phase(cluster.get("catalog-down")) in ("Resolved", "Escalated", "Failed", "NoFault")
            )
            obj = cluster.get("catalog-down")
        status = obj["status"]
        assert done and status["phase"] == "Resolved", status.get("reason")
        assert status["diagnosis"]["rootCauses"] == [ROOT]
        assert [(c["type"], c["status"]) for c in status["conditions"] if c["status"] == "True"] == [
            ("Resolved", "True")
        ]
        assert {c["type"] for c in status["conditions"]} >= {"Investigating", "Mitigating", "Verifying", "Resolved"}
        assert status["verdict"]["passed"] is True and status["exitCode"] == 0
        assert [m["target"] for m in status["mitigation"]] == [ROOT] and status["mitigation"][0]["revert"]
        assert status["tokens"] > 0 and Path(status["report"], "report.json").is_file()
        ready = client.AppsV1Api(cluster.api).read_namespaced_deployment("product-catalog", "otel-demo").status
        assert ready.ready_replicas == ready.replicas  # healed
        reasons = [e.reason for e in cluster.events("catalog-down")]
        assert reasons[0] == "Claimed" and "ChangeApplied" in reasons and "Diagnosed" in reasons
        assert reasons.index("Diagnosed") < reasons.index("Mitigating") < reasons.index("ChangeApplied")
        assert reasons[-2:] == ["Verifying", "Resolved"]


def pending(cluster, name: str) -> dict | None:  # noqa: ANN001
    return (cluster.get(name).get("status") or {}).get("pendingApproval")


def test_approve_mode_waits_for_the_annotation_and_records_who(tmp_path: Path) -> None:
    with served(tmp_path) as cluster:
        config = OperatorConfig(executor=cluster.settings(tmp_path / "runs"), namespaces=["otel-demo"])
        before = catalog_image(cluster.api)
        with operator(config, cluster.kubeconfig):
            cluster.create("catalog-approve", summary=SUMMARY, remediation={"mode": "approve"})
            asked = wait_until(lambda: pending(cluster, "catalog-approve"))
            assert asked and asked["target"] == ROOT and asked["action"] and asked["change"]
            cluster.sim.advance(600)  # time passes on the cluster: nothing is applied without an answer
            assert catalog_image(cluster.api) == before and phase(cluster.get("catalog-approve")) == "Mitigating"
            cluster.annotate("catalog-approve", {"sre-agent.dev/approve": "not-the-id"})
            assert wait_until(lambda: pending(cluster, "catalog-approve"), timeout=2) == asked  # another id: no answer
            cluster.annotate(
                "catalog-approve", {"sre-agent.dev/approve": asked["id"], "sre-agent.dev/approved-by": "alice"}
            )
            wait_until(lambda: phase(cluster.get("catalog-approve")) in ("Resolved", "Escalated", "Failed"))
            status = cluster.get("catalog-approve")["status"]
        assert status["phase"] == "Resolved", status.get("reason")
        assert "pendingApproval" not in status  # answered: cleared
        (record,) = status["approvals"]
        assert (record["id"], record["decision"], record["by"]) == (asked["id"], "approved", "approved-by alice")
        assert catalog_image(cluster.api) != before
        reasons = [e.reason for e in cluster.events("catalog-approve")]
        assert reasons.index("ApprovalRequested") < reasons.index("ChangeApproved") < reasons.index("ChangeApplied")


def test_a_rejected_change_leaves_the_cluster_unchanged(tmp_path: Path) -> None:
    with served(tmp_path) as cluster:
        config = OperatorConfig(executor=cluster.settings(tmp_path / "runs"), namespaces=["otel-demo"])
        dep = client.AppsV1Api(cluster.api).read_namespaced_deployment("product-catalog", "otel-demo").metadata
        with operator(config, cluster.kubeconfig):
            cluster.create("catalog-reject", summary=SUMMARY, remediation={"mode": "approve"})
            asked = wait_until(lambda: pending(cluster, "catalog-reject"))
            assert asked
            cluster.annotate("catalog-reject", {"sre-agent.dev/reject": asked["id"]})
            wait_until(lambda: phase(cluster.get("catalog-reject")) in ("Resolved", "Escalated", "Failed"))
            status = cluster.get("catalog-reject")["status"]
        assert status["phase"] == "Escalated" and status["exitCode"] == 3, status.get("reason")
        assert [(r["id"], r["decision"]) for r in status["approvals"]][:1] == [(asked["id"], "rejected")]
        assert not status.get("mitigation")
        after = client.AppsV1Api(cluster.api).read_namespaced_deployment("product-catalog", "otel-demo").metadata
        assert (after.generation, after.resource_version) == (dep.generation, dep.resource_version)
