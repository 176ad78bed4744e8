"""Per-model-class state machines, as data (frontier.yaml, mid.yaml, open.yaml).

A machine names its states (who speaks, with which submission, under which step cap) and its transitions
(trigger, source, destination, guard). The engine fires triggers from what happened; the `transitions`
library decides where that leads. No agent can end a run: only a terminal state does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MACHINES_DIR = Path(__file__).resolve().parent
STATE_KINDS = {"engine", "clarify", "agent", "verify", "wait", "gate", "audit", "terminal"}
GUARDS = {"ambiguous", "healthy", "read_only", "nothing_applied", "rounds_left"}
OPTIONS = {
    "reset_context_between_states",
    "reject_mismatched_calls",
    "dedupe_repeated_calls",
    "max_verify_rounds",
    "loop_limit",
}
TRIGGERS = {"begin", "clarified", "submitted", "step_cap", "waited", "passed", "failed", "audited", "exhausted"}


class MachineError(ValueError):
    """A machine file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class StateSpec:
    name: str
    kind: str
    description: str = ""
    role: str | None = None
    submit: str | None = None
    step_cap: int = 0
    writes: bool = False
    exit_code: int | None = None
    records: tuple[str, ...] = ()  # further submissions accepted and recorded without ending the state


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    source: tuple[str, ...]
    dest: str
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class MachineSpec:
    model_class: str
    description: str
    initial: str
    states: dict[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    options: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def reset_context_between_states(self) -> bool:
        return bool(self.options.get("reset_context_between_states", False))

    @property
    def reject_mismatched_calls(self) -> bool:
        return bool(self.options.get("reject_mismatched_calls", False))

    @property
    def dedupe_repeated_calls(self) -> bool:
        return bool(self.options.get("dedupe_repeated_calls", True))

    @property
    def max_verify_rounds(self) -> int:
        return int(self.options.get("max_verify_rounds", 2))

    @property
    def loop_limit(self) -> int:
        """Answers from memory in a row (an agent repeating an unchanged read) before the machine moves on."""
        return int(self.options.get("loop_limit", 3))

    def continues_after_cap(self, state: str) -> str | None:
        """The agent state that unconditionally takes over when `state` uses its steps, if any: there the
        cap is a hand-over, not the end (so no need to rush a submission, and no closing step)."""
        for t in self.transitions:
            if t.trigger == "step_cap" and state in t.source and not t.conditions and not t.unless:
                dest = self.states.get(t.dest)
                return t.dest if dest is not None and dest.kind == "agent" else None
        return None

    def takes_over_from(self, state: str, entered_from: str, trigger: str) -> str | None:
        """The state whose evidence `state` carries on with: entered by that state's step cap, same role and a
        kept context, so what was read there is still in front of the agent and still current."""
        src, dest = self.states.get(entered_from), self.states.get(state)
        if trigger != "step_cap" or src is None or dest is None or self.reset_context_between_states:
            return None
        same_role = src.role is not None and src.role == dest.role
        return entered_from if same_role and self.continues_after_cap(entered_from) == state else None

    def build(self, model: Any) -> Any:
        """A `transitions.Machine` driving `model`, whose guard methods are named in GUARDS."""
        from transitions import Machine

        return Machine(
            model=model,
            states=list(self.states),
            initial=self.initial,
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": list(t.source) if t.source != ("*",) else "*",
                    "dest": t.dest,
                    "conditions": list(t.conditions),
                    "unless": list(t.unless),
                }
                for t in self.transitions
            ],
            auto_transitions=False,
            ignore_invalid_triggers=False,
            send_event=False,
        )


UNGUARDED = "unguarded"  # the mitigations-off loop: a machine file, but not a model class


def available_classes() -> list[str]:
    return sorted(p.stem for p in MACHINES_DIR.glob("*.yaml") if p.stem != UNGUARDED)


def _listify(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def load_machine(model_class: str, path: Path | None = None) -> MachineSpec:
    path = path or MACHINES_DIR / f"{model_class}.yaml"
    if not path.is_file():
        raise MachineError(f"no machine for model class {model_class!r}; available: {', '.join(available_classes())}")
    doc = yaml.safe_load(path.read_text())
    where = path.name
    states: dict[str, StateSpec] = {}
    for name, raw in (doc.get("states") or {}).items():
        raw = dict(raw or {})
        kind = raw.pop("kind", None)
        if kind not in STATE_KINDS:
            raise MachineError(f"{where}: states.{name}.kind must be one of {sorted(STATE_KINDS)}, not {kind!r}")
        raw.pop("exit", None)  # a human-readable note on the exit condition
        raw["records"] = _listify(raw.get("records"))
        try:
            states[name] = StateSpec(name=name, kind=kind, **raw)
        except TypeError as exc:
            raise MachineError(f"{where}: states.{name}: {exc}") from None
    transitions = []
    for i, raw in enumerate(doc.get("transitions") or []):
        t = TransitionSpec(
            trigger=raw["trigger"],
            source=_listify(raw["source"]),
            dest=raw["dest"],
            conditions=_listify(raw.get("conditions")),
            unless=_listify(raw.get("unless")),
        )
        if t.trigger not in TRIGGERS:
            raise MachineError(f"{where}: transitions[{i}].trigger {t.trigger!r} is not one of {sorted(TRIGGERS)}")
        for s in (*t.source, t.dest):
            if s != "*" and s not in states:
                raise MachineError(f"{where}: transitions[{i}] names unknown state {s!r}")
        for g in (*t.conditions, *t.unless):
            if g not in GUARDS:
                raise MachineError(f"{where}: transitions[{i}] guard {g!r} is not one of {sorted(GUARDS)}")
        transitions.append(t)
    options = dict(doc.get("options") or {})
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise MachineError(f"{where}: options.{unknown[0]} is not one of {sorted(OPTIONS)}")
    initial = doc.get("initial")
    if initial not in states:
        raise MachineError(f"{where}: initial state {initial!r} is not a state")
    return MachineSpec(
        model_class=doc.get("class", model_class),
        description=doc.get("description", ""),
        initial=initial,
        states=states,
        transitions=tuple(transitions),
        options=options,
        source=str(path),
    )


def mermaid(spec: MachineSpec, path_taken: list[tuple[str, str, str]] | None = None) -> str:
    """A Mermaid stateDiagram; edges of `path_taken` ((source, trigger, dest) triples) are marked."""
    taken = {(s, t, d) for s, t, d in path_taken or []}
    lines = ["stateDiagram-v2", f"    %% {spec.model_class}: {spec.description}"]
    lines.append(f"    [*] --> {spec.initial}")
    for st in spec.states.values():
        label = st.kind if st.role is None else f"{st.role}"
        if st.step_cap:
            label += f", cap {st.step_cap}"
        lines.append(f"    {st.name} : {st.name} ({label})")
    seen = set()
    for t in spec.transitions:
        sources = list(spec.states) if t.source == ("*",) else t.source
        for s in sources:
            if spec.states[s].kind == "terminal" or s == t.dest:
                continue
            guard = "".join(f" [{c}]" for c in t.conditions) + "".join(f" [not {u}]" for u in t.unless)
            label = f"{t.trigger}{guard}"
            if t.source == ("*",):
                if (t.trigger, t.dest) in seen:
                    continue
                seen.add((t.trigger, t.dest))
                lines.append(f"    note right of {t.dest} : any state --{t.trigger}--> {t.dest}")
                break
            mark = " ✔" if (s, t.trigger, t.dest) in taken else ""
            lines.append(f"    {s} --> {t.dest} : {label}{mark}")
    for st in spec.states.values():
        if st.kind == "terminal":
            lines.append(f"    {st.name} --> [*]")
    if taken:
        lines.append("    classDef visited fill:#d4edda,stroke:#28a745")
        visited = sorted({s for s, _, _ in taken} | {d for _, _, d in taken})
        lines.append(f"    class {','.join(visited)} visited")
    return "\n".join(lines) + "\n"
