"""Service checks: the Service selects running pods, its target ports are ports they declare, and its
Endpoints carry ready addresses."""

from __future__ import annotations

from .kube import container_ports, meta, spec, status
from .registry import Context, Outcome, check
from .relations import pods_of_service, services_of
from .targets import WORKLOAD_KINDS, Target
from .text import count, listed


def _endpoint_counts(ctx: Context, namespace: str | None, name: str) -> dict | None:
    ep = ctx.reads.get("Endpoints", namespace, name)
    if ep is None:
        return None
    subsets = ep.get("subsets") or []
    return {
        "ready": sum(len(s.get("addresses") or []) for s in subsets),
        "not_ready": sum(len(s.get("notReadyAddresses") or []) for s in subsets),
    }


@check("endpoints_ready", kinds={"Service", *WORKLOAD_KINDS})
def endpoints_ready(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """The Service's Endpoints have at least one ready address; for a workload, every Service selecting
    its pods does."""
    assert target is not None
    if target.kind == "Service":
        names = [target.name or ""]
        if ctx.reads.get("Service", target.namespace, target.name or "") is None:
            return Outcome(False, {"exists": False}, f"{target} not found")
    else:
        workload = ctx.reads.get(target.kind or "", target.namespace, target.name or "")
        if workload is None:
            return Outcome(False, {"exists": False}, f"{target} not found")
        names = [meta(s).get("name") or "" for s in services_of(ctx.reads, workload)]
        if not names:
            return Outcome(True, {"services": {}}, f"{target}: no Service selects its pods, no endpoints to serve")
    counts = {name: _endpoint_counts(ctx, target.namespace, name) for name in names}
    missing = [f"Service {n}: no Endpoints object" for n, c in counts.items() if c is None]
    empty = [f"Service {n}: 0 ready ({c['not_ready']} not ready)" for n, c in counts.items() if c and not c["ready"]]
    value = (counts[names[0]] or {"endpoints": False}) if target.kind == "Service" else {"services": counts}
    if missing or empty:
        return Outcome(False, value, f"{target}: {listed(missing + empty)}")
    summary = ", ".join(f"{n} {c['ready']} ready" for n, c in counts.items() if c)
    return Outcome(True, value, f"{target}: endpoints {summary}")


def _service(ctx: Context, target: Target) -> dict | None:
    return ctx.reads.get("Service", target.namespace, target.name or "")


@check("service_selects_pods", kinds={"Service"})
def service_selects_pods(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """The Service has a non-empty selector that matches at least one Running pod."""
    assert target is not None
    svc = _service(ctx, target)
    if svc is None:
        return Outcome(False, {"exists": False}, f"{target} not found")
    selector = spec(svc).get("selector") or {}
    if not selector:
        return Outcome(False, {"selector": {}}, f"{target}: the selector is empty, it selects no pod")
    pods = pods_of_service(ctx.reads, svc)
    running = [p for p in pods if status(p).get("phase") == "Running"]
    value = {"selector": selector, "matching_pods": len(pods), "running_pods": len(running)}
    text = ",".join(f"{k}={v}" for k, v in selector.items())
    if not running:
        return Outcome(False, value, f"{target}: selector {text} matches {count(len(pods), 'pod')}, none Running")
    return Outcome(True, value, f"{target}: selector {text} matches {count(len(running), 'Running pod')}")


def _port_text(port: dict) -> str:
    return f"{port.get('containerPort')}/{port['name']}" if port.get("name") else str(port.get("containerPort"))


def _port_matches(target_port: int | str, declared: list[dict]) -> bool:
    if isinstance(target_port, int) or str(target_port).isdigit():
        return any(p.get("containerPort") == int(target_port) for p in declared)
    return any(p.get("name") == target_port for p in declared)


@check("service_ports_match", kinds={"Service"})
def service_ports_match(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """Every targetPort (number or name) of the Service is a containerPort of each pod it selects."""
    assert target is not None
    svc = _service(ctx, target)
    if svc is None:
        return Outcome(False, {"exists": False}, f"{target} not found")
    pods = [p for p in pods_of_service(ctx.reads, svc) if status(p).get("phase") not in ("Succeeded", "Failed")]
    ports = spec(svc).get("ports") or []
    if not pods:
        return Outcome(False, {"pods": 0}, f"{target}: selects no pod to compare its target ports with")
    rows, mismatches = [], []
    for port in ports:
        target_port = port.get("targetPort", port.get("port"))
        matched = [p for p in pods if _port_matches(target_port, container_ports(p))]
        rows.append({"port": port.get("port"), "targetPort": target_port, "matched_pods": len(matched)})
        for p in pods:
            if p not in matched:
                declared = [_port_text(c) for c in container_ports(p)]
                mismatches.append(
                    f"port {port.get('name') or port.get('port')}: targetPort {target_port} is not a container port "
                    f"of {meta(p).get('name')} (declared: {', '.join(declared) or 'none'})"
                )
    value = {"pods": len(pods), "ports": rows, "mismatches": mismatches}
    if mismatches:
        return Outcome(False, value, f"{target}: {listed(mismatches)}")
    text = ", ".join(f"{r['port']}->{r['targetPort']}" for r in rows)
    return Outcome(True, value, f"{target}: ports {text} match the containers of {count(len(pods), 'pod')}")
