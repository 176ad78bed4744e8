"""The run engine: one async API (`run_incident`) used by the CLI, Slack and the operator.

The conductor walks the model class's machine. In each state the machine, not a model, decides who speaks
(planner, investigator, verifier), which tools it is offered and how many steps it gets; the conductor
turns what happened (a submission, a step cap, a verdict, an exhausted budget) into the machine's trigger.
Only a terminal state ends a run, and `resolved` is reachable only through the verifier gate.
Progress flows as trace events to every sink; the run directory is written even when the run fails.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .agents import BudgetExceeded
from .briefing import Briefing, instruction, system_prompt
from .dispatch import Budget, Dispatcher, StateScope
from .facts import Ledger
from .machines import UNGUARDED, MachineSpec, StateSpec, load_machine
from .models.errors import ModelError
from .roles import Role, load_role
from .trace import Sink, Trace

Clarifier = Callable[[str, list[str]], Awaitable[str | None]]
# Live findings that refuse the submission they are about (the agent gets the note and tries again).
REFUSED_SUBMISSIONS = {
    "mitigation-claimed-without-write": "submit_mitigation",  # FM-3.1: success reported before the change
    "root-cause-without-evidence": "submit_diagnosis",  # FM-2.2: a root cause named on a guess
}
REFUSAL_NOTES = {
    "mitigation-claimed-without-write": "You reported actions as applied but called no write tool. Apply the "
    "mitigation with the write tools first, then submit what actually happened.",
    "root-cause-without-evidence": "Every root cause needs evidence from tool results. Read what shows it, "
    "then submit the diagnosis with that evidence.",
}
EXIT_RESOLVED, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_UNRESOLVED = 0, 1, 2, 3
# Some objects settle slower than any class's stabilisation window: an HPA scales down only after its
# 300 s scale-down stabilisation window (the Kubernetes default), so judging it sooner fails a good fix.
MODEL_STATES = {"agent", "verify"}  # the state kinds that call the model, and so spend the run's budget
SETTLE_SECONDS_BY_KIND = {"HorizontalPodAutoscaler": 330}


@dataclass
class RunOptions:
    output_dir: Path | None = None
    model: str | None = None  # overrides spec.model
    model_class: str | None = None  # overrides spec.modelClass
    base_url: str | None = None  # an OpenAI-compatible server for litellm models
    sinks: list[Sink] = field(default_factory=list)
    approver: Callable[[Any], Awaitable[bool]] | None = None
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
    status: str  # resolved | escalated | error
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
    llm_calls: int = 0
    seconds: float = 0.0
    assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["output_dir"] = str(self.output_dir)
        return d


class RunFailed(Exception):
    """Ends the run early with an exit code and a one-line reason (bad input, unreachable cluster)."""

    def __init__(self, exit_code: int, reason: str) -> None:
        super().__init__(reason)
        self.exit_code = exit_code


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:40] or "incident"


class Conductor:
    """The machine's model: guards are its properties, triggers are fired on it by `run`."""

    def __init__(self, incident: Any, options: RunOptions) -> None:
        from .models.classes import class_profile, resolve_class

        self.incident = incident
        self.options = options
        spec = incident.spec
        self.model = options.model or spec.model or "builtin/playbook"
        self.model_class = resolve_class(self.model, options.model_class or spec.model_class)
        self.profile = class_profile(self.model_class)
        self.machine: MachineSpec = load_machine(self.model_class if options.mitigations else UNGUARDED)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        self.run_id = f"{stamp}-{_slug(incident.metadata.name)}"
        self.out_dir = options.output_dir or options.runs_dir / self.run_id
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.trace = Trace(self.run_id, self.out_dir / "trace.jsonl", model=self.model)
        for sink in options.sinks:
            self.trace.subscribe(sink)
        from .logs import run_logger

        self.log, self._log_file = run_logger(self.out_dir / "engine.log.jsonl", run_id=self.run_id)
        self.namespaces: list[str] = list(spec.scope.namespaces) if spec.scope else []
        self.mode = spec.remediation.mode
        self.assumptions: list[str] = []
        self.forced_read_only = False
        self.ledger = Ledger()
        self.plan: dict | None = None
        self.diagnosis: dict | None = None
        self.mitigation: dict | None = None
        self.verdict: dict | None = None
        self.objections: list[str] = []
        self.verify_rounds = 0
        self.round_writes: list[dict] = []
        self.path: list[tuple[str, str, str]] = []
        self.ended_by = "machine"
        self.end_reason = ""
        self.clients: list[Any] = []
        self.contexts: dict[str, Any] = {}
        self.alerts: list[dict] = [a.model_dump() if hasattr(a, "model_dump") else dict(a) for a in spec.alerts or []]
        self.candidates: list[str] = []
        self.session: Any = None
        self.dispatcher: Dispatcher | None = None
        self.started = time.monotonic()
        self.live_findings: list[Any] = []

    # ------------------------------------------------------------------ guards (named in machines/*.yaml)
    @property
    def ambiguous(self) -> bool:
        return not self.namespaces and len(self.candidates) != 1

    @property
    def read_only(self) -> bool:
        return self.mode == "off" or self.forced_read_only

    @property
    def nothing_applied(self) -> bool:
        return not any(w.get("mode") == "applied" for w in self.round_writes)

    @property
    def rounds_left(self) -> bool:
        return self.verify_rounds < self.machine.max_verify_rounds

    # ------------------------------------------------------------------ live MAST detectors
    def _watch(self, event: Any) -> None:
        self.live_findings.extend(self.live.feed(event))

    def _act_on_findings(self, st: StateSpec) -> str | None:
        """Turn new live findings into mitigations; returns a message for the speaking agent, if any.
        FM-1.3, 2.6 and 3.3 are already acted on where they happen (dispatcher, gate)."""
        findings, self.live_findings = self.live_findings, []
        notes = []
        for f in findings:
            if (
                f.mode == "2.5"
                and self.dispatcher.submission
                and self.dispatcher.submission["name"] == "submit_diagnosis"
            ):
                self.dispatcher.submission = None  # objections are open: this closure attempt does not count
                self.trace.emit(
                    "mitigation",
                    mode="2.5",
                    detector=f.rule,
                    action="refused the unchanged diagnosis; objections re-sent",
                    finding_events=f.events,
                )
                notes.append(
                    "The verifier rejected this same diagnosis. Address its objections with new evidence or a "
                    "different diagnosis:\n" + "\n".join(f"- {o}" for o in self.objections)
                )
            elif f.mode == "1.4":
                facts = self.ledger.lines()
                self.trace.emit(
                    "mitigation",
                    mode="1.4",
                    detector=f.rule,
                    action=f"re-sent the fact ledger ({len(facts)} facts)",
                    finding_events=f.events,
                )
                notes.append("You already established these facts; do not fetch them again:\n" + "\n".join(facts[-15:]))
        return "\n\n".join(notes) or None

    def _veto(self, submission: str, args: dict[str, Any]) -> str | None:
        """Called by the dispatcher right after a submission is traced: a live finding about it refuses it
        (the agent reads why in the tool result and tries again within its state), and so does a diagnosis
        that names no root cause while the machine still has investigation to come (FM-3.1: giving up early)."""
        state = self.state  # type: ignore[attr-defined]
        roots = [e for e in args.get("entities") or [] if isinstance(e, dict) and e.get("contributing_factor")]
        missing = "root cause" if not roots else None if args.get("mitigations") or self.read_only else "mitigation"
        following = self.machine.continues_after_cap(state)
        if submission == "submit_diagnosis" and missing and following:
            self.trace.emit(
                "mitigation",
                mode="3.1",
                detector="inconclusive_diagnosis",
                action=f"refused a diagnosis with no {missing}; {following} follows",
            )
            return f"It names no {missing}. Keep investigating; {following} continues from the facts gathered."
        for f in list(self.live_findings):
            if REFUSED_SUBMISSIONS.get(f.rule) == submission:
                self.live_findings.remove(f)
                self.trace.emit(
                    "mitigation",
                    mode=f.mode,
                    detector=f.rule,
                    action=f"refused {submission}: {f.detail}",
                    finding_events=f.events,
                )
                return REFUSAL_NOTES[f.rule]
        return None

    # ------------------------------------------------------------------ accounting
    @property
    def tokens_used(self) -> int:
        return sum(u.prompt_tokens + u.completion_tokens for u in (c.total_usage() for c in self.clients))

    def budget_reason(self) -> str | None:
        assert self.dispatcher is not None
        return self.dispatcher.budget.exhausted(self.tokens_used, time.monotonic() - self.started)

    def fire(self, trigger: str, **why: Any) -> None:
        source = self.state  # type: ignore[attr-defined]
        getattr(self, trigger)()
        dest = self.state  # type: ignore[attr-defined]
        self.path.append((source, trigger, dest))
        self.trace.state = dest
        self.trace.emit("state_transition", role=None, source=source, trigger=trigger, dest=dest, **why)
        self.log.info("state_transition", source=source, trigger=trigger, dest=dest)

    # ------------------------------------------------------------------ the run
    async def run(self) -> RunResult:
        spec = self.incident.spec
        self.machine.build(self)
        if self.options.mitigations:
            from .mast.annotate import LiveDetectors

            self.live = LiveDetectors()
            self.trace.subscribe(self._watch)
        self.trace.state = self.machine.initial
        self.trace.emit(
            "run_start",
            incident={"name": self.incident.metadata.name, "summary": spec.summary, "namespaces": self.namespaces},
            model=self.model,
            model_class=self.model_class,
            machine=self.machine.source and Path(self.machine.source).name,
            mode=self.mode,
            mitigations=self.options.mitigations,
            budget={"steps": spec.budget.steps, "tokens": spec.budget.tokens, "seconds": spec.budget.seconds},
            context_tokens=self.profile.context_tokens,
            fresh_context_per_state=self.machine.reset_context_between_states,
        )
        exit_code, status = EXIT_INTERNAL, "error"
        try:
            await self._setup()
            await self._walk()
            terminal = self.machine.states[self.state]  # type: ignore[attr-defined]
            exit_code = terminal.exit_code if terminal.exit_code is not None else EXIT_UNRESOLVED
            status = "resolved" if exit_code == EXIT_RESOLVED else "escalated"
        except RunFailed as exc:
            exit_code, status, self.end_reason, self.ended_by = exc.exit_code, "error", str(exc), "error"
        except Exception as exc:  # a bug: keep the trace and say so in one line
            self.log.exception("run_crashed")
            exit_code, status, self.ended_by = EXIT_INTERNAL, "error", "error"
            self.end_reason = f"internal error: {type(exc).__name__}: {exc}"
        finally:
            if self.session is not None:
                if self.options.before_close is not None:
                    try:
                        self.options.before_close(self.session, exit_code)
                    except Exception:  # an inspection bug must not cost the run its record
                        self.log.exception("before_close_failed")
                self.session.close()
        result = self._result(status, exit_code)
        self.trace.emit(
            "run_end",
            status=status,
            exit_code=exit_code,
            reason=result.reason,
            ended_by=self.ended_by,
            steps=result.steps,
            tokens=result.tokens,
        )
        from .outputs import write_outputs

        write_outputs(self, result)
        self.trace.close()
        self._log_file.close()
        return result

    async def _setup(self) -> None:
        from .cluster import ClusterSetupError, open_cluster
        from .models import create_client
        from .tools import Toolbox, ToolContext
        from .tools.policy import ActionPolicy
        from .verify import Gate

        spec = self.incident.spec
        try:
            self.inner_client = create_client(self.model, base_url=self.options.base_url, seed=self.options.seed)
        except ModelError as exc:
            raise RunFailed(EXIT_BAD_INPUT, str(exc)) from None
        if hasattr(
            self.inner_client, "on_injection"
        ):  # failure-prone built-in models: ground truth, never read by MAST
            self.inner_client.on_injection = lambda record: self.trace.emit("injection", **record)
        try:
            self.session = await asyncio.to_thread(open_cluster, self.incident)
        except ClusterSetupError as exc:
            raise RunFailed(EXIT_BAD_INPUT, str(exc)) from None
        rem = spec.remediation
        self.policy = ActionPolicy(
            mode=rem.mode,
            allowed_actions=set(rem.allowed_actions) if rem.allowed_actions else None,
            allowed_namespaces=set(rem.allowed_namespaces or self.namespaces) or None,
            approver=self.options.approver,
        )
        self.toolbox = Toolbox(
            ToolContext(
                api=self.session.api,
                alertmanager_url=self.session.alertmanager_url,
                prometheus_url=self.session.prometheus_url,
                namespaces=self.namespaces,
                policy=self.policy,
            )
        )
        self.gate_factory = lambda: Gate(self.session.api, self.session.alertmanager_url, self.namespaces, self.alerts)
        budget = Budget(steps=spec.budget.steps, tokens=spec.budget.tokens, seconds=float(spec.budget.seconds))
        self.dispatcher = Dispatcher(self.trace, self.toolbox, self.ledger, budget)
        self.dispatcher.loop_limit = self.machine.loop_limit
        if self.options.mitigations:
            self.dispatcher.veto = self._veto
            self.dispatcher.unrun_is_free = True

    async def _walk(self) -> None:
        while self.machine.states[self.state].kind != "terminal":  # type: ignore[attr-defined]
            st = self.machine.states[self.state]  # type: ignore[attr-defined]
            # Only states that call the model spend its budget: a submission that used the last tokens still
            # gets its code-only audit, gate or wait, and the run ends where the model's own turn ended it.
            reason = self.budget_reason() if st.kind in MODEL_STATES else None
            if reason:
                self.ended_by, self.end_reason = "budget", reason
                self.fire("exhausted", reason=reason)
                break
            handler = getattr(self, f"_state_{st.kind}")
            trigger, why = await handler(st)
            if trigger == "exhausted":
                self.ended_by = why.get("by", "budget")
                self.end_reason = why.get("reason", "")
            self.fire(trigger, **why)

    # ------------------------------------------------------------------ state kinds
    async def _state_engine(self, st: StateSpec) -> tuple[str, dict]:
        """Intake: read the alert source; find the candidate targets when the incident names none."""
        res = await self.toolbox.call("get_alerts", {})
        firing = res.content.get("alerts", []) if res.ok else []
        if not self.alerts:
            scoped = [
                a for a in firing if not self.namespaces or a.get("labels", {}).get("namespace") in self.namespaces
            ]
            self.alerts = [{"name": a.get("name"), "labels": a.get("labels", {})} for a in scoped]
        self.candidates = sorted({a.get("labels", {}).get("namespace") for a in firing} - {None})
        if not self.namespaces and len(self.candidates) == 1:
            self.namespaces = list(self.candidates)
            self._assume(f"scope taken from the only namespace with firing alerts: {self.candidates[0]}")
        self.ledger.add([f"incident alert {a['name']} {a.get('labels', {})}" for a in self.alerts[:10]])
        return "begin", {"alerts": len(self.alerts), "candidates": self.candidates}

    def _assume(self, text: str) -> None:
        self.assumptions.append(text)
        self.ledger.add([f"assumption: {text}"])

    async def _state_clarify(self, st: StateSpec) -> tuple[str, dict]:
        question = (
            f"Incident {self.incident.metadata.name!r} names no namespace and alerts fire in "
            f"{', '.join(self.candidates) or 'no namespace'}. Which namespace is this about?"
        )
        answer = None
        if self.options.clarifier is not None:
            try:
                answer = await asyncio.wait_for(
                    self.options.clarifier(question, self.candidates), self.options.clarify_timeout
                )
            except TimeoutError:
                answer = None
        if answer:
            self.namespaces = [answer]
            if not self.incident.spec.remediation.allowed_namespaces:  # writes stay inside the answered scope
                self.policy.allowed_namespaces = {answer}
            self.trace.emit("clarification", question=question, candidates=self.candidates, answer=answer)
        else:
            counts = {
                ns: sum(1 for a in self.alerts if a.get("labels", {}).get("namespace") == ns) for ns in self.candidates
            }
            guess = max(counts, key=lambda ns: counts[ns]) if counts else None
            self.namespaces = [guess] if guess else []
            self.forced_read_only = True
            self._assume(f"nobody answered; assuming namespace {guess} and continuing read-only")
            self.trace.emit(
                "clarification",
                question=question,
                candidates=self.candidates,
                answer=None,
                assumption=guess,
                read_only=True,
            )
        self.toolbox.ctx.namespaces = self.namespaces
        if not self.incident.spec.alerts:  # the alerts read at intake spanned every candidate namespace
            self.alerts = [a for a in self.alerts if a.get("labels", {}).get("namespace") in self.namespaces]
        return "clarified", {"namespaces": self.namespaces}

    async def _state_wait(self, st: StateSpec) -> tuple[str, dict]:
        kinds = {w["target"].split("/")[1] for w in self.round_writes if w.get("mode") == "applied" and w.get("target")}
        seconds = max([self.profile.stabilise_seconds, *(SETTLE_SECONDS_BY_KIND.get(k, 0) for k in kinds)])
        await self.session.wait(seconds)
        return "waited", {"seconds": seconds}

    async def _state_audit(self, st: StateSpec) -> tuple[str, dict]:
        """After an unverified closure: the gate's checks, recorded for annotation only (never acted on)."""
        await self._state_wait(st)
        verdict = await self._gate_verdict()  # the same checks the gate would have run
        self.trace.emit(
            "closure_audit",
            role=None,
            passed=verdict.passed,
            required=[asdict(c) for c in verdict.required],
            results=[asdict(r) for r in verdict.results],
            objections=list(verdict.objections),
        )
        return "audited", {"passed": verdict.passed}

    async def _state_gate(self, st: StateSpec) -> tuple[str, dict]:
        return await self._judge(proposal=None)

    async def _state_verify(self, st: StateSpec) -> tuple[str, dict]:
        self.verify_rounds += 1
        trigger, why = await self._state_agent(st)
        if trigger == "exhausted":
            return trigger, why
        proposal = self.dispatcher.submission["args"] if self.dispatcher.submission else None
        return await self._judge(proposal)

    async def _gate_verdict(self) -> Any:
        """The code gate on fresh reads, over what this round actually changed (and the incident's checks)."""
        from .verify import CheckSpec

        gate = self.gate_factory()
        remediated = sorted({w["target"] for w in self.round_writes if w.get("mode") == "applied" and w.get("target")})
        success = self.incident.spec.success
        extra = [CheckSpec(name=c.check, target=c.target, alert=c.alert) for c in (success.checks if success else [])]
        required = gate.required_checks(remediated, list((self.diagnosis or {}).get("checks") or []), extra)
        return await gate.evaluate(required)

    async def _judge(self, proposal: dict | None) -> tuple[str, dict]:
        verdict = await self._gate_verdict()
        agent_says = proposal.get("verdict") if proposal else None
        passed = verdict.passed and agent_says in (None, "PASS")
        objections = list(verdict.objections)
        if proposal and agent_says == "FAIL":
            objections += [f"verifier: {o}" for o in proposal.get("objections") or []] or ["verifier: FAIL"]
        if agent_says == "PASS" and not verdict.passed:
            objections.insert(0, "the verifier's PASS is contradicted by the code-evaluated checks")
            self.trace.emit(
                "mitigation",
                mode="3.3",
                detector="verdict_contradicted",
                action="closure refused; back to investigation with the failed checks as objections",
            )
        self.verdict = {
            "passed": passed,
            "proposed": agent_says,
            "gate_passed": verdict.passed,
            "required": [asdict(c) for c in verdict.required],
            "results": [asdict(r) for r in verdict.results],
            "objections": objections,
            "at": verdict.at,
        }
        self.trace.emit("verifier_verdict", role="verifier", **self.verdict)
        self.objections = [] if passed else objections
        return ("passed" if passed else "failed"), {"objections": len(objections)}

    async def _state_agent(self, st: StateSpec) -> tuple[str, dict]:
        role = load_role(st.role or "investigator")
        agent = self._agent_for(role, st)
        allowed = set(role.read_tools) | ({st.submit} if st.submit else set()) | set(st.records)
        if st.writes:
            allowed |= set(role.write_tools)
            self.round_writes = []
        scope = StateScope(
            role,
            st.name,
            allowed,
            st.submit,
            self.machine.reject_mismatched_calls,
            records=st.records,
            dedupe=self.machine.dedupe_repeated_calls,
        )
        self.dispatcher.enter(scope, agent.client)
        self.trace.role = role.name
        self._pin_instruction(agent, role, st)
        nudge = None
        steps = free = 0
        try:
            while steps < st.step_cap:
                reason = self.budget_reason()
                if reason:
                    return "exhausted", {"reason": reason, "by": "budget"}
                agent.context.set_ledger(self.ledger.lines())
                ran_before = self.dispatcher.budget.used_steps
                try:
                    outcome = await agent.step(nudge)
                except ModelError as exc:
                    return "exhausted", {"reason": f"model error: {exc}", "by": "model_error"}
                except BudgetExceeded as exc:  # the context could not fit the class budget: never send it
                    return "exhausted", {"reason": str(exc), "by": "budget"}
                nudge = None
                # With mitigations, a step whose calls were all answered without running (deduped, rejected,
                # refused) does not use the state's steps, up to one cap's worth: the guard costs no progress.
                unrun = outcome.requested and self.dispatcher.budget.used_steps == ran_before
                if self.options.mitigations and unrun and free < st.step_cap:
                    free += 1
                else:
                    steps += 1
                self.dispatcher.trace_undispatched(outcome.requested, outcome.results)
                if st.writes:
                    self.round_writes = [w for w in self.dispatcher.writes if w.get("state") == st.name]
                if outcome.text is not None:
                    self.trace.emit("agent_message", text=outcome.text[:2000])
                    nudge = f"Reply with a tool call. When you are done in this state, call {st.submit}."
                for rec in self.dispatcher.recorded:
                    self._record_submission(rec["name"], rec["args"])
                self.dispatcher.recorded = []
                nudge = self._act_on_findings(st) or nudge
                sub = self.dispatcher.submission
                if sub is not None:
                    self._record_submission(sub["name"], sub["args"])
                    return "submitted", {"submission": sub["name"]}
                if self.dispatcher.looping:
                    self.trace.emit(
                        "mitigation",
                        mode="1.3",
                        detector="repetition_loop",
                        action=f"forced the machine out of {st.name}",
                    )
                    return await self._closing_step(agent, scope, st, forced="repetition")
            return await self._closing_step(agent, scope, st)
        finally:
            self.trace.role = None

    async def _closing_step(self, agent: Any, scope: StateScope, st: StateSpec, **why: Any) -> tuple[str, dict]:
        """The machine owns termination (FM-1.5): a state that used its steps gets one last call in which only
        its submission is offered and runs. Where the cap would end the run this is a closing step (the agent
        did not stop in time); where another state takes over it is a hand-over step: the evidence is in this
        context now, so submit if it is enough, else the next state continues. Without mitigations the step
        cap simply ends the state."""
        cap = {"cap": st.step_cap, **why}
        following = self.machine.continues_after_cap(st.name)
        if not (self.options.mitigations and st.submit) or self.budget_reason():
            return "step_cap", cap
        if following:
            nudge = f"Your steps in {st.name} are used up. If the evidence is enough, call {st.submit} now; "
            nudge += f"otherwise reply in words and {following} continues."
            self.trace.emit(
                "mitigation",
                mode="1.5",
                detector="handover_step",
                action=f"hand-over step: {st.submit} offered before {following} takes over",
            )
        else:
            nudge = f"Your steps in {st.name} are used up. Call {st.submit} now with what you have."
            self.trace.emit(
                "mitigation",
                mode="1.5",
                detector="step_cap_reached",
                action=f"closing step: only {st.submit} is offered in {st.name}",
            )
        scope.closing, agent.client.offer_only = True, {st.submit}
        try:
            await agent.step(nudge)
        except (ModelError, BudgetExceeded) as exc:
            return "exhausted", {"reason": f"closing step: {exc}", "by": "model_error"}
        finally:
            scope.closing, agent.client.offer_only = False, None
        sub = self.dispatcher.submission
        if sub is None:
            return "step_cap", cap
        self._record_submission(sub["name"], sub["args"])
        return "submitted", {"submission": sub["name"], "closing_step": True}

    def _record_submission(self, name: str, args: dict) -> None:
        if name == "submit_plan":
            self.plan = args
        elif name == "submit_diagnosis":
            self.diagnosis = args
            self.objections = []
            roots = [e["name"] for e in args.get("entities", []) if e.get("contributing_factor")]
            self.ledger.add([f"diagnosis: root cause {', '.join(roots) or 'none named'}"])
        elif name == "submit_mitigation":
            self.mitigation = args

    # ------------------------------------------------------------------ agents and their contexts
    def _agent_for(self, role: Role, st: StateSpec) -> Any:
        from autogen_core.models import SystemMessage

        from .agents import AgentTool, MeteredClient, RoleAgent
        from .context import BudgetedContext
        from .tokens import count_tools

        tools = []
        names = list(role.read_tools) + (list(role.write_tools) if st.writes else [])
        for name in names:
            tool = self.toolbox.get(name)
            if tool is not None:
                tools.append(AgentTool(tool.name, tool.description, tool.parameters, self.dispatcher.handle))
        for name in ([st.submit] if st.submit else []) + list(st.records):
            sub = role.submissions[name]
            tools.append(AgentTool(sub.name, sub.description, sub.schema, self.dispatcher.handle))
        schemas = [t.schema for t in tools]
        # The verifier always starts fresh; open models start every state fresh (the ledger carries over).
        fresh = role.name == "verifier" or self.machine.reset_context_between_states
        context = None if fresh else self.contexts.get(role.name)
        if context is None:
            system = SystemMessage(
                content=system_prompt(role, self.incident.metadata.name, self.incident.spec.summary, self.namespaces)
            )
            context = BudgetedContext(
                budget_tokens=self.profile.context_tokens,
                tools_tokens=count_tools(schemas, self.model),
                on_prune=lambda report, r=role.name: self._on_prune(r, report),
                max_tool_output_tokens=self.profile.max_tool_output_tokens,
                initial_messages=[system],
                model=self.model,
            )
            self.contexts[role.name] = context
        else:
            context.tools_tokens = count_tools(schemas, self.model)
        client = MeteredClient(self.inner_client, self.trace, self.profile.context_tokens, self.model)
        self.clients.append(client)
        return RoleAgent(role.name, client, context, tools)

    def _on_prune(self, role: str, report: Any) -> None:
        data = asdict(report) if hasattr(report, "__dataclass_fields__") else dict(report)
        self.trace.emit("context_prune", role=role, **data)

    def _pin_instruction(self, agent: Any, role: Role, st: StateSpec) -> None:
        from autogen_core.models import UserMessage

        allowed = sorted(set(role.write_tools) & (self.policy.allowed_actions or set(role.write_tools)))
        briefing = Briefing(
            incident_name=self.incident.metadata.name,
            summary=self.incident.spec.summary,
            namespaces=self.namespaces,
            alerts=self.alerts,
            plan=self.plan,
            diagnosis=self.diagnosis,
            mitigation=self.mitigation,
            objections=self.objections,
            facts=self.ledger.lines(),
            allowed_actions=allowed,
            mode="off" if self.read_only else self.mode,
            tokens_left=max(0, self.dispatcher.budget.tokens - self.tokens_used) if self.dispatcher else None,
        )
        continues_in = self.machine.continues_after_cap(st.name)
        source, trigger, _ = self.path[-1] if self.path else ("", "", "")
        continues_from = self.machine.takes_over_from(st.name, source, trigger)
        text = instruction(st, role, briefing, continues_in, continues_from)
        agent.context.pin(UserMessage(content=text, source="engine"))

    # ------------------------------------------------------------------ result
    def _why_it_ended(self, status: str) -> str:
        """One line on how the machine reached its terminal state."""
        if status == "resolved":
            if self.verdict is None:
                return "the model declared the incident fixed; nothing verified it (mitigations off)"
            return "verified: every required check passed on fresh reads"
        if self.read_only:
            assumed = f" ({self.assumptions[-1]})" if self.forced_read_only and self.assumptions else ""
            return "read-only run: diagnosis only, nothing changed" + assumed
        source, trigger, _ = self.path[-1] if self.path else ("", "", "")
        if self.objections and trigger == "failed":
            return "not verified: " + "; ".join(self.objections[:3])
        if trigger == "step_cap":
            return f"{source} used its {self.machine.states[source].step_cap} steps without a result"
        if self.machine.states.get(source) is not None and self.machine.states[source].writes and self.nothing_applied:
            modes = sorted({w.get("mode", "?") for w in self.round_writes})
            return f"no change was applied ({', '.join(modes)})" if modes else "the mitigation applied no change"
        return f"ended in state {getattr(self, 'state', '?')} after {trigger or 'nothing'} from {source or 'the start'}"

    def _result(self, status: str, exit_code: int) -> RunResult:
        reason = self.end_reason or self._why_it_ended(status)
        d = self.dispatcher
        return RunResult(
            run_id=self.run_id,
            status=status,
            exit_code=exit_code,
            reason=reason,
            output_dir=self.out_dir,
            model=self.model,
            model_class=self.model_class,
            ended_by=self.ended_by,
            diagnosis=self.diagnosis,
            mitigation=self.mitigation,
            verdict=self.verdict,
            writes=list(d.writes) if d else [],
            path=[self.machine.initial] + [dest for _, _, dest in self.path],
            steps=d.budget.used_steps if d else 0,
            tokens=self.tokens_used,
            llm_calls=sum(c.calls for c in self.clients),
            seconds=round(time.monotonic() - self.started, 2),
            assumptions=self.assumptions,
        )


async def run_incident(incident: Any, options: RunOptions | None = None) -> RunResult:
    """Run one incident to a terminal state; never raises for a user or cluster problem."""
    return await Conductor(incident, options or RunOptions()).run()
