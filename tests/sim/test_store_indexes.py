"""The store's namespace and owner indexes answer as a scan of the whole cluster would, in the same order."""

from __future__ import annotations

from orchestrator.sim.clock import Clock
from orchestrator.sim.store import Store, owner_reference


def _store() -> Store:
    store = Store(Clock(start=0.0))
    for ns in ("a", "b", "c"):
        store.create(store.rtype("Namespace"), {"metadata": {"name": ns}})
    return store


def _pod(name: str, ns: str, owners: list[dict] | None = None) -> dict:
    meta: dict = {"name": name, "namespace": ns}
    if owners:
        meta["ownerReferences"] = [owner_reference(o) for o in owners]
    return {"metadata": meta, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


def _names(objs: list[dict]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


def test_namespaced_list_matches_a_filtered_scan_in_order() -> None:
    store = _store()
    pod = store.rtype("Pod")
    for i in range(30):
        store.create(pod, _pod(f"p{i}", "abc"[i % 3]))
    # An update keeps its place; a delete and re-create moves to the end, as in the bucket.
    store.mutate(pod, "a", "p3", lambda o: o["metadata"].setdefault("labels", {}).update(x="1"))
    store.delete(pod, "a", "p0")
    store.create(pod, _pod("p0", "a"))
    for ns in "abc":
        scan = [o for o in store.list(pod) if o["metadata"]["namespace"] == ns]
        assert _names(store.list(pod, ns)) == _names(scan)
    assert _names(store.list(pod, "a"))[0] == "p3"
    assert _names(store.list(pod, "a"))[-1] == "p0"
    assert store.list(pod, "nosuch") == []


def test_deleting_an_owner_collects_its_dependents_and_theirs() -> None:
    store = _store()
    cm_rt, pod_rt = store.rtype("ConfigMap"), store.rtype("Pod")
    owner = store.create(cm_rt, {"metadata": {"name": "owner", "namespace": "a"}})
    child = store.create(
        cm_rt, {"metadata": {"name": "child", "namespace": "a", "ownerReferences": [owner_reference(owner)]}}
    )
    store.create(pod_rt, _pod("grandchild", "a", [child]))
    store.create(pod_rt, _pod("stranger", "a"))
    store.create(pod_rt, _pod("child-of-both", "b", [owner, child]))
    store.delete(cm_rt, "a", "owner")
    assert _names(store.list(cm_rt)) == []
    assert _names(store.list(pod_rt)) == ["stranger"]


def test_orphaning_drops_the_reference_and_later_deletes_leave_the_orphan() -> None:
    store = _store()
    cm_rt, pod_rt = store.rtype("ConfigMap"), store.rtype("Pod")
    owner = store.create(cm_rt, {"metadata": {"name": "owner", "namespace": "a"}})
    store.create(pod_rt, _pod("kept", "a", [owner]))
    store.delete(cm_rt, "a", "owner", propagation="Orphan")
    assert store.get(pod_rt, "a", "kept")["metadata"]["ownerReferences"] == []
    again = store.create(cm_rt, {"metadata": {"name": "owner", "namespace": "a", "uid": owner["metadata"]["uid"]}})
    store.delete(cm_rt, "a", again["metadata"]["name"])
    assert _names(store.list(pod_rt)) == ["kept"]


def test_a_reference_removed_by_an_update_no_longer_collects() -> None:
    store = _store()
    cm_rt, pod_rt = store.rtype("ConfigMap"), store.rtype("Pod")
    owner = store.create(cm_rt, {"metadata": {"name": "owner", "namespace": "a"}})
    store.create(pod_rt, _pod("released", "a", [owner]))
    store.create(pod_rt, _pod("owned", "a", [owner]))
    store.mutate(pod_rt, "a", "released", lambda o: o["metadata"].update(ownerReferences=[]))
    store.delete(cm_rt, "a", "owner")
    assert _names(store.list(pod_rt)) == ["released"]


def test_deleting_a_namespace_removes_only_its_objects() -> None:
    store = _store()
    pod_rt = store.rtype("Pod")
    for i in range(6):
        store.create(pod_rt, _pod(f"p{i}", "ab"[i % 2]))
    store.delete(store.rtype("Namespace"), "", "a")
    assert _names(store.list(pod_rt)) == ["p1", "p3", "p5"]
    assert store.list(pod_rt, "a") == []
