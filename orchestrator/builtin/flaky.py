"""`builtin/flaky-frontier|flaky-mid|flaky-open`: the flaky models, the playbook model made to fail the way each
model class fails.

The benchmark needs models that fail like real ones so it can show what the machines and live mitigations
recover. `FlakyModel` asks the deterministic `PlaybookModel` for its answer and then, with seeded
randomness and the class's rates from `failure_profiles.yaml`, corrupts it with one behaviour the seed
attributes to that class. Every corruption is ground truth: appended to `injections` and passed to
`on_injection` (the engine writes it to the trace as an "injection" event, which MAST detectors never read).

    model = FlakyModel("open", seed=3)
    model.on_injection = lambda record: trace.emit("injection", **record)
    result = await model.create(messages, tools=tool_schemas)
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import CreateResult, LLMMessage, ModelInfo, RequestUsage

from ..models.base import TurnModel
from ..models.errors import ModelError
from ..roles import load_role
from .agent import MODEL_NAME, PlaybookModel
from .transcript import SUBMISSIONS, Observation, Transcript, read_transcript

PROFILES_PATH = Path(__file__).with_name("failure_profiles.yaml")
CLASSES = ("frontier", "mid", "open")
# behaviour -> the MAST mode it produces (fixed here; only the rates are data)
BEHAVIOURS = {
    "blind_pass": "3.2",  # a PASS (or, alone, a closure) with no look at the result: coverage
    "wrong_target": "3.3",
    "early_success": "3.1",
    "termination_unaware": "1.5",
    "repeat": "1.3",
    "mismatch": "2.6",
    "forget": "1.4",
    "drift": "2.3",
    "guess": "2.2",
    "fixation": "persistent",  # not a MAST mode by itself; what it leads to is recorded as it happens
    "ignore_objections": "2.5",
    "unfounded_closure": "3.3",  # consequence, not drawn: closing while the diagnosis was wrong (3.1 if unchecked)
    "withholding": "2.4",  # consequence, not drawn: a made-up diagnosis leaves out the reads that failed
}
DRAWN = tuple(b for b in BEHAVIOURS if b not in ("unfounded_closure", "withholding"))
READS = frozenset(load_role("investigator").read_tools)  # the role file is the list of reads
OUT_OF_SCOPE = ("kube-system", "default")
DRIFT_READS = ("list_pods", "get_events", "list_workloads", "get_alerts")
DRIFT_EPISODE = 3
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


# ---------------------------------------------------------------------------------------------- profiles
@dataclass(frozen=True)
class Rate:
    rate: float
    per: str  # "turn" | "run"


@dataclass(frozen=True)
class FailureProfile:
    model_class: str
    rates: dict[str, Rate]
    poison_multiplier: float = 1.0
    calibrated: bool = False

    def rate(self, behaviour: str) -> Rate:
        return self.rates.get(behaviour, Rate(0.0, "turn"))


def load_profile(model_class: str, path: Path | None = None) -> FailureProfile:
    """The class's rates from a profiles file; one-line ModelError naming the field at fault."""
    import yaml

    path = path or PROFILES_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ModelError(f"{path}: cannot read failure profiles: {str(err).splitlines()[0]}") from None
    classes = data.get("classes") if isinstance(data, dict) else None
    if not isinstance(classes, dict) or not isinstance(classes.get(model_class), dict):
        raise ModelError(f"{path}: classes.{model_class} is missing")
    entry = classes[model_class]
    rates: dict[str, Rate] = {}
    for name, spec in (entry.get("behaviours") or {}).items():
        where = f"{path}: classes.{model_class}.behaviours.{name}"
        if name not in DRAWN:
            raise ModelError(f"{where}: unknown behaviour (known: {', '.join(DRAWN)})")
        if not isinstance(spec, dict):
            raise ModelError(f"{where}: expected {{rate: 0..1, per: turn|run}}")
        rate, per = spec.get("rate", 0.0), spec.get("per", "turn")
        if not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ModelError(f"{where}.rate: must be a number from 0 to 1, got {rate!r}")
        if per not in ("turn", "run"):
            raise ModelError(f"{where}.per: must be turn or run, got {per!r}")
        rates[name] = Rate(float(rate), per)
    multiplier = entry.get("poison_multiplier", 1.0)
    if not isinstance(multiplier, int | float) or multiplier < 1:
        raise ModelError(f"{path}: classes.{model_class}.poison_multiplier must be a number >= 1")
    return FailureProfile(model_class, rates, float(multiplier), bool(data.get("calibrated", False)))


# ---------------------------------------------------------------------------------------------- the model
@dataclass
class _Intent:
    """What the playbook model wanted to do this turn."""

    tool: str | None
    args: dict[str, Any]
    thought: str
    call_id: str


@dataclass
class _Issued:
    call_id: str
    tool: str
    args: dict[str, Any]


@dataclass
class _RunMemory:
    """What persists across the states of one run (one instance): per-run draws, fixation, poisoning."""

    drawn: dict[str, bool] = field(default_factory=dict)
    fixation: str | None = None
    cured: bool = False  # a verifier's objections talked it out of its fixation
    wrong_diagnosis: bool = False  # the last diagnosis it submitted was a fixation or a guess
    poisoned: bool = False
    mismatch_call: str | None = None  # poisons the run once it is known to have been dispatched
    queue: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)  # the rest of a repeat/drift episode
    issued: dict[tuple[str, str], list[_Issued]] = field(default_factory=dict)
    history: list[tuple[str, _Issued]] = field(default_factory=list)  # (role, call) over the whole run
    last_write: int = -1  # index in history of the last write call (or failed verdict): reads before it are stale
    handed_over: set[str] = field(default_factory=set)  # calls a planned context reset dropped (not forgotten)
    state_key: tuple[str, str] = ("", "")
    turns_in_state: int = 0
    tokens_in_state: int = 0  # its own count of what the requests of this state cost
    out_of_budget: bool = False
    refetched: set[str] = field(default_factory=set)
    failed_reads: dict[str, tuple[str, str]] = field(default_factory=dict)  # call id -> (tool, error), this state


class FlakyModel(TurnModel):
    token_model = MODEL_NAME  # it counts as the model it wraps

    def __init__(
        self,
        model_class: str,
        seed: int = 0,
        profile_path: Path | None = None,
        inner: PlaybookModel | None = None,
    ) -> None:
        if model_class not in CLASSES:
            raise ModelError(f"unknown model class {model_class!r} for a flaky model; known: {', '.join(CLASSES)}")
        super().__init__()
        self.model_class = model_class
        self.seed = seed
        self.profile = load_profile(model_class, profile_path)
        self.inner = inner or PlaybookModel()
        self.on_injection: Callable[[dict], None] | None = None
        self.injections: list[dict] = []
        self._rng = random.Random(f"{model_class}:{seed}")
        self._turn = 0
        self._memory = _RunMemory()

    # ------------------------------------------------------------------------------------ the model
    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Any] = [],  # noqa: B006 - autogen's signature
        tool_choice: Any = "auto",
        json_output: Any = None,
        extra_create_args: Mapping[str, Any] = {},  # noqa: B006 - autogen's signature
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        self._turn += 1
        result = await self.inner.create(messages, tools=tools, cancellation_token=cancellation_token)
        t = read_transcript(messages, tools)
        self._settle_poison(t)
        key = (t.role, t.state)
        self._memory.turns_in_state = self._memory.turns_in_state + 1 if key == self._memory.state_key else 1
        self._memory.state_key = key
        self._note_failed_reads(t)
        intent = _intent_of(result)
        dropped = self._dropped(t)
        corrupted = self._continue_episode(t) or self._corrupt(t, intent, dropped)
        chosen = result if corrupted is None else corrupted.model_copy(update={"usage": result.usage})
        self._after(t, chosen, corrupted is not None)
        self._label_rereads(t, chosen, _call_ids_in(messages))
        self._remember(t, chosen)
        if chosen.usage is not None:
            self._add_usage(chosen.usage)
            self._label_spent_budget(t, chosen)
        return chosen

    def _label_spent_budget(self, t: Transcript, chosen: CreateResult) -> None:
        """1.5 when this request spent the last of the run's tokens (the briefing says how many were left at the
        state's start) and it was not a submission: it kept going until the run was cut off."""
        usage = chosen.usage
        spent = usage.prompt_tokens + usage.completion_tokens if usage is not None else 0
        before = 0 if self._memory.turns_in_state == 1 else self._memory.tokens_in_state  # a new state visit
        self._memory.tokens_in_state = before + spent
        left = t.block.get("tokens_left")
        calls = chosen.content if isinstance(chosen.content, list) else []
        closing = bool(calls) and calls[0].name in SUBMISSIONS
        spent_all = isinstance(left, int) and self._memory.tokens_in_state >= left
        if spent_all and not closing and not self._memory.out_of_budget:
            self._memory.out_of_budget = True
            self._record("termination_unaware", f"spent the last of the run's tokens in {t.state}", mode="1.5")

    def _corrupt(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> CreateResult | None:
        """At most one behaviour per turn, the most consequential first."""
        for behaviour in (
            "ignore_objections",
            "fixation",
            "guess",
            "blind_pass",
            "wrong_target",
            "early_success",
            "termination_unaware",
            "forget",
            "repeat",
            "drift",
            "mismatch",
        ):
            apply = getattr(self, f"_{behaviour}")
            chance = apply(t, intent, dropped)  # None: cannot apply this turn (no draw is spent)
            if chance is None or not self._draw(behaviour):
                continue
            result, detail = chance()
            if detail is not None:  # None: what it did turned out harmless (no mode to record)
                self._record(behaviour, detail)
            if behaviour == "mismatch":
                self._memory.mismatch_call = result.content[0].id
            return result
        return None

    def _continue_episode(self, t: Transcript) -> CreateResult | None:
        """The rest of a repeat or drift episode, while its tool is still offered (no new draw, no record)."""
        while self._memory.queue:
            tool, args, why = self._memory.queue.pop(0)
            if tool in t.tools:
                return self._read(t, tool, args, why)
            self._memory.queue.clear()
        return None

    def _settle_poison(self, t: Transcript) -> None:
        """A mismatched call poisons later turns only if it ran; rejected before dispatch, the turn is dropped."""
        call_id = self._memory.mismatch_call
        ob = next((o for o in t.observations if o.call_id == call_id), None) if call_id else None
        if ob is not None and ob.answered:
            self._memory.mismatch_call = None
            self._memory.poisoned = self._memory.poisoned or "declared" not in str(ob.error or "")

    def _after(self, t: Transcript, chosen: CreateResult, corrupted: bool) -> None:
        """Ground truth for the consequences it knows of: a PASS or a closure on a wrong diagnosis, being cut off."""
        calls = chosen.content if isinstance(chosen.content, list) else []
        if not calls:
            return
        name = calls[0].name
        if name == "submit_diagnosis" and not corrupted:
            self._memory.wrong_diagnosis = False
        if name == "submit_diagnosis" and corrupted:  # its own story, told over what its reads showed
            unheard = self._errors_left_out(calls[0].arguments)
            if unheard:
                self._record("withholding", f"its diagnosis leaves out {', '.join(unheard)}", mode="2.4")
        passing = name == "submit_verdict" and _args(calls[0].arguments).get("verdict") == "PASS"
        if passing and self._memory.wrong_diagnosis:  # also after a blind PASS: both unchecked (3.2) and wrong
            self._record("unfounded_closure", "passed a fix of the wrong root cause", mode="3.3")
        cut_off = t.submission and t.tools == [t.submission] and not t.block.get("continues_in")
        if cut_off:  # only the submission is left to it, and nothing comes after this state: it did not stop in time
            self._record(
                "termination_unaware", f"kept going in {t.state} until only the submission was left", mode="1.5"
            )
        alone = "submit_diagnosis" in t.tools and "submit_mitigation" in t.tools  # no verifier behind it
        turns = self._memory.turns_in_state  # its own count: pruning hides early turns from the transcript
        if alone and name not in SUBMISSIONS and t.step_cap and turns == t.step_cap:  # nobody cuts it off: it runs out
            self._record("termination_unaware", f"spent its last step on {name} without closing", mode="1.5")
        if name == "submit_mitigation" and alone and self._memory.wrong_diagnosis:
            checked = t.looked_since_writes(_write_tools(t))
            self._record(
                "unfounded_closure",
                "closed on a wrong diagnosis " + ("after looking at its change" if checked else "without looking"),
                mode="3.3" if checked else "3.1",
            )

    def _note_failed_reads(self, t: Transcript) -> None:
        """Remember the failed reads of this state visit: pruning may take them out of view later."""
        if self._memory.turns_in_state == 1:
            self._memory.failed_reads = {}
        for o in t.observations:
            if o.tool in READS and o.answered and not o.ok and o.counted:
                self._memory.failed_reads[o.call_id] = (o.tool, str(o.error or "failed")[:60])

    def _errors_left_out(self, arguments: Any) -> list[str]:
        """Reads of this state that failed (the engine's own refusals aside), including ones pruned from view
        since, that the submission never mentions."""
        text = json.dumps(_args(arguments), default=str).lower()
        failed = self._memory.failed_reads.values()
        return list(dict.fromkeys(f"{tool} ({error})" for tool, error in failed if error[:40].lower() not in text))

    def _draw(self, behaviour: str) -> bool:
        rate = self.profile.rate(behaviour)
        if rate.rate <= 0:
            return False
        p = rate.rate
        if self._memory.poisoned and behaviour != "mismatch":
            p = min(1.0, p * self.profile.poison_multiplier)
        if rate.per == "run":
            if behaviour not in self._memory.drawn:
                self._memory.drawn[behaviour] = self._rng.random() < p
            return self._memory.drawn[behaviour]
        return self._rng.random() < p

    def _record(self, behaviour: str, detail: str, mode: str | None = None) -> None:
        record = {"behaviour": behaviour, "mode": mode or BEHAVIOURS[behaviour], "turn": self._turn, "detail": detail}
        self.injections.append(record)
        if self.on_injection is not None:
            self.on_injection(dict(record))

    # ------------------------------------------------------------------------------------ behaviours
    # Each returns None when it cannot apply to this turn, else a thunk building (result, detail).
    def _ignore_objections(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        wrong = self._memory.fixation
        reads = [o for o in t.observations if o.tool in READS]
        if not t.block.get("objections") or wrong is None or reads or "submit_diagnosis" not in t.tools:
            return None  # ignoring the verifier is resubmitting at once, before reading anything new

        def act() -> tuple[CreateResult, str]:
            self._memory.wrong_diagnosis = True
            args = _diagnosis_naming(wrong, "The alerts point at it; it is the most likely cause.", evidence=True)
            return self._call(t, "submit_diagnosis", args, f"Action: submit_diagnosis {wrong}"), (
                f"resubmitted {wrong} despite the verifier's objections"
            )

        return act

    def _fixation(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        if intent.tool != "submit_diagnosis" or self._memory.cured:
            return None
        if t.block.get("objections") and self._memory.fixation:
            # Not a plain retry: the verifier's objections are evidence against the hypothesis.
            self._memory.fixation, self._memory.cured = None, True
            return None

        roots = _roots(intent.args)
        wrong = self._memory.fixation or self._wrong_workload(t, exclude=roots)
        if wrong is None:  # nothing else read yet to fixate on
            return None

        def act() -> tuple[CreateResult, str]:
            self._memory.fixation, self._memory.wrong_diagnosis = wrong, True
            args = _diagnosis_naming(wrong, "The alerts point at it; it is the most likely cause.", evidence=True)
            return self._call(t, "submit_diagnosis", args, f"Action: submit_diagnosis {wrong}"), (
                f"fixated on {wrong} (the evidence pointed at {', '.join(roots) or 'nothing'})"
            )

        return act

    def _guess(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        if t.submission != "submit_diagnosis" or intent.tool not in READS or t.submitted():
            return None
        wrong = self._wrong_workload(t, exclude=[])
        if wrong is None:
            return None

        def act() -> tuple[CreateResult, str]:
            self._memory.wrong_diagnosis = True
            args = _diagnosis_naming(wrong, "A guess from the incident summary; not read yet.")
            return self._call(t, "submit_diagnosis", args, f"Action: submit_diagnosis {wrong}"), (
                f"diagnosed {wrong} without evidence after {len(t.observations)} reads"
            )

        return act

    def _blind_pass(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        alone = "submit_diagnosis" in t.tools and "submit_mitigation" in t.tools
        if alone and intent.tool in READS and _applied_writes(t) and not t.looked_since_writes(_write_tools(t)):
            return self._close_unchecked(t)
        if t.submission != "submit_verdict" or t.observations or "submit_verdict" not in t.tools:
            return None

        def act() -> tuple[CreateResult, str]:
            targets = _remediated(t) or [self._namespace(t)]
            checks = [{"name": "workload healthy", "target": x, "passed": True} for x in targets]
            args = {"verdict": "PASS", "checks": checks, "objections": []}
            thought = f"Action: submit_verdict {targets[0]}\nThe mitigation was applied, so the incident is fixed."
            return self._call(t, "submit_verdict", args, thought), f"PASS without reading (targets {targets})"

        return act

    def _close_unchecked(self, t: Transcript) -> Callable:
        def act() -> tuple[CreateResult, str]:
            actions: list[dict[str, Any]] = [
                {"action": o.tool, "args": o.args, "result": "applied"} for o in _applied_writes(t)
            ]
            targets = [x for x in (_target(a["args"]) for a in actions) if x]
            args = {"summary": "Mitigation applied; the service is recovering.", "actions": actions}
            args["remediated"] = list(dict.fromkeys(targets))
            thought = "Action: submit_mitigation -\nThe change went through, so it is fixed."
            return self._call(t, "submit_mitigation", args, thought), "closed without looking at its change"

        return act

    def _wrong_target(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        if intent.tool != "submit_verdict":
            return None
        remediated = _remediated(t)
        other = self._wrong_workload(t, exclude=remediated)
        if other is None:
            return None

        def act() -> tuple[CreateResult, str]:
            checks = [{"name": "workload healthy", "target": other, "passed": True, "evidence": "ready replicas"}]
            args = {"verdict": "PASS", "checks": checks, "objections": []}
            thought = f"Action: submit_verdict {other}\n{other} is healthy."
            original = intent.args.get("verdict")
            return self._call(t, "submit_verdict", args, thought), (
                f"verified {other} instead of {remediated or 'the remediated objects'} (own reads said {original})"
            )

        return act

    def _early_success(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        if "submit_mitigation" not in t.tools or intent.tool in READS or intent.tool in SUBMISSIONS:
            return None
        if intent.tool is None:
            return None

        def act() -> tuple[CreateResult, str]:
            diagnosis = t.block.get("diagnosis") or (done.args if (done := t.submitted()) else {})
            actions: list[dict[str, Any]] = [
                {"action": str(m.get("action")), "args": dict(m.get("args") or {}), "result": "applied"}
                for m in diagnosis.get("mitigations") or []
            ] or [{"action": intent.tool, "args": intent.args, "result": "applied"}]
            targets = [_target(a["args"]) for a in actions]
            args = {"summary": "Mitigation applied; the service is recovering.", "actions": actions}
            args["remediated"] = [x for x in targets if x]
            thought = "Action: submit_mitigation -\nThe fix is in; reporting success."
            return self._call(
                t, "submit_mitigation", args, thought
            ), f"reported {intent.tool} applied before calling it"

        return act

    def _termination_unaware(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        if not (intent.tool is None or intent.tool in SUBMISSIONS) or t.submitted():
            return None
        reads = self._fresh_reads(t)
        if not reads:
            return None

        def act() -> tuple[CreateResult, str]:
            tool, args = reads[0]
            what = intent.tool or "stop"
            return self._read(t, tool, args, f"One more look before I {what}."), f"read {tool} instead of {what}"

        return act

    def _forget(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        if not dropped:
            return None

        def act() -> tuple[CreateResult, str | None]:
            lost = dropped[0]
            self._memory.refetched.add(lost.call_id)
            detail = f"re-fetched {lost.tool} {json.dumps(lost.args, sort_keys=True)} (pruned from context)"
            # Lost history only if no copy is still in view and no write since has made a fresh read sensible.
            in_view = any(o.tool == lost.tool and o.args == lost.args and o.answered for o in t.observations)
            fresh = any(c.call_id == lost.call_id for _, c in self._memory.history[self._memory.last_write + 1 :])
            return self._read(t, lost.tool, lost.args, "I need this again."), (
                detail if fresh and not in_view else None
            )

        return act

    def _repeat(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        last = t.observations[-1] if t.observations else None
        if last is None or last.tool not in READS or last.tool not in t.tools:
            return None

        def act() -> tuple[CreateResult, str]:
            detail = f"repeated {last.tool} {json.dumps(last.args, sort_keys=True)} twice"
            self._memory.queue = [(last.tool, dict(last.args), "Let me check that once more.")]
            return self._read(t, last.tool, dict(last.args), "Let me check that again."), detail

        return act

    def _drift(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        reads = [tool for tool in DRIFT_READS if tool in t.tools]
        if len(reads) < DRIFT_EPISODE:  # a drift is an episode of several off-scope reads, not one look
            return None

        def act() -> tuple[CreateResult, str]:
            ns = self._rng.choice([n for n in OUT_OF_SCOPE if n not in t.namespaces] or list(OUT_OF_SCOPE))
            first, *more = reads[:DRIFT_EPISODE]
            self._memory.queue = [(tool, {"namespace": ns}, "Still looking at the platform.") for tool in more]
            return self._read(t, first, {"namespace": ns}, "Maybe the platform is at fault."), (
                f"drifted to out-of-scope namespace {ns} for {DRIFT_EPISODE} reads"
            )

        return act

    def _mismatch(self, t: Transcript, intent: _Intent, dropped: list[_Issued]) -> Callable | None:
        if intent.tool not in READS:
            return None
        others = [r for r in ("list_pods", "list_workloads", "get_alerts") if r in t.tools and r != intent.tool]
        if not others:
            return None

        def act() -> tuple[CreateResult, str]:
            tool = others[0]
            ns = intent.args.get("namespace") or self._namespace(t)
            call = FunctionCall(id=f"sim_{self._turn}", name=tool, arguments=json.dumps({"namespace": ns}))
            result = _result([call], intent.thought)  # the thought still declares the playbook's action
            return result, f"thought declares {intent.tool}, call is {tool}"

        return act

    # ------------------------------------------------------------------------------------ helpers
    def _namespace(self, t: Transcript) -> str:
        return (t.namespaces or ["default"])[0]

    def _call(self, t: Transcript, tool: str, args: dict[str, Any], thought: str) -> CreateResult:
        call = FunctionCall(id=f"sim_{self._turn}", name=tool, arguments=json.dumps(args, separators=(",", ":")))
        return _result([call], thought)

    def _read(self, t: Transcript, tool: str, args: dict[str, Any], why: str) -> CreateResult:
        target = args.get("name") or args.get("namespace") or args.get("query") or "-"
        return self._call(t, tool, args, f"Action: {tool} {target}\n{why}")

    def _fresh_reads(self, t: Transcript) -> list[tuple[str, dict[str, Any]]]:
        """Reads that keep a model busy without repeating its last call verbatim."""
        ns = self._namespace(t)
        last = t.observations[-1] if t.observations else None
        options = [
            ("list_pods", {"namespace": ns}),
            ("get_alerts", {"namespace": ns}),
            ("list_workloads", {"namespace": ns}),
        ]
        return [
            (tool, args)
            for tool, args in options
            if tool in t.tools and not (last is not None and last.tool == tool and last.args == args)
        ]

    def _wrong_workload(self, t: Transcript, exclude: Sequence[str]) -> str | None:
        """A workload the model has read about that is not one of `exclude` (None: it has read of none)."""
        seen = sorted(set(_workloads_in(t, self._namespace(t))) - set(exclude))
        return self._rng.choice(seen) if seen else None

    # ------------------------------------------------------------------------------------ pruning (FM-1.4)
    def _dropped(self, t: Transcript) -> list[_Issued]:
        """Reads this model made in the current state whose calls no longer appear: the context dropped them."""
        key = (t.role, t.state)
        if not t.observations:  # a new visit to the state (or a reset context): start counting again
            self._memory.issued[key] = []
            return []
        visible = {o.call_id for o in t.observations}
        issued = self._memory.issued.get(key, [])
        return [
            c
            for c in issued
            if c.call_id not in visible and c.tool in READS and c.call_id not in self._memory.refetched
        ]

    def _label_rereads(self, t: Transcript, chosen: CreateResult, visible: set[str]) -> None:
        """Ground truth for what the wrapped model does on its own: a read whose earlier result left the
        context (pruned, or a reset between states) is lost history (1.4); a third identical read in one
        state with no change made is a repeat (1.3). Only reads since this model's last write count."""
        earlier = {c.call_id for _, c in self._memory.history}
        if not t.observations and earlier and not earlier & visible:
            self._memory.handed_over |= earlier  # a fresh context at a new state: the machine's reset, by design
        if not t.observations and t.block.get("objections"):
            self._memory.last_write = len(self._memory.history) - 1  # a failed verdict: a new reason to look
        calls = chosen.content if isinstance(chosen.content, list) else []
        if not calls or calls[0].name not in READS:
            return
        tool, args = calls[0].name, _args(calls[0].arguments)
        since = self._memory.history[self._memory.last_write + 1 :]
        same = [c for role, c in since if role == t.role and c.tool == tool and c.args == args]
        if same and same[-1].call_id not in visible and same[-1].call_id not in self._memory.handed_over:
            self._record("forget", f"re-read {tool} after its result left the context", mode="1.4")
        in_state = {c.call_id for c in self._memory.issued.get((t.role, t.state), [])}
        if len([c for c in same if c.call_id in in_state]) >= 2:
            self._record("repeat", f"read {tool} a third time with nothing changed", mode="1.3")

    def _remember(self, t: Transcript, result: CreateResult) -> None:
        if isinstance(result.content, list):
            for call in result.content:
                self._memory.history.append((t.role, _Issued(call.id, call.name, _args(call.arguments))))
                if call.name not in READS and call.name not in SUBMISSIONS:
                    self._memory.last_write = len(self._memory.history) - 1
            issued = self._memory.issued.setdefault((t.role, t.state), [])
            for call in result.content:
                if call.id != self._memory.mismatch_call:  # a rejected mismatch leaves the context by design
                    issued.append(_Issued(call.id, call.name, _args(call.arguments)))

    # ------------------------------------------------------------------------------------ interface
    async def close(self) -> None:
        await self.inner.close()

    @property
    def model_info(self) -> ModelInfo:
        return self.inner.model_info


# ---------------------------------------------------------------------------------------------- functions
def _args(raw: str) -> dict[str, Any]:
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _intent_of(result: CreateResult) -> _Intent:
    if isinstance(result.content, list) and result.content:
        call = result.content[0]
        return _Intent(call.name, _args(call.arguments), result.thought or "", call.id)
    return _Intent(None, {}, str(result.content), "")


def _result(calls: list[FunctionCall], thought: str) -> CreateResult:
    # Usage is left to the wrapper's caller: the inner model already counted this turn's prompt.
    usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
    return CreateResult(finish_reason="function_calls", content=calls, usage=usage, cached=False, thought=thought)


def _call_ids_in(messages: Sequence[Any]) -> set[str]:
    """Ids of the tool calls whose results are still in the context."""
    ids = set()
    for m in messages:
        content = getattr(m, "content", None)
        if isinstance(content, list):
            ids |= {str(getattr(c, "call_id", "") or "") for c in content}
    return ids - {""}


def _write_tools(t: Transcript) -> set[str]:
    return {o.tool for o in t.observations if o.tool not in READS and o.tool not in SUBMISSIONS}


def _applied_writes(t: Transcript) -> list[Observation]:
    return [o for o in t.observations if o.tool not in READS and o.tool not in SUBMISSIONS and o.ok]


def _roots(diagnosis: dict[str, Any]) -> list[str]:
    return [str(e.get("name")) for e in diagnosis.get("entities") or [] if e.get("contributing_factor")]


def _target(args: dict[str, Any]) -> str:
    if args.get("kind") and args.get("name"):
        return f"{args.get('namespace', '')}/{args['kind']}/{args['name']}"
    return ""


def _remediated(t: Transcript) -> list[str]:
    mitigation = t.block.get("mitigation") or {}
    found = [str(x) for x in mitigation.get("remediated") or [] if x] if isinstance(mitigation, dict) else []
    return found or _roots(t.block.get("diagnosis") or {})


def _diagnosis_naming(entity: str, reasoning: str, evidence: bool = False) -> dict[str, Any]:
    """A one-entity diagnosis; a fixated model cites (misread) evidence, a guess cites none."""
    ns, kind, name = entity.split("/", 2)
    root: dict[str, Any] = {"name": entity, "contributing_factor": True, "reasoning": reasoning}
    if evidence:
        root["evidence"] = [f"{entity} appears in the failing path"]
    return {
        "summary": f"{entity} is the root cause: {reasoning}",
        "entities": [root],
        "mitigations": [
            {
                "action": "rollout_restart",
                "args": {"kind": kind, "name": name, "namespace": ns},
                "rationale": "restart it",
            }
        ],
    }


def _workloads_in(t: Transcript, namespace: str) -> list[str]:
    """namespace/Kind/name of every workload row the model has seen in this state's tool results."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            kind, name = value.get("kind"), value.get("name")
            if kind in WORKLOAD_KINDS and isinstance(name, str):
                found.append(f"{value.get('namespace') or namespace}/{kind}/{name}")
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for ob in t.observations:
        walk(ob.content)
    return [w for w in found if w.startswith(f"{namespace}/")]
