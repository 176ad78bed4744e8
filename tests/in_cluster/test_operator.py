"""The operator against a served simulator: an Incident for a real fault ends Resolved, the root cause in
its status and the fault healed; approvals wait on annotations; each phase change is an Event."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from orchestrator.operator.controller import OperatorConfig

from .helpers import operator, served, wait_until

SUMMARY = "Product pages and checkout fail with errors; product-catalog pods are not ready"
ROOT = "otel-demo/Deployment/product-catalog"
UNSET_KEY = "SRE_AGENT_TEST_KEY_NOBODY_SETS"


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
            cluster.annotate("catalog-approve", {"sre-agent.dev/approved-by": "alice"}, manager="someone")
            cluster.annotate("catalog-approve", {"sre-agent.dev/approve": asked["id"]}, manager="kubectl-annotate")
            wait_until(lambda: phase(cluster.get("catalog-approve")) in ("Resolved", "Escalated", "Failed"))
            status = cluster.get("catalog-approve")["status"]
        assert status["phase"] == "Resolved", status.get("reason")
        assert "pendingApproval" not in status  # answered: cleared
        (record,) = status["approvals"]
        assert (record["id"], record["decision"]) == (asked["id"], "approved")
        assert record["by"] == "manager kubectl-annotate; approved-by alice"  # the one who set the approve key
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


def test_one_at_a_time_with_concurrency_1_and_refusals_and_overdue_claims_end_failed(tmp_path: Path) -> None:
    with served(tmp_path) as cluster:
        config = OperatorConfig(executor=cluster.settings(tmp_path / "runs"), namespaces=["otel-demo"], concurrency=1,
                                lease_seconds=1, sweep_seconds=0.5)  # fmt: skip
        # A claim left by an operator that died long ago, past its deadline: a stuck Incident.
        stuck = cluster.create("stuck", summary=SUMMARY)
        stale = {"phase": "Investigating", "claim": {"runId": "r0", "holder": "gone-1", "claimedAt": "2020-01-01T00:00:00Z",
                 "renewedAt": "2020-01-01T00:00:00Z", "deadline": "2020-01-01T00:15:00Z"}}  # fmt: skip
        cluster.custom.patch_namespaced_custom_object_status(
            "sre-agent.dev", "v1alpha1", "otel-demo", "incidents", "stuck", {"status": stale}
        )
        with operator(config, cluster.kubeconfig):
            cluster.create("first", summary=SUMMARY)
            cluster.create("second", summary=SUMMARY)
            cluster.create("elsewhere", summary=SUMMARY, cluster={"kubeconfig": "/etc/passwd"})
            # A key `sre-agent run` would refuse to start without: refused the same way, before a run starts.
            cluster.create("keyless", summary=SUMMARY, model={"name": "openai/gpt-4o", "apiKeyEnv": UNSET_KEY})
            ended = ("Resolved", "Escalated", "Failed", "NoFault")
            names = ("first", "second", "elsewhere", "keyless", "stuck")
            wait_until(lambda: all(phase(cluster.get(n)) in ended for n in names))
            first, second = cluster.get("first")["status"], cluster.get("second")["status"]
            refused, overdue = cluster.get("elsewhere")["status"], cluster.get("stuck")["status"]
            keyless = cluster.get("keyless")["status"]
        assert first["phase"] == "Resolved"
        assert second["phase"] in ("Escalated", "NoFault") and not second.get("mitigation")  # nothing left to fix
        assert second["claim"]["claimedAt"] >= first["finishedAt"]  # queued until the one worker was free
        assert refused["phase"] == "Failed" and "spec.cluster.kubeconfig names a file" in refused["reason"]
        assert (
            keyless["phase"] == "Failed"
            and keyless["reason"] == f"spec.model.apiKeyEnv: the environment variable {UNSET_KEY} is not set"
        )
        assert [c["reason"] for c in keyless["conditions"] if c["type"] == "Failed"] == ["Refused"]
        assert not list((tmp_path / "runs" / "otel-demo" / "keyless").rglob("trace.jsonl"))  # no run was started
        assert overdue["phase"] == "Failed" and overdue["reason"].startswith(
            "run r0 of gone-1 did not end by its deadline"
        )
        assert stuck["metadata"]["uid"] and [e.reason for e in cluster.events("stuck")] == ["Failed"]


def test_two_replicas_claim_each_incident_once(tmp_path: Path) -> None:
    with served(tmp_path) as cluster:
        one = OperatorConfig(executor=cluster.settings(tmp_path / "runs-a"), namespaces=["otel-demo"])
        two = OperatorConfig(executor=cluster.settings(tmp_path / "runs-b"), namespaces=["otel-demo"])
        names = [f"page-{i}" for i in range(4)]
        with operator(one, cluster.kubeconfig), operator(two, cluster.kubeconfig):
            for name in names:
                cluster.create(name, summary=SUMMARY)
            ended = ("Resolved", "Escalated", "Failed", "NoFault")
            # Three runs one after the other: allow for a busy machine.
            assert wait_until(lambda: all(phase(cluster.get(n)) in ended for n in names), timeout=400)
            statuses = [cluster.get(n)["status"] for n in names]
        assert {s["claim"]["attempt"] for s in statuses} == {1}
        assert {s["claim"]["holder"] for s in statuses} <= {one.holder, two.holder}
        assert [[e.reason for e in cluster.events(n)].count("Claimed") for n in names] == [1, 1, 1, 1]
        assert sum(len(s.get("mitigation") or []) for s in statuses) == 1  # one namespace: one run at a time
        runs = [d for base in ("runs-a", "runs-b") for d in (tmp_path / base).glob("otel-demo/*/*")]
        assert len(runs) == len(names)  # one run each, in whichever replica claimed it


def test_incidents_on_the_same_namespace_run_one_after_the_other(tmp_path: Path) -> None:
    with served(tmp_path) as cluster:
        config = OperatorConfig(executor=cluster.settings(tmp_path / "runs"), namespaces=["otel-demo"], concurrency=3)
        names = ["same-a", "same-b", "same-c"]
        with operator(config, cluster.kubeconfig):
            for name in names:
                cluster.create(name, summary=SUMMARY)
            ended = ("Resolved", "Escalated", "Failed", "NoFault")
            # Three runs one after the other: allow for a busy machine.
            assert wait_until(lambda: all(phase(cluster.get(n)) in ended for n in names), timeout=400)
            statuses = sorted(
                (cluster.get(n)["status"] for n in names), key=lambda s: (s["claim"]["claimedAt"], s["finishedAt"])
            )  # second-resolution stamps tie
        # Three workers were free, but two runs changing otel-demo at once would undo each other's fixes.
        assert sum(len(s.get("mitigation") or []) for s in statuses) == 1
        assert [s["phase"] for s in statuses][0] == "Resolved"
        for earlier, later in zip(statuses, statuses[1:], strict=False):
            assert later["claim"]["claimedAt"] >= earlier["finishedAt"]
