"""Turn findings into the `submit_diagnosis` arguments: root-cause entities from each playbook's
localisation rules, victims and propagations from the failing-call graph, and one mitigation per finding
rendered from the first applicable option of its playbook."""

from __future__ import annotations

import json
import re
from typing import Any

from .investigation import Finding, Investigation
from .library import MissingValue, MitigationOption, render
from .survey import Survey
from .transcript import AnalyzerFinding

# Playbook entity references -> (Kind, context key of the name). "{kind}" means the workload's own kind.
ENTITY_KINDS: dict[str, tuple[str, str]] = {
    "workload": ("{kind}", "workload_name"),
    "service": ("Service", "service_name"),
    "network_policy": ("NetworkPolicy", "policy_name"),
    "resource_quota": ("ResourceQuota", "quota_name"),
    "autoscaler": ("HorizontalPodAutoscaler", "hpa_name"),
    "node": ("Node", "node_name"),
    "secret": ("Secret", "secret_name"),
    "config_map": ("ConfigMap", "config_map_name"),
}
MAX_EVIDENCE = 6
MAX_LINE = 200


def clip(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 3] + "..."


def entity_name(ref: str, ctx: dict[str, Any]) -> str | None:
    kind, key = ENTITY_KINDS[ref]
    name = ctx.get(key)
    if not name:
        return None
    if kind == "{kind}":
        kind = str(ctx.get("workload_kind") or "Deployment")
    ns = "" if kind == "Node" else str(ctx.get("namespace") or "")
    return f"{ns}/{kind}/{name}"


def roots_of(f: Finding) -> list[str]:
    return [n for ref in f.cause.root_causes if (n := entity_name(ref, f.context))]


def graph_entity(f: Finding) -> str | None:
    """The entity standing where the finding sits in the call graph."""
    if f.suspect.type == "service" and "service" in f.cause.root_causes:
        return entity_name("service", f.context)
    return entity_name("workload", f.context)


def choose_mitigation(f: Finding, avoid: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first option whose conditions hold and whose template fills, skipping ones already tried."""
    tried = {_key(m.get("action"), m.get("args")) for m in avoid}
    for option in f.cause.mitigations:
        rendered = render_option(option, f)
        if rendered and _key(rendered["action"], rendered["args"]) not in tried:
            return rendered
    return None


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render_option(option: MitigationOption, f: Finding) -> dict[str, Any] | None:
    states = set(f.sheet.facts.get("state") or [])
    for flag in option.when:
        negate = flag.startswith("not ")
        name = flag[4:] if negate else flag
        if (name in states) == negate:
            return None
    try:
        args = render(option.args, f.context)
        rationale = render(option.rationale or f.cause.summary, f.context)
    except MissingValue:
        return None
    return {"action": option.action, "args": args, "rationale": str(rationale)}


def _key(action: Any, args: Any) -> str:
    return json.dumps([action, args], sort_keys=True, default=str)


def _say(template: str, f: Finding) -> str:
    """Prose for a person: a value the evidence did not give is said to be unknown, never left as "{name}"."""
    known = {k: v for k, v in f.context.items() if v is not None}
    return _PLACEHOLDER.sub(lambda m: str(known.get(m[1], f"(unknown {m[1].replace('_', ' ')})")), template)


def build_diagnosis(
    inv: Investigation, avoid: list[dict[str, Any]] | None = None, findings: list[AnalyzerFinding] | None = None
) -> dict[str, Any]:
    entities: dict[str, dict[str, Any]] = {}
    propagations: list[dict[str, Any]] = []
    mitigations: list[dict[str, Any]] = []
    checks: list[str] = []
    summaries: list[str] = []
    surveys = {s.namespace: s for s in inv.surveys}
    for f in inv.findings:
        roots = roots_of(f)
        summary = _say(f.cause.summary, f)
        summaries.append(summary)
        evidence = [clip(line) for line in dict.fromkeys(f.matched + f.sheet.evidence)][:MAX_EVIDENCE]
        for name in roots:
            entities[name] = {
                "name": name,
                "contributing_factor": True,
                "reasoning": _say(f.cause.reasoning, f),
                "evidence": evidence,
            }
        node = graph_entity(f)
        for name in roots:
            if node and name != node:
                propagations.append(
                    {"source": name, "target": node, "condition": summary, "effect": f"{node} cannot serve"}
                )
        survey = surveys.get(str(f.context.get("namespace")))
        if survey is not None and node:
            propagations += victims(survey, f, node, entities)
        mitigation = choose_mitigation(f, avoid or [])
        if mitigation and all(
            _key(m["action"], m["args"]) != _key(mitigation["action"], mitigation["args"]) for m in mitigations
        ):
            mitigations.append(mitigation)
        checks += [c for c in f.cause.checks if c not in checks]
    if not inv.findings:
        return undiagnosed(inv, findings or [])
    alerts = [s.alert_line(a) for s in inv.surveys for a in s.alerts]
    diagnosis = {
        "summary": " ".join(summaries),
        "entities": list(entities.values()),
        "propagations": _unique(propagations),
        "alerts_explained": list(dict.fromkeys(alerts)),
        "mitigations": mitigations,
        "checks": checks,
    }
    return deeper_cause(diagnosis, findings or [])


def deeper_cause(diagnosis: dict[str, Any], findings: list[AnalyzerFinding]) -> dict[str, Any]:
    """A high-confidence analyzer finding that explains a root the playbook named (an expired certificate
    in a mounted ConfigMap behind a crash loop) is the deeper cause: it becomes the root cause and the
    playbook's root stays as affected. The playbook's mitigation treated the symptom, and no playbook vouches
    for a change to the cause, so none is proposed: the run escalates with the diagnosis."""
    roots = {e["name"] for e in diagnosis["entities"] if e["contributing_factor"]}
    cause = next(
        (f for f in findings if f.confidence == "high" and roots & set(f.explains) and f.object not in roots), None
    )
    if cause is None:  # none deeper than what the playbook named (it may name the cause itself)
        return derived_fix(diagnosis, findings, roots)
    for e in diagnosis["entities"]:
        if e["name"] in cause.explains:
            e["contributing_factor"] = False
            e["reasoning"] = clip(f"affected: {cause.cause} ({cause.object})")
    root = analyzer_diagnosis(cause)["entities"][0]
    return {
        **diagnosis,
        "summary": clip(
            f"{diagnosis['summary']} The cause behind it is {cause.object}: {cause.cause}. "
            "Escalate to a human with this diagnosis; nothing was changed."
        ),
        "entities": [root] + [e for e in diagnosis["entities"] if e["name"] != cause.object],
        "propagations": diagnosis["propagations"]
        + [
            {"source": cause.object, "target": name, "condition": clip(cause.cause), "effect": f"{name} fails"}
            for name in sorted(roots & set(cause.explains))
        ],
        "mitigations": _mitigations(cause),
    }


def derived_fix(diagnosis: dict[str, Any], findings: list[AnalyzerFinding], roots: set[str]) -> dict[str, Any]:
    """The playbook named the root but proposes no change; an analyzer that found the same root wrong
    and derived the right value from the cluster (the host the namespace uses, the port the pods serve)
    supplies the change, and its account of the cause. Without a change, an analyzer that found the same
    root wrong still gives its account (read from the object's own status, where the playbook matched a
    symptom's text), and the run escalates with it."""
    if diagnosis["mitigations"]:
        return diagnosis
    on_root = [f for f in findings if f.confidence == "high" and f.object in roots]
    f = next((f for f in on_root if f.fix), on_root[0] if on_root else None)
    if f is None:
        return diagnosis
    entities = [
        {
            **e,
            "reasoning": clip(f"analyzer finding: {f.cause}"),
            "evidence": [clip(x) for x in f.evidence][:MAX_EVIDENCE],
        }
        if e["name"] == f.object
        else e
        for e in diagnosis["entities"]
    ]
    return {
        **diagnosis,
        "summary": clip(f"{f.object}: {f.cause}." + ("" if f.fix else " Escalate to a human; nothing was changed.")),
        "entities": entities,
        "mitigations": _mitigations(f),
    }


def _mitigations(f: AnalyzerFinding) -> list[dict[str, Any]]:
    """The change an analyzer derived from the cluster, then the ones that complete it; none without a fix."""
    if f.fix is None:
        return []
    rationale = f"{f.cause}; the analyzers derived this change from the cluster"
    first = {"action": f.fix["action"], "args": dict(f.fix["args"]), "rationale": clip(rationale)}
    then = [m for m in f.fix.get("then") or [] if isinstance(m, dict) and isinstance(m.get("args"), dict)]
    rest = [
        {"action": str(m.get("action")), "args": dict(m["args"]), "rationale": "completes the change"} for m in then
    ]
    return [first, *rest]


def victims(s: Survey, f: Finding, node: str, entities: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Callers upstream of the root cause: affected, not at fault."""
    out = []
    start = f.graph_name()
    if node not in entities:
        _victim(entities, node, f"{start} fails because of {', '.join(roots_of(f))}")
    for caller, callee in s.upstream(start):
        source = node if callee == start else victim_name(s, callee)
        target = victim_name(s, caller)
        _victim(entities, target, f"its calls to {callee} fail ({s.edges[(caller, callee)]:g}/s errors)")
        out.append(
            {
                "source": source,
                "target": target,
                "condition": f"calls from {caller} to {callee} fail",
                "effect": f"{caller} returns errors"
                + (f" ({', '.join(s.alert_names(caller))})" if s.alert_names(caller) else ""),
            }
        )
    return out


def victim_name(s: Survey, name: str) -> str:
    return f"{s.namespace}/{s.workload_kind(name) or 'Service'}/{name}"


def _victim(entities: dict[str, dict[str, Any]], name: str, reasoning: str) -> None:
    if name not in entities:
        entities[name] = {"name": name, "contributing_factor": False, "reasoning": reasoning, "evidence": []}


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for item in items:
        key = (item["source"], item["target"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def undiagnosed(inv: Investigation, findings: list[AnalyzerFinding] | None = None) -> dict[str, Any]:
    """No playbook matched: name the most suspicious object honestly and propose nothing. The analyzers'
    strongest finding comes first: it names an object read from the cluster, with its real kind."""
    if findings:
        return analyzer_diagnosis(findings[0])
    entities = []
    for sus in inv.unexplained[:1]:
        entities.append(
            {
                "name": f"{sus.namespace}/{sus.kind}/{sus.name}",
                "contributing_factor": True,
                "reasoning": f"{sus.why}; no playbook signal matched what the reads show",
                "evidence": [sus.why],
            }
        )
    if not entities:
        for s in inv.surveys:
            subject = next((s.subject(a) for a in s.alerts if s.subject(a)), None)
            if subject:
                entities.append(
                    {
                        "name": victim_name(s, subject),
                        "contributing_factor": True,
                        "reasoning": "alerts fire about it; no playbook signal matched what the reads show",
                        "evidence": [s.alert_line(a) for a in s.alerts][:MAX_EVIDENCE],
                    }
                )
                break
    if not entities:
        ns = inv.surveys[0].namespace if inv.surveys else "default"
        entities.append(
            {
                "name": f"{ns}/Namespace/{ns}",
                "contributing_factor": False,
                "reasoning": "no alert fires and every workload is healthy",
                "evidence": [],
            }
        )
    return {
        "summary": "No known fault pattern matched the evidence; escalate to a human with the reads gathered.",
        "entities": entities,
        "propagations": [],
        "alerts_explained": [],
        "mitigations": [],
        "checks": ["alerts_cleared"],
    }


def _affected(name: str, f: AnalyzerFinding) -> dict[str, Any]:
    return {"name": name, "contributing_factor": False, "reasoning": clip(f"affected: {f.cause}"), "evidence": []}


def analyzer_diagnosis(f: AnalyzerFinding) -> dict[str, Any]:
    """No playbook cause matched, but the analyzers found this object wrong: name it as the root cause with
    their evidence (a controller's pod by its controller, whose template the fix changes). The change is
    the one the analyzer derived from the cluster when it derived one (a high-confidence finding only);
    otherwise none, so the run escalates with the diagnosis."""
    evidence = [clip(line) for line in f.evidence][:MAX_EVIDENCE] or [clip(f.cause)]
    root = f.owner or f.object
    seen_on = [_affected(f.object, f)] if root != f.object else []
    if f.fix and f.confidence == "high":
        return {
            "summary": clip(f"The analyzers find {root} at fault: {f.cause}."),
            "entities": [
                {
                    "name": root,
                    "contributing_factor": True,
                    "reasoning": clip(f"analyzer finding ({f.confidence} confidence): {f.cause}"),
                    "evidence": evidence,
                }
            ]
            + seen_on
            + [_affected(name, f) for name in f.explains if name not in (f.object, root)],
            "propagations": [],
            "alerts_explained": [],
            "mitigations": _mitigations(f),
            "checks": ["workload_available", "alerts_cleared"],
        }
    return {
        "summary": clip(
            f"No known fault pattern matched; the analyzers find {root} at fault ({f.confidence} confidence): "
            f"{f.cause}. Escalate to a human with this diagnosis; nothing was changed."
        ),
        "entities": [
            {
                "name": root,
                "contributing_factor": True,
                "reasoning": clip(f"analyzer finding ({f.confidence} confidence): {f.cause}"),
                "evidence": evidence,
            }
        ]
        + seen_on,
        "propagations": [],
        "alerts_explained": [],
        "mitigations": [],
        "checks": ["alerts_cleared"],
    }
