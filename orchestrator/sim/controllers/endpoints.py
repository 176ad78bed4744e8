"""Endpoints from Service selectors, pod readiness and targetPort, as the endpoints controller keeps them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..objects import pod_active, pod_ready
from ..selectors import selector_from_spec

if TYPE_CHECKING:
    from ..cluster import Cluster


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


def endpoints_for(cluster: Cluster, svc: dict) -> dict:
    spec = svc.get("spec") or {}
    meta = svc["metadata"]
    body: dict = {
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": dict(meta.get("labels") or {})}
    }
    selector = spec.get("selector")
    if not selector:
        return body  # a Service without a selector has hand-managed endpoints
    sel = selector_from_spec(selector)
    pods = [
        p
        for p in cluster.store.list(cluster.rt("Pod"), meta["namespace"])
        if pod_active(p) and sel.matches(p["metadata"].get("labels") or {}) and (p.get("status") or {}).get("podIP")
    ]
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
    def reconcile(self, cluster: Cluster) -> None:
        store = cluster.store
        ep_rt = cluster.rt("Endpoints")
        services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in store.list(cluster.rt("Service"))}
        for (ns, name), svc in services.items():
            if not (svc.get("spec") or {}).get("selector"):
                continue
            want = endpoints_for(cluster, svc)
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
        # Endpoints of a deleted Service go with it (hand-made ones for selector-less Services stay).
        for ep in store.list(ep_rt):
            key = (ep["metadata"]["namespace"], ep["metadata"]["name"])
            if key not in services:
                store.delete(ep_rt, key[0], key[1])
