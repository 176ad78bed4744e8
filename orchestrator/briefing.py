"""What each agent is told when a state begins: the Markdown a real model reads and, at its end, the
fenced ```sre-agent block the built-in models parse (the agent protocol in ARCHITECTURE.md).

The verifier's briefing is deliberately thin: the incident, the claim (root-cause entities and the
mitigation) and nothing of the investigator's reasoning, facts or plan, so its verdict is independent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .machines import StateSpec
from .roles import Role


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
    if b.tokens_left is not None:
        lines.append(f"About {b.tokens_left} tokens of the run's budget are left; the run ends when they are spent.")
    if continues_from:
        lines.append(f"The reads made in {continues_from} are still current: use them rather than reading again.")
    if block["objections"]:
        lines.append("The verifier rejected the last attempt; objections:")
        lines += [f"- {o}" for o in block["objections"]]
    return "\n".join(lines) + f"\n\n```sre-agent\n{json.dumps(block, default=str)}\n```"
