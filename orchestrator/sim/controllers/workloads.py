"""Workload controllers: Deployment -> ReplicaSet -> Pod, StatefulSet and DaemonSet.

They follow the real controllers closely enough that kubectl's `rollout undo|restart|history|status`
work unchanged: ReplicaSets carry `pod-template-hash` and `deployment.kubernetes.io/revision`, a
rollback re-uses the old ReplicaSet and gives it the next revision, and rolling updates respect
maxSurge/maxUnavailable (so a bad rollout of a single replica with maxSurge 0 takes the service down,
and with the default 25 % it leaves the old pod serving).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
from typing import TYPE_CHECKING

from ..clock import rfc3339
from ..errors import ApiError
from ..objects import owned_by, pod_active, pod_ready
from ..store import clone, owner_reference
from .feed import ChangeFeed

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..cluster import Cluster
    from ..resources import ResourceType
    from ..store import Entry, Store, WatchEvent

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
STS_HASH_LABEL = "controller-revision-hash"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
CREATE_RETRY_SECONDS = 10.0


def template_hash(template: dict) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in digest[:10])


def _without_hash(template: dict, label: str = HASH_LABEL) -> dict:
    """The template as its Deployment wrote it: the ReplicaSet's copy minus the hash label.

    Shallow copies only: this runs for every ReplicaSet on every reconcile, and nothing here is mutated.
    """
    labels = (template.get("metadata") or {}).get("labels")
    if not labels or label not in labels:
        return template
    return {**template, "metadata": {**template["metadata"], "labels": {k: v for k, v in labels.items() if k != label}}}


def resolve_int_or_percent(value: int | str | None, total: int, round_up: bool, default: str) -> int:
    v = default if value is None else value
    if isinstance(v, str) and v.endswith("%"):
        frac = float(v[:-1]) / 100 * total
        return math.ceil(frac) if round_up else math.floor(frac)
    return int(v)


def _set_condition(conditions: list[dict], ctype: str, status: str, reason: str, message: str, now: str) -> list[dict]:
    """Replace a condition, keeping its transition time when the status did not change."""
    out = []
    found = False
    for c in conditions:
        if c.get("type") == ctype:
            found = True
            same = c.get("status") == status and c.get("reason") == reason and c.get("message") == message
            if same:
                out.append(c)
            else:
                transition = c.get("lastTransitionTime") if c.get("status") == status else now
                out.append(
                    {
                        "type": ctype,
                        "status": status,
                        "lastUpdateTime": now,
                        "lastTransitionTime": transition,
                        "reason": reason,
                        "message": message,
                    }
                )
        else:
            out.append(c)
    if not found:
        out.append(
            {
                "type": ctype,
                "status": status,
                "lastUpdateTime": now,
                "lastTransitionTime": now,
                "reason": reason,
                "message": message,
            }
        )
    return out


def new_pod_from_template(
    template: dict, owner: dict, name: str | None = None, extra_labels: dict | None = None, *, copy_spec: bool = True
) -> dict:
    """A pod for `owner` from its template. `copy_spec=False` shares the template's spec: only for a pod
    handed straight to admission, which copies it before anything changes it."""
    tmeta = template.get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    labels.update(extra_labels or {})
    meta: dict = {
        "namespace": owner["metadata"]["namespace"],
        "labels": labels,
        "ownerReferences": [owner_reference(owner)],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = owner["metadata"]["name"] + "-"
    spec = template.get("spec") or {}
    if copy_spec:
        spec = clone(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


class _PodCreator:
    """Creates pods through admission, remembering failures so a rejected create is retried with back-off."""

    def __init__(self) -> None:
        self._retry_at: dict[str, float] = {}
        self._owner_of: dict[str, tuple[str, str]] = {}  # uid -> (namespace, name) of an owner that waits

    def due(self, now: float) -> dict[str, tuple[str, str]]:
        """The owners whose back-off has ended by `now`: the only decisions the time alone can change."""
        return {uid: self._owner_of[uid] for uid, at in self._retry_at.items() if at <= now}

    def create(self, cluster: Cluster, owner: dict, pod: dict) -> bool:
        uid = owner["metadata"]["uid"]
        now = cluster.now()
        if self._retry_at.get(uid, 0) > now:
            return False
        pod_rt = cluster.rt("Pod")
        try:
            admitted = cluster.admit("CREATE", pod_rt, pod, None, owner["metadata"]["namespace"])
            created = cluster.store.create(pod_rt, admitted, owned=True)  # admission built it afresh
        except ApiError as err:
            self._retry_at[uid] = now + CREATE_RETRY_SECONDS
            self._owner_of[uid] = (owner["metadata"]["namespace"], owner["metadata"]["name"])
            name = pod["metadata"].get("name") or pod["metadata"]["generateName"] + cluster.store.random_suffix()
            message = err.message
            if message.startswith("pods ") is False:
                message = f'pods "{name}" is forbidden: {message}'
            cluster.record_event(owner, "Warning", "FailedCreate", f"Error creating: {message}", _component(owner))
            return False
        self._retry_at.pop(uid, None)
        self._owner_of.pop(uid, None)
        cluster.record_event(
            owner, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}", _component(owner)
        )
        return True


def _component(owner: dict) -> str:
    return {
        "ReplicaSet": "replicaset-controller",
        "StatefulSet": "statefulset-controller",
        "DaemonSet": "daemonset-controller",
    }.get(owner["kind"], "controller-manager")


def _delete_pod(cluster: Cluster, owner: dict, pod: dict) -> None:
    meta = pod["metadata"]
    if cluster.store.find(cluster.rt("Pod"), meta["namespace"], meta["name"]) is None:
        return
    cluster.store.delete(cluster.rt("Pod"), meta["namespace"], meta["name"])
    cluster.record_event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}", _component(owner))


def _pod_delete_rank(pod: dict) -> tuple:
    """Pods to remove first when scaling down: unscheduled, pending, not ready, then the newest."""
    status = pod.get("status") or {}
    return (
        bool(pod.get("spec", {}).get("nodeName")),
        status.get("phase") == "Running",
        pod_ready(pod),
        -_ts(pod["metadata"].get("creationTimestamp")),
    )


def _ts(s: str | None) -> float:
    from ..clock import parse_rfc3339

    return parse_rfc3339(s) if s else 0.0


def _controllers(obj: dict, kind: str | None) -> dict[str, tuple[str, str]]:
    """The owners an object names, uid -> (namespace, name): its controllers of one kind, or any owner
    when kind is None. Owners share their dependents' namespace."""
    ns = obj["metadata"].get("namespace", "")
    return {
        ref["uid"]: (ns, ref.get("name", ""))
        for ref in obj["metadata"].get("ownerReferences") or ()
        if ref.get("uid") and (kind is None or (ref.get("controller") and ref.get("kind") == kind))
    }


class _OwnerIndex:
    """Object -> owners as of the last write seen, so a write that drops an owner reference still
    reaches the owner it left. `kind` keeps only controller references of that kind (None: every owner)."""

    def __init__(self, kind: str | None) -> None:
        self._kind = kind
        self._owners: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}

    def rebuild(self, entries: Iterable[Entry]) -> None:
        self._owners = {}
        for entry in entries:
            meta = entry.obj["metadata"]
            owners = _controllers(entry.obj, self._kind)
            if owners:
                self._owners[(meta.get("namespace", ""), meta["name"])] = owners

    def follow(self, written: list[WatchEvent] | None, entries: Iterable[Entry], rt: ResourceType) -> None:
        """Catch up with the writes to `rt` (a rebuild from `entries` when they are unknown)."""
        if written is None:
            self.rebuild(entries)
            return
        for event in written:
            if event.rtype.key == rt.key:
                self.update(event)

    def update(self, event: WatchEvent) -> dict[str, tuple[str, str]]:
        """The owners the written object had before and has now."""
        meta = event.obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        before = self._owners.pop(key, {})
        now = _controllers(event.obj, self._kind)
        if now and event.type != "DELETED":
            self._owners[key] = now
        return {**before, **now}


def _written_owners(store: Store, rt: ResourceType, dirty: dict[str, tuple[str, str]]) -> list[dict]:
    """The objects of one kind among `dirty` (uid -> namespace, name) that still exist, in list order."""
    found = []
    for uid, (ns, name) in dirty.items():
        entry = store.entry(rt, ns, name)
        if entry is None or entry.obj["metadata"]["uid"] != uid:
            # A reference may name its owner wrongly; the uid is what counts.
            entry = next((e for e in store.entries(rt, ns) if e.obj["metadata"]["uid"] == uid), None)
        if entry is not None:
            found.append(entry)
    return [e.obj for e in sorted(found, key=lambda e: e.seq)]


# ---------------------------------------------------------------------------------------------------
class ReplicaSetController:
    """Syncs the ReplicaSets whose object or pods were written since the last pass, and those whose pod
    creation back-off has ended: the time decides nothing else here (readiness and phases reach it as
    pod writes), so a ReplicaSet nothing touched comes out the same at any time."""

    def __init__(self) -> None:
        self._creator = _PodCreator()
        self._feed = ChangeFeed(clocked=False)
        self._owners = _OwnerIndex("ReplicaSet")  # pod -> the ReplicaSet controlling it, as last seen

    def reconcile(self, cluster: Cluster) -> None:
        store = cluster.store
        rs_rt, pod_rt = cluster.rt("ReplicaSet"), cluster.rt("Pod")
        changes = self._feed.take(cluster)
        if changes is None:
            self._owners.follow(self._feed.written, store.entries(pod_rt), pod_rt)
            self._full(cluster)
            return
        dirty: dict[str, tuple[str, str]] = {}
        for event in changes:
            if event.rtype.key == rs_rt.key:
                meta = event.obj["metadata"]
                dirty[meta["uid"]] = (meta["namespace"], meta["name"])
            elif event.rtype.key == pod_rt.key:
                dirty.update(self._owners.update(event))
        dirty.update(self._creator.due(cluster.now()))
        for rs in _written_owners(store, rs_rt, dirty):
            if rs["metadata"].get("deletionTimestamp"):
                continue
            uid = rs["metadata"]["uid"]
            pods = [p for p in store.dependents(pod_rt, uid) if uid in _controllers(p, "ReplicaSet")]
            self._sync(cluster, rs, [p for p in pods if pod_active(p)])

    def _full(self, cluster: Cluster) -> None:
        store = cluster.store
        rs_rt, pod_rt = cluster.rt("ReplicaSet"), cluster.rt("Pod")
        pods_by_owner: dict[str, list[dict]] = {}
        for pod in store.list(pod_rt):
            for ref in pod["metadata"].get("ownerReferences") or ():
                if ref.get("controller") and ref.get("kind") == "ReplicaSet":
                    pods_by_owner.setdefault(ref["uid"], []).append(pod)
        for rs in store.list(rs_rt):
            if rs["metadata"].get("deletionTimestamp"):
                continue
            self._sync(cluster, rs, [p for p in pods_by_owner.get(rs["metadata"]["uid"], []) if pod_active(p)])

    def _sync(self, cluster: Cluster, rs: dict, pods: list[dict]) -> None:
        store = cluster.store
        pod_rt = cluster.rt("Pod")
        want = int((rs.get("spec") or {}).get("replicas", 1))
        before = store.resource_version
        if len(pods) < want:
            for _ in range(want - len(pods)):
                pod = new_pod_from_template(rs["spec"]["template"], rs, copy_spec=False)
                if not self._creator.create(cluster, rs, pod):
                    break
        elif len(pods) > want:
            for pod in sorted(pods, key=_pod_delete_rank)[: len(pods) - want]:
                _delete_pod(cluster, rs, pod)
        if store.resource_version != before:  # pods came or went: count them afresh
            ns = rs["metadata"]["namespace"]
            pods = [
                p
                for p in store.dependents(pod_rt, rs["metadata"]["uid"])
                if p["metadata"]["namespace"] == ns and owned_by(p, rs) and pod_active(p)
            ]
        self._status(cluster, rs, pods)

    def _status(self, cluster: Cluster, rs: dict, pods: list[dict]) -> None:
        ready = sum(1 for p in pods if pod_ready(p))
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        old = rs.get("status") or {}
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        if old != status:
            meta = rs["metadata"]
            cluster.store.mutate(
                cluster.rt("ReplicaSet"),
                meta["namespace"],
                meta["name"],
                lambda o: o.__setitem__("status", status),
                status=True,
            )


# ---------------------------------------------------------------------------------------------------
class DeploymentController:
    """Syncs the Deployments whose object or ReplicaSets were written since the last pass (and Recreate
    ones whose namespace's pods were); all of them when the clock moved."""

    def __init__(self) -> None:
        self._feed = ChangeFeed()
        self._owners = _OwnerIndex(None)  # ReplicaSet -> its owners (the Deployment), as last seen
        # Deployment uid -> (resourceVersion, hash of its template): a stored version never changes, and
        # most syncs (a ReplicaSet's status moved) find the Deployment as it was.
        self._hashes: dict[str, tuple[str, str]] = {}

    def reconcile(self, cluster: Cluster) -> None:
        store = cluster.store
        dep_rt, rs_rt, pod_rt = cluster.rt("Deployment"), cluster.rt("ReplicaSet"), cluster.rt("Pod")
        changes = self._feed.take(cluster)
        if changes is None:
            self._hashes.clear()  # forgets Deployments deleted since
            self._owners.follow(self._feed.written, store.entries(rs_rt), rs_rt)
            for dep in store.list(dep_rt):
                if not dep["metadata"].get("deletionTimestamp"):
                    self._sync(cluster, dep)
            return
        dirty: dict[str, tuple[str, str]] = {}
        pods_written: set[str] = set()  # namespaces
        for event in changes:
            key = event.rtype.key
            meta = event.obj["metadata"]
            if key == dep_rt.key:
                dirty[meta["uid"]] = (meta["namespace"], meta["name"])
            elif key == rs_rt.key:
                dirty.update(self._owners.update(event))
            elif key == pod_rt.key:
                pods_written.add(meta.get("namespace", ""))
        for ns in pods_written:
            # A Recreate rollout waits for the old pods to go: any pod write in its namespace may matter.
            for entry in store.entries(dep_rt, ns):
                dep = entry.obj
                if ((dep.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
                    dirty[dep["metadata"]["uid"]] = (ns, dep["metadata"]["name"])
        for dep in _written_owners(store, dep_rt, dirty):
            if not dep["metadata"].get("deletionTimestamp"):
                self._sync(cluster, dep)

    def _owned_sets(self, cluster: Cluster, dep: dict) -> list[dict]:
        ns = dep["metadata"]["namespace"]
        return [
            rs
            for rs in cluster.store.dependents(cluster.rt("ReplicaSet"), dep["metadata"]["uid"])
            if rs["metadata"]["namespace"] == ns and owned_by(rs, dep)
        ]

    def _sync(self, cluster: Cluster, dep: dict) -> None:
        store = cluster.store
        rs_rt = cluster.rt("ReplicaSet")
        ns = dep["metadata"]["namespace"]
        spec = dep.get("spec") or {}
        template = spec.get("template") or {}
        sets = self._owned_sets(cluster, dep)
        h = self._template_hash(dep, template)
        new_rs = next((rs for rs in sets if _without_hash(rs["spec"]["template"]) == template), None)
        max_rev = max((int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in sets), default=0)
        replicas = int(spec.get("replicas", 1))
        if spec.get("paused"):
            self._status(cluster, dep, new_rs, sets)
            return
        if new_rs is None:
            new_rs = self._create_rs(cluster, dep, template, h, max_rev + 1)
            sets.append(new_rs)
        else:
            rev = int(new_rs["metadata"].get("annotations", {}).get(REVISION, "0"))
            if rev < max_rev:
                # A rollback (or re-applying an old template) promotes the old ReplicaSet to a new revision.
                def promote(o: dict) -> None:
                    o["metadata"].setdefault("annotations", {})[REVISION] = str(max_rev + 1)
                    self._copy_annotations(dep, o)

                new_rs = store.mutate(rs_rt, ns, new_rs["metadata"]["name"], promote)
        old_sets = [rs for rs in sets if rs["metadata"]["uid"] != new_rs["metadata"]["uid"]]
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate":
            self._recreate(cluster, dep, new_rs, old_sets, replicas)
        else:
            self._rolling(cluster, dep, new_rs, old_sets, replicas, strategy.get("rollingUpdate") or {})
        self._cleanup(cluster, dep)
        self._status(cluster, dep, store.find(rs_rt, ns, new_rs["metadata"]["name"]), self._owned_sets(cluster, dep))

    def _template_hash(self, dep: dict, template: dict) -> str:
        meta = dep["metadata"]
        known = self._hashes.get(meta["uid"])
        if known is not None and known[0] == meta.get("resourceVersion"):
            return known[1]
        h = template_hash(template)
        self._hashes[meta["uid"]] = (meta.get("resourceVersion", ""), h)
        return h

    def _copy_annotations(self, dep: dict, rs: dict) -> None:
        for k, v in (dep["metadata"].get("annotations") or {}).items():
            if k not in (REVISION, "kubectl.kubernetes.io/last-applied-configuration"):
                rs["metadata"].setdefault("annotations", {})[k] = v

    def _create_rs(self, cluster: Cluster, dep: dict, template: dict, h: str, revision: int) -> dict:
        rs_template = copy.deepcopy(template)
        rs_template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
        selector = copy.deepcopy(dep["spec"].get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = h
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[HASH_LABEL] = h
        replicas = int(dep["spec"].get("replicas", 1))
        rs = {
            "metadata": {
                "name": f"{dep['metadata']['name']}-{h}",
                "namespace": dep["metadata"]["namespace"],
                "labels": labels,
                "annotations": {
                    REVISION: str(revision),
                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                    "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                },
                "ownerReferences": [owner_reference(dep)],
            },
            "spec": {
                "replicas": 0,
                "selector": selector,
                "template": rs_template,
                "minReadySeconds": dep["spec"].get("minReadySeconds", 0),
            },
        }
        self._copy_annotations(dep, rs)
        created = cluster.store.create(cluster.rt("ReplicaSet"), rs)
        return created

    def _scale(self, cluster: Cluster, dep: dict, rs: dict, to: int) -> None:
        current = int(rs["spec"].get("replicas", 0))
        if current == to:
            return
        cluster.store.mutate(
            cluster.rt("ReplicaSet"),
            rs["metadata"]["namespace"],
            rs["metadata"]["name"],
            lambda o: o["spec"].__setitem__("replicas", to),
        )
        verb = "up" if to > current else "down"
        cluster.record_event(
            dep,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} from {current} to {to}",
            "deployment-controller",
        )

    def _recreate(self, cluster: Cluster, dep: dict, new_rs: dict, old_sets: list[dict], replicas: int) -> None:
        for rs in old_sets:
            self._scale(cluster, dep, rs, 0)
        pods = cluster.store.list(cluster.rt("Pod"), dep["metadata"]["namespace"])
        old_running = any(owned_by(p, rs) for rs in old_sets for p in pods)
        if not old_running:
            self._scale(cluster, dep, new_rs, replicas)

    def _rolling(
        self, cluster: Cluster, dep: dict, new_rs: dict, old_sets: list[dict], replicas: int, ru: dict
    ) -> None:
        surge = resolve_int_or_percent(ru.get("maxSurge"), replicas, True, "25%")
        unavailable = resolve_int_or_percent(ru.get("maxUnavailable"), replicas, False, "25%")
        if surge == 0 and unavailable == 0:
            unavailable = 1
        new_count = int(new_rs["spec"].get("replicas", 0))
        # Scale up the new ReplicaSet within the surge budget.
        if new_count > replicas:
            self._scale(cluster, dep, new_rs, replicas)
            new_count = replicas
        elif new_count < replicas:
            total = new_count + sum(int(rs["spec"].get("replicas", 0)) for rs in old_sets)
            room = replicas + surge - total
            if room > 0:
                new_count = min(replicas, new_count + room)
                self._scale(cluster, dep, new_rs, new_count)
        # Scale down old ReplicaSets: first their unavailable pods, then within the availability budget.
        rs_rt = cluster.rt("ReplicaSet")
        found = [cluster.store.find(rs_rt, rs["metadata"]["namespace"], rs["metadata"]["name"]) for rs in old_sets]
        fresh_old = [rs for rs in found if rs and int(rs["spec"].get("replicas", 0)) > 0]
        if not fresh_old:
            return
        new_fresh = cluster.store.find(rs_rt, new_rs["metadata"]["namespace"], new_rs["metadata"]["name"]) or new_rs
        available = int((new_fresh.get("status") or {}).get("availableReplicas", 0)) + sum(
            int((rs.get("status") or {}).get("availableReplicas", 0)) for rs in fresh_old
        )
        for rs in fresh_old:
            want = int(rs["spec"].get("replicas", 0))
            unhealthy = want - int((rs.get("status") or {}).get("availableReplicas", 0))
            if unhealthy > 0:
                want -= unhealthy
                self._scale(cluster, dep, rs, max(0, want))
        min_available = replicas - unavailable
        budget = available - min_available
        for rs in sorted(fresh_old, key=lambda r: int(r["metadata"].get("annotations", {}).get(REVISION, "0"))):
            if budget <= 0:
                break
            rs = cluster.store.find(rs_rt, rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs
            count = int(rs["spec"].get("replicas", 0))
            cut = min(count, budget)
            if cut > 0:
                self._scale(cluster, dep, rs, count - cut)
                budget -= cut

    def _cleanup(self, cluster: Cluster, dep: dict) -> None:
        limit = int(dep["spec"].get("revisionHistoryLimit", 10))
        sets = self._owned_sets(cluster, dep)
        idle = [
            rs
            for rs in sets
            if int(rs["spec"].get("replicas", 0)) == 0 and int((rs.get("status") or {}).get("replicas", 0)) == 0
        ]
        idle.sort(key=lambda r: int(r["metadata"].get("annotations", {}).get(REVISION, "0")))
        current_rev = max((int(r["metadata"].get("annotations", {}).get(REVISION, "0")) for r in sets), default=0)
        idle = [r for r in idle if int(r["metadata"].get("annotations", {}).get(REVISION, "0")) != current_rev]
        for rs in idle[: max(0, len(idle) - limit)]:
            cluster.store.delete(cluster.rt("ReplicaSet"), rs["metadata"]["namespace"], rs["metadata"]["name"])

    def _status(self, cluster: Cluster, dep: dict, new_rs: dict | None, sets: list[dict]) -> None:
        store = cluster.store
        dep = store.get(cluster.rt("Deployment"), dep["metadata"]["namespace"], dep["metadata"]["name"])
        spec = dep["spec"]
        replicas = int(spec.get("replicas", 1))
        ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        unavailable_budget = resolve_int_or_percent(ru.get("maxUnavailable"), replicas, False, "25%")
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            unavailable_budget = 0
        total = sum(int((rs.get("status") or {}).get("replicas", 0)) for rs in sets)
        ready = sum(int((rs.get("status") or {}).get("readyReplicas", 0)) for rs in sets)
        available = sum(int((rs.get("status") or {}).get("availableReplicas", 0)) for rs in sets)
        updated = int((new_rs or {}).get("status", {}).get("replicas", 0)) if new_rs else 0
        new_available = int((new_rs or {}).get("status", {}).get("availableReplicas", 0)) if new_rs else 0
        old = dep.get("status") or {}
        now = rfc3339(cluster.now())
        conditions = list(old.get("conditions") or [])
        if available >= replicas - unavailable_budget:
            conditions = _set_condition(
                conditions, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now
            )
        else:
            conditions = _set_condition(
                conditions,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
            )
        rs_name = new_rs["metadata"]["name"] if new_rs else ""
        if new_rs and updated == replicas and new_available == replicas and total == replicas:
            conditions = _set_condition(
                conditions,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                now,
            )
        elif new_rs:
            prog = next((c for c in conditions if c["type"] == "Progressing"), None)
            deadline = float(spec.get("progressDeadlineSeconds", 600))
            started = (
                _ts(prog.get("lastUpdateTime")) if prog and prog.get("reason") == "ReplicaSetUpdated" else cluster.now()
            )
            if prog and prog.get("reason") == "ProgressDeadlineExceeded":
                pass
            elif cluster.now() - started > deadline:
                conditions = _set_condition(
                    conditions,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{rs_name}" has timed out progressing.',
                    now,
                )
            else:
                conditions = _set_condition(
                    conditions,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{rs_name}" is progressing.',
                    now,
                )
        status: dict = {
            "observedGeneration": dep["metadata"].get("generation", 1),
            "replicas": total,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "conditions": conditions,
        }
        if replicas - available > 0:
            status["unavailableReplicas"] = replicas - available
        status = {k: v for k, v in status.items() if v != 0 or k in ("observedGeneration", "replicas")}
        rev = (new_rs or {}).get("metadata", {}).get("annotations", {}).get(REVISION) if new_rs else None
        if status != old or (rev and dep["metadata"].get("annotations", {}).get(REVISION) != rev):

            def write(o: dict) -> None:
                o["status"] = status
                if rev:
                    o["metadata"].setdefault("annotations", {})[REVISION] = rev

            store.mutate(cluster.rt("Deployment"), dep["metadata"]["namespace"], dep["metadata"]["name"], write)


# ---------------------------------------------------------------------------------------------------
class StatefulSetController:
    """Ordered pods `<name>-<ordinal>`, ControllerRevisions for `kubectl rollout undo`, rolling updates
    from the highest ordinal, one pod at a time."""

    def __init__(self) -> None:
        self._creator = _PodCreator()

    def reconcile(self, cluster: Cluster) -> None:
        for sts in cluster.store.list(cluster.rt("StatefulSet")):
            if not sts["metadata"].get("deletionTimestamp"):
                self._sync(cluster, sts)

    def _revision(self, cluster: Cluster, sts: dict) -> tuple[str, int]:
        store = cluster.store
        cr_rt = cluster.rt("ControllerRevision")
        ns = sts["metadata"]["namespace"]
        template = sts["spec"]["template"]
        h = template_hash(template)
        name = f"{sts['metadata']['name']}-{h}"
        revisions = [cr for cr in store.list(cr_rt, ns) if owned_by(cr, sts)]
        top = max((int(cr.get("revision", 0)) for cr in revisions), default=0)
        existing = next((cr for cr in revisions if cr["metadata"]["name"] == name), None)
        if existing is None:
            labels = dict((sts["spec"].get("selector") or {}).get("matchLabels") or {})
            labels[STS_HASH_LABEL] = name
            store.create(
                cr_rt,
                {
                    "metadata": {
                        "name": name,
                        "namespace": ns,
                        "labels": labels,
                        "ownerReferences": [owner_reference(sts)],
                    },
                    "data": {"spec": {"template": {**copy.deepcopy(template), "$patch": "replace"}}},
                    "revision": top + 1,
                },
            )
            return name, top + 1
        if int(existing.get("revision", 0)) < top:
            store.mutate(cr_rt, ns, name, lambda o: o.__setitem__("revision", top + 1))
            return name, top + 1
        return name, int(existing.get("revision", 0))

    def _sync(self, cluster: Cluster, sts: dict) -> None:
        store = cluster.store
        pod_rt = cluster.rt("Pod")
        ns = sts["metadata"]["namespace"]
        name = sts["metadata"]["name"]
        update_rev, _ = self._revision(cluster, sts)
        replicas = int(sts["spec"].get("replicas", 1))
        pods = {p["metadata"]["name"]: p for p in store.list(pod_rt, ns) if owned_by(p, sts)}
        # Create missing ordinals in order; with OrderedReady wait for the previous one to be ready.
        parallel = sts["spec"].get("podManagementPolicy") == "Parallel"
        for i in range(replicas):
            pname = f"{name}-{i}"
            pod = pods.get(pname)
            if pod is None:
                pod = new_pod_from_template(
                    sts["spec"]["template"],
                    sts,
                    name=pname,
                    extra_labels={
                        STS_HASH_LABEL: update_rev,
                        "statefulset.kubernetes.io/pod-name": pname,
                        "apps.kubernetes.io/pod-index": str(i),
                    },
                )
                pod["spec"].setdefault("hostname", pname)
                self._creator.create(cluster, sts, pod)
                if not parallel:
                    break
            elif not parallel and not pod_ready(pod):
                break
        for pname, pod in pods.items():
            ordinal = int(pname.rsplit("-", 1)[-1]) if pname.rsplit("-", 1)[-1].isdigit() else -1
            if ordinal >= replicas:
                _delete_pod(cluster, sts, pod)
        # Rolling update: replace the highest-ordinal outdated pod once all others are ready.
        pods = {p["metadata"]["name"]: p for p in store.list(pod_rt, ns) if owned_by(p, sts)}
        outdated = sorted(
            (p for p in pods.values() if p["metadata"].get("labels", {}).get(STS_HASH_LABEL) != update_rev),
            key=lambda p: p["metadata"]["name"],
            reverse=True,
        )
        if outdated and (sts["spec"].get("updateStrategy") or {}).get("type") != "OnDelete":
            others_ready = all(pod_ready(p) for p in pods.values() if p not in outdated[:1])
            if others_ready or not pod_ready(outdated[0]):
                _delete_pod(cluster, sts, outdated[0])
        self._status(cluster, sts, update_rev)

    def _status(self, cluster: Cluster, sts: dict, update_rev: str) -> None:
        store = cluster.store
        sts = store.get(cluster.rt("StatefulSet"), sts["metadata"]["namespace"], sts["metadata"]["name"])
        pods = [
            p for p in store.list(cluster.rt("Pod"), sts["metadata"]["namespace"]) if owned_by(p, sts) and pod_active(p)
        ]
        ready = sum(1 for p in pods if pod_ready(p))
        updated = sum(1 for p in pods if p["metadata"].get("labels", {}).get(STS_HASH_LABEL) == update_rev)
        status = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": ready,
            "currentReplicas": updated,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": update_rev,
            "updateRevision": update_rev,
            "collisionCount": 0,
        }
        if status != (sts.get("status") or {}):
            store.mutate(
                cluster.rt("StatefulSet"),
                sts["metadata"]["namespace"],
                sts["metadata"]["name"],
                lambda o: o.__setitem__("status", status),
                status=True,
            )


# ---------------------------------------------------------------------------------------------------
class DaemonSetController:
    """One pod per node that tolerates the node's taints and matches its nodeSelector."""

    def __init__(self) -> None:
        self._creator = _PodCreator()

    def reconcile(self, cluster: Cluster) -> None:
        store = cluster.store
        nodes = store.list(cluster.rt("Node"))
        for ds in store.list(cluster.rt("DaemonSet")):
            if ds["metadata"].get("deletionTimestamp"):
                continue
            template = ds["spec"]["template"]
            pspec = template.get("spec") or {}
            h = template_hash(template)
            eligible = [n for n in nodes if _node_fits_daemon(n, pspec)]
            pods = [p for p in store.list(cluster.rt("Pod"), ds["metadata"]["namespace"]) if owned_by(p, ds)]
            by_node = {p["spec"].get("nodeName"): p for p in pods}
            for node in eligible:
                nname = node["metadata"]["name"]
                pod = by_node.get(nname)
                if pod is not None and pod["metadata"].get("labels", {}).get(STS_HASH_LABEL) != h:
                    _delete_pod(cluster, ds, pod)
                    pod = None
                if pod is None:
                    new = new_pod_from_template(template, ds, extra_labels={STS_HASH_LABEL: h})
                    new["spec"]["nodeName"] = nname
                    self._creator.create(cluster, ds, new)
            names = {n["metadata"]["name"] for n in eligible}
            for p in pods:
                if p["spec"].get("nodeName") not in names:
                    _delete_pod(cluster, ds, p)
            pods = [p for p in store.list(cluster.rt("Pod"), ds["metadata"]["namespace"]) if owned_by(p, ds)]
            ready = sum(1 for p in pods if pod_ready(p))
            status = {
                "desiredNumberScheduled": len(eligible),
                "currentNumberScheduled": len(pods),
                "numberReady": ready,
                "numberAvailable": ready,
                "updatedNumberScheduled": sum(
                    1 for p in pods if p["metadata"].get("labels", {}).get(STS_HASH_LABEL) == h
                ),
                "numberMisscheduled": 0,
                "observedGeneration": ds["metadata"].get("generation", 1),
            }
            if len(eligible) - ready:
                status["numberUnavailable"] = len(eligible) - ready
            if status != (ds.get("status") or {}):
                store.mutate(
                    cluster.rt("DaemonSet"),
                    ds["metadata"]["namespace"],
                    ds["metadata"]["name"],
                    functools.partial(_put_status, status=status),
                    status=True,
                )


def _put_status(obj: dict, status: dict) -> None:
    obj["status"] = status


def _node_fits_daemon(node: dict, pspec: dict) -> bool:
    labels = node["metadata"].get("labels") or {}
    for k, v in (pspec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    tolerations = pspec.get("tolerations") or []
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(
            t.get("operator") == "Exists"
            and (not t.get("key") or t.get("key") == taint.get("key"))
            or (t.get("key") == taint.get("key") and t.get("value", "") == taint.get("value", ""))
            for t in tolerations
        ):
            return False
    return True
