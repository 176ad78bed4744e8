"""Live MAST mitigations: findings of the live detectors, and the machine's own limits, turned into actions
while the run goes on.

FM-1.3 dedupe and FM-2.6 rejection happen in the dispatcher, where the call is answered. Here: a submission
a live finding is about is vetoed (FM-3.1 success claimed before any write, FM-2.2 root cause without
evidence, and a diagnosis with no root cause or no mitigation while another investigation state follows);
after a step, an unchanged diagnosis the verifier rejected is refused (FM-2.5) and known facts are re-sent
(FM-1.4); a looping agent is forced out of its state (FM-1.3); a verifier PASS the checks contradict is
refused (FM-3.3); and a state that used its steps gets one closing or hand-over step (FM-1.5).
Every action is a `mitigation` trace event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..agents import BudgetExceeded, RoleAgent
from ..dispatch import Dispatched, Dispatcher, StateScope
from ..machines import MachineSpec, StateSpec
from ..models.errors import ModelError
from ..trace import Event, Trace
from .state import RunState, Step

if TYPE_CHECKING:
    from ..mast.detectors import Finding

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


class LiveMitigations:
    """Acts on what the live detectors find in the trace. Disabled (mitigations off), nothing is watched,
    vetoed or offered; the verifier's contradicted PASS and a looping agent are still acted on, as the
    machine defines those states and limits."""

    def __init__(self, run: RunState, trace: Trace, machine: MachineSpec, enabled: bool) -> None:
        self.run, self.trace, self.machine, self.enabled = run, trace, machine, enabled
        self.findings: list[Finding] = []
        if enabled:
            from ..mast.annotate import LiveDetectors

            self.detectors = LiveDetectors()
            # The detectors are defined over trace events (as the post-run annotation is), so they read the
            # same events as they are written.
            trace.subscribe(self._watch)

    def _watch(self, event: Event) -> None:
        self.findings.extend(self.detectors.feed(event))

    def _emit(self, mode: str, detector: str, action: str, **more: Any) -> None:
        self.trace.emit("mitigation", mode=mode, detector=detector, action=action, **more)

    def veto(self, submission: str, args: dict[str, Any]) -> str | None:
        """Called by the dispatcher right after a submission is traced: a live finding about it refuses it
        (the agent reads why in the tool result and tries again within its state), and so does a diagnosis
        that names no root cause while the machine still has investigation to come (FM-3.1: giving up early)."""
        roots = [e for e in args.get("entities") or [] if isinstance(e, dict) and e.get("contributing_factor")]
        missing = "root cause" if not roots else None if args.get("mitigations") or self.run.read_only else "mitigation"
        following = self.machine.continues_after_cap(self.run.state)
        if submission == "submit_diagnosis" and missing and following:
            self._emit("3.1", "inconclusive_diagnosis", f"refused a diagnosis with no {missing}; {following} follows")
            return f"It names no {missing}. Keep investigating; {following} continues from the facts gathered."
        for f in list(self.findings):
            if REFUSED_SUBMISSIONS.get(f.rule) == submission:
                self.findings.remove(f)
                self._emit(f.mode, f.rule, f"refused {submission}: {f.detail}", finding_events=f.events)
                return REFUSAL_NOTES[f.rule]
        return None

    def after_step(self, step: Dispatched) -> tuple[Dispatched, str | None]:
        """Turn new live findings into mitigations: the step as it counts, and a message for the speaking
        agent, if any. FM-1.3, 2.6 and 3.3 are already acted on where they happen (dispatcher, gate)."""
        findings, self.findings = self.findings, []
        notes = []
        for f in findings:
            if f.mode == "2.5" and step.submission and step.submission["name"] == "submit_diagnosis":
                step = replace(step, submission=None)  # objections are open: this closure attempt does not count
                self._emit(
                    "2.5", f.rule, "refused the unchanged diagnosis; objections re-sent", finding_events=f.events
                )
                notes.append(
                    "The verifier rejected this same diagnosis. Address its objections with new evidence or a "
                    "different diagnosis:\n" + "\n".join(f"- {o}" for o in self.run.objections)
                )
            elif f.mode == "1.4":
                facts = self.run.ledger.lines()
                self._emit("1.4", f.rule, f"re-sent the fact ledger ({len(facts)} facts)", finding_events=f.events)
                notes.append("You already established these facts; do not fetch them again:\n" + "\n".join(facts[-15:]))
        return step, "\n\n".join(notes) or None

    def refuse_contradicted_pass(self, objections: list[str]) -> None:
        """FM-3.3: the verifier's PASS, against failed code checks, does not close the incident."""
        objections.insert(0, "the verifier's PASS is contradicted by the code-evaluated checks")
        self._emit(
            "3.3",
            "verdict_contradicted",
            "closure refused; back to investigation with the failed checks as objections",
        )

    def force_out(self, st: StateSpec) -> None:
        """FM-1.3: an agent answered from memory `loop_limit` times in a row leaves its state."""
        self._emit("1.3", "repetition_loop", f"forced the machine out of {st.name}")

    async def closing_step(
        self,
        agent: RoleAgent,
        scope: StateScope,
        st: StateSpec,
        dispatcher: Dispatcher,
        budget_reason: Callable[[], str | None],
        **why: Any,
    ) -> tuple[Step, dict[str, Any] | None]:
        """The machine owns termination (FM-1.5): a state that used its steps gets one last call in which only
        its submission is offered and runs. Where the cap would end the run this is a closing step (the agent
        did not stop in time); where another state takes over it is a hand-over step: the evidence is in this
        context now, so submit if it is enough, else the next state continues. Without mitigations the step
        cap simply ends the state. Returns the trigger and the accepted submission, if any."""
        cap = {"cap": st.step_cap, **why}
        following = self.machine.continues_after_cap(st.name)
        if not (self.enabled and st.submit) or budget_reason():
            return ("step_cap", cap), None
        if following:
            nudge = f"Your steps in {st.name} are used up. If the evidence is enough, call {st.submit} now; "
            nudge += f"otherwise reply in words and {following} continues."
            self._emit("1.5", "handover_step", f"hand-over step: {st.submit} offered before {following} takes over")
        else:
            nudge = f"Your steps in {st.name} are used up. Call {st.submit} now with what you have."
            self._emit("1.5", "step_cap_reached", f"closing step: only {st.submit} is offered in {st.name}")
        scope.closing = True
        try:
            await agent.closing_step(nudge, st.submit)
        except ModelError as exc:
            return ("exhausted", {"reason": f"closing step: model error: {exc}", "by": "model_error"}), None
        except BudgetExceeded as exc:
            return ("exhausted", {"reason": f"closing step: {exc}", "by": "budget"}), None
        finally:
            scope.closing = False
        step = dispatcher.take()
        self.run.writes.extend(step.writes)
        sub = step.submission
        if sub is None:
            return ("step_cap", cap), None
        self.run.record_submission(sub["name"], sub["args"])
        return ("submitted", {"submission": sub["name"], "closing_step": True}), sub
