from __future__ import annotations

from .builders import NS, obj, owned_by, pod, run

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
