"""A run's MAST annotation: the 14 modes present (1), absent (0) or not assessable (None), with the rule
and trace events behind each, in the shape of the public MAST dataset's `mast_annotation`.

`annotate(events)` is pure; `annotate_run_dir(path)` reads trace.jsonl (and report.json when present) and
writes mast.json beside them; `LiveDetectors` runs the same detectors as events arrive, for mitigations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import write_atomic
from .detectors import Detector, Event, Finding, RunView, all_detectors, detect
from .taxonomy import FATAL_MODES, MEANING, MODE_IDS, mode, normalize_id

# Modes whose detectors are worth running during a run: each has a live mitigation that can still act.
detectors_for_live: frozenset[str] = frozenset({"1.3", "1.4", "1.5", "2.2", "2.5", "2.6", "3.1", "3.3"})


class MastInputError(ValueError):
    """A run directory or trace that cannot be annotated; the message names the file at fault."""


@dataclass
class Annotation:
    mast_annotation: dict[str, int | None]
    modes: dict[str, dict[str, Any]]
    failed: bool
    distinct_modes: int
    fatal_modes: list[str]
    findings: list[Finding] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mast_annotation": dict(self.mast_annotation),
            "modes": self.modes,
            "failed": self.failed,
            "distinct_modes": self.distinct_modes,
            "fatal_modes": list(self.fatal_modes),
            "findings": [f.to_dict() for f in self.findings],
            "run": self.run,
            "meaning": MEANING,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)


def _mitigated_modes(events: list[Event], findings: list[Finding]) -> set[str]:
    """Modes for which a `mitigation` event exists (named by mode, by detector or by the rule that fired)."""
    rules = {f.rule: f.mode for f in findings}
    names = {name: m.id for m in (mode(i) for i in MODE_IDS) for name in m.mitigation_detectors}
    out: set[str] = set()
    for ev in events:
        if ev.get("kind") != "mitigation":
            continue
        d = ev.get("data") or {}
        if d.get("mode"):
            out.add(normalize_id(d["mode"]))
        detector = d.get("detector")
        if detector in names:
            out.add(names[detector])
        if detector in rules:
            out.add(rules[detector])
    return out


def _run_facts(events: list[Event], report: dict[str, Any] | None) -> dict[str, Any]:
    start = next((e for e in events if e.get("kind") == "run_start"), None)
    end = next((e for e in reversed(events) if e.get("kind") == "run_end"), None)
    sd, ed = (start or {}).get("data") or {}, (end or {}).get("data") or {}
    report = report or {}
    return {
        "run_id": (start or end or {}).get("run_id") or report.get("run_id"),
        "model": sd.get("model") or report.get("model"),
        "model_class": sd.get("model_class") or report.get("model_class"),
        "status": ed.get("status", report.get("status")),
        "exit_code": ed.get("exit_code", report.get("exit_code")),
        "ended_by": ed.get("ended_by", report.get("ended_by")),
        "events": len(events),
    }


def annotate(events: list[Event], report: dict[str, Any] | None = None) -> Annotation:
    """Annotate a finished trace (events as dicts, in seq order)."""
    findings, assessable = detect(events)
    by_mode: dict[str, list[Finding]] = {}
    for f in findings:
        by_mode.setdefault(f.mode, []).append(f)
    mitigated = _mitigated_modes(events, findings)
    values: dict[str, int | None] = {}
    modes: dict[str, dict[str, Any]] = {}
    for mode_id in MODE_IDS:
        hits = by_mode.get(mode_id, [])
        value = 1 if hits else (0 if assessable.get(mode_id) else None)
        values[mode_id] = value
        modes[mode_id] = {
            "value": value,
            "source": "detector",
            "rule": hits[0].rule if hits else None,
            "rules": sorted({f.rule for f in hits}),
            "events": sorted({s for f in hits for s in f.events}),
            "mitigated": mode_id in mitigated,
            "detail": "; ".join(f.detail for f in hits[:3]) if hits else None,
        }
    run = _run_facts(events, report)
    failed = not (run["status"] == "resolved" and run["exit_code"] == 0)
    present = [m for m, v in values.items() if v == 1]
    return Annotation(
        mast_annotation=values,
        modes=modes,
        failed=failed,
        distinct_modes=len(present),
        fatal_modes=[m for m in present if m in FATAL_MODES],
        findings=findings,
        run=run,
    )


def read_events(path: Path) -> list[Event]:
    """The events of a trace.jsonl; a one-line MastInputError naming the file and line when it is bad."""
    if not path.is_file():
        raise MastInputError(f"{path}: no such trace file")
    events = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MastInputError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(ev, dict) or "kind" not in ev or "seq" not in ev:
                raise MastInputError(f"{path}:{n}: an event needs 'seq' and 'kind'")
            events.append(ev)
    return events


def annotate_run_dir(path: Path | str, write: bool = True) -> Annotation:
    """Annotate `path/trace.jsonl` (with `path/report.json` when present) and write `path/mast.json`."""
    run_dir = Path(path)
    if not run_dir.is_dir():
        raise MastInputError(f"{run_dir}: not a run directory")
    events = read_events(run_dir / "trace.jsonl")
    report = None
    report_path = run_dir / "report.json"
    if report_path.is_file():
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MastInputError(f"{report_path}: not JSON ({exc.msg})") from None
    annotation = annotate(events, report if isinstance(report, dict) else None)
    if write:
        write_atomic(run_dir / "mast.json", annotation.to_json() + "\n")
    return annotation


class LiveDetectors:
    """The detectors of `modes` fed one event at a time; `feed` returns only the findings that are new.

    The engine subscribes this to the trace (events as dicts or trace.Event objects) and turns findings
    into mitigations. End-of-run rules (`finish`) are not live: they only fire in `annotate`."""

    def __init__(self, modes: frozenset[str] | set[str] = detectors_for_live) -> None:
        wanted = {normalize_id(m) for m in modes}
        self.run = RunView()
        self.detectors: list[Detector] = [d for d in all_detectors() if d.mode in wanted]
        self.findings: list[Finding] = []

    def feed(self, event: Any) -> list[Finding]:
        ev = event if isinstance(event, dict) else _as_dict(event)
        self.run.observe(ev)
        new: list[Finding] = []
        for det in self.detectors:
            new.extend(det.feed(ev, self.run))
        self.run.after(ev)
        self.findings.extend(new)
        return new


def _as_dict(event: Any) -> Event:
    fields = ("seq", "kind", "ts", "run_id", "state", "role", "model", "data")
    return {f: getattr(event, f, None) for f in fields}
