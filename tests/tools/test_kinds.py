"""The read tools on the kinds beyond workloads, against a simulated cluster over HTTP with every object
created through the official client: Jobs that complete and fail, claims Bound and Pending, Ingresses
with a healthy and a broken backend, a CRD and its custom resources, RBAC with a refused ServiceAccount,
and resource usage from the metrics API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kubernetes import client

from orchestrator.tools import ActionPolicy, Toolbox, ToolContext
from tests.sim.helpers import Sim, served_plan
from tests.tools.kinds_cluster import CRD, GROUP, NS, build, container


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with served_plan({"name": "kinds", "applications": [], "faults": [], "warmup": 0}) as s:
        build(s)
        yield s


def tools(sim: Sim) -> Toolbox:
    return Toolbox(ToolContext(sim.api, namespaces=[NS], policy=ActionPolicy(mode="auto")))


async def call(sim: Sim, tool: str, **args: object) -> dict:
    result = await tools(sim).call(tool, args)
    assert result.ok, result.error
    return result.content


def items(content: dict) -> dict[str, dict]:
    return {i["name"]: i["summary"] for i in content["items"]}


# ---------------------------------------------------------------------------------------------- jobs
async def test_jobs_list_says_which_completed_and_which_failed(sim: Sim) -> None:
    jobs = items(await call(sim, "list_resources", kind="jobs", namespace=NS))
    assert jobs["done"] == {"status": "Complete", "completions": "1/1", "active": 0, "failed": 0}
    assert jobs["crunch"]["status"] == "Failed (BackoffLimitExceeded)"
    assert jobs["crunch"]["failed"] == 2 and jobs["crunch"]["completions"] == "0/1"
    assert jobs["crunch"]["message"] == "Job has reached the specified backoff limit"


async def test_describe_a_failed_job_shows_its_pods_exit_codes(sim: Sim) -> None:
    d = await call(sim, "describe", kind="Job", name="crunch", namespace=NS)
    assert d["object"] == f"{NS}/Job/crunch"
    assert d["spec"]["backoffLimit"] == 1
    assert d["spec"]["template"]["containers"][0]["command"] == ["sh", "-c", "echo cannot open input; exit 3"]
    assert d["status"]["state"] == "Failed (BackoffLimitExceeded)"
    pods = d["status"]["pods"]
    assert len(pods) == 2 and all(p["phase"] == "Failed" for p in pods)
    assert {e for p in pods for e in p["exits"]} == {"main: Error (exit 3)"}
    assert any(e["reason"] == "BackoffLimitExceeded" for e in d["events"])


# ---------------------------------------------------------------------------------------------- storage
async def test_describe_a_pending_claim_names_the_missing_storage_class(sim: Sim) -> None:
    d = await call(sim, "describe", kind="pvc", name="orphan")
    assert d["status"]["phase"] == "Pending"
    assert d["status"]["storageClass"] == "StorageClass fast-ssd not found"
    assert d["status"]["defaultStorageClasses"] == ["standard"]
    assert any("fast-ssd" in e["message"] for e in d["events"] if e["type"] == "Warning")


async def test_a_bound_claim_shows_its_volume_class_and_pod(sim: Sim) -> None:
    d = await call(sim, "describe", kind="PersistentVolumeClaim", name="data")
    assert d["status"]["phase"] == "Bound" and d["status"]["mountedBy"] == ["db"]
    # Admission gave the claim the default class, as the API server's DefaultStorageClass plugin does.
    assert d["spec"]["storageClassName"] == "standard" and d["status"]["storageClass"]["default"] is True
    volume = d["spec"]["volumeName"]
    pvs = items(await call(sim, "list_resources", kind="pv"))
    assert pvs[volume]["claim"] == f"{NS}/data" and pvs[volume]["phase"] == "Bound"
    classes = items(await call(sim, "list_resources", kind="sc"))
    assert classes["standard"]["default"] is True


# ---------------------------------------------------------------------------------------------- ingress
async def test_ingresses_list_their_backend_problems(sim: Sim) -> None:
    ings = items(await call(sim, "list_resources", kind="ing", namespace=NS))
    assert "problems" not in ings["shop"] and ings["shop"]["backends"] == ["shop.example.com/ -> web:80"]
    assert ings["broken"]["problems"] == [
        "shop.example.com/gone: Service gone not found",
        "shop.example.com/web: port 8080 is not a port of Service web (ports: http)",
    ]


async def test_describe_an_ingress_resolves_each_backend_to_ready_endpoints(sim: Sim) -> None:
    d = await call(sim, "describe", kind="Ingress", name="shop")
    assert d["status"]["class"] == "nginx" and "class_problem" not in d["status"]
    assert d["status"]["backends"] == [{"path": "shop.example.com/", "service": "web:80", "ready_endpoints": 2}]
    assert d["status"]["address"]  # the controller of the class published one


# ---------------------------------------------------------------------------------------------- custom resources
@pytest.mark.parametrize("kind", ["Widget", "widgets", "wd", "widgets.example.com", "example.com/v1/Widget"])
async def test_custom_resources_are_listed_by_any_spelling(sim: Sim, kind: str) -> None:
    content = await call(sim, "list_resources", kind=kind, namespace=NS)
    assert content["kind"] == "Widget"
    assert items(content) == {"w1": {"phase": "Degraded", "conditions": ["Ready=False (NoBackend)"]}}


async def test_describe_a_custom_resource_and_its_definition(sim: Sim) -> None:
    d = await call(sim, "describe", kind="widget.v1.example.com", name="w1", namespace=NS)
    assert d["object"] == f"{NS}/Widget/w1"
    assert d["status"]["phase"] == "Degraded" and d["status"]["conditions"][0]["reason"] == "NoBackend"
    crds = items(await call(sim, "list_resources", kind="crd"))
    assert crds["widgets.example.com"] == {
        "kind": "Widget",
        "group": GROUP,
        "plural": "widgets",
        "scope": "Namespaced",
        "versions": ["v1"],
        "established": True,
    }


async def test_a_kind_defined_after_the_first_lookup_is_found(sim: Sim) -> None:
    box = tools(sim)
    missing = await box.call("list_resources", {"kind": "gadgets", "namespace": NS})
    assert not missing.ok
    assert missing.error == "unknown kind 'gadgets': the cluster serves no resource by that name"
    gadget = json.loads(json.dumps(CRD).replace("widget", "gadget").replace("Widget", "Gadget").replace('"wd"', '"gd"'))
    client.ApiextensionsV1Api(sim.api).create_custom_resource_definition(gadget)
    found = await box.call("list_resources", {"kind": "gadgets", "namespace": NS})
    assert found.ok and found.content == {"kind": "Gadget", "items": [], "count": 0}


async def test_a_foreign_group_is_not_taken_for_a_built_in_kind(sim: Sim) -> None:
    r = await tools(sim).call("list_resources", {"kind": "jobs.batch.volcano.sh"})
    assert not r.ok and r.error == "unknown kind 'jobs.batch.volcano.sh': the cluster serves no resource by that name"


# ---------------------------------------------------------------------------------------------- rbac
async def test_roles_and_bindings_read_as_rules_and_subjects(sim: Sim) -> None:
    assert items(await call(sim, "list_resources", kind="Role", namespace=NS)) == {
        "pod-reader": {"rules": ["get,list pods"]}
    }
    bindings = items(await call(sim, "list_resources", kind="rolebindings", namespace=NS))
    assert bindings["read-pods"] == {"role": "Role/pod-reader", "subjects": [f"ServiceAccount {NS}/reader"]}
    admin = await call(sim, "describe", kind="ClusterRoleBinding", name="cluster-admin")
    assert admin["status"] == {"role_exists": True, "rules": ["* * (any group)", "* *"]}


async def test_describe_a_service_account_shows_what_it_is_granted(sim: Sim) -> None:
    d = await call(sim, "describe", kind="sa", name="reader")
    assert d["status"]["granted"] == [
        {"binding": "RoleBinding/read-pods", "role": "Role/pod-reader", "rules": ["get,list pods"]}
    ]
    assert "denials" not in d["status"]


async def test_a_refusal_in_its_pods_logs_is_asked_again_and_still_stands(sim: Sim) -> None:
    d = await call(sim, "describe", kind="ServiceAccount", name="lister")
    assert d["status"]["pods"] == ["lister"] and "granted" not in d["status"]
    assert d["status"]["denials"] == [
        {"request": f"list deployments.apps in {NS}", "seen": "log lister/app", "allowed_now": False}
    ]
    # Grant it, and the same question is answered yes.
    rbac = client.RbacAuthorizationV1Api(sim.api)
    rbac.create_namespaced_role_binding(
        NS,
        {
            "metadata": {"name": "lister-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "lister", "namespace": NS}],
        },
    )
    try:
        d = await call(sim, "describe", kind="ServiceAccount", name="lister")
        assert d["status"]["denials"][0]["allowed_now"] is True
        assert d["status"]["granted"][0]["binding"] == "RoleBinding/lister-view"
    finally:
        rbac.delete_namespaced_role_binding("lister-view", NS)


# ---------------------------------------------------------------------------------------------- metrics
async def test_pod_metrics_set_use_against_limits(sim: Sim) -> None:
    pods = items(await call(sim, "list_resources", kind="podmetrics", namespace=NS))
    web = [s for name, s in pods.items() if name.startswith("web-")]
    assert len(web) == 2
    for s in web:
        assert s["memory_of_limit"].endswith("% of 128Mi (web)") and s["cpu_of_limit"].endswith("% of 500m (web)")
        assert s["memory_mi"] >= 0 and s["cpu_m"] >= 0
    assert "memory_of_limit" not in pods["db"]  # no limit, no share of one


async def test_node_metrics_set_use_against_allocatable(sim: Sim) -> None:
    nodes = items(await call(sim, "list_resources", kind="nodemetrics"))
    assert len(nodes) >= 3
    for s in nodes.values():
        assert 0 < s["memory_of_allocatable"] < 100 and s["cpu_m"] > 0
    name = sorted(nodes)[0]
    d = await call(sim, "describe", kind="NodeMetrics", name=name)
    assert d["status"]["memory_mi"] == nodes[name]["memory_mi"] and d["status"]["window"]


# ---------------------------------------------------------------------------------------------- logs
async def test_logs_of_the_previous_instance_on_request(sim: Sim) -> None:
    script = "echo run at $(date +%s); echo about to fail; exit 1"
    sim.core.create_namespaced_pod(
        NS, {"metadata": {"name": "flaky"}, "spec": {"containers": [container("c", script)]}}
    )
    sim.wait_for(
        lambda: (
            (
                json.loads(sim.core.read_namespaced_pod("flaky", NS, _preload_content=False).data)["status"].get(
                    "containerStatuses"
                )
                or [{}]
            )[0].get("restartCount", 0)
            >= 1
        ),
        timeout=300,
        step=10,
    )
    r = await call(sim, "get_logs", namespace=NS, pod="flaky", previous=True)
    assert r["previous"] is True and r["lines"][-1] == "about to fail"
