"""The run's state as one record: what the machine has learnt and decided so far, and what a run returns.

The state handlers and the live mitigations write `RunState`; the loop, the briefings and the outputs read
it. It is also the `transitions` model, so the guards named in machines/*.yaml are its properties and
`state` is the machine's current state. Nothing here imports the engine, so the outputs and any front-end
can use these types without the loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..facts import Ledger
from ..machines import MachineSpec
from ..redaction import mask_text, scrub

# The run's exit codes (README "Exit codes", `sre-agent run --help`). 2 is what can be told before anything
# is contacted; 5 and 6 are a service that failed once contacted, so a retry later may go differently.
EXIT_RESOLVED = 0  # resolved and verified
EXIT_INTERNAL = 1  # a bug
EXIT_BAD_INPUT = 2  # incident file, flags, model name or key, kubeconfig, --output
EXIT_UNRESOLVED = 3  # escalated: the reason says why (no change attempted or applied, no effect, budget)
EXIT_NO_FAULT = 4  # nothing wrong found; nothing changed
EXIT_CLUSTER = 5  # the cluster does not answer (or refuses the credentials), or a scope namespace is missing
EXIT_MODEL = 6  # the model does not answer, refuses, or its replies cannot be read, after retries
Clarifier = Callable[[str, list[str]], Awaitable[str | None]]


def root_causes(diagnosis: dict[str, Any] | None) -> list[str]:
    """The root-cause entities of a diagnosis (submit_diagnosis's; those marked contributing_factor)."""
    entities = (diagnosis or {}).get("entities") or []
    return [str(e.get("name")) for e in entities if isinstance(e, dict) and e.get("contributing_factor")]


Step = tuple[str, dict[str, Any]]  # what a state handler returns: the machine's trigger and why


@dataclass
class RunOptions:
    output_dir: Path | None = None
    model: str | None = None  # overrides spec.model
    model_class: str | None = None  # overrides spec.modelClass
    base_url: str | None = None  # an OpenAI-compatible server for litellm models
    clarifier: Clarifier | None = None
    clarify_timeout: float = 60.0
    runs_dir: Path = Path("runs")
    seed: int = 0  # for the failure-prone built-in models
    mast_judge: str | None = None  # an LLM (not the agents') for the MAST modes the detectors cannot decide
    mitigations: bool = True  # off: one free-running agent, no verifier gate (for measuring what they are worth)
    # Called with the cluster session and the exit code before the session closes: the bench inspects the
    # simulator the run leaves behind.
    before_close: Callable[[Any, int], None] | None = None


@dataclass
class RunResult:
    run_id: str
    status: str  # resolved | escalated | no-fault | error
    exit_code: int
    reason: str
    output_dir: Path
    model: str
    model_class: str
    ended_by: str
    diagnosis: dict[str, Any] | None = None
    mitigation: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    writes: list[dict[str, Any]] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    steps: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    llm_calls: int = 0
    seconds: float = 0.0
    assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["output_dir"] = str(self.output_dir)
        return d


def cancelled(state: str) -> Step:
    """The trigger that ends a run its front-end cancelled: escalated, like any run that stops unresolved."""
    return "exhausted", {"reason": f"cancelled by the front-end in state {state}", "by": "cancelled"}


class OutputDirError(Exception):
    """The run directory cannot be this run's: it holds another run, is a file, or cannot be written."""


class RunFailed(Exception):
    """Ends the run early with an exit code and a one-line reason (bad input, unreachable cluster)."""

    def __init__(self, exit_code: int, reason: str) -> None:
        super().__init__(reason)
        self.exit_code = exit_code


# eq=False: `transitions` keeps its models in a list and finds them by identity, not by field values.
@dataclass(eq=False)
class RunState:
    incident_name: str
    summary: str
    mode: str  # the incident's remediation mode
    max_verify_rounds: int
    namespaces: list[str]
    alerts: list[dict[str, Any]]
    state: str = ""  # the machine's current state (set by `transitions`)
    candidates: list[str] = field(default_factory=list)  # namespaces with firing alerts, when none was named
    assumptions: list[str] = field(default_factory=list)
    forced_read_only: bool = False
    ledger: Ledger = field(default_factory=Ledger)
    plan: dict[str, Any] | None = None
    diagnosis: dict[str, Any] | None = None
    mitigation: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    objections: list[str] = field(default_factory=list)
    verify_rounds: int = 0
    writes: list[dict[str, Any]] = field(default_factory=list)  # every write tool result, in order
    round_writes: list[dict[str, Any]] = field(default_factory=list)  # those of the current writing state
    path: list[tuple[str, str, str]] = field(default_factory=list)  # (source, trigger, dest) per transition
    ended_by: str = "machine"
    end_reason: str = ""
    # The analyzers' first pass at intake: None when it did not run or failed (then nothing is known to be
    # healthy), else its findings as dicts, strongest first.
    findings: list[dict[str, Any]] | None = None
    finding_lines: list[str] = field(default_factory=list)  # the top ones, as every model's context shows them
    recent_changes: list[str] = field(default_factory=list)  # workloads rolled out within the last hour
    # The incident's alerts that Alertmanager, once read, does not have firing (resolved, or never fired):
    # by themselves they are no evidence of a fault.
    stale_alerts: list[str] = field(default_factory=list)

    @classmethod
    def for_incident(cls, incident: Any, max_verify_rounds: int) -> RunState:
        """A run's state at its start. The incident is often pasted from a page or an alert: what the run
        keeps of it is masked once, here."""
        spec = incident.spec
        return cls(
            incident_name=incident.metadata.name,
            summary=mask_text(spec.summary),
            mode=spec.remediation.mode,
            max_verify_rounds=max_verify_rounds,
            namespaces=list(spec.scope.namespaces) if spec.scope else [],
            alerts=scrub([a.model_dump() if hasattr(a, "model_dump") else dict(a) for a in spec.alerts or []]),
        )

    # ------------------------------------------------------------------ guards (named in machines/*.yaml)
    @property
    def ambiguous(self) -> bool:
        return not self.namespaces and len(self.candidates) != 1

    @property
    def healthy(self) -> bool:
        """Nothing to act on: the analyzers ran over a scope and found nothing above low confidence, no alert
        fires in it (an incident's alert Alertmanager does not have firing counts for nothing) and nothing
        was rolled out there lately. A pass that failed or had no scope proves
        nothing, so it is never healthy."""
        live = [a for a in self.alerts if a.get("name") not in self.stale_alerts]
        if self.findings is None or not self.namespaces or live or self.recent_changes:
            return False
        return not any(f.get("confidence") in ("medium", "high") for f in self.findings)

    @property
    def read_only(self) -> bool:
        return self.mode == "off" or self.forced_read_only

    @property
    def nothing_applied(self) -> bool:
        return not any(w.get("mode") == "applied" for w in self.round_writes)

    @property
    def rounds_left(self) -> bool:
        return self.verify_rounds < self.max_verify_rounds

    # ------------------------------------------------------------------ what the run learnt
    @property
    def last_transition(self) -> tuple[str, str, str]:
        return self.path[-1] if self.path else ("", "", "")

    def assume(self, text: str) -> None:
        self.assumptions.append(text)
        self.ledger.add([f"assumption: {text}"])

    def record_submission(self, name: str, args: dict[str, Any]) -> None:
        if name == "submit_plan":
            self.plan = args
        elif name == "submit_diagnosis":
            self.diagnosis = args
            self.objections = []
            roots = root_causes(args)
            self.ledger.add([f"diagnosis: root cause {', '.join(roots) or 'none named'}"])
        elif name == "submit_mitigation":
            self.mitigation = args

    def end(self, by: str, reason: str) -> None:
        self.ended_by, self.end_reason = by, reason


def why_it_ended(run: RunState, machine: MachineSpec, status: str) -> str:
    """One line on how the machine reached its terminal state."""
    if status == "no-fault":
        stale = f" (the incident's {', '.join(run.stale_alerts)} is not firing)" if run.stale_alerts else ""
        return (
            f"no fault found: no alert fires in scope{stale}, no recent rollout, "
            "and the analyzers found nothing above low confidence"
        )
    if status == "resolved":
        if run.verdict is None:
            return "the model declared the incident fixed; nothing verified it (mitigations off)"
        return "verified: every required check passed on fresh reads"
    if run.read_only:
        assumed = f" ({run.assumptions[-1]})" if run.forced_read_only and run.assumptions else ""
        return "read-only run: diagnosis only, nothing changed" + assumed
    source, trigger, _ = run.last_transition
    if run.objections and trigger == "failed":
        changed = sorted({str(w.get("target")) for w in run.round_writes if w.get("mode") == "applied"})
        if changed:  # the change went in and the checks still fail on fresh reads
            return f"the mitigation had no effect: {', '.join(changed[:3])} changed, yet " + "; ".join(
                run.objections[:3]
            )
        return "not verified: " + "; ".join(run.objections[:3])
    if trigger == "step_cap":
        return f"{source} used its {machine.states[source].step_cap} steps without a result"
    if machine.states.get(source) is not None and machine.states[source].writes and run.nothing_applied:
        modes = sorted({w.get("mode", "?") for w in run.round_writes})
        ended = f"no change was applied ({', '.join(modes)})" if modes else "no change was attempted"
        # An escalation with a diagnosis says what a person should look at first.
        roots = root_causes(run.diagnosis)
        return ended + (f"; root cause named: {', '.join(roots[:3])}" if roots else "")
    return f"ended in state {run.state or '?'} after {trigger or 'nothing'} from {source or 'the start'}"
