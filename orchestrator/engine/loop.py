"""The run engine: one async API (`run_incident`) for every front-end (the CLI and the bench today).

The loop walks the model class's machine. In each state the machine, not a model, decides who speaks
(planner, investigator, verifier), which tools it is offered and how many steps it gets; the state's
handler (handlers.py) turns what happened (a submission, a step cap, a verdict, an exhausted budget) into
the machine's trigger, and the loop fires it. Only a terminal state ends a run, and `resolved` is reachable
only through the verifier gate. The run's state is one record (state.py); live MAST mitigations act
from mitigations.py. Progress reaches the front-end as typed events (events.py); the run directory is
written even when the run fails.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..cluster import ClusterSession, unreachable
from ..incident import name_part
from ..logs import run_logger
from ..machines import UNGUARDED, load_machine
from ..models import canonical_model
from ..models.classes import class_profile, resolve_class
from ..redaction import mask_text, scrub
from ..tools.journal import WriteJournal
from ..tools.policy import Approver
from ..trace import Trace
from . import telemetry
from .events import EventSink, to_trace_sink
from .handlers import HANDLERS
from .mitigations import LiveMitigations
from .outputs import write_outputs
from .resume import start_journal
from .state import (
    EXIT_CLUSTER,
    EXIT_INTERNAL,
    EXIT_MODEL,
    EXIT_NO_FAULT,
    EXIT_RESOLVED,
    EXIT_UNRESOLVED,
    OutputDirError,
    RunFailed,
    RunOptions,
    RunResult,
    RunState,
    cancelled,
    why_it_ended,
)
from .wiring import Wiring, connect, open_model, open_session

__all__ = ["RunOptions", "RunResult", "run_incident"]

ENDED_BY = {EXIT_CLUSTER: "cluster", EXIT_MODEL: "model_error"}  # what a RunFailed's code says ended the run
MODEL_STATES = {"agent", "verify"}  # the state kinds that call the model, and so spend the run's budget


def _claim(out_dir: Path, run_id: str, model: str) -> Trace:
    """The run directory, made this run's own by creating its trace exclusively: a directory that holds
    another run's trace is refused, so two runs never share (and lose) one record."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputDirError(f"run directory {out_dir} is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        return Trace(run_id, out_dir / "trace.jsonl", model=model)
    except FileExistsError:
        raise OutputDirError(
            f"run directory {out_dir} already holds a run (trace.jsonl); choose another --output or remove it"
        ) from None
    except OSError as err:
        raise OutputDirError(f"run directory {out_dir}: cannot write there ({err.strerror or err})") from None


class _Run:
    """One run: its trace, log and state record, and the loop that walks its machine."""

    def __init__(
        self,
        incident: Any,
        options: RunOptions,
        events: EventSink | None,
        approver: Approver | None,
        cancel: asyncio.Event | None,
    ) -> None:
        spec = incident.spec
        self.incident, self.options, self.approver, self.cancel = incident, options, approver, cancel
        self.model = canonical_model(options.model or spec.model_name or "builtin/playbook")
        # The file's settings go with the file's model; a model named on the command line comes bare.
        self.model_settings = spec.model_settings if not options.model else None
        self.model_class = resolve_class(self.model, options.model_class or spec.model_class)
        self.profile = class_profile(self.model_class)
        self.machine = load_machine(self.model_class if options.mitigations else UNGUARDED)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        # The suffix keeps two runs of one incident started in the same second apart.
        self.run_id = f"{stamp}-{name_part(incident.metadata.name) or 'incident'}-{secrets.token_hex(2)}"
        self.out_dir = options.output_dir or options.runs_dir / self.run_id
        self.trace = _claim(self.out_dir, self.run_id, self.model)
        if events is not None:
            self.trace.subscribe(to_trace_sink(events))
        if telemetry.enabled():
            self.trace.subscribe(to_trace_sink(telemetry.RunSpans()))
        self.log, self._log_file = run_logger(self.out_dir / "engine.log.jsonl", run_id=self.run_id)
        self.run = RunState.for_incident(incident, self.machine.max_verify_rounds)
        self.session: ClusterSession | None = None
        self.journal: WriteJournal | None = None  # opened once the run has started
        self.wiring: Wiring | None = None
        self.started = time.monotonic()

    async def execute(self) -> RunResult:
        run, spec = self.run, self.incident.spec
        self.machine.build(run)
        self.live = LiveMitigations(run, self.trace, self.machine, self.options.mitigations)
        self.trace.state = self.machine.initial
        self.trace.emit(
            "run_start",
            incident={"name": run.incident_name, "summary": run.summary, "namespaces": run.namespaces},
            model=self.model,
            model_class=self.model_class,
            machine=self.machine.source and Path(self.machine.source).name,
            mode=run.mode,
            mitigations=self.options.mitigations,
            budget={"steps": spec.budget.steps, "tokens": spec.budget.tokens, "seconds": spec.budget.seconds},
            context_tokens=self.profile.context_tokens,
            fresh_context_per_state=self.machine.reset_context_between_states,
        )
        self.journal = start_journal(self.out_dir, self.run_id, self.incident, self.model, self.model_class)
        exit_code, status = EXIT_INTERNAL, "error"
        try:
            self.wiring = await self._connect()
            await self._walk(self.wiring)
            terminal = self.machine.states[run.state]
            exit_code = terminal.exit_code if terminal.exit_code is not None else EXIT_UNRESOLVED
            status = {EXIT_RESOLVED: "resolved", EXIT_NO_FAULT: "no-fault"}.get(exit_code, "escalated")
            if exit_code == EXIT_UNRESOLVED:
                exit_code, status = await self._why_unresolved()
        except RunFailed as exc:
            exit_code, status = exc.exit_code, "error"
            run.end(ENDED_BY.get(exc.exit_code, "error"), str(exc))
        except Exception as exc:  # a bug: keep the trace and say so in one line
            self.log.exception("run_crashed")
            exit_code, status = EXIT_INTERNAL, "error"
            run.end("error", f"internal error: {type(exc).__name__}: {exc}")
        finally:
            self._close_session(exit_code)
        result = self._result(status, exit_code)
        self.trace.emit(
            "run_end",
            status=status,
            exit_code=exit_code,
            reason=result.reason,
            ended_by=run.ended_by,
            steps=result.steps,
            tokens=result.tokens,
        )
        write_outputs(self.out_dir, result, run, self.machine, self.options, self.log)
        self.trace.close()
        self._log_file.close()
        return result

    async def _why_unresolved(self) -> tuple[int, str]:
        """An escalation's exit code: a model that failed, or a cluster that stopped answering, is what
        happened (6, 5), not whatever the run could no longer do because of it (3)."""
        run = self.run
        if run.ended_by == "model_error":
            return EXIT_MODEL, "error"
        gone = await asyncio.to_thread(unreachable, self.session) if self.session is not None else None
        if gone is not None:
            run.end("cluster", f"{gone} (the run stopped: {why_it_ended(run, self.machine, 'escalated')})")
            return EXIT_CLUSTER, "error"
        return EXIT_UNRESOLVED, "escalated"

    async def _connect(self) -> Wiring:
        client = open_model(self.model, self.options, self.trace, self.profile.reply_tokens, self.model_settings)
        self.session = await open_session(self.incident)
        return connect(
            self.incident,
            self.options,
            self.run,
            machine=self.machine,
            profile=self.profile,
            model=self.model,
            client=client,
            session=self.session,
            trace=self.trace,
            live=self.live,
            approver=self.approver,
            cancel=self.cancel,
            started=self.started,
            journal=self.journal,
        )

    def _close_session(self, exit_code: int) -> None:
        if self.session is None:
            return
        if self.options.before_close is not None:
            try:
                self.options.before_close(self.session, exit_code)
            except Exception:  # an inspection bug must not cost the run its record
                self.log.exception("before_close_failed")
        self.session.close()

    async def _walk(self, w: Wiring) -> None:
        run = self.run
        while self.machine.states[run.state].kind != "terminal":
            st = self.machine.states[run.state]
            if w.cancelled():  # a step boundary: the front-end asked the run to stop
                trigger, why = cancelled(st.name)
            else:
                # Only states that call the model spend its budget: a submission that used the last tokens
                # still gets its code-only audit, gate or wait, and the run ends where the model's own turn
                # ended it.
                reason = w.budget_reason() if st.kind in MODEL_STATES else None
                if reason:
                    run.end("budget", reason)
                    self._fire("exhausted", reason=reason)
                    break
                trigger, why = await HANDLERS[st.kind](run, w, st)
            if trigger == "exhausted":
                run.end(why.get("by", "budget"), why.get("reason", ""))
            self._fire(trigger, **why)

    def _fire(self, trigger: str, **why: Any) -> None:
        run = self.run
        source = run.state
        getattr(run, trigger)()  # `transitions` gave the model one method per trigger
        dest = run.state
        run.path.append((source, trigger, dest))
        self.trace.state = dest
        self.trace.emit("state_transition", role=None, source=source, trigger=trigger, dest=dest, **why)
        self.log.info("state_transition", source=source, trigger=trigger, dest=dest)

    def _result(self, status: str, exit_code: int) -> RunResult:
        """What the run returns to its front-end and writes to its reports, secrets masked (a reason quotes
        errors, a diagnosis and a verdict quote the cluster)."""
        run, w = self.run, self.wiring
        if w is not None:  # a step cut short by a crash still reports the writes it made
            run.writes.extend(w.dispatcher.take().writes)
        return RunResult(
            run_id=self.run_id,
            status=status,
            exit_code=exit_code,
            reason=mask_text(run.end_reason or why_it_ended(run, self.machine, status)),
            output_dir=self.out_dir,
            model=self.model,
            model_class=self.model_class,
            ended_by=run.ended_by,
            diagnosis=scrub(run.diagnosis),
            mitigation=scrub(run.mitigation),
            verdict=scrub(run.verdict),
            writes=scrub(list(run.writes)),
            path=[self.machine.initial] + [dest for _, _, dest in run.path],
            steps=w.budget.used_steps if w else 0,
            tokens=w.crew.tokens_used if w else 0,
            cost_usd=round(w.crew.cost_usd, 6) if w else 0.0,
            llm_calls=w.crew.llm_calls if w else 0,
            seconds=round(time.monotonic() - self.started, 2),
            assumptions=scrub(run.assumptions),
        )


async def run_incident(
    incident: Any,
    options: RunOptions | None = None,
    *,
    events: EventSink | None = None,
    approver: Approver | None = None,
    cancel: asyncio.Event | None = None,
) -> RunResult:
    """Run one incident to a terminal state; never raises for a user or cluster problem, except that a run
    directory it cannot make its own (another run's, a file, not writable) raises OutputDirError before
    anything runs.

    `events` receives the run's progress as typed events; `approver` is asked about each change in approve
    mode (none: every change is denied and the run escalates); setting `cancel` stops the run at the next
    step boundary, escalated (`ended_by` "cancelled"), with its trace and outputs written.
    """
    return await _Run(incident, options or RunOptions(), events, approver, cancel).execute()
