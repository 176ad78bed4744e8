"""Requests through Ingresses, as ingress-nginx counts them (`nginx_ingress_controller_requests`).

The users of an installed application reach it through every Ingress a running controller serves in
its namespace: the application's user rate (its load's requestsPerSecond) is spread evenly over the
Ingress's paths. A path whose backend does not resolve (no Service, no such port, no ready endpoint)
answers 503, as ingress-nginx does; otherwise the backend's own error share (from the traffic model)
answers 500 and the rest 200.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .controllers.ingress import ingress_class_of, resolve_backends

if TYPE_CHECKING:
    from .cluster import Cluster


@dataclass(frozen=True)
class PathRate:
    labels: dict[str, str]  # ingress, namespace, host, path, service, controller_class
    ok: float  # requests per second answered 2xx
    errors: float  # answered 5xx
    status: str  # the 5xx code errors carry


def ingress_rates(cluster: Cluster) -> list[PathRate]:
    out: list[PathRate] = []
    for ing in cluster.store.list(cluster.rt("Ingress")):
        ns = ing["metadata"]["namespace"]
        app = cluster.application_for(ns)
        klass = ingress_class_of(cluster, ing)
        if app is None or klass is None or app.requests_per_second <= 0:
            continue
        backends = resolve_backends(cluster, ing)
        if not backends:
            continue
        share = app.requests_per_second / len(backends)
        for b in backends:
            labels = {
                "controller_class": str((klass.get("spec") or {}).get("controller", "")),
                "namespace": ns,
                "ingress": ing["metadata"]["name"],
                "host": b.host,
                "path": b.path,
                "service": b.service,
            }
            if b.error:
                out.append(PathRate(labels, 0.0, share, "503"))
                continue
            model = app.service(b.service)
            ratio = cluster.traffic.stats(ns, model.name).error_ratio if model else 0.0
            out.append(PathRate(labels, share * (1 - ratio), share * ratio, "500"))
    return out
