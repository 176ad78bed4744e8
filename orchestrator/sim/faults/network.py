"""Network faults: DNS, NetworkPolicies, Services and the Secrets callers authenticate with.

The traffic model resolves every call from the live objects (the caller pod's DNS settings, the
Service's ports and selector, Endpoints, NetworkPolicies, Secret data), so changing those objects is
all it takes for callers to fail, and restoring them is all it takes to heal.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import TYPE_CHECKING, Any

from ..selectors import selector_from_spec
from . import FaultError, fault
from .workload import create, load, load_target, pod_spec, save, target_ref, who

if TYPE_CHECKING:
    from ..cluster import Cluster

# TEST-NET-1 (RFC 5737): routable nowhere, so queries sent there simply time out.
UNANSWERED_NAMESERVER = "192.0.2.53"


# ============================================================================================ DNS
@fault("failing-name-resolution-kubernetes-workload-dns-policy", 4)
def failing_name_resolution(cluster: Cluster, args: dict) -> list[str]:
    # The catalogue's solutions edit or delete an Istio AuthorizationPolicy `<name>-deny`, which does not
    # exist on plain Kubernetes. Here the fault is the pod's DNS configuration, so the fix is
    # `kubectl rollout undo` or editing the workload back to `dnsPolicy: ClusterFirst` without dnsConfig.
    workload = load_target(cluster, args)
    ns = workload["metadata"]["namespace"]
    spec = pod_spec(workload)
    before = spec.get("dnsPolicy", "ClusterFirst")
    spec["dnsPolicy"] = "None"
    spec["dnsConfig"] = {
        "nameservers": [UNANSWERED_NAMESERVER],
        "searches": [f"{ns}.svc.cluster.local", "svc.cluster.local", "cluster.local"],
        "options": [{"name": "ndots", "value": "5"}],
    }
    save(cluster, workload)
    return [
        f"{who(workload)}: dnsPolicy {before} -> None with dnsConfig nameserver {UNANSWERED_NAMESERVER} "
        "(nothing answers there: every outgoing name lookup times out)"
    ]


# ============================================================================================ policies
@fault("ingress-port-blocking-network-policy", 6)
def ingress_port_blocking_network_policy(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    ns, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
    labels = dict(((workload["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})
    if not labels:
        raise FaultError(f"{who(workload)} has no pod template labels to select")
    policy: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{name}-ingress", "namespace": ns},
        # An Ingress policy with no rules: the selected pods accept no connection on any port. (ITBench
        # writes `ingress: [{ports: []}]`, which the API defines as "all ports from everywhere".)
        "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"], "ingress": []},
    }
    rt = cluster.rt("NetworkPolicy")
    existing = cluster.store.find(rt, ns, policy["metadata"]["name"])
    if existing is not None:
        replaced = copy.deepcopy(existing)
        replaced["spec"] = policy["spec"]
        save(cluster, replaced)
    else:
        create(cluster, policy)
    ports = sorted(
        {p.get("containerPort") for c in pod_spec(workload).get("containers") or [] for p in c.get("ports") or []}
        - {None}
    )
    return [
        f"networkpolicy {ns}/{name}-ingress: selects {who(workload)}'s pods ({', '.join(f'{k}={v}' for k, v in labels.items())}) "
        f"and allows no ingress (its ports {', '.join(map(str, ports)) or 'none'} are blocked)"
    ]


# ============================================================================================ services
def _load_service(cluster: Cluster, args: dict) -> dict:
    _, ns, name = target_ref(args)  # validate_fault has checked the kind is Service
    return load(cluster, "Service", ns, name)


@fault("modified-target-port-kubernetes-service", 14, targets=("Service",), requires=("targetPort",))
def modified_target_port(cluster: Cluster, args: dict) -> list[str]:
    svc = _load_service(cluster, args)
    try:
        target_port = int(args["targetPort"])
    except (TypeError, ValueError) as err:
        raise FaultError(
            f"fault modified-target-port-kubernetes-service: args.targetPort must be an integer, not {args['targetPort']!r}"
        ) from err
    ports = (svc.get("spec") or {}).get("ports") or []
    if not ports:
        raise FaultError(f"{who(svc)} has no ports")
    changes = []
    for p in ports:
        before = p.get("targetPort", p.get("port"))
        p["targetPort"] = target_port
        changes.append(f"{who(svc)}: port {p.get('name') or p.get('port')} targetPort {before} -> {target_port}")
    save(cluster, svc)
    return changes


@fault("invalid-kubernetes-service-selector", 29, targets=("Service",))
def invalid_service_selector(cluster: Cluster, args: dict) -> list[str]:
    svc = _load_service(cluster, args)
    ns = svc["metadata"]["namespace"]
    before = dict((svc.get("spec") or {}).get("selector") or {})
    if not before:
        raise FaultError(f"{who(svc)} has no selector")
    # The same keys with values no pod carries: a typo'd label, so the Service selects nothing.
    after = {k: f"{v}-invalid" for k, v in before.items()}
    pods = cluster.store.list(cluster.rt("Pod"), ns)
    while any(selector_from_spec(after).matches(p["metadata"].get("labels") or {}) for p in pods):
        after = {k: f"{v}-x" for k, v in after.items()}
    svc["spec"]["selector"] = after
    save(cluster, svc)
    return [f"{who(svc)}: selector {before} -> {after} (matches no pod)"]


MANIFEST_MARKER = "manifest: "


@fault("deleted-kubernetes-service", 30, targets=("Service",))
def deleted_service(cluster: Cluster, args: dict) -> list[str]:
    svc = _load_service(cluster, args)
    ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
    manifest = _manifest(svc)
    cluster.store.delete(cluster.rt("Service"), ns, name)
    # The manifest as the application's chart declares it, so it can be re-created "with the expected
    # values" (the catalogue's fix) from this record: parse the JSON after MANIFEST_MARKER.
    return [
        f"deleted service {ns}/{name}",
        f"{MANIFEST_MARKER}{json.dumps(manifest, separators=(',', ':'), sort_keys=True)}",
    ]


def _manifest(svc: dict) -> dict:
    """A Service as one would apply it: no server-set metadata, status or allocated IPs."""
    meta = svc["metadata"]
    out_meta = {k: copy.deepcopy(meta[k]) for k in ("name", "namespace", "labels", "annotations") if meta.get(k)}
    spec = copy.deepcopy(svc.get("spec") or {})
    for k in ("clusterIP", "clusterIPs"):
        spec.pop(k, None)
    return {"apiVersion": "v1", "kind": "Service", "metadata": out_meta, "spec": spec}


# ============================================================================================ secrets
@fault("corrupted-kubernetes-secret-credentials", 36, targets=("Secret",))
def corrupted_secret(cluster: Cluster, args: dict) -> list[str]:
    _, ns, name = target_ref(args)
    secret = load(cluster, "Secret", ns, name)
    data = dict(secret.get("data") or {})
    if not data:
        raise FaultError(f"{who(secret)} has no data to corrupt")
    # Every key gets random garbage of the same shape a bad rotation writes. Pods keep what they already
    # read; whoever reads the Secret from now on (clients authenticating with it) presents junk.
    secret["data"] = {k: base64.b64encode(cluster.store.random_suffix(24).encode()).decode() for k in data}
    secret.pop("stringData", None)
    save(cluster, secret)
    return [f"{who(secret)}: data {', '.join(sorted(data))} replaced with random invalid credentials"]
