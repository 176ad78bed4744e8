"""Facts about one suspect, distilled from tool results: what the playbooks' signals are matched against,
plus the values (names, ports, labels, limits) their localisation and mitigation templates need.

Each reader takes the evidence and a suspect, asks for the reads it needs (raising NeedRead through
`Evidence.need` when one is missing) and fills a FactSheet. Extra reads a playbook asks for are folded in
by `absorb`, which knows how to read each tool's result, not which fault it is looking for.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .evidence import Evidence, as_int, quantity, ready_counts, rows, was_cut
from .survey import Survey, Suspect

HOSTNAME_LABEL = "kubernetes.io/hostname"
HPA_SANE_UTILIZATION = 80  # percent: the usual chart default; far above what a healthy pod idles at
HPA_TOO_LOW_UTILIZATION = 20  # a target below this keeps any working pod "over target"
QUOTA_HEADROOM = 1.25
_IMAGE_CHANGE = re.compile(r"containers\[(?P<c>[^\]]+)\]\.image: (?P<old>\S+) -> (?P<new>\S+)")
_ENV_CHANGE = re.compile(r"containers\[(?P<c>[^\]]+)\]\.env\[(?P<var>[^\]]+)\]: (?P<old>.+?) -> (?P<new>.+)$")
_QUOTA_NAME = re.compile(r"exceeded quota: (?P<name>[A-Za-z0-9.\-]+)")
_QUOTA_PART = re.compile(r"(?P<what>requested|used|limited): (?P<pairs>(?:[\w.]+=[^,\s]+,?)+)")
_TELLING_LOG = re.compile(r"error|fail|denied|refused|timeout|WRONGPASS|NOAUTH|killed|invalid", re.IGNORECASE)
_CREDENTIAL_ENV = re.compile(r"pass|token|secret|key|auth|cred", re.IGNORECASE)


def obj(value: Any) -> dict[str, Any]:
    """A mapping, or {} for anything a context cut replaced with a summary string."""
    return value if isinstance(value, dict) else {}


def dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value or [] if isinstance(v, dict)] if isinstance(value, list) else []


@dataclass
class FactSheet:
    facts: dict[str, list[str]] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)  # short lines citing what was read

    def add(self, key: str, *values: Any) -> None:
        bucket = self.facts.setdefault(key, [])
        for v in values:
            if v not in (None, "") and str(v) not in bucket:
                bucket.append(str(v))

    def state(self, *names: str) -> None:
        self.add("state", *names)

    def cite(self, line: str) -> None:
        if line and line not in self.evidence:
            self.evidence.append(line[:240])


# ---------------------------------------------------------------------------------------------- workloads
def read_workload(ev: Evidence, s: Survey, sus: Suspect, sheet: FactSheet | None = None) -> FactSheet:
    """Pods, spec, events and rollout history of an unhealthy (or suspected) workload."""
    sheet = sheet or FactSheet()
    ns, kind, name = sus.namespace, sus.kind, sus.name
    row = s.workload(name) or {}
    base_context(sheet, ns, kind, name)
    desired = as_int(row.get("desired"), 1)
    sheet.context["desired"] = desired
    for alert in s.alert_names(name):
        sheet.add("alert", alert)
    pods = s.pods_of(kind, name)
    for p in pods:
        sheet.add("pod_reason", *(p.get("reasons") or []))
        if p.get("message"):
            sheet.add("event_message", p["message"])
        phase = p.get("phase")
        ready, total = ready_counts(p.get("ready"))
        if phase == "Pending":
            sheet.state("pending")
        if phase == "Running" and ready < total and not set(p.get("reasons") or []) - {"ContainersNotReady"}:
            sheet.state("running_not_ready")
        if as_int(p.get("restarts")) > 0:
            sheet.state("restarting")
    if desired == 0 and kind != "DaemonSet":
        sheet.state("desired_zero")
    if desired > 0 and not pods:
        sheet.state("no_pods")
    if row:
        sheet.cite(
            f"{ns}/{kind}/{name}: {row.get('ready')}/{row.get('desired')} ready"
            + (f" ({'; '.join(row.get('problems') or [])})" if row.get("problems") else "")
        )
    for p in pods[:2]:
        if p.get("reasons"):
            sheet.cite(f"pod {p.get('name')}: {p.get('phase')}, {', '.join(p.get('reasons') or [])}")
    spec = ev.describe(kind, name, ns)
    if spec:
        absorb_template(sheet, obj(obj(spec.get("spec")).get("template")))
        absorb_events(sheet, dicts(spec.get("events")))
    absorb_events(sheet, ev.events(ns, f"{kind}/{name}"))
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        absorb_history(sheet, ev.history(kind, name, ns))
    return sheet


def base_context(sheet: FactSheet, ns: str, kind: str, name: str) -> None:
    sheet.context.update(
        namespace=ns, workload_kind=kind, workload_name=name, workload=f"{kind}/{name}", replicas_restore=1
    )


def absorb_template(sheet: FactSheet, template: dict[str, Any]) -> None:
    containers = dicts(template.get("containers"))
    if containers:
        sheet.context.setdefault("container", containers[0].get("name"))
    sheet.context["labels"] = obj(template.get("labels"))
    sheet.context["container_ports"] = [
        {"name": p.get("name"), "containerPort": p.get("containerPort")}
        for c in containers
        for p in dicts(c.get("ports"))
    ]
    node_selector = obj(template.get("nodeSelector"))
    for k, v in node_selector.items():
        sheet.add("spec", f"nodeSelector {k}={v}")
    if node_selector.get(HOSTNAME_LABEL):
        sheet.context["pinned_node"] = node_selector[HOSTNAME_LABEL]
    if template.get("priorityClassName"):
        sheet.add("spec", f"priorityClassName {template['priorityClassName']}")
    if template.get("dnsPolicy"):
        sheet.add("spec", f"dnsPolicy {template['dnsPolicy']}")
    if template.get("affinity"):
        sheet.add("spec", "affinity " + ", ".join(obj(template["affinity"])))
    for init in dicts(template.get("initContainers")):
        sheet.add("spec", f"initContainer {init.get('name')} {' '.join(map(str, init.get('command') or []))}")
        sheet.context.setdefault("init_container", init.get("name"))
    secrets = []
    for c in containers:
        if c.get("readinessProbe"):
            sheet.add("spec", f"readinessProbe on {c.get('name')}")
        for e in dicts(c.get("env")):
            if e.get("secretKeyRef"):
                secret = str(e["secretKeyRef"]).split("/", 1)[0]
                sheet.add("spec", f"env {e.get('name')} from secret {e['secretKeyRef']}")
                secrets.append((0 if _CREDENTIAL_ENV.search(str(e.get("name"))) else 1, secret))
            elif "value" in e:
                sheet.add("spec", f"env {e.get('name')}={e.get('value')}")
        for ref in dicts(c.get("envFrom")):
            if ref.get("secretRef"):
                secrets.append((1, ref["secretRef"]))
    if secrets:
        sheet.context["secret_name"] = sorted(secrets)[0][1]
    for v in dicts(template.get("volumes")):
        if v.get("claimName"):
            sheet.context.setdefault("claim_name", v["claimName"])
        if v.get("configMap"):
            sheet.context.setdefault("config_map_name", v["configMap"])


def absorb_events(sheet: FactSheet, events: list[dict[str, Any]]) -> None:
    for e in events:
        if e.get("type") == "Normal":
            continue
        sheet.add("event_reason", e.get("reason"))
        message = str(e.get("message") or "")
        sheet.add("event_message", message)
        quota = _QUOTA_NAME.search(message)
        if quota:
            sheet.context.setdefault("quota_name", quota["name"])
            sheet.context.setdefault("quota_message", message)
        n = len(sheet.facts.get("event_message") or [])
        if n <= 3:
            sheet.cite(f"event {e.get('reason')} on {e.get('object')}: {message[:160]}")


def absorb_history(sheet: FactSheet, history: dict[str, Any] | None) -> None:
    if not history:
        return
    revisions = dicts(history.get("revisions"))
    current = as_int(history.get("current_revision"), 0)
    numbers = [as_int(r.get("revision")) for r in revisions]
    if any(0 < n < current for n in numbers) or (not current and len(revisions) > 1):
        sheet.state("has_previous_revision")
    latest = next((r for r in revisions if as_int(r.get("revision")) == current), revisions[-1] if revisions else None)
    changes = [str(c) for c in (latest or {}).get("change") or []]
    if changes and latest is not None:  # changes come from latest: it is there
        sheet.state("recently_changed")
        sheet.add("change", *changes)
        sheet.cite(f"{history.get('object')}: revision {latest.get('revision')} changed " + "; ".join(changes)[:200])
    for c in changes:
        m = _IMAGE_CHANGE.search(c)
        if m:
            sheet.context.setdefault("container", m["c"])
            sheet.context["previous_image"] = m["old"]
        m = _ENV_CHANGE.search(c)
        if m and "redacted" not in m["old"] and "reference" not in m["old"]:
            sheet.context.update(env_container=m["c"], env_name=m["var"], env_previous_value=m["old"])


# ---------------------------------------------------------------------------------------------- callers
def read_caller(ev: Evidence, s: Survey, sus: Suspect) -> FactSheet:
    """A caller whose calls to a healthy service fail: what changed in it and what it logs."""
    sheet = FactSheet()
    ns, kind, name = sus.namespace, sus.kind, sus.name
    base_context(sheet, ns, kind, name)
    sheet.context.update(callee_name=sus.callee, callee_kind=s.workload_kind(sus.callee) or "Deployment")
    for alert in s.alert_names(name):
        sheet.add("alert", alert)
    failing = s.callees_of(name)
    sheet.cite(f"{name}'s calls to {', '.join(failing)} fail while those services answer")
    if len(failing) > 1:
        sheet.state("fails_to_reach_many")
    absorb_history(sheet, ev.history(kind, name, ns))
    spec = ev.describe(kind, name, ns)
    if spec:
        absorb_template(sheet, obj(obj(spec.get("spec")).get("template")))
    return sheet


# ---------------------------------------------------------------------------------------------- autoscalers
def read_autoscaler(ev: Evidence, s: Survey, sus: Suspect) -> FactSheet:
    sheet = FactSheet()
    ns = sus.namespace
    base_context(sheet, ns, sus.kind, sus.workload or sus.name)
    sheet.context["hpa_name"] = sus.name
    names = {str(a.get("name")) for a in s.alerts if obj(a.get("labels")).get("horizontalpodautoscaler") == sus.name}
    sheet.add("alert", *sorted(names))
    hpa = ev.describe("HorizontalPodAutoscaler", sus.name, ns)
    if hpa is None:
        return sheet
    spec, status = obj(hpa.get("spec")), obj(hpa.get("status"))
    target = str(spec.get("target") or "")
    if "/" in target:
        kind, name = target.split("/", 1)
        base_context(sheet, ns, kind, name)
        sheet.context["hpa_name"] = sus.name
    current, high = as_int(status.get("currentReplicas")), as_int(spec.get("maxReplicas"))
    if high and current >= high:
        sheet.state("hpa_at_max")
    fixed, low = [], []
    for m in dicts(spec.get("metrics")):
        m = copy.deepcopy(m)
        body = obj(m.get(str(m.get("type", "Resource"))[:1].lower() + str(m.get("type", "Resource"))[1:]))
        goal = obj(body.get("target"))
        value = goal.get("averageUtilization")
        if isinstance(value, int) and value < HPA_TOO_LOW_UTILIZATION:
            low.append(f"{body.get('name')} target {value}% utilization")
            goal["averageUtilization"] = HPA_SANE_UTILIZATION
        fixed.append(m)
    if low:
        sheet.state("hpa_target_low")
        sheet.context["hpa_metrics_fixed"] = fixed
    sheet.cite(
        f"hpa {sus.name} -> {target}: {current}/{high} replicas (min {spec.get('minReplicas')}); "
        + ("; ".join(low) or f"metrics {status.get('metrics')}")
    )
    return sheet


# ---------------------------------------------------------------------------------------------- changes
def read_change(ev: Evidence, s: Survey, sus: Suspect) -> FactSheet:
    sheet = FactSheet()
    base_context(sheet, sus.namespace, sus.kind, sus.name)
    absorb_history(sheet, ev.history(sus.kind, sus.name, sus.namespace))
    return sheet


# ---------------------------------------------------------------------------------------------- extra reads
def absorb(sheet: FactSheet, tool: str, args: dict[str, Any], content: dict[str, Any] | None) -> None:
    """Fold an extra read (asked for by a playbook) into the sheet, by what the tool returns."""
    if content is None:
        return
    if tool == "get_logs":
        lines = [str(x) for x in content.get("lines") or [] if isinstance(x, str)]
        sheet.add("log", *lines)
        telling = [ln for ln in lines if _TELLING_LOG.search(ln)] or lines
        if telling:
            sheet.cite(f"logs of {content.get('pod') or args.get('workload')}: {telling[-1][:160]}")
    elif tool == "get_events":
        absorb_events(sheet, dicts(content.get("events")))
    elif tool == "list_resources":
        kind = str(args.get("kind", "")).lower()
        items = rows(content, "items")
        if kind in ("node", "nodes"):
            absorb_nodes(sheet, items)
        elif kind in ("resourcequota", "quota"):
            absorb_quotas(sheet, items)
        elif kind in ("persistentvolumeclaim", "pvc") and not was_cut(content, "items"):
            names = {r.get("name") for r in items}
            claim = sheet.context.get("claim_name")
            if claim and claim not in names:
                sheet.state("claim_missing")
                sheet.cite(f"persistentvolumeclaim {claim} does not exist")
    elif tool == "describe":
        spec = obj(content.get("spec"))
        if "template" in spec:
            absorb_template(sheet, obj(spec["template"]))
        absorb_events(sheet, dicts(content.get("events")))


def absorb_nodes(sheet: FactSheet, rows: list[dict[str, Any]]) -> None:
    cordoned = [r.get("name") for r in rows if obj(r.get("summary")).get("unschedulable")]
    if not cordoned:
        return
    sheet.state("node_unschedulable")
    pinned = sheet.context.get("pinned_node")
    node = pinned if pinned in cordoned else cordoned[0]
    sheet.context["node_name"] = node
    if pinned == node:
        sheet.state("pinned_to_unschedulable_node")
    sheet.cite(
        f"node {node} is cordoned (unschedulable)" + (" and the workload is pinned to it" if pinned == node else "")
    )


def absorb_quotas(sheet: FactSheet, rows: list[dict[str, Any]]) -> None:
    name = sheet.context.get("quota_name")
    row = next((r for r in rows if r.get("name") == name), rows[0] if len(rows) == 1 else None)
    if row is None:
        return
    sheet.context["quota_name"] = row.get("name")
    summary = obj(row.get("summary"))
    hard, used = obj(summary.get("hard")), obj(summary.get("used"))
    requested = _quota_pairs(sheet.context.get("quota_message") or "", "requested")
    used = {**used, **_quota_pairs(sheet.context.get("quota_message") or "", "used")}
    replicas = max(1, as_int(sheet.context.get("desired"), 1))
    raised = {}
    for key, limit in hard.items():
        have, need, cap = quantity(used.get(key, 0)), quantity(requested.get(key, 0)), quantity(limit)
        if have is None or need is None or cap is None:
            continue
        want = (have + need * replicas) * QUOTA_HEADROOM
        if want > cap:
            raised[key] = format_like(want, str(limit), key)
    if raised:
        sheet.state("quota_exhausted")
        sheet.context["quota_hard_raised"] = {"spec": {"hard": {**hard, **raised}}}
    sheet.cite(f"resourcequota {row.get('name')}: hard {hard}, used {used}")


def _quota_pairs(message: str, what: str) -> dict[str, str]:
    for m in _QUOTA_PART.finditer(message):
        if m["what"] == what:
            return dict(p.split("=", 1) for p in m["pairs"].strip(",").split(",") if "=" in p)
    return {}


def format_like(value: float, example: str, key: str) -> str:
    """A quantity rounded up, in the unit family the quota already uses (Mi/Gi for memory, m for cpu)."""
    if "memory" in key or "storage" in key or example.endswith(("i", "M", "G")):
        mib = math.ceil(value / 2**20)
        return f"{math.ceil(mib / 1024)}Gi" if mib >= 8192 else f"{mib}Mi"
    if "cpu" in key:
        return f"{math.ceil(value * 1000)}m"
    return str(math.ceil(value))
