"""The gate's checks for Jobs, claims, Ingresses and node pressure against the simulator over HTTP: each
fails on the broken object with the reason in its evidence, and passes once the fix is made through the
official client and the virtual clock has moved; the gate requires them for what was changed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from kubernetes import client

from orchestrator.verify import CheckResult, CheckSpec, Gate
from tests.sim.helpers import Sim, served_plan
from tests.tools.kinds_cluster import NS, build, container, job

STEP = 30.0


@pytest.fixture
def sim() -> Iterator[Sim]:
    with served_plan({"name": "kinds", "applications": [], "faults": [], "warmup": 0}) as s:
        build(s)
        yield s


def gate(sim: Sim) -> Gate:
    return Gate(sim.api, sim.server.url, [NS], [])


def check(sim: Sim, name: str, target: str | None) -> CheckResult:
    return asyncio.run(gate(sim).evaluate([CheckSpec(name, target)])).results[0]


def until_passed(sim: Sim, name: str, target: str | None, timeout: float = 600) -> CheckResult:
    result = sim.wait_for(lambda: (r := check(sim, name, target)).passed and r, timeout=timeout, step=STEP)
    return result or check(sim, name, target)


# ---------------------------------------------------------------------------------------------- jobs
def test_job_complete(sim: Sim) -> None:
    done = check(sim, "job_complete", f"{NS}/Job/done")
    assert done.passed and done.evidence == f"{NS}/Job/done: 1 Job complete (done)"
    failed = check(sim, "job_complete", f"{NS}/Job/crunch")
    assert not failed.passed
    assert failed.evidence == (
        f"{NS}/Job/crunch: Job crunch: Failed (BackoffLimitExceeded): Job has reached the specified backoff limit"
    )
    assert failed.value == {
        "jobs": [{"name": "crunch", "state": "Failed (BackoffLimitExceeded)", "succeeded": 0, "failed": 2}]
    }
    assert not check(sim, "job_complete", NS).passed
    missing = check(sim, "job_complete", f"{NS}/Job/nothing")
    assert not missing.passed and missing.value == {"exists": False}


def test_a_cronjob_is_judged_by_its_newest_run(sim: Sim) -> None:
    batch = client.BatchV1Api(sim.api)
    client.BatchV1Api(sim.api).delete_namespaced_job("crunch", NS, propagation_policy="Background")
    template = job("nightly", "echo no database; exit 1", backoffLimit=0)["spec"]
    batch.create_namespaced_cron_job(
        NS, {"metadata": {"name": "nightly"}, "spec": {"schedule": "*/2 * * * *", "jobTemplate": {"spec": template}}}
    )
    target = f"{NS}/CronJob/nightly"
    before = check(sim, "job_complete", target)
    assert not before.passed and before.evidence == f"{target}: no Job has run yet, nothing shows it succeeds"
    failing = sim.wait_for(lambda: "Failed" in (r := check(sim, "job_complete", target)).evidence and r, step=STEP)
    assert failing and not failing.passed
    # The fix: the job template's command succeeds. The failed run stays in the history; the next run counts.
    batch.patch_namespaced_cron_job(
        "nightly",
        NS,
        {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [container("main", "echo ok")]}}}}}},
    )
    fixed = until_passed(sim, "job_complete", target)
    assert fixed.passed, fixed.evidence
    failed_runs = [
        j for j in batch.list_namespaced_job(NS).items if j.status.failed and j.metadata.name.startswith("nightly-")
    ]
    assert failed_runs  # the old failure is still there, and the namespace passes anyway
    assert check(sim, "job_complete", NS).passed


# ---------------------------------------------------------------------------------------------- storage
def test_pvc_bound(sim: Sim) -> None:
    # A pod waits on the claim, as the workload that made it would.
    volume = {"name": "out", "persistentVolumeClaim": {"claimName": "orphan"}}
    consumer = {
        "metadata": {"name": "reporter"},
        "spec": {"containers": [container("r", "sleep 3600")], "volumes": [volume]},
    }
    sim.core.create_namespaced_pod(NS, consumer)
    bound = check(sim, "pvc_bound", f"{NS}/PersistentVolumeClaim/data")
    assert bound.passed and bound.evidence.startswith(f"{NS}/PersistentVolumeClaim/data: Bound to pvc-")
    pending = check(sim, "pvc_bound", f"{NS}/pvc/orphan")
    assert not pending.passed
    assert pending.evidence.startswith(
        f"{NS}/PersistentVolumeClaim/orphan: 1/1 claim not Bound: orphan: Pending, StorageClass fast-ssd does not "
        'exist, ProvisioningFailed: storageclass.storage.k8s.io "fast-ssd" not found'
    )
    namespace = check(sim, "pvc_bound", NS)
    assert not namespace.passed and namespace.value["claims"]["orphan"] == {"phase": "Pending", "volume": None}
    # The fix: the class the claim asks for (node-local, so bound where its pod is scheduled).
    client.StorageV1Api(sim.api).create_storage_class(
        {
            "metadata": {"name": "fast-ssd"},
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )
    sim.core.delete_namespaced_pod("reporter", NS, grace_period_seconds=0)
    sim.advance(5)
    sim.core.create_namespaced_pod(NS, consumer)  # its workload's next pod
    assert until_passed(sim, "pvc_bound", f"{NS}/PersistentVolumeClaim/orphan").passed
    assert check(sim, "pvc_bound", NS).evidence == f"{NS}: 2 claims, all Bound"


# ---------------------------------------------------------------------------------------------- ingress
def test_ingress_backends_ready(sim: Sim) -> None:
    assert check(sim, "ingress_backends_ready", f"{NS}/Ingress/shop").evidence == (
        f"{NS}/Ingress/shop: 1 Service backend ready with endpoints"
    )
    broken = check(sim, "ingress_backends_ready", f"{NS}/ing/broken")
    assert not broken.passed
    assert broken.evidence == (
        f"{NS}/Ingress/broken: Ingress broken shop.example.com/gone: Service gone not found; Ingress broken "
        "shop.example.com/web: port 8080 is not a port of Service web (ports: http)"
    )
    # A backend whose Service has no ready endpoint fails too.
    sim.apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 0}})
    empty = sim.wait_for(lambda: not (r := check(sim, "ingress_backends_ready", f"{NS}/Ingress/shop")).passed and r)
    assert empty and empty.evidence.endswith("Service web has no ready endpoints")
    # The fixes: replicas back, the missing Service created, the port the Service has.
    sim.apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 2}})
    sim.core.create_namespaced_service(
        NS,
        {"metadata": {"name": "gone"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}},
    )
    path = "/spec/rules/0/http/paths/1/backend/service/port/number"
    sim.networking.patch_namespaced_ingress(
        "broken", NS, [{"op": "replace", "path": path, "value": 80}], _content_type="application/json-patch+json"
    )
    fixed = until_passed(sim, "ingress_backends_ready", NS)
    assert fixed.passed and fixed.evidence == f"{NS}: 3 Service backends ready with endpoints"


# ---------------------------------------------------------------------------------------------- nodes
def test_node_pressure_cleared(sim: Sim) -> None:
    assert check(sim, "node_pressure_cleared", None).evidence.startswith("the cluster: no pressure on ")
    hog = {"name": "stress", "image": "alexeiled/stress-ng", "args": ["--vm", "4", "--vm-bytes", "8G"]}
    sim.core.create_namespaced_pod(NS, {"metadata": {"name": "hog"}, "spec": {"containers": [hog]}})
    sim.advance(30)
    node = sim.core.read_namespaced_pod("hog", NS).spec.node_name
    pressed = check(sim, "node_pressure_cleared", f"Node/{node}")
    assert not pressed.passed
    assert pressed.evidence == (
        f"Node/{node}: 1/1 node under pressure: {node}: MemoryPressure=True (KubeletHasInsufficientMemory), "
        "taint node.kubernetes.io/memory-pressure:NoSchedule"
    )
    assert not check(sim, "node_pressure_cleared", NS).passed
    # The hog was evicted; the kubelet clears the condition after its transition period.
    cleared = until_passed(sim, "node_pressure_cleared", f"Node/{node}")
    assert cleared.passed and cleared.evidence == f"Node/{node}: no pressure on 1 node"


# ---------------------------------------------------------------------------------------------- the gate
def test_the_gate_requires_them_for_what_was_changed(sim: Sim) -> None:
    g = gate(sim)
    labels = {"app": "reporter"}
    volume = {"name": "out", "persistentVolumeClaim": {"claimName": "orphan"}}
    pod = {"containers": [container("r", "sleep 3600")], "volumes": [volume]}
    sim.apps.create_namespaced_deployment(
        NS,
        {
            "metadata": {"name": "reporter"},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": pod}},
        },
    )
    claim = g.required_checks([f"{NS}/PersistentVolumeClaim/orphan"], [], [])
    assert claim[:2] == [
        CheckSpec("pvc_bound", f"{NS}/PersistentVolumeClaim/orphan"),
        CheckSpec("workload_available", f"{NS}/Deployment/reporter"),  # the workload that mounts it
    ]
    assert CheckSpec("no_pending_or_crashlooping", NS) not in claim
    ingress = g.required_checks([f"{NS}/Ingress/shop"], [], [])
    assert CheckSpec("ingress_backends_ready", f"{NS}/Ingress/shop") in ingress
    assert CheckSpec("workload_available", f"{NS}/Deployment/web") in ingress
    assert g.required_checks([f"{NS}/Job/crunch"], [], []) == [
        CheckSpec("job_complete", f"{NS}/Job/crunch"),
        CheckSpec("alerts_cleared", NS),
    ]
    # A playbook's node_pressure_cleared with nothing it could aim at checks every node.
    assert CheckSpec("node_pressure_cleared", NS) in g.required_checks([], ["node_pressure_cleared"], [])
