"""What each agent is told when a state begins: the Markdown a real model reads and, at its end, the
fenced ```sre-agent block the built-in models parse (the agent protocol in ARCHITECTURE.md).

The verifier's briefing is deliberately thin: the incident, the claim (root-cause entities and the
mitigation) and nothing of the investigator's reasoning, facts or plan, so its verdict is independent.

A model that is not built in also gets the team's knowledge: the playbooks' signals, localisation,
mitigations and check names (`knowledge_lines`, relevance-ordered and cut to a token allowance), and the
gate's check names as an enum in the submission schema (`offered_schema`). The built-in models read the
playbooks themselves, so what they receive stays exactly as it was."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .machines import StateSpec
from .roles import Role
from .tokens import count_text

if TYPE_CHECKING:
    from .builtin.library import Cause, Library, Signal

# The marker a role file puts on a string field that takes gate check names (roles/investigator.yaml):
# the schema offered to the model gets the registry's names as its enum; validation stays lenient, since
# an unknown name is advisory (verify.Gate.required_checks), not an error.
GATE_CHECKS_MARK = "x-gate-checks"


@dataclass
class Briefing:
    incident_name: str
    summary: str
    namespaces: list[str]
    alerts: list[dict[str, Any]]
    plan: dict | None = None
    diagnosis: dict | None = None
    mitigation: dict | None = None
    objections: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    allowed_actions: list[str] = field(default_factory=list)
    mode: str = "auto"
    tokens_left: int | None = None  # of the run's token budget, when the state begins
    gate_checks: list[str] = field(default_factory=list)  # named in the prose; empty for the built-in models


def system_prompt(role: Role, incident_name: str, summary: str, namespaces: list[str]) -> str:
    return (
        f"{role.prompt}\n\nIncident {incident_name}: {summary}\n"
        f"Namespaces in scope: {', '.join(namespaces) or 'not given'}."
    )


def claim_only(diagnosis: dict | None) -> dict | None:
    """The verifier sees the claim, not the reasoning behind it."""
    if diagnosis is None:
        return None
    return {
        "summary": diagnosis.get("summary"),
        "entities": [{k: e.get(k) for k in ("name", "contributing_factor")} for e in diagnosis.get("entities", [])],
        "mitigations": diagnosis.get("mitigations", []),
        "checks": diagnosis.get("checks", []),
    }


def instruction(
    st: StateSpec, role: Role, b: Briefing, continues_in: str | None = None, continues_from: str | None = None
) -> str:
    """The state's instruction: prose plus the machine-readable block; `continues_in` names the state that
    takes over when this one uses its steps, `continues_from` the one whose reads this state carries on with."""
    verifier = role.name == "verifier"
    block: dict[str, Any] = {
        "state": st.name,
        "role": role.name,
        "incident": {"name": b.incident_name, "summary": b.summary, "namespaces": b.namespaces, "alerts": b.alerts},
        "plan": None if verifier else b.plan,
        "diagnosis": claim_only(b.diagnosis) if verifier else b.diagnosis,
        "mitigation": b.mitigation if st.kind == "verify" or role.name == "investigator" else None,
        "objections": [] if verifier else b.objections,
        "facts": [] if verifier else b.facts,
        "allowed_actions": b.allowed_actions if st.writes else [],
        "mode": b.mode,
        "continues_in": continues_in,
        "continues_from": continues_from,
        "tokens_left": b.tokens_left,
    }
    lines = [f"## State: {st.name} ({role.name})", f"{st.description}."]
    if st.submit:
        lines.append(f"When done, call {st.submit}. You have at most {st.step_cap} tool calls in this state.")
        if continues_in:
            lines.append(f"If you run out, {continues_in} continues from the facts gathered; do not submit early.")
    if b.gate_checks and st.submit and _takes_checks(role, st.submit):
        lines.append(
            f"In {st.submit}, name in `checks` the checks that would prove the fix, from those the gate runs: "
            f"{', '.join(b.gate_checks)}. Any other name is only recorded as advice."
        )
    if b.tokens_left is not None:
        lines.append(f"About {b.tokens_left} tokens of the run's budget are left; the run ends when they are spent.")
    if continues_from:
        lines.append(f"The reads made in {continues_from} are still current: use them rather than reading again.")
    if block["objections"]:
        lines.append("The verifier rejected the last attempt; objections:")
        lines += [f"- {o}" for o in block["objections"]]
    return "\n".join(lines) + f"\n\n```sre-agent\n{json.dumps(block, default=str)}\n```"


def _takes_checks(role: Role, submission: str) -> bool:
    sub = role.submissions.get(submission)
    return sub is not None and GATE_CHECKS_MARK in json.dumps(sub.schema)


def offered_schema(schema: dict[str, Any], gate_checks: Sequence[str]) -> dict[str, Any]:
    """The submission schema as the model is offered it: every field marked with GATE_CHECKS_MARK gets
    the gate's check names as its enum (none when `gate_checks` is empty), and the marker goes."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items() if k != GATE_CHECKS_MARK}
            if node.get(GATE_CHECKS_MARK) and gate_checks:
                out["enum"] = list(gate_checks)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(copy.deepcopy(schema))


# ------------------------------------------------------------------------------------------ knowledge
def knowledge_lines(
    library: Library, alerts: Sequence[dict[str, Any]], findings: Sequence[dict[str, Any]], allowance: int, model: str
) -> list[str]:
    """The playbooks' causes as one line each (signals, localisation, mitigation, checks), those whose
    signals match the alerts and findings first, then file order, cut at `allowance` tokens."""
    seen = _observed_text(alerts, findings)
    ranked = sorted(
        enumerate(c for book in library.playbooks for c in book.causes),
        key=lambda item: (-_relevance(item[1], seen), item[0]),
    )
    lines: list[str] = []
    used = 0
    for _, cause in ranked:
        line = cause_line(cause)
        cost = count_text(line, model) + 2  # the "- " bullet and the newline around it
        if used + cost > allowance:
            continue  # a shorter line further down may still fit
        lines.append(line)
        used += cost
    return lines


def cause_line(cause: Cause) -> str:
    """`playbook FAMILY/CAUSE: summary | signals: ... | localise: ... | mitigation: ... | checks: ...`"""
    parts = [f"playbook {cause.family}/{cause.id}: {cause.summary}"]
    signals = "; ".join(_signal(s) for s in cause.require)
    if cause.support:
        signals += ("; " if signals else "") + "supported by " + "; ".join(_signal(s) for s in cause.support)
    if cause.exclude:
        signals += "; not when " + "; ".join(_signal(s) for s in cause.exclude)
    if signals:
        parts.append(f"signals: {signals}")
    parts.append(f"localise: root cause is the {', '.join(cause.root_causes) or cause.suspect}; {cause.reasoning}")
    fixes = []
    for m in cause.mitigations:
        when = f" (when {', '.join(m.when)})" if m.when else ""
        fixes.append(f"{m.action} {json.dumps(m.args, separators=(',', ':'))}{when}")
    parts.append(f"mitigation: {' or '.join(fixes) if fixes else 'none safe: escalate with the evidence'}")
    if cause.checks:
        parts.append(f"checks: {', '.join(cause.checks)}")
    return " | ".join(parts)


def _signal(s: Signal) -> str:
    return f"{s.key} {'|'.join(s.patterns)}"


def _observed_text(alerts: Sequence[dict[str, Any]], findings: Sequence[dict[str, Any]]) -> str:
    """What the run has observed so far, as one lower-case text to match signal patterns against."""
    parts: list[str] = []
    for a in alerts:
        parts += [str(a.get("name") or ""), *(str(v) for v in (a.get("labels") or {}).values())]
    for f in findings:
        parts += [str(f.get(k) or "") for k in ("object", "cause", "kind")]
        parts += [str(e) for e in f.get("evidence") or []]
    return "\n".join(parts).lower()


def _hits(s: Signal, seen: str, words: set[str]) -> int:
    """How many of the signal's patterns were observed: whole words for the keys a playbook matches whole
    (a pod reason, an alert name), substrings for the others (event messages, log lines)."""
    from .builtin.library import EXACT_KEYS

    exact = s.key in EXACT_KEYS
    if exact:
        return sum(1 for p in s.patterns if p.lower() in words)
    return sum(1 for p in s.patterns if len(p) > 2 and p.lower() in seen)


def _relevance(cause: Cause, seen: str) -> int:
    """How much of what was observed the cause's signals name: each observed pattern counts its line's
    weight, a required line double; a cause with a required line unobserved counts half, one an exclusion
    rules out counts nothing."""
    words = {w.strip(":.,;()[]\"'") for w in re.split(r"[\s=]+", seen)}
    score = 0
    for weight, signals in ((2, cause.require), (1, cause.support)):
        score += sum(weight * max(1, s.weight) * _hits(s, seen, words) for s in signals)
    if any(_hits(s, seen, words) == 0 for s in cause.require):
        score //= 2
    if any(_hits(s, seen, words) for s in cause.exclude):
        score = 0
    return score
