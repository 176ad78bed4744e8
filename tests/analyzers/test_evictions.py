from __future__ import annotations

from .builders import NS, obj, only, owned_by, pod, run

NODE = obj("Node", "w1", ns=None, status={"conditions": [{"type": "MemoryPressure", "status": "True"}]})


def _evicted(name: str, rs: str, container: str, using: str, request: str) -> dict:
    message = (
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. "
        f"Container {container} was using {using}, request is {request}, has larger consumption of memory. "
    )
    status = {"phase": "Failed", "reason": "Evicted", "message": message}
    return pod(
        name,
        spec={"nodeName": "w1", "containers": [{"name": container}]},
        status=status,
        ownerReferences=owned_by("ReplicaSet", rs),
    )


def _objects(pods: list[dict]) -> dict[str, list[dict]]:
    sets = [
        obj("ReplicaSet", rs, ownerReferences=owned_by("Deployment", d))
        for rs, d in (("hog-1", "hog"), ("web-1", "web"))
    ]
    return {
        "Pod": pods,
        "Node": [NODE],
        "ReplicaSet": sets,
        "Deployment": [obj("Deployment", "hog"), obj("Deployment", "web")],
    }


def test_the_workload_using_most_memory_above_its_requests_is_the_cause() -> None:
    pods = [
        _evicted("hog-1-a", "hog-1", "stress", "8388608Ki", "0"),
        _evicted("hog-1-b", "hog-1", "stress", "8388608Ki", "0"),
        _evicted("web-1-a", "web-1", "nginx", "10240Ki", "0"),
    ]
    findings = [f for f in run(_objects(pods), ["Deployment"]) if f.analyzer == "memory_evictions"]
    assert [f.object for f in findings] == [f"{NS}/Deployment/hog"]
    f = findings[0]
    assert f.confidence == "high" and "no memory request or limit" in f.cause
    assert f.explains == ["/Node/w1", f"{NS}/Deployment/web"]
    assert "largest use: container stress 8192Mi" in f.evidence and "node w1: MemoryPressure=True" in f.evidence
    assert (
        f.remedy[0]
        == f"kubectl -n {NS} scale deployment/hog --replicas=0   # stop the evictions: its pods are the largest memory users"
    )
    assert "--requests=memory=8192Mi --limits=memory=8192Mi" in f.remedy[1]


def test_a_single_eviction_is_the_kubelet_doing_its_job() -> None:
    findings = run(_objects([_evicted("hog-1-a", "hog-1", "stress", "8388608Ki", "0")]), ["Deployment"])
    assert not [f for f in findings if f.analyzer == "memory_evictions"]


def _cluster(node_memory: str, workers: int = 3) -> dict[str, list[dict]]:
    """The hog pinned to w1 (3 replicas), evicted twice; `workers` nodes of `node_memory` allocatable."""
    objects = _objects(
        [
            _evicted("hog-1-a", "hog-1", "stress", "8388608Ki", "0"),
            _evicted("hog-1-b", "hog-1", "stress", "8388608Ki", "0"),
            _evicted("web-1-a", "web-1", "nginx", "10240Ki", "0"),
        ]
    )
    template = {"spec": {"nodeSelector": {"kubernetes.io/hostname": "w1"}, "containers": [{"name": "stress"}]}}
    objects["Deployment"][0]["spec"] = {"replicas": 3, "template": template}
    objects["Node"] = [
        obj(
            "Node",
            f"w{i}",
            ns=None,
            labels={"kubernetes.io/hostname": f"w{i}"},
            spec={"taints": [{"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}] if i == 1 else []},
            status={
                "allocatable": {"memory": node_memory},
                "conditions": [{"type": "MemoryPressure", "status": str(i == 1)}],
            },
        )
        for i in range(1, workers + 1)
    ]
    return objects


def test_the_fix_requests_the_memory_used_drops_the_pin_and_deletes_the_evicted_pods() -> None:
    f = only(run(_cluster("16Gi"), ["Deployment"]), "Deployment", "hog")
    resources = {"requests": {"memory": "8192Mi"}, "limits": {"memory": "10240Mi"}}
    template = {
        "nodeSelector": {"kubernetes.io/hostname": None},
        "containers": [{"name": "stress", "resources": resources}],
    }
    assert f.fix is not None and f.fix["action"] == "patch"
    assert f.fix["args"] == {
        "kind": "Deployment",
        "name": "hog",
        "namespace": NS,
        "patch": {"spec": {"template": {"spec": template}}},
    }
    # One node of 16Gi holds one 8192Mi pod, so the pin to w1 goes; the memory-pressure taint is what the hog causes.
    assert "the nodes have room for its 3 replicas, once the pin to one node" in f.fix["rationale"]
    assert [(m["action"], m["args"]["name"]) for m in f.then] == [
        ("delete_failed_pods", "hog"),
        ("delete_failed_pods", "web"),
    ]


def test_no_fix_when_the_nodes_have_no_room_for_every_replica() -> None:
    f = only(run(_cluster("15Gi", workers=2), ["Deployment"]), "Deployment", "hog")
    assert f.fix is None and f.then == []  # each 15Gi node holds one of its three 8Gi pods: a person decides
    f = only(run(_cluster("6Gi"), ["Deployment"]), "Deployment", "hog")
    assert f.fix is None
