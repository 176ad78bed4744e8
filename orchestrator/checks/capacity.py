"""Capacity checks: nodes take pods, quotas admit them, autoscalers are not pinned at their limit."""

from __future__ import annotations

from typing import Any

from .kube import condition, meta, quantity, spec, status
from .registry import Context, Outcome, check
from .relations import workloads_in
from .targets import Target
from .text import count, listed
from .workloads import rollout_state


# ---------------------------------------------------------------------------------------------- nodes
def node_problems(node: dict) -> list[str]:
    problems = []
    if spec(node).get("unschedulable"):
        problems.append("cordoned (spec.unschedulable)")
    ready = condition(node, "Ready")
    if ready.get("status") != "True":
        problems.append(
            f"Ready={ready.get('status', 'Unknown')}" + (f" ({ready['reason']})" if ready.get("reason") else "")
        )
    return problems


@check("node_schedulable", kinds={"Node"}, namespace=True)
def node_schedulable(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """The node (for a namespace: every node) is Ready and not cordoned."""
    assert target is not None
    nodes = ctx.subjects("Node", target)
    if nodes is None:
        return Outcome(False, {"exists": False}, f"{target} not found")
    bad = {meta(n).get("name"): p for n in nodes if (p := node_problems(n))}
    value = {"nodes": len(nodes), "unschedulable": bad}
    if bad:
        lines = [f"{name}: {', '.join(p)}" for name, p in bad.items()]
        return Outcome(
            False, value, f"{target}: {len(bad)}/{count(len(nodes), 'node')} cannot take pods: {listed(lines)}"
        )
    return Outcome(True, value, f"{target}: {count(len(nodes), 'node')} Ready and schedulable")


PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure")
PRESSURE_TAINTS = (
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
)


def pressure_problems(node: dict) -> list[str]:
    """The pressure conditions the kubelet reports True, and the taints they leave until they clear."""
    problems = []
    for ctype in PRESSURES:
        c = condition(node, ctype)
        if c.get("status") == "True":
            problems.append(f"{ctype}=True" + (f" ({c['reason']})" if c.get("reason") else ""))
    for taint in spec(node).get("taints") or []:
        if taint.get("key") in PRESSURE_TAINTS:
            problems.append(f"taint {taint['key']}:{taint.get('effect')}")
    return problems


@check("node_pressure_cleared", kinds={"Node"}, namespace=True, untargeted=True)
def node_pressure_cleared(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """No MemoryPressure, DiskPressure or PIDPressure condition is True on the node (for a namespace or
    without a target: on any node), and no pressure taint is left."""
    nodes = ctx.subjects("Node", target)
    if nodes is None:
        return Outcome(False, {"exists": False}, f"{target} not found")
    scope = str(target) if target is not None else "the cluster"
    bad = {meta(n).get("name"): p for n in nodes if (p := pressure_problems(n))}
    value = {"nodes": len(nodes), "under_pressure": bad}
    if bad:
        lines = [f"{name}: {', '.join(p)}" for name, p in bad.items()]
        return Outcome(False, value, f"{scope}: {len(bad)}/{count(len(nodes), 'node')} under pressure: {listed(lines)}")
    return Outcome(True, value, f"{scope}: no pressure on {count(len(nodes), 'node')}")


# ---------------------------------------------------------------------------------------------- quotas
def quota_problems(quota: dict) -> tuple[dict, list[str]]:
    hard = status(quota).get("hard") or spec(quota).get("hard") or {}
    used = status(quota).get("used") or {}
    rows, problems = {}, []
    name = meta(quota).get("name")
    for resource, limit in hard.items():
        rows[resource] = {"used": used.get(resource), "hard": limit}
        if resource not in used:
            problems.append(f"quota {name}: {resource} usage not reported yet")
            continue
        u, h = quantity(used[resource]), quantity(limit)
        if u is None or h is None:
            problems.append(f"quota {name}: {resource} has an unreadable quantity")
        elif u > h:
            problems.append(f"quota {name}: {resource} used {used[resource]} > hard {limit}")
    return rows, problems


@check("quota_admits_pods", kinds={"ResourceQuota"}, namespace=True)
def quota_admits_pods(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """Every ResourceQuota of the namespace (or the one named) has used <= hard, and every Deployment and
    StatefulSet of the namespace has all its replicas ready (a quota that rejects pods shows as unready
    workloads). A deleted quota admits everything."""
    assert target is not None
    if target.kind == "ResourceQuota":
        quota = ctx.reads.get("ResourceQuota", target.namespace, target.name or "")
        quotas = [quota] if quota is not None else []
    else:
        quotas = ctx.reads.list("ResourceQuota", target.namespace)
    rows, problems = {}, []
    for q in quotas:
        rows[meta(q).get("name")], found = quota_problems(q)
        problems += found
    unready = []
    for w in workloads_in(ctx.reads, target.namespace or "", ("Deployment", "StatefulSet")):
        counts, _ = rollout_state(w)
        if counts["ready"] != counts["desired"]:
            unready.append(f"{w['kind']} {meta(w).get('name')}: {counts['ready']}/{counts['desired']} ready")
    value: dict[str, Any] = {"quotas": rows, "unready_workloads": unready}
    if target.kind == "ResourceQuota" and not quotas:
        value["exists"] = False
    if problems or unready:
        return Outcome(False, value, f"{target}: {listed(problems + unready)}")
    what = f"{count(len(quotas), 'quota')} within hard limits" if quotas else "no quota in force"
    return Outcome(True, value, f"{target}: {what}, every workload has its replicas ready")


# ---------------------------------------------------------------------------------------------- autoscalers
@check("hpa_within_limits", kinds={"HorizontalPodAutoscaler"})
def hpa_within_limits(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """minReplicas <= maxReplicas; desired replicas within [min, max]; not ScalingLimited by
    TooManyReplicas; and not pinned at maxReplicas (unless min == max)."""
    assert target is not None
    hpa = ctx.reads.get("HorizontalPodAutoscaler", target.namespace, target.name or "")
    if hpa is None:
        return Outcome(False, {"exists": False}, f"{target} not found")
    lo = int(spec(hpa).get("minReplicas") or 1)
    hi = int(spec(hpa).get("maxReplicas") or 0)
    current = int(status(hpa).get("currentReplicas") or 0)
    desired = int(status(hpa).get("desiredReplicas") or 0)
    limited = condition(hpa, "ScalingLimited")
    value = {
        "min": lo,
        "max": hi,
        "current": current,
        "desired": desired,
        "scaling_limited": f"{limited.get('status', 'Unknown')}/{limited.get('reason', '')}".rstrip("/"),
    }
    problems = []
    if lo > hi:
        problems.append(f"minReplicas {lo} > maxReplicas {hi}")
    if not lo <= desired <= hi:
        problems.append(f"desired {desired} outside [{lo}, {hi}]")
    if limited.get("status") == "True" and limited.get("reason") == "TooManyReplicas":
        problems.append("ScalingLimited=True (TooManyReplicas): it wants more than maxReplicas")
    if current >= hi and hi > lo:
        problems.append(f"pinned at maxReplicas ({current}/{hi})")
    if problems:
        return Outcome(False, value, f"{target}: {', '.join(problems)}")
    return Outcome(True, value, f"{target}: {current} replicas (desired {desired}) within [{lo}, {hi}]")
