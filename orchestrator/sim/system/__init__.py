"""kube-system as a kind cluster has it: CoreDNS, kube-proxy, kindnet and the control plane's static pods.

Off by default, so the embedded scenario library and the calibrated bench keep the cluster they were
tuned with; `sre-agent sim serve` turns it on, so `kubectl get pods -A`, cluster DNS and kube-prometheus'
per-namespace records look as they do on a real cluster. The components are data
(`kube-system.yaml`); this module only places them.
"""

from __future__ import annotations

import copy
from importlib import resources
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from ..cluster import Cluster

MANIFEST = "kube-system.yaml"


def _manifest() -> dict:
    return yaml.safe_load(resources.files(__name__).joinpath(MANIFEST).read_text())


def install_system(cluster: Cluster, control_plane: str) -> None:
    """Create the components; called while the control plane is the only node, so the scheduler puts
    CoreDNS there as kind's does."""
    doc = _manifest()
    for obj in doc.get("objects") or []:
        cluster.apply(copy.deepcopy(obj))
    node = cluster.store.get(cluster.rt("Node"), "", control_plane)
    for spec in doc.get("static_pods") or []:
        cluster.apply(_static_pod(spec, node))


def _static_pod(spec: dict, node: dict) -> dict:
    """A kubelet mirror pod: named after its node, owned by it, critical, on the host network."""
    name = node["metadata"]["name"]
    container: dict = {"name": spec["name"], "image": spec["image"], "command": list(spec.get("command") or [])}
    if spec.get("requests"):
        container["resources"] = {"requests": dict(spec["requests"])}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{spec['name']}-{name}",
            "namespace": "kube-system",
            "labels": {"component": spec["name"], "tier": "control-plane"},
            "annotations": {"kubernetes.io/config.source": "file"},
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"]["uid"], "controller": True}
            ],
        },
        "spec": {
            "nodeName": name,
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "priority": 2000001000,
            "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
            "containers": [container],
        },
    }
