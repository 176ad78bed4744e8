"""EndpointSlices mirrored from each selector Service's Endpoints, as the EndpointSlice controller keeps them.

kubectl reads slices, not Endpoints, to list a backend's addresses (`describe service`, `describe
ingress`). One slice per address/port set; names and uids derive from the Service's uid so creating
them draws nothing from the seeded generator (pod names stay what they were before slices existed).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

from ..store import owner_reference
from .feed import ChangeFeed

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..cluster import Cluster
    from ..store import Entry

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
CONTROLLER = "endpointslice-controller.k8s.io"
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _suffix(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:5])


def _endpoints(subset: dict) -> list[dict]:
    out = []
    for key, ready in (("addresses", True), ("notReadyAddresses", False)):
        for addr in subset.get(key) or []:
            ep: dict = {
                "addresses": [addr["ip"]],
                "conditions": {"ready": ready, "serving": ready, "terminating": False},
            }
            if addr.get("nodeName"):
                ep["nodeName"] = addr["nodeName"]
            if addr.get("targetRef"):
                ep["targetRef"] = dict(addr["targetRef"])
            out.append(ep)
    return out


def slices_for(svc: dict, endpoints: dict) -> list[dict]:
    meta = svc["metadata"]
    labels = {**(meta.get("labels") or {}), SERVICE_NAME_LABEL: meta["name"], MANAGED_BY: CONTROLLER}
    subsets = endpoints.get("subsets") or [{}]
    out = []
    for i, subset in enumerate(subsets):
        name = meta["name"] + "-" + _suffix(f"{meta['uid']}/{i}")
        ports = [{k: p[k] for k in ("name", "port", "protocol") if k in p} for p in subset.get("ports") or []]
        out.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": name,
                    "namespace": meta["namespace"],
                    "generateName": f"{meta['name']}-",
                    "labels": labels,
                    "ownerReferences": [owner_reference(svc)],
                },
                "addressType": "IPv4",
                "endpoints": _endpoints(subset),
                "ports": ports,
            }
        )
    return out


class EndpointSliceController:
    """Mirrors a Service's Endpoints when the pair's resourceVersions moved; after the first pass only the
    Services or Endpoints written since the last pass are looked at."""

    def __init__(self) -> None:
        self._synced: dict[tuple[str, str], tuple[str, str]] = {}  # service -> (service rv, endpoints rv)
        self._feed = ChangeFeed(clocked=False)

    def reconcile(self, cluster: Cluster) -> None:
        store = cluster.store
        svc_rt, ep_rt = cluster.rt("Service"), cluster.rt("Endpoints")
        changes = self._feed.take(cluster)
        if changes is None:
            services: Iterable[Entry] = list(store.entries(svc_rt))
            looked: set[tuple[str, str]] | None = None  # every Service
        else:
            looked = {
                (e.obj["metadata"].get("namespace", ""), e.obj["metadata"]["name"])
                for e in changes
                if e.rtype.key in (svc_rt.key, ep_rt.key)
            }
            if not looked:
                return
            found = [store.entry(svc_rt, *key) for key in looked]
            services = sorted((e for e in found if e is not None), key=lambda e: e.seq)
        live: set[tuple[str, str]] = set()
        for entry in services:
            svc = entry.obj
            meta = svc["metadata"]
            if not (svc.get("spec") or {}).get("selector"):
                continue
            key = (meta["namespace"], meta["name"])
            ep = store.find(ep_rt, *key)
            if ep is None:
                continue
            live.add(key)
            version = (meta["resourceVersion"], ep["metadata"]["resourceVersion"])
            if self._synced.get(key) == version:
                continue
            self._sync(cluster, svc, ep)
            self._synced[key] = version
        for key in [k for k in self._synced if k not in live and (looked is None or k in looked)]:
            del self._synced[key]

    def _sync(self, cluster: Cluster, svc: dict, ep: dict) -> None:
        store = cluster.store
        rt = cluster.rt("EndpointSlice")
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        wanted = {s["metadata"]["name"]: s for s in slices_for(svc, ep)}
        for current in store.list(rt, ns):
            labels = current["metadata"].get("labels") or {}
            if labels.get(SERVICE_NAME_LABEL) != name or labels.get(MANAGED_BY) != CONTROLLER:
                continue
            want = wanted.pop(current["metadata"]["name"], None)
            if want is None:
                store.delete(rt, ns, current["metadata"]["name"])
            elif (current.get("endpoints"), current.get("ports"), labels) != (
                want["endpoints"],
                want["ports"],
                want["metadata"]["labels"],
            ):

                def write(o: dict, w: dict = want) -> None:
                    o["endpoints"], o["ports"] = w["endpoints"], w["ports"]
                    o["metadata"]["labels"] = w["metadata"]["labels"]

                store.mutate(rt, ns, current["metadata"]["name"], write)
        for want in wanted.values():
            uid = str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"endpointslice/{svc['metadata']['uid']}/{want['metadata']['name']}")
            )
            want["metadata"]["uid"] = store.reserve_uid(uid)
            store.create(rt, want)
