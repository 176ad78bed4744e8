"""Writes that skip a copy store what a copying write would, and never change a stored version in place."""

from __future__ import annotations

import json

import pytest

from orchestrator.sim.builtin import resolve_scenario
from orchestrator.sim.clock import Clock
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.scenario import load_scenario
from orchestrator.sim.store import Store


def _store() -> Store:
    store = Store(Clock(start=0.0), seed=7)
    store.create(store.rtype("Namespace"), {"metadata": {"name": "a"}})
    store.create(
        store.rtype("Pod"),
        {
            "metadata": {"name": "p", "namespace": "a", "labels": {"app": "x"}, "managedFields": [{"manager": "m"}]},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": "Pending"},
        },
    )
    return store


def _log(store: Store) -> list[tuple[int, str, str]]:
    events = store.changes_since(0)
    assert events is not None  # the log still reaches back to the first write
    return [(e.rv, e.type, json.dumps(e.obj)) for e in events]


def test_a_status_mutate_keeps_only_status_and_managed_fields_of_what_fn_changed() -> None:
    store = _store()
    pod = store.rtype("Pod")
    before = json.loads(json.dumps(store.get(pod, "a", "p")))

    def everything(p: dict) -> None:
        p["spec"]["containers"][0]["image"] = "nginx"
        p["metadata"]["labels"]["app"] = "y"
        p["metadata"]["managedFields"] = [{"manager": "kubelet"}]
        p["status"] = {"phase": "Running"}

    new = store.mutate(pod, "a", "p", everything, status=True)
    assert new["spec"] == before["spec"]
    assert new["metadata"]["labels"] == {"app": "x"}
    assert new["metadata"]["managedFields"] == [{"manager": "kubelet"}]
    assert new["status"] == {"phase": "Running"}
    assert int(new["metadata"]["resourceVersion"]) == int(before["metadata"]["resourceVersion"]) + 1
    assert [e.obj["metadata"]["name"] for e in store.labelled(pod, "a", {"app": "x"})] == ["p"]


def test_no_op_mutates_and_status_writes_write_nothing() -> None:
    store = _store()
    pod = store.rtype("Pod")
    stored = store.get(pod, "a", "p")
    rv, log = store.resource_version, _log(store)
    assert store.mutate(pod, "a", "p", lambda p: None) is stored
    assert store.mutate(pod, "a", "p", lambda p: None, fresh=True) is stored
    assert store.mutate(pod, "a", "p", lambda p: p["spec"].update(nodeName="n"), status=True) is stored
    assert store.write_status(pod, "a", "p", {"phase": "Pending"}) is stored
    assert store.write_status(pod, "a", "p", {"phase": "Pending"}, owned=True) is stored
    assert (store.resource_version, _log(store)) == (rv, log)


def test_write_status_stores_what_a_status_mutate_stores() -> None:
    by_mutate, by_write = _store(), _store()
    pod = by_mutate.rtype("Pod")
    for phase in ("Running", "Failed"):
        status = {"phase": phase, "conditions": [{"type": "Ready", "status": "False"}]}
        by_mutate.mutate(pod, "a", "p", lambda p, s=status: p.update(status=s), status=True)
        by_write.write_status(pod, "a", "p", json.loads(json.dumps(status)), owned=True)
    assert _log(by_mutate) == _log(by_write)
    assert json.dumps(by_mutate.get(pod, "a", "p")) == json.dumps(by_write.get(pod, "a", "p"))


def test_a_status_write_leaves_the_previous_version_and_the_callers_dict_as_they_were() -> None:
    store = _store()
    pod = store.rtype("Pod")
    previous = store.get(pod, "a", "p")
    frozen = json.dumps(previous)
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    new = store.write_status(pod, "a", "p", status)
    status["conditions"][0]["status"] = "False"  # the caller's dict was copied: the store does not see this
    assert new["status"]["conditions"][0]["status"] == "True"
    assert json.dumps(previous) == frozen
    assert previous["metadata"] is not new["metadata"]
    assert new["spec"] == previous["spec"]


def test_a_mutate_that_is_not_fresh_copies_what_fn_put_in() -> None:
    store = _store()
    pod = store.rtype("Pod")
    shared = {"team": "blue"}
    store.mutate(pod, "a", "p", lambda p: p["metadata"].update(annotations=shared))
    shared["team"] = "red"
    assert store.get(pod, "a", "p")["metadata"]["annotations"] == {"team": "blue"}


def test_label_and_owner_indexes_follow_updates_that_keep_or_change_them() -> None:
    store = _store()
    pod, cm = store.rtype("Pod"), store.rtype("ConfigMap")
    owner = store.create(cm, {"metadata": {"name": "o", "namespace": "a"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": owner["metadata"]["uid"]}
    store.mutate(pod, "a", "p", lambda p: p["metadata"].update(ownerReferences=[ref]))
    store.write_status(pod, "a", "p", {"phase": "Running"})  # keeps labels and owners
    assert [p["metadata"]["name"] for p in store.dependents(pod, owner["metadata"]["uid"])] == ["p"]
    assert [e.obj["metadata"]["name"] for e in store.labelled(pod, "a", {"app": "x"})] == ["p"]
    store.mutate(pod, "a", "p", lambda p: p["metadata"].update(labels={"app": "z"}, ownerReferences=[]))
    assert store.labelled(pod, "a", {"app": "x"}) == []
    assert [e.obj["metadata"]["name"] for e in store.labelled(pod, "a", {"app": "z"})] == ["p"]
    assert store.dependents(pod, owner["metadata"]["uid"]) == []


def test_admission_hands_back_an_object_apart_from_the_callers() -> None:
    cluster = Cluster()
    pod_rt = cluster.rt("Pod")
    pod = {
        "metadata": {"name": "p", "namespace": "default", "labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1", "env": [{"name": "A", "value": "1"}]}]},
    }
    sent = json.dumps(pod)
    for op in ("CREATE", "DELETE"):
        admitted = cluster.admit(op, pod_rt, pod, None, "default")
        admitted["metadata"]["labels"]["app"] = "changed"
        admitted["spec"]["containers"][0]["env"][0]["value"] = "changed"
        assert json.dumps(pod) == sent


def _run_keeping_the_log(cluster: Cluster, seconds: float) -> list[tuple[int, str, str]]:
    """Advance step by step, keeping each logged version as it was right after the step that wrote it."""
    seen = _log(cluster.store)
    for _ in range(int(seconds // 5)):
        cluster.step(5.0)
        seen += [(e.rv, e.type, json.dumps(e.obj)) for e in cluster.store.changes_since(seen[-1][0]) or []]
    return seen


@pytest.mark.parametrize("scenario", ["crash", "oom", "scheduling", "priority-preemption", "missing-pvc"])
def test_stored_versions_never_change_as_a_scenario_runs(scenario: str) -> None:
    """Versions share their unchanged parts: every one the watch log holds stays as it was written, through
    restarts, OOM kills, failed scheduling, preemption and volume binding."""
    cluster = Cluster(Clock(start=1_700_000_000.0))
    templates = {}
    load_scenario(cluster, resolve_scenario(scenario))
    for rs in cluster.store.list(cluster.rt("ReplicaSet")):
        templates[rs["metadata"]["name"]] = json.dumps(rs["spec"]["template"])
    seen = _run_keeping_the_log(cluster, 300)
    assert _log(cluster.store) == seen
    for rs in cluster.store.list(cluster.rt("ReplicaSet")):
        name = rs["metadata"]["name"]
        assert json.dumps(rs["spec"]["template"]) == templates.get(name, json.dumps(rs["spec"]["template"]))


def test_a_crash_loop_writes_terminated_states_over_each_other() -> None:
    cluster = Cluster(Clock(start=1_700_000_000.0))
    load_scenario(cluster, resolve_scenario("crash"))
    assert _run_keeping_the_log(cluster, 300) == _log(cluster.store)
    restarts = [
        s["restartCount"]
        for p in cluster.store.list(cluster.rt("Pod"))
        for s in (p.get("status") or {}).get("containerStatuses") or []
    ]
    assert max(restarts) > 1


def test_binding_a_pod_that_failed_to_schedule_leaves_the_failed_version_as_it_was() -> None:
    cluster = Cluster(Clock(start=1_700_000_000.0))
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "waits", "namespace": "default"},
            "spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c", "image": "nginx:1.25"}]},
        }
    )
    seen = _run_keeping_the_log(cluster, 30)
    pod_rt, node_rt = cluster.rt("Pod"), cluster.rt("Node")
    failed = cluster.store.get(pod_rt, "default", "waits")
    assert failed["status"]["conditions"][0]["status"] == "False"
    worker = next(n for n in cluster.store.list(node_rt) if "control-plane" not in n["metadata"]["name"])
    cluster.store.mutate(node_rt, "", worker["metadata"]["name"], lambda n: n["metadata"]["labels"].update(disk="ssd"))
    seen += _run_keeping_the_log(cluster, 30)[len(seen) :]
    bound = cluster.store.get(pod_rt, "default", "waits")
    assert bound["spec"]["nodeName"] == worker["metadata"]["name"]
    assert _log(cluster.store) == seen
