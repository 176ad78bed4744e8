"""The builtin verifier: fresh reads of every diagnosed and remediated object, one check per claim.

It never trusts the investigator's account: each check cites what the verifier itself read. PASS only
when every check passes; otherwise FAIL with the failing checks as objections the investigator can act on.
"""

from __future__ import annotations

from typing import Any

from .playbook_evidence import Evidence, NeedRead, as_int, owner_name, split_ref
from .playbook_survey import BENIGN_POD_REASONS

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
BAD_POD_REASONS = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "Unschedulable",
    "OOMKilled",
    "StartError",
    "Init:CrashLoopBackOff",
    "Init:Running",
    "PodInitializing",
    "ContainersNotReady",
}


def verdict(ev: Evidence, block: dict[str, Any], namespaces: list[str]) -> dict[str, Any] | NeedRead:
    try:
        return _verdict(ev, block, namespaces)
    except NeedRead as need:
        return need


def objects_to_check(block: dict[str, Any]) -> list[str]:
    diagnosis = block.get("diagnosis") or {}
    mitigation = block.get("mitigation") or {}
    names = [e.get("name") for e in diagnosis.get("entities") or [] if e.get("contributing_factor")]
    names += list(mitigation.get("remediated") or [])
    return [str(n) for n in dict.fromkeys(names) if n]


def _verdict(ev: Evidence, block: dict[str, Any], namespaces: list[str]) -> dict[str, Any]:
    checks: list[dict[str, Any]] = []
    for ns in namespaces:
        alerts = ev.alerts(ns)
        firing = [f"{a.get('name')}({_subject(a)})" for a in alerts]
        checks.append(
            {
                "name": "alerts_cleared",
                "target": ns,
                "passed": not firing,
                "evidence": f"firing in {ns}: {', '.join(firing[:8])}" if firing else f"no alert fires in {ns}",
            }
        )
    for name in objects_to_check(block):
        ns, kind, obj = split_ref(name)
        ns = ns or (namespaces[0] if namespaces else "")
        if kind in WORKLOAD_KINDS:
            checks += workload_checks(ev, ns, kind, obj)
        elif kind == "Service":
            checks += service_checks(ev, ns, obj)
        elif kind == "HorizontalPodAutoscaler":
            checks.append(autoscaler_check(ev, ns, obj))
        elif kind == "Node":
            checks.append(node_check(ev, obj))
        elif kind == "ResourceQuota":
            checks.append(quota_check(ev, ns, obj))
    failed = [c for c in checks if not c["passed"]]
    return {
        "verdict": "FAIL" if failed else "PASS",
        "checks": checks,
        "objections": [f"{c['name']} {c['target']}: {c['evidence']}" for c in failed],
    }


def _subject(alert: dict[str, Any]) -> str:
    labels = alert.get("labels") or {}
    for key in ("workload", "deployment", "service", "horizontalpodautoscaler", "pod", "node"):
        if labels.get(key):
            return str(labels[key])
    return ""


def workload_checks(ev: Evidence, ns: str, kind: str, name: str) -> list[dict[str, Any]]:
    """Read the workload itself (a namespace listing may be cut to fit the context) and its own pods."""
    target = f"{ns}/{kind}/{name}"
    described = ev.describe(kind, name, ns)
    if described is None:
        error = ev.failed("describe", {"kind": kind, "name": name, "namespace": ns}) or "cannot be read"
        return [{"name": "workload_available", "target": target, "passed": False, "evidence": error}]
    spec, status = _obj(described.get("spec")), _obj(described.get("status"))
    desired = as_int(spec.get("replicas"), as_int(status.get("desired"), 1))
    ready, available = as_int(status.get("ready")), as_int(status.get("available"))
    ok = desired > 0 and ready == desired and available == desired
    out = [
        {
            "name": "workload_available",
            "target": target,
            "passed": ok,
            "evidence": f"{ready}/{desired} ready, {available} available",
        }
    ]
    selector = _obj(spec.get("selector"))
    plain = selector and all(" " not in k for k in selector)
    text = ",".join(f"{k}={v}" for k, v in selector.items()) if plain else None
    pods = [p for p in ev.pods(ns, text) if text or owner_name(p.get("owner")) == (kind, name)]
    bad = [
        f"{p.get('name')}: {p.get('phase')} {', '.join(p.get('reasons') or [])}"
        for p in pods
        if (set(p.get("reasons") or []) - BENIGN_POD_REASONS) & BAD_POD_REASONS or p.get("phase") == "Pending"
    ]
    out.append(
        {
            "name": "no_pending_or_crashlooping",
            "target": target,
            "passed": not bad,
            "evidence": "; ".join(bad[:4]) if bad else f"{len(pods)} pod(s) running",
        }
    )
    return out


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def service_checks(ev: Evidence, ns: str, name: str) -> list[dict[str, Any]]:
    target = f"{ns}/Service/{name}"
    svc = ev.describe("Service", name, ns)
    if svc is None:
        error = ev.failed("describe", {"kind": "Service", "name": name, "namespace": ns}) or "cannot be read"
        return [{"name": "endpoints_ready", "target": target, "passed": False, "evidence": error}]
    status = svc.get("status") or {}
    ready = len((svc.get("endpoints") or {}).get("ready") or []) or as_int(status.get("endpoints_ready"))
    matching = as_int(svc.get("matching_pods", status.get("matching_pods")))
    pod_ports = set(status.get("pod_container_ports") or [])
    targets = [p.get("targetPort", p.get("port")) for p in (svc.get("spec") or {}).get("ports") or []]
    numeric = [t for t in targets if isinstance(t, int)]
    ports_ok = not pod_ports or all(t in pod_ports for t in numeric)
    return [
        {"name": "endpoints_ready", "target": target, "passed": ready > 0, "evidence": f"{ready} ready endpoint(s)"},
        {
            "name": "service_selects_pods",
            "target": target,
            "passed": matching > 0,
            "evidence": f"{matching} matching pod(s)",
        },
        {
            "name": "service_ports_match",
            "target": target,
            "passed": ports_ok,
            "evidence": f"targetPorts {targets}, pods listen on {sorted(pod_ports)}",
        },
    ]


def autoscaler_check(ev: Evidence, ns: str, name: str) -> dict[str, Any]:
    target = f"{ns}/HorizontalPodAutoscaler/{name}"
    hpa = ev.describe("HorizontalPodAutoscaler", name, ns)
    if hpa is None:
        return {"name": "hpa_within_limits", "target": target, "passed": False, "evidence": "cannot be read"}
    spec, status = _obj(hpa.get("spec")), _obj(hpa.get("status"))
    current, low, high = (
        as_int(status.get("currentReplicas")),
        as_int(spec.get("minReplicas"), 1),
        as_int(spec.get("maxReplicas")),
    )
    ok = not (high > low and current >= high)
    return {
        "name": "hpa_within_limits",
        "target": target,
        "passed": ok,
        "evidence": f"{current} replicas within [{low}, {high}], metrics {status.get('metrics')}",
    }


def node_check(ev: Evidence, name: str) -> dict[str, Any]:
    rows = ev.resources("Node", None) or []
    row = next((r for r in rows if r.get("name") == name), None)
    s = (row or {}).get("summary") or {}
    ok = row is not None and not s.get("unschedulable") and s.get("ready", True)
    return {
        "name": "node_schedulable",
        "target": f"/Node/{name}",
        "passed": bool(ok),
        "evidence": "not found" if row is None else f"unschedulable={s.get('unschedulable')}, ready={s.get('ready')}",
    }


def quota_check(ev: Evidence, ns: str, name: str) -> dict[str, Any]:
    rows = ev.resources("ResourceQuota", ns)
    unready = [
        f"{w.get('name')} {w.get('ready')}/{w.get('desired')}"
        for w in ev.workloads(ns)
        if w.get("kind") != "DaemonSet" and as_int(w.get("ready")) < as_int(w.get("desired"))
    ]
    row = next((r for r in rows or [] if r.get("name") == name), None)
    what = "quota deleted" if row is None else f"hard {(row.get('summary') or {}).get('hard')}"
    return {
        "name": "quota_admits_pods",
        "target": f"{ns}/ResourceQuota/{name}",
        "passed": not unready,
        "evidence": f"{what}; " + (f"unready: {', '.join(unready[:4])}" if unready else "every workload ready"),
    }
