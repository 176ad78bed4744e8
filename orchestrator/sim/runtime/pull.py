"""Registry answers the catalogue adds to a pull: private registries and image pull secrets.

A registry host the catalogue marks private answers 401 to an anonymous pull. The pod pulls from it
when one of its imagePullSecrets (a kubernetes.io/dockerconfigjson Secret) has credentials for
that host; a listed pull secret that does not exist is reported and skipped, as the kubelet does.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from .catalogue import catalogue_for, repository_of

if TYPE_CHECKING:
    from ..cluster import Cluster


def _secret(cluster: Cluster, namespace: str, name: str) -> dict | None:
    return cluster.store.find(cluster.rt("Secret"), namespace, name)


def missing_pull_secrets(cluster: Cluster, pod: dict) -> list[str]:
    ns = pod["metadata"].get("namespace", "default")
    names = [r.get("name", "") for r in (pod.get("spec") or {}).get("imagePullSecrets") or []]
    return [n for n in names if n and _secret(cluster, ns, n) is None]


def _hosts_with_credentials(cluster: Cluster, pod: dict) -> set[str]:
    ns = pod["metadata"].get("namespace", "default")
    hosts: set[str] = set()
    for ref in (pod.get("spec") or {}).get("imagePullSecrets") or []:
        secret = _secret(cluster, ns, ref.get("name", ""))
        data = (secret or {}).get("data") or {}
        raw = data.get(".dockerconfigjson") or data.get(".dockercfg")
        if not raw:
            continue
        try:
            doc = json.loads(base64.b64decode(raw))
        except (ValueError, TypeError):
            continue
        auths = doc.get("auths", doc) if isinstance(doc, dict) else {}
        for key in auths:
            host = str(key).split("://", 1)[-1].split("/", 1)[0]
            hosts.add("docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host)
    return hosts


def auth_error(cluster: Cluster, pod: dict, image: str, ref: str) -> str | None:
    """containerd's error for an anonymous pull from a private registry (None when it may pull)."""
    repo, tag = repository_of(image)
    if catalogue_for(cluster).lookup(image).status != "unauthorized":
        return None
    host, _, path = repo.partition("/")
    if host in _hosts_with_credentials(cluster, pod):
        return None
    return (
        f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to resolve reference '
        f'"{ref}": unexpected status from HEAD request to https://{host}/v2/{path}/manifests/{tag or "latest"}: '
        "401 Unauthorized"
    )
