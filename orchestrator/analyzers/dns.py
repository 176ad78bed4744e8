"""Pod DNS settings that leave a workload unable to resolve names: `dnsPolicy: None` without a usable
nameserver (none, or only addresses reserved for documentation, RFC 5737, which route nowhere)."""

from __future__ import annotations

import ipaddress

from .common import name_of, ns_of, pod_spec, template_owners
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot

UNROUTABLE = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]


@analyzer("Pod", name="pod_dns", reads={"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"})
def pod_dns(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Pod templates whose DNS configuration cannot resolve anything."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        for kind, obj in template_owners(reads, ns):
            spec = pod_spec(obj)
            if spec.get("dnsPolicy") != "None":
                continue
            servers = list((spec.get("dnsConfig") or {}).get("nameservers") or [])
            prefix = "spec." if kind == "Pod" else "spec.template.spec."
            evidence = [f"{prefix}dnsPolicy=None", f"{prefix}dnsConfig.nameservers={servers or '[]'}"]
            if not servers:
                cause = "dnsPolicy None with no nameservers: the pods cannot resolve any name"
            elif all(_unroutable(s) for s in servers):
                cause = (
                    f"dnsPolicy None sends every lookup to {', '.join(servers)}, "
                    "a documentation address no resolver answers on"
                )
            else:
                cause = (
                    "dnsPolicy None bypasses cluster DNS: "
                    "Service names resolve only if the nameservers serve the cluster domain"
                )
                out.append(Finding(kind, ns_of(obj), name_of(obj), cause, evidence, "low", prefix + "dnsConfig"))
                continue
            field = prefix + "dnsConfig.nameservers"
            out.append(
                Finding(kind, ns_of(obj), name_of(obj), cause, evidence, "high", field, fix=_cluster_dns(kind, obj))
            )
    return out


def _cluster_dns(kind: str, obj: dict) -> dict | None:
    """Back to the pods' default policy, cluster DNS (ClusterFirst), without the nameservers that answer
    nothing; the rest of dnsConfig (searches, options) still applies under ClusterFirst. Only for a
    template its controller rolls out again."""
    if kind not in ("Deployment", "StatefulSet", "DaemonSet"):
        return None
    patch = {"spec": {"template": {"spec": {"dnsPolicy": "ClusterFirst", "dnsConfig": {"nameservers": None}}}}}
    args = {"kind": kind, "name": name_of(obj), "namespace": ns_of(obj), "patch_type": "merge", "patch": patch}
    return {"action": "patch", "args": args, "rationale": "the cluster DNS policy resolves Service names again"}


def _unroutable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in UNROUTABLE)
