"""Ingress: the controller model that publishes an address, and backend resolution as a proxy sees it.

The simulated cluster runs an ingress controller for every IngressClass that exists (its pods are not
modelled): an Ingress of such a class (or of the default class) gets the first worker's address in
status.loadBalancer, as ingress-nginx on kind does; an Ingress of an absent class is left alone, as no
controller claims it. `resolve_backends` says, per rule path, which Service and port a request would
reach and why it would fail (no Service, no such port, no ready endpoints): the traffic figures read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..admission_kinds import DEFAULT_INGRESS_CLASS

if TYPE_CHECKING:
    from ..cluster import Cluster


@dataclass(frozen=True)
class Backend:
    host: str  # "*" for any host
    path: str
    path_type: str
    service: str
    port: str  # number or name, as written
    target_port: int | None = None  # the Service port's number once resolved
    endpoints: tuple[str, ...] = field(default=())  # ready ip:port
    error: str | None = None  # why a request to this path fails, in the proxy's words


def ingress_class_of(cluster: Cluster, ing: dict) -> dict | None:
    name = (ing.get("spec") or {}).get("ingressClassName") or (ing["metadata"].get("annotations") or {}).get(
        "kubernetes.io/ingress.class"
    )
    classes = cluster.store.list(cluster.rt("IngressClass"))
    if name:
        return next((c for c in classes if c["metadata"]["name"] == name), None)
    marked = [c for c in classes if (c["metadata"].get("annotations") or {}).get(DEFAULT_INGRESS_CLASS) == "true"]
    return marked[0] if marked else None


def _paths(ing: dict) -> list[tuple[str, str, str, dict]]:
    spec = ing.get("spec") or {}
    out = []
    for rule in spec.get("rules") or []:
        for p in (rule.get("http") or {}).get("paths") or []:
            out.append(
                (rule.get("host") or "*", p.get("path") or "/", p.get("pathType", "Prefix"), p.get("backend") or {})
            )
    if spec.get("defaultBackend"):
        out.append(("*", "/", "Prefix", spec["defaultBackend"]))
    return out


def resolve_backends(cluster: Cluster, ing: dict) -> list[Backend]:
    ns = ing["metadata"]["namespace"]
    out = []
    for host, path, path_type, backend in _paths(ing):
        svc_ref = backend.get("service") or {}
        name = str(svc_ref.get("name") or "")
        port_ref = svc_ref.get("port") or {}
        port_text = str(port_ref.get("number") if port_ref.get("number") is not None else port_ref.get("name", ""))
        if not svc_ref:
            out.append(Backend(host, path, path_type, "", "", error="resource backend (not served by the proxy)"))
            continue
        svc = cluster.store.find(cluster.rt("Service"), ns, name)
        if svc is None:
            out.append(Backend(host, path, path_type, name, port_text, error=f'service "{ns}/{name}" not found'))
            continue
        sport = next(
            (
                p
                for p in (svc.get("spec") or {}).get("ports") or []
                if (port_ref.get("number") is not None and p.get("port") == port_ref.get("number"))
                or (port_ref.get("name") and p.get("name") == port_ref.get("name"))
            ),
            None,
        )
        if sport is None:
            missing = f'service "{ns}/{name}" does not have port {port_text}'
            out.append(Backend(host, path, path_type, name, port_text, error=missing))
            continue
        endpoints = _ready_endpoints(cluster, ns, name, sport)
        error = None if endpoints else f'service "{ns}/{name}" does not have any active endpoint'
        out.append(Backend(host, path, path_type, name, port_text, sport.get("port"), endpoints, error))
    return out


def _ready_endpoints(cluster: Cluster, ns: str, name: str, sport: dict) -> tuple[str, ...]:
    ep = cluster.store.find(cluster.rt("Endpoints"), ns, name)
    out = []
    for subset in (ep or {}).get("subsets") or []:
        ports = subset.get("ports") or []
        match = [p for p in ports if p.get("name", "") == sport.get("name", "")] or ports[:1]
        for addr in subset.get("addresses") or []:
            for p in match:
                out.append(f"{addr['ip']}:{p['port']}")
    return tuple(sorted(out))


class IngressController:
    """Publishes the controller's address on the Ingresses a running ingress controller serves."""

    def reconcile(self, cluster: Cluster) -> None:
        ingresses = cluster.store.list(cluster.rt("Ingress"))
        if not ingresses:
            return
        address = self._address(cluster)
        for ing in ingresses:
            served = ingress_class_of(cluster, ing) is not None and address is not None
            lb = {"ingress": [{"ip": address}]} if served else {}
            status = {"loadBalancer": lb}
            if (ing.get("status") or {}) == status:
                continue

            def put(o: dict, status: dict = status) -> None:
                o["status"] = status

            meta = ing["metadata"]
            cluster.store.mutate(cluster.rt("Ingress"), meta["namespace"], meta["name"], put, status=True)

    def _address(self, cluster: Cluster) -> str | None:
        nodes = sorted(cluster.store.list(cluster.rt("Node")), key=lambda n: n["metadata"]["name"])
        workers = [
            n for n in nodes if "node-role.kubernetes.io/control-plane" not in (n["metadata"].get("labels") or {})
        ]
        for node in workers or nodes:
            for a in (node.get("status") or {}).get("addresses") or []:
                if a.get("type") == "InternalIP":
                    return str(a["address"])
        return None
