"""Nodes: not Ready, under pressure, cordoned, or tainted so that no pod of the scope tolerates them."""

from __future__ import annotations

from .common import condition, name_of, quote
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot

PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
# Taints Kubernetes itself puts on nodes by role or state; reported only when they strand a pod.
CONVENTIONAL_TAINTS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


@analyzer("Node", reads={"Pod"})
def nodes(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Nodes not Ready or under pressure; cordoned nodes and taints no pod tolerates, weighted by the
    pending pods of the scope they strand."""
    out: list[Finding] = []
    pending = [p for ns in scope.namespaces for p in reads.of("Pod", ns) if _unschedulable(p)]
    for node in reads.of("Node"):
        name = name_of(node)
        ready = condition(node, "Ready")
        if ready is not None and ready.get("status") != "True":
            reason = f"{ready.get('reason', '')}: {quote(ready.get('message'))}"
            line = f"status.conditions[Ready]={ready.get('status')}: {reason}"
            out.append(
                Finding(
                    "Node",
                    None,
                    name,
                    "the node is not Ready: its pods are not running",
                    [line],
                    "high",
                    "status.conditions[Ready]",
                )
            )
        for ctype in PRESSURE:
            c = condition(node, ctype)
            if c is not None and c.get("status") == "True":
                line = f"status.conditions[{ctype}]=True: {quote(c.get('message'))}"
                cause = f"the node reports {ctype}: the kubelet may evict pods"
                out.append(Finding("Node", None, name, cause, [line], "high", f"status.conditions[{ctype}]"))
        spec = node.get("spec") or {}
        stranded = [p for p in pending if _pinned_to(p, node)]
        if spec.get("unschedulable"):
            evidence = ["spec.unschedulable=true (cordoned)"]
            evidence += [
                f"pod {p['metadata'].get('namespace')}/{name_of(p)} is Pending and may only run here"
                for p in stranded[:3]
            ]
            confidence = "high" if stranded else "medium"
            out.append(
                Finding(
                    "Node",
                    None,
                    name,
                    "the node is cordoned: no new pods are scheduled on it",
                    evidence,
                    confidence,
                    "spec.unschedulable",
                )
            )
        out.extend(_taints(node, scope, reads, pending))
    return out


def _unschedulable(pod: dict) -> bool:
    c = condition(pod, "PodScheduled")
    return (pod.get("status") or {}).get("phase") == "Pending" and c is not None and c.get("reason") == "Unschedulable"


def _pinned_to(pod: dict, node: dict) -> bool:
    """True when the pod's nodeSelector/nodeName names this node and only this node by its labels."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName") == name_of(node):
        return True
    selector = spec.get("nodeSelector") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    if selector and all(labels.get(k) == v for k, v in selector.items()):
        return True
    # No preference at all: every cordoned node is one it could have used.
    return not selector and not spec.get("affinity")


def _tolerates(pod: dict, taint: dict) -> bool:
    for t in (pod.get("spec") or {}).get("tolerations") or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t.get("key") == taint.get("key")):
            return True
        if t.get("key") == taint.get("key") and t.get("value", "") == taint.get("value", ""):
            return True
    return False


def _taints(node: dict, scope: Scope, reads: Snapshot, pending: list[dict]) -> list[Finding]:
    out: list[Finding] = []
    pods = [p for ns in scope.namespaces for p in reads.of("Pod", ns)]
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if any(_tolerates(p, taint) for p in pods):
            continue
        key = taint.get("key", "")
        text = f"{key}={taint.get('value', '')}:{taint.get('effect')}"
        blocked = [p for p in pending if key in str((p.get("status") or {}).get("conditions"))]
        if key in CONVENTIONAL_TAINTS and not blocked:
            continue
        confidence = "medium" if blocked and key not in CONVENTIONAL_TAINTS else "low"
        evidence = [f"spec.taints: {text}; no pod in {', '.join(scope.namespaces)} tolerates it"]
        evidence += [
            f"pod {p['metadata'].get('namespace')}/{name_of(p)} is Pending with untolerated taint" for p in blocked[:2]
        ]
        out.append(
            Finding(
                "Node",
                None,
                name_of(node),
                f"taint {text} keeps the scope's pods off the node",
                evidence,
                confidence,
                "spec.taints",
            )
        )
    return out
