"""Namespace housekeeping: a default ServiceAccount in each, and removal once a Terminating one is empty."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..cluster import Cluster


class NamespaceController:
    def reconcile(self, cluster: Cluster) -> None:
        store = cluster.store
        sa_rt = cluster.rt("ServiceAccount")
        for ns in store.list(cluster.rt("Namespace")):
            name = ns["metadata"]["name"]
            if ns["metadata"].get("deletionTimestamp"):
                # Contents were removed with the delete; drop the finalizer so the namespace goes away.
                store.mutate(
                    cluster.rt("Namespace"),
                    "",
                    name,
                    lambda o: o["metadata"].pop("finalizers", None) or o.get("spec", {}).pop("finalizers", None),
                )
                if store.find(cluster.rt("Namespace"), "", name) is not None:
                    store.delete(cluster.rt("Namespace"), "", name)
                continue
            if (ns.get("status") or {}).get("phase") != "Active":
                store.mutate(
                    cluster.rt("Namespace"),
                    "",
                    name,
                    lambda o: o.__setitem__("status", {"phase": "Active"}),
                    status=True,
                )
            if store.find(sa_rt, name, "default") is None:
                store.create(sa_rt, {"metadata": {"name": "default", "namespace": name}})
