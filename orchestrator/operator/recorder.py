"""Keep an Incident's status current while its run goes: the run's typed events move the phase (an Event on
the Incident for each move), applied changes and the diagnosis are recorded as they happen, and the claim is
renewed on a heartbeat so another operator can tell a live run from one whose process died.

The engine calls the event sink synchronously inside its loop; API writes happen in a writer task (in a
thread, the client blocks), one at a time and coalesced, so a slow API server never slows the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ..engine.events import RunEvent, RunStarted, StateEntered, Submitted, Verdict, WriteApplied
from ..engine.state import root_causes
from ..machines import UNGUARDED, MachineSpec, load_machine
from ..redaction import mask_text
from .incidents import IncidentApi, Ref
from .status import AppliedChange, Diagnosis, IncidentStatus, now_iso
from .status import Verdict as VerdictStatus

log = logging.getLogger(__name__)

# A machine state's kind → the phase a person reads (a writing agent state is Mitigating).
PHASE_OF_KIND = {"engine": "Investigating", "clarify": "Investigating", "agent": "Investigating",
                 "wait": "Verifying", "verify": "Verifying", "gate": "Verifying", "audit": "Verifying"}  # fmt: skip


def status_diagnosis(diagnosis: dict[str, Any] | None) -> Diagnosis | None:
    """A run's diagnosis as the status holds it (its root causes and summary), or None when it names none."""
    roots = root_causes(diagnosis)
    if not roots:
        return None
    return Diagnosis(root_causes=roots, summary=mask_text(str((diagnosis or {}).get("summary") or ""))[:500])


class StatusRecorder:
    """The one writer of an Incident's status during its run."""

    def __init__(self, api: IncidentApi, obj: dict[str, Any], status: IncidentStatus, heartbeat: float) -> None:
        self.api = api
        self.obj = obj
        self.ref = Ref.of(obj)
        self.status = status
        self.heartbeat = heartbeat
        self._machine: MachineSpec | None = None
        self._dirty = asyncio.Event()
        self._events: list[tuple[str, str, bool]] = []
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._lock = asyncio.Lock()  # one write at a time, so an older snapshot never lands after a newer one

    # -- the run's events --------------------------------------------------------------------------------
    def sink(self, event: RunEvent) -> None:
        """The engine's EventSink."""
        if isinstance(event, RunStarted):
            self._machine = load_machine(event.model_class if event.mitigations else UNGUARDED)
            self.move("Investigating", "RunStarted", f"run {event.run_id} started ({event.model}, {event.mode})")
        elif isinstance(event, StateEntered):
            spec = self._machine.states.get(event.state or "") if self._machine else None
            if spec is None or spec.kind == "terminal":
                return
            phase = "Mitigating" if spec.writes else PHASE_OF_KIND.get(spec.kind, "Investigating")
            self.move(phase, "StateEntered", f"{event.state}: {spec.description}")
        elif isinstance(event, WriteApplied):
            change = AppliedChange(action=event.action, target=event.target, change=mask_text(event.change),
                                   revert=mask_text(event.revert))  # fmt: skip
            self.status.mitigation = [*self.status.mitigation, change]
            self.note("ChangeApplied", f"{event.action} {event.target}: {change.change}")
        elif isinstance(event, Submitted) and event.submission == "submit_diagnosis" and event.content:
            diagnosis = status_diagnosis(dict(event.content))
            if diagnosis is not None:
                self.status.diagnosis = diagnosis
                self.note("Diagnosed", f"root cause: {', '.join(diagnosis.root_causes)}")
        elif isinstance(event, Verdict):
            self.status.verdict = VerdictStatus(passed=event.passed, failed_checks=list(event.failed_checks))
            self.touch()

    def move(self, phase: str, reason: str, message: str, warning: bool = False) -> None:
        """Enter `phase` (an Event when the phase changes; the reason is updated either way)."""
        changed = phase != self.status.phase
        self.status.enter(phase, reason, mask_text(message))
        if changed:
            self._events.append((phase, mask_text(message), warning))  # `kubectl describe` reads it by phase
        self.touch()

    def note(self, reason: str, message: str, warning: bool = False) -> None:
        """An Event on the Incident and a status write, without a phase change."""
        self._events.append((reason, mask_text(message), warning))
        self.touch()

    def touch(self) -> None:
        self._dirty.set()

    # -- writing -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def flush(self) -> None:
        """Write what changed now (and its Events)."""
        async with self._lock:
            self._dirty.clear()
            events, self._events = self._events, []
            if self.status.claim is not None:
                self.status.claim.renewed_at = now_iso()
            snapshot = self.status.model_copy(deep=True)
            try:
                await asyncio.to_thread(self.api.write_status, self.ref, snapshot)
            except Exception as err:  # a failed write is retried on the next change or heartbeat
                log.warning("status of %s not written: %s", self.ref, err)
                self._dirty.set()
            for reason, message, warning in events:
                try:
                    await asyncio.to_thread(self.api.post_event, self.obj, reason, message, warning)
                except Exception as err:  # an Event is informative; the status holds the record
                    log.warning("event on %s not posted: %s", self.ref, err)

    async def _write_loop(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), timeout=self.heartbeat)
            await self.flush()

    async def close(self) -> None:
        """Stop the writer and write the last status."""
        self._closing = True
        self._dirty.set()
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer
        await self.flush()

    def update(self, change: Callable[[IncidentStatus], None]) -> None:
        change(self.status)
        self.touch()
