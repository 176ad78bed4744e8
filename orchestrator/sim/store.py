"""The in-memory object store behind the simulated API server.

One store holds every object, stamps metadata the way the API server does (uid, resourceVersion,
generation, timestamps), keeps a bounded log of changes for watches, and garbage-collects dependents
through ownerReferences. Everything runs on the server's event loop thread, so there are no locks.

Two indexes keep reads off the whole cluster: objects by namespace (a namespaced LIST or a namespace
delete touches only that namespace) and dependents by owner uid (garbage collection). Both keep the
order a scan of the whole bucket would give, so nothing downstream sees a different sequence.

Objects returned by `get` and `list` are the stored dicts: treat them as read-only and write through
`create`, `replace` or `mutate`, which keep resourceVersion and the watch log right. Nothing changes a
stored version in place, so successive versions share the parts a write left alone (a status write
copies only the status and metadata).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import pickle
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, rfc3339
from .errors import ApiError, already_exists, conflict, not_found
from .resources import Registry, ResourceType

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects

WATCH_LOG_SIZE = 20_000


def clone(value: object) -> Any:
    """A deep copy of stored data (dicts, lists, scalars): what copy.deepcopy gives, about three times
    faster, which matters because every write copies whole objects."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


@dataclass
class Entry:
    obj: dict
    _raw: bytes | None = None
    # Position of the key in its bucket (kept across updates, renewed after a delete): orders index hits.
    seq: int = 0

    @property
    def raw(self) -> bytes:
        # Serialised once per version: a list of 1,000 pods then costs a join, not 1,000 dumps.
        if self._raw is None:
            self._raw = json.dumps(self.obj, separators=(",", ":")).encode()
        return self._raw


@dataclass
class WatchEvent:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    rtype: ResourceType
    obj: dict
    entry: Entry


@dataclass
class Watcher:
    rtype_key: tuple[str, str]
    namespace: str | None
    predicate: Callable[[dict], bool]
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))


class Store:
    def __init__(self, clock: Clock, registry: Registry | None = None, seed: int = 0) -> None:
        self.clock = clock
        self.registry = registry or Registry()
        self._buckets: dict[tuple[str, str], dict[Key, Entry]] = {}
        self._by_namespace: dict[tuple[str, str], dict[str, dict[Key, Entry]]] = {}
        self._dependents_of: dict[str, dict[tuple[tuple[str, str], Key], None]] = {}
        # (kind, namespace) -> label=value -> keys carrying it: an equality selector reads one posting.
        self._by_label: dict[tuple[tuple[str, str], str], dict[tuple[str, str], dict[Key, None]]] = {}
        self._seq = 0
        self._rv = 0
        self._log: deque[WatchEvent] = deque(maxlen=WATCH_LOG_SIZE)
        self._watchers: list[Watcher] = []
        self._reserved_uids: set[str] = set()
        self._rng = random.Random(seed)
        self._hooks: list[Callable[[str, ResourceType, dict, dict | None], None]] = []

    # ----------------------------------------------------------------- basics
    @property
    def resource_version(self) -> int:
        return self._rv

    def _bucket(self, rt: ResourceType) -> dict[Key, Entry]:
        return self._buckets.setdefault(rt.key, {})

    def rtype(self, kind: str, api_version: str | None = None) -> ResourceType:
        rt = self.registry.by_kind(kind, api_version)
        if rt is None:
            raise ApiError(404, f"the server doesn't have a resource type {kind!r}")
        return rt

    def on_change(self, hook: Callable[[str, ResourceType, dict, dict | None], None]) -> None:
        """Call hook(event_type, rtype, new_obj, old_obj) after every write (admission side effects)."""
        self._hooks.append(hook)

    def random_suffix(self, n: int = 5) -> str:
        alphabet = "bcdfghjklmnpqrstvwxz2456789"  # the API server's alphabet: no vowels, no look-alikes
        return "".join(self._rng.choice(alphabet) for _ in range(n))

    def new_uid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def reserve_uid(self, uid: str | None = None) -> str:
        """A uid handed out before the object is stored: a Job's selector names its own uid. A given uid
        draws nothing from the seeded generator, so bootstrap objects leave later names unchanged."""
        uid = uid or self.new_uid()
        self._reserved_uids.add(uid)
        return uid

    # ----------------------------------------------------------------- reads
    def get(self, rt: ResourceType, namespace: str, name: str) -> dict:
        entry = self._bucket(rt).get((namespace if rt.namespaced else "", name))
        if entry is None:
            raise not_found(rt.plural, name, rt.group)
        return entry.obj

    def find(self, rt: ResourceType, namespace: str, name: str) -> dict | None:
        entry = self._bucket(rt).get((namespace if rt.namespaced else "", name))
        return entry.obj if entry else None

    def entries(self, rt: ResourceType, namespace: str | None = None) -> Iterator[Entry]:
        bucket = self._bucket(rt)
        if namespace is None or not rt.namespaced:
            yield from bucket.values()
        else:
            yield from self._namespace_bucket(rt.key, namespace).values()

    def _namespace_bucket(self, rtype_key: tuple[str, str], namespace: str) -> dict[Key, Entry]:
        return self._by_namespace.get(rtype_key, {}).get(namespace, {})

    def list(
        self, rt: ResourceType, namespace: str | None = None, where: Callable[[dict], bool] | None = None
    ) -> list[dict]:
        return [e.obj for e in self.entries(rt, namespace) if where is None or where(e.obj)]

    def entry(self, rt: ResourceType, namespace: str, name: str) -> Entry | None:
        return self._bucket(rt).get((namespace if rt.namespaced else "", name))

    def count(self, rt: ResourceType) -> int:
        return len(self._bucket(rt))

    def changes_since(self, rv: int) -> builtins.list[WatchEvent] | None:
        """Every write after `rv`, oldest first (each resourceVersion is one logged event); None when the
        log no longer reaches back that far."""
        if rv >= self._rv:
            return []
        log = self._log
        if not log or log[0].rv > rv + 1:
            return None
        out = []
        for event in reversed(log):
            if event.rv <= rv:
                break
            out.append(event)
        out.reverse()
        return out

    def labelled(self, rt: ResourceType, namespace: str, labels: dict[str, str]) -> builtins.list[Entry]:
        """Entries in one namespace carrying every label=value of `labels` (not empty), in list order."""
        postings = self._by_label.get((rt.key, namespace if rt.namespaced else ""), {})
        smallest = min((postings.get(pair, {}) for pair in labels.items()), key=len)
        bucket = self._bucket(rt)
        hits = []
        for key in smallest:
            entry = bucket.get(key)
            if entry is None:
                continue
            have = entry.obj["metadata"].get("labels") or {}
            if all(have.get(k) == v for k, v in labels.items()):
                hits.append(entry)
        hits.sort(key=lambda e: e.seq)
        return hits

    def dependents(self, rt: ResourceType, owner_uid: str) -> builtins.list[dict]:
        """Objects of one kind that name `owner_uid` in their ownerReferences, in `list` order."""
        bucket = self._bucket(rt)
        hits = [bucket[key] for rtype_key, key in self._dependents_of.get(owner_uid, ()) if rtype_key == rt.key]
        return [e.obj for e in sorted(hits, key=lambda e: e.seq)]

    # ----------------------------------------------------------------- writes
    def create(self, rt: ResourceType, obj: dict, namespace: str | None = None, *, owned: bool = False) -> dict:
        """Store a new object. `owned`: the caller built obj for this call and keeps no reference to it
        or its parts, so it is stored without a copy."""
        if not owned:
            obj = clone(obj)
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            ns = namespace or meta.get("namespace") or "default"
            if namespace and meta.get("namespace") and meta["namespace"] != namespace:
                raise ApiError(
                    400, "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
            namespaces = self.registry.by_kind("Namespace")
            assert namespaces is not None  # a built-in kind, always registered
            if rt.kind != "Namespace" and self.find(namespaces, "", ns) is None:
                raise ApiError(404, f'namespaces "{ns}" not found', details={"name": ns, "kind": "namespaces"})
        else:
            ns = ""
            meta.pop("namespace", None)
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = meta["generateName"] + self.random_suffix()
            else:
                raise ApiError(
                    422, f"{rt.kind} is invalid: metadata.name: Required value: name or generateName is required"
                )
        key = (ns, meta["name"])
        bucket = self._bucket(rt)
        if key in bucket:
            raise already_exists(rt.plural, meta["name"], rt.group)
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        given = meta.get("uid")
        if given in self._reserved_uids:
            self._reserved_uids.discard(given)
        else:
            meta["uid"] = self.new_uid()
        meta["creationTimestamp"] = rfc3339(self.clock.now())
        meta.pop("deletionTimestamp", None)
        if "spec" in obj or rt.kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Pod"):
            meta["generation"] = 1
        return self._commit("ADDED", rt, key, obj, None)

    def replace(
        self,
        rt: ResourceType,
        obj: dict,
        *,
        subresource: str | None = None,
        check_rv: bool = True,
        owned: bool = False,
    ) -> dict:
        """Update an object. `subresource="status"` writes only status; otherwise status is kept as stored
        for kinds with a status sub-resource (the API server's rule). `owned` as for `create`: obj and
        every part of it were built for this call, so a full write stores them without a copy."""
        meta = obj.get("metadata") or {}
        ns = (meta.get("namespace") or "default") if rt.namespaced else ""
        name = meta.get("name")
        if not name:
            raise ApiError(422, f"{rt.kind} is invalid: metadata.name: Required value")
        key = (ns, name)
        bucket = self._bucket(rt)
        old_entry = bucket.get(key)
        if old_entry is None:
            raise not_found(rt.plural, name, rt.group)
        old = old_entry.obj
        sent_rv = meta.get("resourceVersion")
        if check_rv and sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
            raise conflict(rt.plural, name, rt.group)
        if subresource == "status":
            # Only the status comes from the request. The rest is the stored version's, shared rather than
            # copied (stored objects are never changed in place); metadata is copied as the commit stamps it.
            new = dict(old)
            nmeta = new["metadata"] = dict(old["metadata"])
            status = obj.get("status", {})
            new["status"] = status if owned else clone(status)
            sent = obj.get("metadata") or {}
            if "managedFields" in sent and sent is not old["metadata"]:  # the writer is recorded with the fields
                nmeta["managedFields"] = clone(sent["managedFields"])
        else:
            new = obj if owned else clone(obj)
            new["apiVersion"] = rt.api_version
            new["kind"] = rt.kind
            nmeta = new.setdefault("metadata", {})
            # Immutable metadata comes from storage, whatever the client sent.
            for k in ("uid", "creationTimestamp", "namespace", "generation", "deletionTimestamp"):
                if k in old["metadata"]:
                    nmeta[k] = old["metadata"][k]
                else:
                    nmeta.pop(k, None)
            if not rt.namespaced:
                nmeta.pop("namespace", None)
        if "status" in rt.subresources and subresource is None:
            if "status" in old:
                new["status"] = old["status"]  # shared with the stored version, which nothing changes
            else:
                new.pop("status", None)
        if subresource != "status" and new.get("spec") != old.get("spec") and "generation" in nmeta:
            new["metadata"]["generation"] = nmeta["generation"] + 1
        if new == old or _same_but_rv(new, old):
            return old
        if (
            new["metadata"].get("deletionTimestamp")
            and not new["metadata"].get("finalizers")
            and rt.kind != "Namespace"
        ):
            return self._remove(rt, key)
        return self._commit("MODIFIED", rt, key, new, old)

    def mutate(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        fn: Callable[[dict], None],
        *,
        status: bool = False,
        fresh: bool = False,
        copy: Callable[[dict], dict] = clone,
    ) -> dict:
        """Read-modify-write without a conflict check: for controllers, which own their fields. `fresh`:
        fn writes only values it builds on each call and keeps no reference to, so the changed copy is
        stored as it is instead of being copied once more (fn's value may otherwise be shared state).
        `copy` makes the object fn changes from the stored one: a deep copy unless the caller knows which
        parts fn changes in place and copies just those."""
        current = copy(self.get(rt, namespace, name))
        fn(current)
        return self.replace(rt, current, subresource="status" if status else "internal", check_rv=False, owned=fresh)

    def write_status(self, rt: ResourceType, namespace: str, name: str, status: dict, *, owned: bool = False) -> dict:
        """Set an object's status: `mutate(status=True)` with a fn that assigns it, without copying the
        whole object for fn first. `owned` as for `create`: status is stored as it is, not copied."""
        stored = self.get(rt, namespace, name)
        # A status write keeps the stored metadata (managedFields included): the stored dict stands in for it.
        return self.replace(
            rt, {"metadata": stored["metadata"], "status": status}, subresource="status", check_rv=False, owned=owned
        )

    def delete(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        *,
        propagation: str = "Background",
        precondition_uid: str | None = None,
    ) -> dict:
        key = (namespace if rt.namespaced else "", name)
        entry = self._bucket(rt).get(key)
        if entry is None:
            raise not_found(rt.plural, name, rt.group)
        obj = entry.obj
        if precondition_uid and obj["metadata"]["uid"] != precondition_uid:
            raise conflict(rt.plural, name, rt.group)
        if obj["metadata"].get("finalizers") or rt.kind == "Namespace":
            if obj["metadata"].get("deletionTimestamp"):
                return obj
            new = clone(obj)
            new["metadata"]["deletionTimestamp"] = rfc3339(self.clock.now())
            if rt.kind == "Namespace":
                new.setdefault("status", {})["phase"] = "Terminating"
            result = self._commit("MODIFIED", rt, key, new, obj)
            if rt.kind == "Namespace":
                self._delete_namespace_contents(name)
                if not new["metadata"].get("finalizers"):
                    return self._remove(rt, key)
            return result
        removed = self._remove(rt, key)
        uid = obj["metadata"]["uid"]
        if propagation == "Orphan":
            self._orphan(uid)
        else:
            self._collect(uid)
        return removed

    # ----------------------------------------------------------------- internals
    def _commit(self, etype: str, rt: ResourceType, key: Key, obj: dict, old: dict | None) -> dict:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        bucket = self._bucket(rt)
        previous = bucket.get(key)
        meta = obj["metadata"]
        labels = meta.get("labels")
        # An update that keeps the owners or labels keeps their index entries (readers of both indexes
        # sort what they find, so the order inside a posting does not matter).
        index_owners = index_labels = True
        if previous is None:
            self._seq += 1
            entry = Entry(obj, seq=self._seq)
        else:
            entry = Entry(obj, seq=previous.seq)
            before = previous.obj["metadata"]
            if before.get("ownerReferences") == meta.get("ownerReferences"):
                index_owners = False
            else:
                self._unindex_owners(rt, key, previous.obj)
            if before.get("labels") == labels:
                index_labels = False
            else:
                self._unindex_labels(rt, key, previous.obj)
        bucket[key] = entry
        self._by_namespace.setdefault(rt.key, {}).setdefault(key[0], {})[key] = entry
        if index_owners:
            for uid in _owner_uids(obj):
                self._dependents_of.setdefault(uid, {})[(rt.key, key)] = None
        if labels and index_labels:
            postings = self._by_label.setdefault((rt.key, key[0]), {})
            for pair in labels.items():
                if isinstance(pair[1], str):
                    postings.setdefault(pair, {})[key] = None
        self._publish(etype, rt, entry)
        for hook in self._hooks:
            hook(etype, rt, obj, old)
        return obj

    def _remove(self, rt: ResourceType, key: Key) -> dict:
        entry = self._bucket(rt).pop(key)
        in_namespace = self._by_namespace[rt.key][key[0]]
        del in_namespace[key]
        if not in_namespace:
            del self._by_namespace[rt.key][key[0]]
        self._unindex_owners(rt, key, entry.obj)
        self._unindex_labels(rt, key, entry.obj)
        self._rv += 1
        obj = clone(entry.obj)
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._publish("DELETED", rt, Entry(obj))
        for hook in self._hooks:
            hook("DELETED", rt, obj, entry.obj)
        return obj

    def _publish(self, etype: str, rt: ResourceType, entry: Entry) -> None:
        event = WatchEvent(self._rv, etype, rt, entry.obj, entry)
        self._log.append(event)
        ns = entry.obj["metadata"].get("namespace")
        for w in self._watchers:
            if w.rtype_key == rt.key and (w.namespace is None or w.namespace == ns) and w.predicate(entry.obj):
                # A client that stopped reading loses events, as with a real server.
                with contextlib.suppress(asyncio.QueueFull):
                    w.queue.put_nowait(event)

    def _unindex_owners(self, rt: ResourceType, key: Key, obj: dict) -> None:
        for uid in _owner_uids(obj):
            owned = self._dependents_of.get(uid)
            if owned is not None:
                owned.pop((rt.key, key), None)
                if not owned:
                    del self._dependents_of[uid]

    def _unindex_labels(self, rt: ResourceType, key: Key, obj: dict) -> None:
        labels = obj["metadata"].get("labels")
        if not labels:
            return
        postings = self._by_label.get((rt.key, key[0]))
        if postings is None:
            return
        for pair in labels.items():
            if not isinstance(pair[1], str):
                continue
            keys = postings.get(pair)
            if keys is not None:
                keys.pop(key, None)
                if not keys:
                    del postings[pair]

    def _dependents(self, uid: str) -> builtins.list[tuple[ResourceType, Key]]:
        """Objects naming `uid` as an owner, in bucket order and then in key order within a bucket."""
        owned = self._dependents_of.get(uid)
        if not owned:
            return []
        bucket_order = {k: i for i, k in enumerate(self._buckets)}
        ranked = []
        for rtype_key, key in owned:
            rt = self.registry.by_key(*rtype_key)
            entry = self._buckets[rtype_key].get(key)
            if rt is None or entry is None:
                continue
            ranked.append((bucket_order[rtype_key], entry.seq, rt, key))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return [(rt, key) for _, _, rt, key in ranked]

    def _collect(self, uid: str) -> None:
        for rt, key in self._dependents(uid):
            if key in self._bucket(rt):
                self.delete(rt, key[0], key[1])

    def _orphan(self, uid: str) -> None:
        for rt, key in self._dependents(uid):

            def drop(o: dict) -> None:
                o["metadata"]["ownerReferences"] = [
                    r for r in o["metadata"].get("ownerReferences", []) if r.get("uid") != uid
                ]

            self.mutate(rt, key[0], key[1], drop)

    def _delete_namespace_contents(self, namespace: str) -> None:
        for bucket_key in list(self._buckets):
            rt = self.registry.by_key(*bucket_key)
            if rt is None or not rt.namespaced:
                continue
            for key in list(self._namespace_bucket(rt.key, namespace)):
                if key in self._bucket(rt):
                    self._remove(rt, key)

    # ----------------------------------------------------------------- watches
    def events_since(
        self, rt: ResourceType, rv: int, namespace: str | None, predicate: Callable[[dict], bool]
    ) -> builtins.list[WatchEvent]:
        if self._log and rv < self._log[0].rv - 1 and rv < self._rv:
            raise ApiError(410, f"too old resource version: {rv} ({self._log[0].rv - 1})", "Expired")
        return [
            e
            for e in self._log
            if e.rv > rv
            and e.rtype.key == rt.key
            and (namespace is None or e.obj["metadata"].get("namespace") == namespace)
            and predicate(e.obj)
        ]

    def subscribe(self, rt: ResourceType, namespace: str | None, predicate: Callable[[dict], bool]) -> Watcher:
        w = Watcher(rt.key, namespace, predicate)
        self._watchers.append(w)
        return w

    def unsubscribe(self, w: Watcher) -> None:
        if w in self._watchers:
            self._watchers.remove(w)

    # ----------------------------------------------------------------- helpers for controllers
    def ensure(self, rt: ResourceType, obj: dict) -> dict:
        """Create the object, or return the stored one if it exists."""
        meta = obj["metadata"]
        found = self.find(rt, meta.get("namespace", ""), meta["name"])
        return found if found is not None else self.create(rt, obj)


def _owner_uids(obj: dict) -> set[str]:
    return {ref["uid"] for ref in obj["metadata"].get("ownerReferences") or () if ref.get("uid")}


def _same_but_rv(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    # The rest first: a write that changed anything (a status, most often) answers without copying metadata.
    if not all(a[k] == b[k] for k in a if k != "metadata"):
        return False
    am, bm = dict(a["metadata"]), dict(b["metadata"])
    am.pop("resourceVersion", None)
    bm.pop("resourceVersion", None)
    am.pop("managedFields", None)
    bm.pop("managedFields", None)
    return am == bm


def owner_reference(owner: dict, controller: bool = True) -> dict:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }
