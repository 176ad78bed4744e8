from __future__ import annotations

import pytest

from .builders import NS, event, obj, only, owned_by, pod, run

WAITING = {
    "image": (
        {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "app:nope"'}},
        {},
        "cannot be pulled",
        "ImagePullBackOff",
    ),
    "config": (
        {"waiting": {"reason": "CreateContainerConfigError", "message": 'configmap "settings" not found'}},
        {},
        "configuration that does not exist",
        'configmap "settings" not found',
    ),
    "oom": (
        {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
        {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
        "exceeding its memory limit of 64Mi",
        "reason=OOMKilled exitCode=137",
    ),
    "missing command": (
        {"waiting": {"reason": "CrashLoopBackOff"}},
        {"terminated": {"reason": "StartError", "exitCode": 128, "message": 'exec: "nope": executable file not found'}},
        "missing from the image",
        "exitCode=128",
    ),
    "exits": (
        {"waiting": {"reason": "CrashLoopBackOff"}},
        {"terminated": {"reason": "Error", "exitCode": 2}},
        "keeps exiting with code 2",
        "restartCount=3",
    ),
}


@pytest.mark.parametrize("case", list(WAITING))
def test_broken_containers_name_the_pod_its_owner_and_the_cluster_words(case: str) -> None:
    state, last, cause, quoted = WAITING[case]
    spec = {"containers": [{"name": "app", "image": "app:nope", "resources": {"limits": {"memory": "64Mi"}}}]}
    p = pod(
        "web-7d9-abc",
        [{"name": "app", "state": state, "lastState": last, "restartCount": 3, "ready": False}],
        spec=spec,
        ownerReferences=owned_by("ReplicaSet", "web-7d9"),
    )
    rs = obj("ReplicaSet", "web-7d9", ownerReferences=owned_by("Deployment", "web"))
    dep = obj("Deployment", "web")
    logs = {(NS, "web-7d9-abc", "app"): "starting\nfatal: out of memory\n"}
    f = only(
        run({"Pod": [p], "ReplicaSet": [rs], "Deployment": [dep], "Event": []}, ["Pod"], logs), "Pod", "web-7d9-abc"
    )
    assert f.object == f"{NS}/Pod/web-7d9-abc"
    assert f.owner == f"{NS}/Deployment/web"
    assert cause in f.cause
    assert any(quoted in line for line in f.evidence)
    assert any(line.endswith("fatal: out of memory") for line in f.evidence)  # the crash's log lines
    assert f.confidence == "high"


def test_unschedulable_pod_quotes_the_scheduler() -> None:
    message = "0/3 nodes are available: 3 node(s) were unschedulable."
    p = pod(
        "solo",
        status={
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}],
        },
    )
    ev = event("Pod", "solo", "FailedScheduling", message)
    f = only(run({"Pod": [p], "Event": [ev]}, ["Pod"]), "Pod", "solo")
    assert f.owner is None  # a bare pod
    assert "cordoned" in f.cause
    assert any(message in line for line in f.evidence)
    assert any(line.startswith("event FailedScheduling") for line in f.evidence)


def _pending(name: str, selector: dict, **rest: object) -> dict:
    message = "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
    spec = {"containers": [{"name": "app", "image": "app:1"}], "nodeSelector": selector}
    return pod(name, spec=spec, status={"phase": "Pending", "conditions": [cond]}, **rest)


NODES = [obj("Node", n, ns=None, labels={"kubernetes.io/os": "linux", "pool": p}) for n, p in (("a", "x"), ("b", "y"))]


def test_a_node_selector_no_node_carries_is_dropped() -> None:
    bare = _pending("solo", {"kubernetes.io/os": "linux", "disk": "ssd", "pool": "x"})
    f = only(run({"Pod": [bare], "Node": NODES}, ["Pod"]), "Pod", "solo")
    assert f.cause == "no node matches the pod's nodeSelector or node affinity" and f.confidence == "high"
    assert f.fix is not None and f.fix["action"] == "patch" and "disk=ssd" in f.fix["rationale"]
    patch = {"spec": {"nodeSelector": {"disk": None}}}
    assert f.fix["args"] == {"kind": "Pod", "name": "solo", "namespace": NS, "patch": patch, "patch_type": "merge"}
    rs = obj("ReplicaSet", "web-1", ownerReferences=owned_by("Deployment", "web"))
    owned = _pending("web-1-a", {"pool": "z"}, ownerReferences=owned_by("ReplicaSet", "web-1"))
    f = only(
        run({"Pod": [owned], "Node": NODES, "ReplicaSet": [rs], "Deployment": [obj("Deployment", "web")]}, ["Pod"]),
        "Pod",
        "web-1-a",
    )
    assert f.fix is not None and f.fix["args"]["kind"] == "Deployment" and f.fix["args"]["name"] == "web"
    assert f.fix["args"]["patch"] == {"spec": {"template": {"spec": {"nodeSelector": {"pool": None}}}}}


def test_a_pressure_taint_on_the_only_node_a_pod_may_use_speaks_before_its_selector() -> None:
    message = (
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "1 node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }, 2 node(s) didn't match Pod's "
        "node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."
    )
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
    f = only(run({"Pod": [pod("solo", status={"phase": "Pending", "conditions": [cond]})]}, ["Pod"]), "Pod", "solo")
    assert (
        f.cause
        == "the nodes the pod may run on carry the taint node.kubernetes.io/memory-pressure, which it does not tolerate"
    )


def test_no_selector_change_without_nodes_or_when_some_node_matches() -> None:
    assert only(run({"Pod": [_pending("solo", {"disk": "ssd"})]}, ["Pod"]), "Pod", "solo").fix is None
    matched = _pending("solo", {"pool": "y"})  # a node has it: something else keeps the pod off
    assert only(run({"Pod": [matched], "Node": NODES}, ["Pod"]), "Pod", "solo").fix is None


def test_stuck_init_container() -> None:
    p = pod(
        "mail",
        spec={"initContainers": [{"name": "wait"}], "containers": [{"name": "app"}]},
        status={
            "phase": "Pending",
            "initContainerStatuses": [{"name": "wait", "state": {"running": {"startedAt": "2026-01-01T11:50:00Z"}}}],
        },
    )
    f = only(run({"Pod": [p], "Event": [event("Pod", "other", "X", "y")]}, ["Pod"]), "Pod", "mail")
    assert "init container wait never completes" in f.cause
    assert f.confidence == "high"  # ten minutes


def test_healthy_and_completed_pods_are_quiet() -> None:
    ok = pod("ok", [{"name": "app", "state": {"running": {}}, "ready": True, "restartCount": 0}])
    done = pod("done", status={"phase": "Succeeded"})
    assert run({"Pod": [ok, done], "Event": []}, ["Pod"]) == []


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        (
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            "1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector.",
            "cordoned",
        ),
        (
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            "3 node(s) didn't match pod anti-affinity rules. preemption: 0/4 nodes are available.",
            "anti-affinity rules exclude every node",
        ),
        ("0/3 nodes are available: 3 Insufficient memory.", "enough free resources"),
        (
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            "3 node(s) didn't match Pod's node affinity/selector.",
            "nodeSelector or node affinity",
        ),
    ],
)
def test_the_scheduling_reason_that_matters(message: str, cause: str) -> None:
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
    p = pod("p", status={"phase": "Pending", "conditions": [cond]})
    assert cause in only(run({"Pod": [p], "Event": []}, ["Pod"]), "Pod", "p").cause


def test_probe_on_a_port_the_container_does_not_serve() -> None:
    container = {
        "name": "app",
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 40}},
    }
    p = pod("web", [{"name": "app", "ready": False, "state": {"running": {}}}], spec={"containers": [container]})
    ev = event(
        "Pod", "web", "Unhealthy", 'Readiness probe failed: Get "http://10.0.0.1:40/ready": connection refused', count=9
    )
    f = only(run({"Pod": [p], "Event": [ev]}, ["Pod"]), "Pod", "web")
    assert f.confidence == "high" and "readinessProbe of container app checks port 40" in f.cause
    assert f.field == "spec.containers[app].readinessProbe.httpGet.port"
    assert any("connection refused" in line for line in f.evidence)


def test_failing_probe_on_a_served_port() -> None:
    container = {"name": "app", "ports": [{"containerPort": 8080}], "livenessProbe": {"httpGet": {"port": 8080}}}
    p = pod("web", [{"name": "app", "ready": False, "state": {"running": {}}}], spec={"containers": [container]})
    ev = event("Pod", "web", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=4)
    f = only(run({"Pod": [p], "Event": [ev]}, ["Pod"]), "Pod", "web")
    assert f.confidence == "medium" and "fails its probe" in f.cause and "probe failed 4 time(s)" in f.evidence[0]
