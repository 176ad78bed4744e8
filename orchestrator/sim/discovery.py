"""Aggregated discovery (apidiscovery.k8s.io/v2): every group, version and resource in one document.

kubectl 1.32 asks /api and /apis for it first and falls back to one request per group-version when
a server answers plain APIVersions/APIGroupList; answering it saves a round of requests per command.
"""

from __future__ import annotations

from typing import Any

from .resources import Registry, ResourceType

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def wanted(accept: str) -> str | None:
    """The aggregated media type the Accept header asks for first, if any."""
    for part in accept.split(","):
        part = part.replace(" ", "")
        if "as=APIGroupDiscoveryList" in part and "g=apidiscovery.k8s.io" in part:
            return V2 if "v=v2;" in part + ";" and "v=v2beta1" not in part else V2BETA1
    return None


def _resource(t: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": t.plural,
        "responseKind": {"group": t.group, "version": t.version, "kind": t.kind},
        "scope": "Namespaced" if t.namespaced else "Cluster",
        "singularResource": t.singular,
        "verbs": list(t.verbs),
    }
    if t.short_names:
        entry["shortNames"] = list(t.short_names)
    if t.categories:
        entry["categories"] = list(t.categories)
    subs = []
    for sub in t.subresources:
        if sub == "scale":
            kind = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
            verbs = ["get", "patch", "update"]
        elif sub == "log":
            kind, verbs = {"group": "", "version": "v1", "kind": "Pod"}, ["get"]
        else:
            kind, verbs = {"group": t.group, "version": t.version, "kind": t.kind}, ["get", "patch", "update"]
        subs.append({"subresource": sub, "responseKind": kind, "verbs": verbs})
    if subs:
        entry["subresources"] = subs
    return entry


def document(registry: Registry, core: bool, media_type: str) -> dict[str, Any]:
    """The APIGroupDiscoveryList of /api (core) or /apis (named groups)."""
    groups = {"": ["v1"]} if core else registry.groups()
    items = []
    for group, versions in groups.items():
        items.append(
            {
                "metadata": {"name": group} if group else {},
                "versions": [
                    {
                        "version": v,
                        "resources": [_resource(t) for t in registry.in_group_version(group, v)],
                        "freshness": "Current",
                    }
                    for v in versions
                ],
            }
        )
    version = "v2" if media_type == V2 else "v2beta1"
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }
