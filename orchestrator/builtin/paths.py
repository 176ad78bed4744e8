"""Facts about the path to a service whose pods are healthy but whose callers fail: the Service in front
of it (missing, selecting no pod, forwarding to a port nobody listens on) and the NetworkPolicies that
select its pods (admitting no ingress)."""

from __future__ import annotations

import re
from typing import Any

from .evidence import Evidence, as_int, split_ref
from .facts import FactSheet, absorb_template, base_context, dicts, obj
from .survey import Survey, Suspect


def read_service(ev: Evidence, s: Survey, sus: Suspect) -> FactSheet:
    """The Service in front of a callee whose pods are healthy, and the NetworkPolicies that select them."""
    sheet = FactSheet()
    ns, callee = sus.namespace, sus.name
    base_context(sheet, ns, sus.kind, callee)
    for alert in s.alert_names(callee):
        sheet.add("alert", alert)
    callers = s.callers_of(callee)
    sheet.cite(f"calls to {callee} fail from {', '.join(callers)} while {callee}'s pods are ready")
    spec = ev.describe(sus.kind, callee, ns)
    if not spec:
        return sheet  # not a workload we can read: nothing to say about the path to it
    absorb_template(sheet, obj(obj(spec.get("spec")).get("template")))
    labels: dict[str, str] = sheet.context.get("labels") or {}
    ports = sheet.context.get("container_ports") or []
    svc = find_service(ev, ns, callee, labels)
    if svc is None and not ports:
        # Its containers declare no port (a queue consumer, a batch worker): no Service is expected in
        # front of it, so none missing says nothing.
        sheet.cite(f"no Service named {service_base_name(callee)}; {callee}'s containers declare no port")
    elif svc is None:
        sheet.state("service_missing")
        sheet.context["service_name"] = service_base_name(callee)
        sheet.cite(f"no Service named {service_base_name(callee)} exists and none selects {callee}'s pods")
    elif svc:
        runs_pods = as_int((s.workload(callee) or {}).get("desired"), 1) > 0
        check_service(sheet, svc, callee, labels, ports, runs_pods)
    for row in ev.resources("NetworkPolicy", ns) or []:
        summary = obj(row.get("summary"))
        if "Ingress" not in (summary.get("policyTypes") or ["Ingress"]):
            continue
        if not selects(obj(summary.get("podSelector")), labels):
            continue
        blocked = as_int(summary.get("ingress_rules")) == 0
        if not blocked:
            detail = ev.describe("NetworkPolicy", str(row.get("name")), ns)
            blocked = detail is not None and not ingress_admits(obj(detail.get("spec")), ports)
        if blocked:
            sheet.state("ingress_blocked")
            sheet.context.setdefault("policy_name", row.get("name"))
            sheet.context["allowed_ingress"] = [
                {"ports": [{"protocol": "TCP", "port": p["containerPort"]} for p in ports if p.get("containerPort")]}
            ]
            sheet.cite(
                f"networkpolicy {row.get('name')} selects {callee}'s pods and admits no ingress "
                f"(rules: {summary.get('ingress_rules')})"
            )
    problems = {"service_missing", "selector_mismatch", "target_port_mismatch", "ingress_blocked"}
    if not problems & set(sheet.facts.get("state") or []):
        sheet.state("service_ok")
    return sheet


def service_base_name(callee: str) -> str:
    """The Service name a versioned workload (reviews-v2) is usually reached by (reviews)."""
    return re.sub(r"-v\d+$", "", callee)


def find_service(ev: Evidence, ns: str, callee: str, labels: dict[str, Any]) -> dict[str, Any] | None:
    """The described Service in front of the callee; None when no Service by its name exists; {} when
    that cannot be told (the reads failed for another reason)."""
    unknown = False
    for name in dict.fromkeys([callee, service_base_name(callee)]):
        described = ev.describe("Service", name, ns)
        if described is not None:
            return described
        error = ev.failed("describe", {"kind": "Service", "name": name, "namespace": ns})
        unknown = unknown or error is None or "not found" not in error.lower()
    return {} if unknown else None


def check_service(
    sheet: FactSheet, svc: dict[str, Any], callee: str, labels: dict, ports: list[dict], runs_pods: bool = True
) -> None:
    spec, status = obj(svc.get("spec")), obj(svc.get("status"))
    name = split_ref(str(svc.get("object") or ""))[2] or service_base_name(callee)
    sheet.context["service_name"] = name
    selector = obj(spec.get("selector"))
    matching = svc.get("matching_pods", status.get("matching_pods"))
    # No matching pod is the selector's fault only when the workload runs pods: a selector that selects the
    # pod template of a workload scaled to zero is right, the pods are missing.
    if selector and (not selects(selector, labels) or (matching == 0 and runs_pods)):
        sheet.state("selector_mismatch")
        fixed = {k: labels[k] for k in selector if k in labels} or dict(list(labels.items())[:1])
        sheet.context["service_selector_fixed"] = fixed
        sheet.cite(
            f"service {name} selects {fmt_labels(selector)} but {callee}'s pods carry {fmt_labels(labels)} "
            f"({status.get('endpoints_ready', 0)} ready endpoints, {matching} matching pods)"
        )
    numbers = [p.get("containerPort") for p in ports if p.get("containerPort")]
    numbers = numbers or [p for p in status.get("pod_container_ports") or [] if isinstance(p, int)]
    names = {p.get("name"): p.get("containerPort") for p in ports if p.get("name")}
    fixed_ports, mismatch = [], []
    for p in dicts(spec.get("ports")):
        target = p.get("targetPort", p.get("port"))
        if isinstance(target, int) or str(target).isdigit():
            ok = (target if isinstance(target, int) else int(str(target))) in numbers
        else:
            ok = target in names
        port = {k: v for k, v in p.items() if v is not None}
        if not ok and numbers:
            mismatch.append(f"{p.get('name') or p.get('port')}: targetPort {target}")
            port["targetPort"] = names.get(p.get("name")) or (p.get("port") if p.get("port") in numbers else numbers[0])
        fixed_ports.append(port)
    if mismatch:
        sheet.state("target_port_mismatch")
        sheet.context["service_ports_fixed"] = fixed_ports
        sheet.cite(
            f"service {name} sends to {', '.join(mismatch)} but {callee}'s containers listen on "
            f"{', '.join(map(str, numbers))}"
        )


def selects(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    """matchLabels semantics (expressions written as 'key Op' are checked for In/NotIn/Exists)."""
    for key, want in (selector or {}).items():
        if " " in key:
            name, op = key.split(" ", 1)
            values = want if isinstance(want, list) else [want]
            if op == "In" and labels.get(name) not in values:
                return False
            if op == "NotIn" and labels.get(name) in values:
                return False
            if op == "Exists" and name not in labels:
                return False
            if op == "DoesNotExist" and name in labels:
                return False
        elif labels.get(key) != want:
            return False
    return True


def ingress_admits(spec: dict[str, Any], ports: list[dict[str, Any]]) -> bool:
    """Whether any ingress rule lets traffic reach at least one of the container ports."""
    numbers = {p.get("containerPort") for p in ports}
    names = {p.get("name") for p in ports}
    for rule in dicts(spec.get("ingress")):
        rule_ports = dicts(rule.get("ports"))
        if not rule_ports:
            return True
        for rp in rule_ports:
            port = rp.get("port")
            if port is None or port in numbers or port in names:
                return True
    return False


def fmt_labels(labels: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "{}"
