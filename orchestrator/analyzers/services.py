"""Services and their Endpoints: a selector matching no pod, a targetPort no container serves, no ready
endpoints behind a Service whose pods exist."""

from __future__ import annotations

from .common import name_of, ns_of, owner_ref
from .finding import Finding
from .registry import analyzer
from .selectors import describe, matches_map
from .snapshot import Scope, Snapshot


@analyzer("Service", reads={"Pod", "Endpoints", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet"})
def services(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Services whose selector matches no pod, whose targetPort no selected container serves, or with no
    ready endpoints."""
    out: list[Finding] = []
    if not reads.fetched("Pod"):
        return out  # without pods nothing can be said about selectors
    for ns in scope.namespaces:
        for svc in reads.of("Service", ns):
            out.extend(_service(reads, svc))
    return out


def _service(reads: Snapshot, svc: dict) -> list[Finding]:
    ns, name = ns_of(svc), name_of(svc)
    spec = svc.get("spec") or {}
    selector = spec.get("selector")
    if not selector or spec.get("type") == "ExternalName":
        return []  # endpoints are managed by hand (or by DNS): nothing to match
    pods = reads.pods(ns or "", selector, label_selector=False)
    if not pods:
        evidence = [f"spec.selector={describe(selector)} matches no pod in {ns}"]
        workload = _template_match(reads, ns or "", selector)
        if workload is not None:
            # The selector is right; the pods are missing (scaled down, or failing to be created).
            kind, obj = workload
            evidence.append(f"{kind} {name_of(obj)} has pods labelled for it, but none exists")
            cause = f"the selected pods do not exist: {kind} {name_of(obj)} runs none"
            return [
                Finding("Service", ns, name, cause, evidence, "medium", "spec.selector", f"{ns}/{kind}/{name_of(obj)}")
            ]
        evidence += _near_misses(reads, ns or "", selector)
        fix = _selector_fix(reads, svc, selector)
        if fix:
            evidence.append(fix["rationale"])
        cause = "the selector matches no pod, so the Service has no endpoints"
        return [Finding("Service", ns, name, cause, evidence, "high", "spec.selector", fix=fix)]
    out = [f for f in (_port(reads, svc, p, pods) for p in spec.get("ports") or []) if f is not None]
    if not out:
        out.extend(_endpoints(reads, svc, pods))
    return out


def _near_misses(reads: Snapshot, ns: str, selector: dict) -> list[str]:
    """Pods that match every label of the selector but one: the likely intended targets."""
    lines = []
    for key, value in selector.items():
        rest = {k: v for k, v in selector.items() if k != key}
        if not rest:
            rest = {key: None}
        hits = [
            p
            for p in reads.of("Pod", ns)
            if all((p.get("metadata") or {}).get("labels", {}).get(k) == v for k, v in rest.items() if v is not None)
            and key in ((p.get("metadata") or {}).get("labels") or {})
        ]
        hits.sort(key=lambda p: -_shared_prefix(str(p["metadata"]["labels"][key]), str(value)))
        for p in hits[:1]:
            actual = p["metadata"]["labels"][key]
            lines.append(f"pod {name_of(p)} has {key}={actual} where the selector wants {key}={value}")
    return lines[:2]


def _selector_fix(reads: Snapshot, svc: dict, selector: dict) -> dict | None:
    """A merge patch of the one selector label that differs, when the pods matching every other label are
    one workload's and agree on that label's value."""
    ns = ns_of(svc) or ""
    for key in selector:
        rest = {k: v for k, v in selector.items() if k != key}
        if not rest:
            continue
        hits = [
            p
            for p in reads.of("Pod", ns)
            if all(((p.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in rest.items())
            and key in ((p.get("metadata") or {}).get("labels") or {})
        ]
        values = {str(p["metadata"]["labels"][key]) for p in hits}
        owners = {owner_ref(reads, p) for p in hits}
        if len(values) == 1 and len(owners) == 1:
            (value,) = values
            return {
                "action": "patch",
                "args": {
                    "kind": "Service",
                    "name": name_of(svc),
                    "namespace": ns,
                    "patch_type": "merge",
                    "patch": {"spec": {"selector": {key: value}}},
                },
                "rationale": f"every pod matching the rest of the selector has {key}={value}",
            }
    return None


def _port(reads: Snapshot, svc: dict, port: dict, pods: list[dict]) -> Finding | None:
    target = port.get("targetPort", port.get("port")) or 0
    served_numbers: set[int] = set()
    served_names: set[str] = set()
    declared = False
    for pod in pods:
        for c in (pod.get("spec") or {}).get("containers") or []:
            for cp in c.get("ports") or []:
                declared = True
                if cp.get("containerPort") is not None:
                    served_numbers.add(int(cp["containerPort"]))
                if cp.get("name"):
                    served_names.add(str(cp["name"]))
    if isinstance(target, str) and not target.isdigit():
        if target in served_names:
            return None
        names = ", ".join(sorted(served_names)) or "none"
        what = f"named port {target!r}, which no selected container declares (names: {names})"
    else:
        if not declared or int(target) in served_numbers:
            return None  # containers need not declare ports; only a declared set can contradict
        numbers = ", ".join(map(str, sorted(served_numbers)))
        what = f"port {target}, which no selected container serves (containerPorts: {numbers})"
    ns, name = ns_of(svc), name_of(svc)
    evidence = [f"spec.ports[{port.get('name') or port.get('port')}].targetPort={target}: {what}"]
    cause = f"targetPort {target} is not served by any pod the Service selects"
    fix: dict | None = None
    if len(served_numbers) == 1:
        # The selected containers serve exactly one port: that is where the Service must send traffic.
        (served,) = served_numbers
        index = (svc.get("spec") or {}).get("ports", []).index(port)
        rationale = f"the selected containers serve only port {served}"
        patch = [{"op": "replace", "path": f"/spec/ports/{index}/targetPort", "value": served}]
        args = {"kind": "Service", "name": name, "namespace": ns, "patch_type": "json", "patch": patch}
        fix = {"action": "patch", "args": args, "rationale": rationale}
        evidence.append(rationale)
    field = f"spec.ports[{port.get('name') or port.get('port')}].targetPort"
    return Finding("Service", ns, name, cause, evidence, "high", field, fix=fix)


def _endpoints(reads: Snapshot, svc: dict, pods: list[dict]) -> list[Finding]:
    ns, name = ns_of(svc), name_of(svc)
    if not reads.fetched("Endpoints"):
        return []
    ep = reads.find("Endpoints", ns, name)
    subsets = (ep or {}).get("subsets") or []
    ready = sum(len(s.get("addresses") or []) for s in subsets)
    if ready:
        return []
    not_ready = sum(len(s.get("notReadyAddresses") or []) for s in subsets)
    evidence = [f"Endpoints {name}: 0 ready addresses, {not_ready} not ready; {len(pods)} pod(s) match the selector"]
    owner = owner_ref(reads, pods[0])
    cause = "the Service has no ready endpoints: the pods it selects are not ready"
    return [Finding("Service", ns, name, cause, evidence, "medium", "subsets", owner)]


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _template_match(reads: Snapshot, ns: str, selector: dict) -> tuple[str, dict] | None:
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        for obj in reads.of(kind, ns):
            labels = (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
            if matches_map(selector, labels):
                return kind, obj
    return None
