"""Endpoints from Service selectors, pod readiness and targetPort, as the endpoints controller keeps them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..objects import pod_active, pod_ready
from ..selectors import selector_from_spec
from .feed import ChangeFeed

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..store import Entry, WatchEvent


def resolve_target_port(pod: dict, port: dict) -> int | None:
    """A Service port's targetPort on one pod: a number, or a named container port (None if absent)."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return int(p["containerPort"])
    return None


class PodsBySelector:
    """Pods that can back a Service (active, with an IP), by namespace and label, built once per pass.

    A Service selector is an equality map, so only pods carrying its rarest label=value pair need the
    full match: a pass costs about one walk of the pods instead of one walk per Service.
    """

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._by_namespace: dict[str, tuple[list[dict], dict[tuple[str, str], list[dict]]]] = {}

    def _index(self, namespace: str) -> tuple[list[dict], dict[tuple[str, str], list[dict]]]:
        found = self._by_namespace.get(namespace)
        if found is None:
            cluster = self._cluster
            pods = [
                p
                for p in cluster.store.list(cluster.rt("Pod"), namespace)
                if pod_active(p) and (p.get("status") or {}).get("podIP")
            ]
            postings: dict[tuple[str, str], list[dict]] = {}
            for p in pods:
                for pair in (p["metadata"].get("labels") or {}).items():
                    postings.setdefault(pair, []).append(p)
            found = self._by_namespace[namespace] = (pods, postings)
        return found

    def select(self, namespace: str, selector: dict) -> list[dict]:
        """The pods the selector matches, in store order."""
        sel = selector_from_spec(selector)
        if selector and all(isinstance(v, str) for v in selector.values()) and not _looks_like_label_selector(selector):
            # An equality map: the store's label index holds the candidates, whatever the namespace's size.
            cluster = self._cluster
            return [
                e.obj
                for e in cluster.store.labelled(cluster.rt("Pod"), namespace, selector)
                if pod_active(e.obj)
                and (e.obj.get("status") or {}).get("podIP")
                and sel.matches(e.obj["metadata"].get("labels") or {})
            ]
        pods, _ = self._index(namespace)
        return [p for p in pods if sel.matches(p["metadata"].get("labels") or {})]


def _looks_like_label_selector(selector: dict) -> bool:
    return bool(set(selector) & {"matchLabels", "matchExpressions"})


def endpoints_for(cluster: Cluster, svc: dict, candidates: PodsBySelector | None = None) -> dict:
    spec = svc.get("spec") or {}
    meta = svc["metadata"]
    body: dict = {
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": dict(meta.get("labels") or {})}
    }
    selector = spec.get("selector")
    if not selector:
        return body  # a Service without a selector has hand-managed endpoints
    pods = (candidates or PodsBySelector(cluster)).select(meta["namespace"], selector)
    subsets: list[dict] = []
    for port in spec.get("ports") or []:
        ready: list[tuple[dict, int]] = []
        not_ready: list[tuple[dict, int]] = []
        for pod in sorted(pods, key=lambda p: p["status"]["podIP"]):
            number = resolve_target_port(pod, port)
            if number is None:
                continue
            addr = {
                "ip": pod["status"]["podIP"],
                "nodeName": pod["spec"].get("nodeName"),
                "targetRef": {
                    "kind": "Pod",
                    "namespace": meta["namespace"],
                    "name": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"],
                },
            }
            (ready if pod_ready(pod) else not_ready).append((addr, number))
        by_port: dict[int, dict] = {}
        for addrs, key in ((ready, "addresses"), (not_ready, "notReadyAddresses")):
            for addr, number in addrs:
                subset = by_port.setdefault(
                    number,
                    {"ports": [{"name": port.get("name"), "port": number, "protocol": port.get("protocol", "TCP")}]},
                )
                subset.setdefault(key, []).append(addr)
        subsets.extend(by_port.values())
    # Merge subsets that share an address list (one per Service port otherwise).
    merged: list[dict] = []
    for s in subsets:
        for m in merged:
            if m.get("addresses") == s.get("addresses") and m.get("notReadyAddresses") == s.get("notReadyAddresses"):
                m["ports"].extend(s["ports"])
                break
        else:
            merged.append(s)
    for m in merged:
        for p in m["ports"]:
            if p.get("name") is None:
                p.pop("name")
    if merged:
        body["subsets"] = merged
    return body


class EndpointsController:
    """Recomputes a Service's Endpoints only when the Service, its Endpoints or a pod it selects (or
    selected) was written since the last pass: after one write, one Service instead of all of them."""

    def __init__(self) -> None:
        self._feed = ChangeFeed(clocked=False)  # endpoints follow objects, not time
        self._members: dict[tuple[str, str], frozenset[str]] = {}  # service -> pods in its endpoints

    def reconcile(self, cluster: Cluster) -> None:
        store = cluster.store
        svc_rt, ep_rt = cluster.rt("Service"), cluster.rt("Endpoints")
        changes = self._feed.take(cluster)
        if changes is None:
            self._members.clear()
            services = list(store.entries(svc_rt))
            orphans = list(store.entries(ep_rt))
        else:
            services, orphans = self._written(cluster, changes)
        candidates = PodsBySelector(cluster)
        for entry in services:
            svc = entry.obj
            ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
            if not (svc.get("spec") or {}).get("selector"):
                continue
            want = endpoints_for(cluster, svc, candidates)
            current = store.find(ep_rt, ns, name)
            if current is None:
                store.create(ep_rt, want)
            elif current.get("subsets") != want.get("subsets"):

                def write(o: dict, w: dict = want) -> None:
                    if "subsets" in w:
                        o["subsets"] = w["subsets"]
                    else:
                        o.pop("subsets", None)

                store.mutate(ep_rt, ns, name, write)
            self._members[(ns, name)] = _members(want)
        # Endpoints of a deleted Service go with it (hand-made ones for selector-less Services stay).
        for entry in orphans:
            meta = entry.obj["metadata"]
            key = (meta["namespace"], meta["name"])
            if store.find(svc_rt, *key) is None and store.find(ep_rt, *key) is not None:
                store.delete(ep_rt, key[0], key[1])

    def _written(self, cluster: Cluster, changes: list[WatchEvent]) -> tuple[list[Entry], list[Entry]]:
        """The Services whose endpoints may have changed and the Endpoints that may have lost their Service,
        each in store order."""
        store = cluster.store
        svc_rt, ep_rt, pod_rt = cluster.rt("Service"), cluster.rt("Endpoints"), cluster.rt("Pod")
        keys: set[tuple[str, str]] = set()
        pods: dict[str, list[dict]] = {}  # namespace -> pods written
        for event in changes:
            meta = event.obj["metadata"]
            kind = event.rtype.key
            if kind == pod_rt.key:
                pods.setdefault(meta.get("namespace", ""), []).append(event.obj)
            elif kind in (svc_rt.key, ep_rt.key):
                keys.add((meta.get("namespace", ""), meta["name"]))
        for ns, written in pods.items():
            names = {p["metadata"]["name"] for p in written}
            label_sets = _distinct_labels(written)  # a few per namespace, however many pods were written
            for entry in store.entries(svc_rt, ns):
                svc = entry.obj
                key = (ns, svc["metadata"]["name"])
                selector = (svc.get("spec") or {}).get("selector")
                members = self._members.get(key, frozenset())
                if key not in keys and selector and _touched(members, selector, names, label_sets):
                    keys.add(key)
        services, orphans = [], []
        for key in keys:
            svc_entry = store.entry(svc_rt, *key)
            if svc_entry is not None:
                services.append(svc_entry)
            else:
                self._members.pop(key, None)
            ep_entry = store.entry(ep_rt, *key)
            if ep_entry is not None and svc_entry is None:
                orphans.append(ep_entry)
        services.sort(key=lambda e: e.seq)
        orphans.sort(key=lambda e: e.seq)
        return services, orphans


def _members(endpoints: dict) -> frozenset[str]:
    return frozenset(
        addr["targetRef"]["name"]
        for subset in endpoints.get("subsets") or ()
        for key in ("addresses", "notReadyAddresses")
        for addr in subset.get(key) or ()
    )


def _distinct_labels(pods: list[dict]) -> list[dict]:
    """The pods' label maps, each distinct one once (a ReplicaSet's pods share theirs)."""
    distinct: dict[object, dict] = {}
    for p in pods:
        labels = p["metadata"].get("labels") or {}
        # Text only makes a key: a map holding anything else is kept apart.
        text = all(type(v) is str for v in labels.values())
        distinct.setdefault(tuple(labels.items()) if text else id(labels), labels)
    return list(distinct.values())


def _touched(members: frozenset[str], selector: dict, names: set[str], label_sets: list[dict]) -> bool:
    """Whether any written pod (by name, and by label map) is in the endpoints or now matches the selector."""
    if not names:
        return False
    sel = selector_from_spec(selector)
    return not members.isdisjoint(names) or any(sel.matches(labels) for labels in label_sets)
