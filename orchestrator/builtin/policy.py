"""What the builtin model does in each state, decided only from the transcript in front of it.

- triage (planner): read the alerts and workloads, then submit a plan of hypotheses and reads;
- investigate (investigator): run the playbook investigation, then submit the diagnosis;
- mitigate (investigator): apply the diagnosis's mitigations through the write tools, then report them;
- verify (verifier): read fresh state for the diagnosed objects and submit a verdict on what it shows.

Every policy returns one Step: a tool call (with the reason an SRE would give) or a closing text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diagnosis import build_diagnosis
from .evidence import Evidence, NeedRead, rows
from .investigation import conclude
from .library import Library
from .survey import CALL_ERRORS_QUERY, Survey, maxed_autoscalers, unhealthy_workloads
from .transcript import Transcript
from .verify import verdict

HARD_CALL_CAP = 24  # never investigate longer than this, whatever the state allows
# What a submission keeps when the engine rejected the full one (each schema requires only these).
ESSENTIAL = {
    "submit_plan": ("hypotheses", "steps"),
    "submit_diagnosis": ("summary", "entities", "mitigations"),
    "submit_mitigation": ("summary", "actions", "remediated"),
    "submit_verdict": ("verdict", "checks", "objections"),
}


@dataclass
class Step:
    tool: str | None  # None: answer with text only
    args: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    why: str = ""
    text: str = ""


def evidence_for(t: Transcript) -> Evidence:
    remaining = t.remaining_calls()
    eager = (remaining is None or remaining > 1) and t.calls_made < HARD_CALL_CAP
    return Evidence(t.carried + t.observations, t.tools, eager=eager)


def target_of(tool: str, args: dict[str, Any], default_ns: str = "") -> str:
    ns = args.get("namespace") or default_ns
    if tool == "query_metrics":
        return ns or "metrics"
    # The object a write changes, before any object its arguments merely mention (restore_service names the
    # workload it fronts; the Service is what it restores).
    if tool == "uncordon" and args.get("node"):
        return f"/Node/{args['node']}"
    if tool == "restore_service" and args.get("name"):
        return f"{ns}/Service/{args['name']}"
    if tool == "delete_pod" and args.get("name"):
        return f"{ns}/Pod/{args['name']}"
    if args.get("kind") and args.get("name"):
        return f"{ns}/{args['kind']}/{args['name']}"
    for key in ("object", "workload"):
        if args.get(key):
            return f"{ns}/{args[key]}"
    return str(args.get("query") or ns or "")


def ask(need: Any, ns: str = "") -> Step:
    return Step(need.tool, need.arguments, target_of(need.tool, need.arguments, ns), need.why)


# ---------------------------------------------------------------------------------------------- triage
def plan(t: Transcript, library: Library) -> Step:
    if t.submitted():
        return Step(None, text="The plan is submitted; the investigator takes it from here.")
    ev = evidence_for(t)
    namespaces = t.namespaces or ["default"]
    surveys = []
    try:
        for ns in namespaces:
            s = Survey(ns)
            s.alerts = ev.alerts(ns)
            s.workloads = ev.workloads(ns)
            surveys.append(s)
    except NeedRead as need:
        return ask(need, namespaces[0])
    hypotheses, steps = [], []
    for s in surveys:
        for sus in unhealthy_workloads(s):
            families = sorted({c.family for c in library.for_suspect("workload") if c.priority >= 0})
            hypotheses.append(
                f"{s.namespace}/{sus.kind}/{sus.name} is unhealthy ({sus.why}): a bad rollout or a placement "
                f"problem ({', '.join(families)} playbooks)"
            )
            steps += [
                {
                    "tool": "describe",
                    "target": f"{s.namespace}/{sus.kind}/{sus.name}",
                    "purpose": "pod template and status",
                },
                {"tool": "get_events", "target": f"{s.namespace}/{sus.kind}/{sus.name}", "purpose": "why pods fail"},
                {
                    "tool": "rollout_history",
                    "target": f"{s.namespace}/{sus.kind}/{sus.name}",
                    "purpose": "what changed",
                },
            ]
        for sus in maxed_autoscalers(s):
            hypotheses.append(f"HPA {s.namespace}/{sus.name} is held at its maximum: its target may be misconfigured")
            steps.append(
                {"tool": "list_resources", "target": f"{s.namespace}/HorizontalPodAutoscaler", "purpose": "targets"}
            )
        if s.app_alerts:
            services = sorted({s.subject(a) for a in s.app_alerts} - {""})
            hypotheses.append(
                f"requests fail or stop at {', '.join(services[:6])}: a dependency down the call graph is broken, or "
                "the path to it (Service, NetworkPolicy) or the caller's configuration (env, DNS, credentials)"
            )
            steps += [
                {
                    "tool": "query_metrics",
                    "target": CALL_ERRORS_QUERY.format(ns=s.namespace),
                    "purpose": "follow the failing calls",
                },
                {
                    "tool": "list_resources",
                    "target": f"{s.namespace}/Service",
                    "purpose": "selectors, ports, endpoints",
                },
                {
                    "tool": "list_resources",
                    "target": f"{s.namespace}/NetworkPolicy",
                    "purpose": "policies that block ingress",
                },
            ]
    if not hypotheses:
        hypotheses.append("no symptom in alerts or workloads: look for recent rollouts that removed a guarantee")
        steps.append({"tool": "rollout_history", "target": "recently changed workloads", "purpose": "what changed"})
    args = {"hypotheses": hypotheses[:4], "steps": steps[:8]}
    return Step("submit_plan", args, namespaces[0], "Submit the plan: hypotheses from the alerts and workloads read.")


# ---------------------------------------------------------------------------------------------- investigate
def diagnose(t: Transcript, library: Library) -> Step:
    done = t.submitted()
    if done:
        return Step(None, text="The diagnosis is submitted.")
    ev = evidence_for(t)
    namespaces = t.namespaces or ["default"]
    inv, need = conclude(ev, library, namespaces)
    if need is not None:
        return ask(need, namespaces[0])
    avoid = []
    previous = t.block.get("diagnosis") or {}
    objections = [str(o) for o in t.block.get("objections") or []]
    if objections and previous:
        avoid = list(previous.get("mitigations") or [])  # tried already: the verifier says it did not hold
        if not inv.findings:
            try:
                lead = cordoned_nodes(ev, objections)
            except NeedRead as need:
                return ask(need, namespaces[0])
            if lead:
                return Step("submit_diagnosis", *lead)
            return Step("submit_diagnosis", *converging(previous, objections))
    diagnosis = build_diagnosis(inv, avoid, t.findings)
    if not diagnosis["mitigations"] and avoid and inv.findings:
        diagnosis["summary"] += " Fresh reads still show this cause; no other mitigation is known."
    if objections and previous and inv.findings:
        diagnosis = keep_fixed_causes(diagnosis, previous, t.block.get("mitigation") or {})
    roots = [e["name"] for e in diagnosis["entities"] if e["contributing_factor"]]
    return Step("submit_diagnosis", diagnosis, roots[0] if roots else namespaces[0], diagnosis["summary"])


def cordoned_nodes(ev: Evidence, objections: list[str]) -> tuple[dict[str, Any], str, str] | None:
    """An objection that a node cannot take pods, confirmed by a fresh read of the nodes: uncordon them.
    (The first fix can leave the node the workload was pinned to cordoned when its name was never read.)"""
    if not any("node_schedulable" in o for o in objections):
        return None
    listing = ev.need("list_resources", {"kind": "Node"}, "the verifier says a node cannot take pods") or {}
    nodes = [str(r.get("name")) for r in rows(listing, "items") if (r.get("summary") or {}).get("unschedulable")]
    if not nodes:
        return None
    diagnosis: dict[str, Any] = {
        "summary": f"Node(s) {', '.join(nodes)} are still cordoned, as the verifier found; uncordon them.",
        "entities": [
            {
                "name": f"/Node/{n}",
                "contributing_factor": True,
                "reasoning": f"{n} is cordoned (spec.unschedulable), so no new pod can be placed on it.",
                "evidence": [f"list_resources Node: {n} unschedulable=True"],
            }
            for n in nodes
        ],
        "mitigations": [
            {"action": "uncordon", "args": {"node": n}, "rationale": f"Uncordon {n} so pods can be scheduled on it."}
            for n in nodes
        ],
        "checks": ["node_schedulable", "alerts_cleared"],
    }
    return diagnosis, f"/Node/{nodes[0]}", diagnosis["summary"]


CONVERGING = "Fresh reads no longer show this cause"

# Writes that replace pods and change no configuration: they cannot have fixed a configuration fault.
POD_REPLACEMENTS = ("rollout_restart", "delete_pod", "delete_failed_pods")


def keep_fixed_causes(
    diagnosis: dict[str, Any], previous: dict[str, Any], mitigation: dict[str, Any]
) -> dict[str, Any]:
    """Two faults at once: the first round fixed one (a change to its configuration went in and fresh reads
    no longer show it), the verifier still objects, and this round finds another. The fixed cause stays a
    root cause of the incident beside the new one. A previous root that no configuration change touched (a
    restart on a guess) is dropped as before."""
    remediated = {
        target_of(str(a.get("action")), dict(a.get("args") or {}))
        for a in mitigation.get("actions") or []
        if isinstance(a, dict) and a.get("result") == "applied" and a.get("action") not in POD_REPLACEMENTS
    }
    old_roots = [e for e in previous.get("entities") or [] if isinstance(e, dict) and e.get("contributing_factor")]
    new_names = {e["name"] for e in diagnosis["entities"]}
    fixed = {str(e.get("name")) for e in old_roots} & remediated
    if not fixed or fixed & {e["name"] for e in diagnosis["entities"] if e["contributing_factor"]}:
        return diagnosis  # nothing was fixed, or fresh reads still blame what was changed
    kept = [
        {**e, "reasoning": f"fixed earlier in this run: {e.get('reasoning', '')}"}
        for e in old_roots
        if e.get("name") not in new_names
    ]
    if not kept:
        return diagnosis
    done = ", ".join(sorted(fixed))
    return {
        **diagnosis,
        "summary": f"{diagnosis['summary']} Fixed earlier in this run: {done}.",
        "entities": kept + diagnosis["entities"],
    }


def converging(previous: dict[str, Any], objections: list[str]) -> tuple[dict[str, Any], str, str]:
    """Fresh reads no longer show the diagnosed cause: keep the diagnosis, propose nothing new, and say why
    the verifier's objections remain (the cluster is still converging on the fix)."""
    keys = ("summary", "entities", "propagations", "alerts_explained", "checks")
    diagnosis = {k: previous[k] for k in keys if k in previous}
    first = str(previous.get("summary", "")).split(CONVERGING, 1)[0].rstrip()  # said once, however many rounds
    diagnosis["summary"] = (
        f"{first} {CONVERGING}: the mitigation is in place and the "
        f"cluster is converging; still open: {'; '.join(objections)[:300]}"
    ).strip()
    diagnosis["mitigations"] = []
    roots = [e.get("name") for e in diagnosis.get("entities") or [] if e.get("contributing_factor")]
    return diagnosis, str(roots[0] if roots else ""), "The cause no longer shows; nothing new to change."


# ---------------------------------------------------------------------------------------------- mitigate
def mitigate(t: Transcript, diagnosis: dict | None = None) -> Step:
    if any(o.tool == "submit_mitigation" and o.ok for o in t.observations):
        return Step(None, text="The mitigation is reported.")
    diagnosis_given = diagnosis is not None  # the unguarded loop: one agent diagnoses, fixes and closes
    diagnosis = diagnosis or t.block.get("diagnosis") or {}
    mode = str(t.block.get("mode") or "auto")
    allowed = set(t.block.get("allowed_actions") or [])
    actions: list[dict[str, Any]] = []
    remediated: list[str] = []
    for m in diagnosis.get("mitigations") or []:
        action, args = str(m.get("action")), dict(m.get("args") or {})
        target = target_of(action, args)
        done = next((o for o in t.observations if o.tool == action and o.args == args and o.answered), None)
        if done is not None:
            result = write_outcome(done.ok, done.content, done.error)
        elif mode == "off" or (allowed and action not in allowed) or action not in t.tools:
            result = "denied"
        else:
            return Step(action, args, target, str(m.get("rationale") or f"apply {action} as diagnosed"))
        actions.append({"action": action, "args": args, "result": result})
        if result in ("applied", "dry-run"):
            remediated.append(target)
    if diagnosis_given and remediated and not t.looked_since_writes({a["action"] for a in actions}):
        # Alone (no verifier behind it), a careful engineer looks at the result of a change before calling it done.
        ns = remediated[0].split("/", 1)[0] or (t.namespaces or ["default"])[0]
        return Step("list_pods", {"namespace": ns}, ns, "Check the pods after the change before reporting it.")
    summary = "; ".join(f"{a['action']} {target_of(a['action'], a['args'])}: {a['result']}" for a in actions)
    args = {
        "summary": summary or "The diagnosis proposes no mitigation; nothing was changed.",
        "actions": actions,
        "remediated": list(dict.fromkeys(remediated)),
    }
    return Step("submit_mitigation", args, remediated[0] if remediated else "", "Report what was changed.")


def write_outcome(ok: bool | None, content: dict[str, Any], error: str | None) -> str:
    mode = str(content.get("mode") or "")
    if ok:
        return "dry-run" if mode == "dry-run" else "applied"
    if mode == "denied" or "denied" in str(error or "").lower():
        return "denied"
    return "failed"


# ---------------------------------------------------------------------------------------------- verify
def verify(t: Transcript) -> Step:
    if t.submitted():
        return Step(None, text="The verdict is submitted.")
    ev = evidence_for(t)
    namespaces = t.namespaces or ["default"]
    step = verdict(ev, t.block, namespaces)
    if isinstance(step, dict):
        passed = step["verdict"] == "PASS"
        return Step("submit_verdict", step, namespaces[0], "All checks pass." if passed else "Some checks fail.")
    return ask(step, namespaces[0])


def decide(t: Transcript, library: Library) -> Step:
    submission = t.submission
    if submission == "submit_plan":
        step = plan(t, library)
    elif submission == "submit_diagnosis":
        done = t.submitted()
        if done is not None and done.tool == "submit_diagnosis" and "submit_mitigation" in t.tools:
            step = mitigate(t, diagnosis=done.args)  # one state for everything (the unguarded loop)
        else:
            step = diagnose(t, library)
    elif submission == "submit_mitigation":
        step = mitigate(t)
    elif submission == "submit_verdict":
        step = verify(t)
    else:
        return Step(None, text="No state instruction found; nothing to do.")
    return resubmission(t, step)


def resubmission(t: Transcript, step: Step) -> Step:
    """Never send a submission the engine already rejected: send its essentials once, then explain."""
    rejected = [o for o in t.observations if o.tool == step.tool and o.tool in ESSENTIAL and o.ok is False]
    if not rejected:
        return step
    essential = {k: v for k, v in step.args.items() if k in ESSENTIAL[str(step.tool)]}
    if any(o.args == essential for o in rejected):
        return Step(None, text=f"{step.tool} was rejected ({rejected[-1].error}); I cannot correct it from here.")
    return Step(step.tool, essential, step.target, f"Resubmit without optional fields: {rejected[-1].error}")
