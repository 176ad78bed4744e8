"""The run's trace: every event, numbered, written to trace.jsonl the moment it happens.

The trace is the one record of a run. Live MAST detectors subscribe to it, and so do front-ends, through
events.py, which turns its events into typed progress events; the report, agent_output.json and mast.json
are all derived from it. An event is flushed before anyone reacts to it, so a crash or a kill loses nothing
that was already done.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .redaction import scrub

# Event kinds; subscribers switch on these strings (engine/events.py maps them to typed progress events).
KINDS = (
    "run_start",
    "state_transition",
    "agent_message",
    "tool_call",
    "tool_result",
    "llm_call",
    "context_prune",
    "clarification",
    "analysis",  # the analyzers' first pass at intake: findings over the scope, or why it failed
    "briefing",  # the playbook knowledge put in front of a model that is not built in
    "submission",
    "verifier_verdict",
    "closure_audit",  # mitigations off: the gate's checks after the model closed, for annotation only
    "mitigation",
    "budget",
    "run_end",
    "injection",  # ground truth from a simulated model (builtin/flaky-*); MAST detectors never read it
)


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    ts: str
    run_id: str
    state: str | None
    role: str | None
    model: str | None
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, separators=(",", ":"))


Sink = Callable[[Event], None]


class Trace:
    def __init__(self, run_id: str, path: Path | None, model: str | None = None) -> None:
        self.run_id = run_id
        self.model = model
        self.path = path
        self.events: list[Event] = []
        self.state: str | None = None
        self.role: str | None = None
        self._sinks: list[Sink] = []
        # "x": a trace is never written over; an existing one means the directory holds another run.
        self._file: IO[str] | None = path.open("x", encoding="utf-8") if path is not None else None
        self._started = time.monotonic()

    def subscribe(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def emit(self, kind: str, role: str | None = None, **data: Any) -> Event:
        if kind not in KINDS:
            raise ValueError(f"unknown trace event kind {kind!r}")
        event = Event(
            seq=len(self.events) + 1,
            kind=kind,
            ts=datetime.now(UTC).isoformat(timespec="milliseconds"),
            run_id=self.run_id,
            state=self.state,
            role=role if role is not None else self.role,
            model=self.model,
            data=scrub(data),  # the trace, its subscribers and every file derived from it never see a secret
        )
        self.events.append(event)
        if self._file is not None:
            self._file.write(event.to_json() + "\n")
            self._file.flush()
        for sink in list(self._sinks):
            sink(event)
        return event

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_trace(path: Path) -> list[Event]:
    """Events of a saved trace.jsonl (for reports and re-annotation)."""
    events = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                events.append(Event(**json.loads(line)))
    return events
