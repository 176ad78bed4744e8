"""NetworkPolicies that isolate pods for ingress and then admit none of their callers.

Callers are the other pods of the namespace when a Service selects the isolated pods (a Service exists to
be called). A caller is admitted when some policy selecting the target has an ingress rule whose `from`
matches it and whose ports include the port it is called on. `ipBlock` and selectors over namespaces the
reader did not fetch are given the benefit of the doubt: only a policy that certainly denies is reported.
"""

from __future__ import annotations

from .common import name_of, owner_ref
from .finding import Finding
from .registry import analyzer
from .selectors import describe, matches, matches_map
from .snapshot import Scope, Snapshot


@analyzer(
    "NetworkPolicy", reads={"Pod", "Service", "Namespace", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet"}
)
def network_policies(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Ingress policies that leave the pods they select unreachable from their callers."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        policies = [p for p in reads.of("NetworkPolicy", ns) if _isolates_ingress(p)]
        for policy in policies:
            f = _policy(reads, ns, policy, policies)
            if f is not None:
                out.append(f)
    return out


def _isolates_ingress(policy: dict) -> bool:
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes")
    return "Ingress" in types if types else True  # no policyTypes: Ingress always, Egress if rules exist


def _policy(reads: Snapshot, ns: str, policy: dict, policies: list[dict]) -> Finding | None:
    selector = (policy.get("spec") or {}).get("podSelector") or {}
    targets = reads.pods(ns, selector)
    if not targets:
        return None
    services = [
        s
        for s in reads.of("Service", ns)
        if any(matches_map((s.get("spec") or {}).get("selector"), _labels(t)) for t in targets)
    ]
    if not services:
        return None  # nothing is meant to call these pods through a Service
    target = targets[0]
    applying = [p for p in policies if matches((p.get("spec") or {}).get("podSelector") or {}, _labels(target))]
    callers = [p for p in reads.of("Pod", ns) if p not in targets]
    ports = _called_ports(services, target)
    denied = [c for c in callers if not any(_admits(reads, p, c, ns, ports) for p in applying)]
    if callers and len(denied) < len(callers):
        return None
    rules = (policy.get("spec") or {}).get("ingress") or []
    svc_names = ", ".join(name_of(s) for s in services)
    evidence = [
        f"spec.podSelector={describe(selector)} selects {len(targets)} pod(s), e.g. {name_of(target)}",
        f"spec.ingress has {len(rules)} rule(s)" + ("" if rules else ": every ingress connection is denied"),
        f"Service(s) {svc_names} send traffic to those pods on port(s) {_ports(ports)}",
    ]
    if callers:
        evidence.append(f"none of the {len(callers)} other pod(s) of {ns} is admitted, e.g. {name_of(callers[0])}")
    cause = "the policy isolates the pods for ingress and admits none of their callers"
    return Finding(
        "NetworkPolicy", ns, name_of(policy), cause, evidence, "high", "spec.ingress", owner_ref(reads, target)
    )


def _labels(pod: dict) -> dict:
    return (pod.get("metadata") or {}).get("labels") or {}


def _called_ports(services: list[dict], target: dict) -> set[int | str]:
    """The container ports the Services deliver to (numbers, or names resolved against the target)."""
    named = {
        cp.get("name"): cp.get("containerPort")
        for c in (target.get("spec") or {}).get("containers") or []
        for cp in c.get("ports") or []
    }
    ports: set[int | str] = set()
    for s in services:
        for p in (s.get("spec") or {}).get("ports") or []:
            tp = p.get("targetPort", p.get("port"))
            if isinstance(tp, str) and not tp.isdigit():
                ports.add(named.get(tp) or tp)
            elif tp is not None:
                ports.add(int(tp))
    return ports


def _admits(reads: Snapshot, policy: dict, caller: dict, ns: str, ports: set[int | str]) -> bool:
    for rule in (policy.get("spec") or {}).get("ingress") or []:
        if not _port_allowed(rule.get("ports"), ports):
            continue
        peers = rule.get("from")
        if not peers:
            return True  # no `from`: every source
        for peer in peers:
            if "ipBlock" in peer:
                return True  # pod IPs may fall in the block; not provably denied
            pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
            if ns_sel is not None and not _namespace_matches(reads, ns_sel, ns):
                continue
            if pod_sel is None or matches(pod_sel, _labels(caller)):
                return True
    return False


def _namespace_matches(reads: Snapshot, selector: dict, ns: str) -> bool:
    if not selector:
        return True
    obj = reads.find("Namespace", None, ns)
    if obj is None:
        return True  # namespace labels not read: cannot prove a denial
    labels = dict((obj.get("metadata") or {}).get("labels") or {})
    labels.setdefault("kubernetes.io/metadata.name", ns)
    return matches(selector, labels)


def _port_allowed(rule_ports: list[dict] | None, ports: set[int | str]) -> bool:
    if not rule_ports or not ports:
        return True
    for rp in rule_ports:
        port = rp.get("port")
        if port is None:
            return True
        end = rp.get("endPort")
        for p in ports:
            if p == port or (isinstance(p, int) and isinstance(port, int) and end and port <= p <= end):
                return True
    return False


def _ports(ports: set[int | str]) -> str:
    return ", ".join(map(str, sorted(ports, key=str))) or "any"
