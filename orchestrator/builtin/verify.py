"""The builtin verifier: fresh reads of what was remediated and diagnosed, one check per claim.

It never trusts the investigator's account: each check cites what the verifier itself read. Reads are
shared where one listing answers for many objects (a precise read only when a listing was cut), the
remediated objects come first, and a check the step budget leaves no read for is left out rather than
guessed: the code gate runs every required check on its own reads, whatever the verdict. PASS when every check
run passes; otherwise FAIL with the failing checks as objections the investigator can act on.
"""

from __future__ import annotations

from typing import Any

from .evidence import Evidence, NeedRead, as_int, owner_name, rows, split_ref, was_cut
from .survey import BENIGN_POD_REASONS

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


class NotRead(Exception):  # noqa: N818 - control flow: the budget left no read for this check
    pass


def verdict(ev: Evidence, block: dict[str, Any], namespaces: list[str]) -> dict[str, Any] | NeedRead:
    try:
        return _verdict(ev, block, namespaces)
    except NeedRead as need:
        return need


def objects_to_check(block: dict[str, Any]) -> list[str]:
    """Remediated objects first, then the diagnosed root causes."""
    diagnosis = block.get("diagnosis") or {}
    mitigation = block.get("mitigation") or {}
    names = list(mitigation.get("remediated") or [])
    names += [e.get("name") for e in diagnosis.get("entities") or [] if e.get("contributing_factor")]
    return [str(n) for n in dict.fromkeys(names) if n]


def _verdict(ev: Evidence, block: dict[str, Any], namespaces: list[str]) -> dict[str, Any]:
    checks: list[dict[str, Any]] = []
    skipped: list[str] = []

    def run(name: str, target: str, fn: Any, *args: Any) -> None:
        try:
            passed, evidence = fn(ev, *args)
        except NotRead:
            skipped.append(f"{name} {target}")
            return
        checks.append({"name": name, "target": target, "passed": passed, "evidence": evidence})

    for ns in namespaces:
        run("alerts_cleared", ns, alerts_cleared, ns)
    for ref in objects_to_check(block):
        ns, kind, name = split_ref(ref)
        ns = ns or (namespaces[0] if namespaces else "")
        if kind in WORKLOAD_KINDS:
            run("workload_available", ref, workload_available, ns, kind, name)
            run("no_pending_or_crashlooping", ref, pods_healthy, ns, kind, name)
        elif kind == "Service":
            run("endpoints_ready", ref, endpoints_ready, ns, name)
            run("service_ports_match", ref, service_ports_match, ns, name)
        elif kind == "HorizontalPodAutoscaler":
            run("hpa_within_limits", ref, hpa_within_limits, ns, name)
        elif kind == "Node":
            run("node_schedulable", ref, node_schedulable, name)
        elif kind == "ResourceQuota":
            run("quota_admits_pods", ref, quota_admits_pods, ns)
    # A check the claim names with no object of its kind to check is run on the whole namespace, as the gate does.
    named = set((block.get("diagnosis") or {}).get("checks") or [])
    covered = {c["name"] for c in checks} | {s.split()[0] for s in skipped}
    for ns in namespaces:
        if "node_schedulable" in named - covered:
            run("node_schedulable", ns, node_schedulable, None)
        if "quota_admits_pods" in named - covered:
            run("quota_admits_pods", ns, quota_admits_pods, ns)
    failed = [c for c in checks if not c["passed"]]
    objections = [f"{c['name']} {c['target']}: {c['evidence']}" for c in failed]
    return {"verdict": "FAIL" if failed else "PASS", "checks": checks, "objections": objections}


# ---------------------------------------------------------------------------------------------- reads
def _read(ev: Evidence, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    content = ev.need(tool, args)
    if content is None:
        error = ev.failed(tool, args)
        if error is None:
            raise NotRead(tool)
        return {"__error__": error}
    return content


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _subject(alert: dict[str, Any]) -> str:
    labels = alert.get("labels") or {}
    for key in ("workload", "deployment", "service", "horizontalpodautoscaler", "pod", "node"):
        if labels.get(key):
            return str(labels[key])
    return ""


def _row(ev: Evidence, listing: dict[str, Any], key: str, name: str, kind: str, ns: str) -> dict[str, Any] | None:
    row = next((r for r in rows(listing, key) if r.get("name") == name and r.get("kind", kind) == kind), None)
    if row is None and was_cut(listing, key):
        return None  # not visible in a cut listing: ask for the object itself
    return row if row is not None else {}


# ---------------------------------------------------------------------------------------------- checks
def alerts_cleared(ev: Evidence, ns: str) -> tuple[bool, str]:
    content = _read(ev, "get_alerts", {"namespace": ns})
    if "__error__" in content:
        return False, f"alerts cannot be read: {content['__error__']}"
    firing = [f"{a.get('name')}({_subject(a)})" for a in rows(content, "alerts")]
    return (not firing), (f"firing in {ns}: {', '.join(firing[:8])}" if firing else f"no alert fires in {ns}")


def workload_available(ev: Evidence, ns: str, kind: str, name: str) -> tuple[bool, str]:
    listing = _read(ev, "list_workloads", {"namespace": ns})
    row = _row(ev, listing, "workloads", name, kind, ns) if "__error__" not in listing else None
    if row:
        desired, ready, available = (as_int(row.get(k)) for k in ("desired", "ready", "available"))
    else:
        described = _read(ev, "describe", {"kind": kind, "name": name, "namespace": ns})
        if "__error__" in described:
            return False, described["__error__"]
        spec, status = _obj(described.get("spec")), _obj(described.get("status"))
        desired = as_int(spec.get("replicas"), as_int(status.get("desired"), 1))
        ready, available = as_int(status.get("ready")), as_int(status.get("available"))
    ok = desired > 0 and ready == desired and available == desired
    return ok, f"{ready}/{desired} ready, {available} available"


def pods_healthy(ev: Evidence, ns: str, kind: str, name: str) -> tuple[bool, str]:
    listing = _read(ev, "list_pods", {"namespace": ns})
    if "__error__" in listing:
        return False, f"pods cannot be read: {listing['__error__']}"
    # Unwell pods are listed first, so a cut listing still shows them.
    pods = [p for p in rows(listing, "pods") if owner_name(p.get("owner")) == (kind, name)]
    bad = [
        f"{p.get('name')}: {p.get('phase')} {', '.join(p.get('reasons') or [])}"
        for p in pods
        if (set(p.get("reasons") or []) - BENIGN_POD_REASONS) & BAD_POD_REASONS or p.get("phase") == "Pending"
    ]
    return (not bad), ("; ".join(bad[:4]) if bad else f"{len(pods)} pod(s) of {name} listed, none pending or failing")


def _service(ev: Evidence, ns: str, name: str) -> dict[str, Any]:
    return _read(ev, "describe", {"kind": "Service", "name": name, "namespace": ns})


def endpoints_ready(ev: Evidence, ns: str, name: str) -> tuple[bool, str]:
    svc = _service(ev, ns, name)
    if "__error__" in svc:
        return False, svc["__error__"]
    status = _obj(svc.get("status"))
    ready = len(_obj(svc.get("endpoints")).get("ready") or []) or as_int(status.get("endpoints_ready"))
    matching = svc.get("matching_pods", status.get("matching_pods"))
    return ready > 0, f"{ready} ready endpoint(s), {matching} pod(s) match the selector"


def service_ports_match(ev: Evidence, ns: str, name: str) -> tuple[bool, str]:
    svc = _service(ev, ns, name)
    if "__error__" in svc:
        return False, svc["__error__"]
    pod_ports = {p for p in _obj(svc.get("status")).get("pod_container_ports") or [] if isinstance(p, int)}
    targets = [_obj(p).get("targetPort", _obj(p).get("port")) for p in _obj(svc.get("spec")).get("ports") or []]
    numeric = [t for t in targets if isinstance(t, int)]
    ok = not pod_ports or all(t in pod_ports for t in numeric)
    return ok, f"targetPorts {targets}, pods listen on {sorted(pod_ports)}"


def hpa_within_limits(ev: Evidence, ns: str, name: str) -> tuple[bool, str]:
    listing = _read(ev, "list_resources", {"kind": "HorizontalPodAutoscaler", "namespace": ns})
    row = _row(ev, listing, "items", name, "HorizontalPodAutoscaler", ns) if "__error__" not in listing else None
    if row:
        s = _obj(row.get("summary"))
        current, low, high, metrics = (
            as_int(s.get("current")),
            as_int(s.get("min"), 1),
            as_int(s.get("max")),
            s.get("metrics"),
        )
    else:
        hpa = _read(ev, "describe", {"kind": "HorizontalPodAutoscaler", "name": name, "namespace": ns})
        if "__error__" in hpa:
            return False, hpa["__error__"]
        spec, status = _obj(hpa.get("spec")), _obj(hpa.get("status"))
        current, low, high = (
            as_int(status.get("currentReplicas")),
            as_int(spec.get("minReplicas"), 1),
            as_int(spec.get("maxReplicas")),
        )
        metrics = status.get("metrics")
    ok = not (high > low and current >= high)
    return ok, f"{current} replicas within [{low}, {high}], metrics {metrics}"


def node_schedulable(ev: Evidence, name: str | None) -> tuple[bool, str]:
    """The named node (None: every node) is Ready and not cordoned."""
    listing = _read(ev, "list_resources", {"kind": "Node"})
    if "__error__" in listing:
        return False, listing["__error__"]
    nodes = [r for r in rows(listing, "items") if name is None or r.get("name") == name]
    if not nodes:
        return False, f"node {name} not listed"
    bad = [
        f"{r.get('name')}: unschedulable={s.get('unschedulable')}, ready={s.get('ready')}"
        for r in nodes
        if (s := _obj(r.get("summary"))).get("unschedulable") or not s.get("ready", True)
    ]
    if name is not None:
        s = _obj(nodes[0].get("summary"))
        return not bad, f"unschedulable={s.get('unschedulable')}, ready={s.get('ready')}"
    return not bad, ("; ".join(bad[:4]) if bad else f"{len(nodes)} node(s) Ready and schedulable")


def quota_admits_pods(ev: Evidence, ns: str) -> tuple[bool, str]:
    listing = _read(ev, "list_workloads", {"namespace": ns})
    if "__error__" in listing:
        return False, listing["__error__"]
    # Short workloads are listed first, so a cut listing still shows them.
    unready = [
        f"{w.get('name')} {w.get('ready')}/{w.get('desired')}"
        for w in rows(listing, "workloads")
        if w.get("kind") != "DaemonSet" and as_int(w.get("ready")) < as_int(w.get("desired"))
    ]
    return (not unready), (f"unready: {', '.join(unready[:4])}" if unready else "every workload has its replicas ready")
