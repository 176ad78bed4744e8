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
            done = wait_until(lambda: phase(cluster.get("catalog-down")) in ("Resolved", "Escalated", "Failed", "NoFault"))
            obj = cluster.get("catalog-down")
        status = obj["status"]
        assert done and status["phase"] == "Resolved", status.get("reason")
        assert status["diagnosis"]["rootCauses"] == [ROOT]
        assert [(c["type"], c["status"]) for c in status["conditions"] if c["status"] == "True"] == [("Resolved", "True")]
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
