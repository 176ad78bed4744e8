"""The per-class machines: every file loads, every state is reachable, the guards steer, and only the
machine reaches a terminal state (no trigger an agent controls skips the verifier on the way to resolved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.machines import MachineError, available_classes, load_machine, mermaid


class Guards:
    def __init__(self, **kw: bool) -> None:
        self.ambiguous = kw.get("ambiguous", False)
        self.read_only = kw.get("read_only", False)
        self.nothing_applied = kw.get("nothing_applied", False)
        self.rounds_left = kw.get("rounds_left", True)


def test_three_classes_ship() -> None:
    assert available_classes() == ["frontier", "mid", "open"]  # unguarded.yaml is not a class


@pytest.mark.parametrize("cls", ["frontier", "mid", "open"])
def test_every_state_reachable_and_resolved_only_after_verification(cls: str) -> None:
    spec = load_machine(cls)
    edges: dict[str, set[str]] = {}
    for t in spec.transitions:
        for s in spec.states if t.source == ("*",) else t.source:
            edges.setdefault(s, set()).add(t.dest)
    seen, todo = set(), [spec.initial]
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo += list(edges.get(s, ()))
    assert seen == set(spec.states)
    into_resolved = {s for t in spec.transitions if t.dest == "resolved" for s in t.source}
    assert into_resolved and all(spec.states[s].kind in ("verify", "gate") for s in into_resolved)


@pytest.mark.parametrize("cls", ["frontier", "mid", "open"])
def test_happy_path_and_read_only(cls: str) -> None:
    spec = load_machine(cls)
    m = Guards()
    spec.build(m)
    m.begin()
    assert m.state == "triage"
    m.submitted()
    m.submitted()
    assert m.state == "mitigate"
    m.submitted()
    m.waited()
    assert m.state == "verify"
    m.passed()
    if cls == "frontier":  # re-verification after a second window
        assert m.state == "restabilise"
        m.waited()
        m.passed()
    assert m.state == "resolved"

    ro = Guards(read_only=True)
    spec.build(ro)
    ro.begin()
    ro.submitted()
    ro.submitted()
    assert ro.state == "escalated"


def test_failed_verification_returns_to_investigation_until_rounds_run_out() -> None:
    spec = load_machine("mid")
    m = Guards()
    spec.build(m)
    for trigger in ("begin", "submitted", "submitted", "submitted", "waited", "failed"):
        getattr(m, trigger)()
    assert m.state == "gather"
    m.rounds_left = False
    for trigger in ("submitted", "submitted", "waited", "failed"):
        getattr(m, trigger)()
    assert m.state == "escalated"


def test_ambiguous_incident_goes_through_clarification() -> None:
    m = Guards(ambiguous=True)
    load_machine("open").build(m)
    m.begin()
    assert m.state == "clarify"


def test_mermaid_marks_the_path_taken() -> None:
    text = mermaid(load_machine("frontier"), [("intake", "begin", "triage")])
    assert text.startswith("stateDiagram-v2")
    assert "intake --> triage : begin ✔" in text
    assert "class intake,triage visited" in text


def test_bad_machine_file_errors_name_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "x.yaml"
    bad.write_text("initial: a\nstates:\n  a: {kind: dance}\ntransitions: []\n")
    with pytest.raises(MachineError, match=r"x.yaml: states.a.kind"):
        load_machine("x", bad)
    bad.write_text("initial: a\nstates:\n  a: {kind: engine}\ntransitions:\n  - {trigger: begin, source: a, dest: b}\n")
    with pytest.raises(MachineError, match=r"transitions\[0\] names unknown state 'b'"):
        load_machine("x", bad)
    with pytest.raises(MachineError, match="available: frontier, mid, open"):
        load_machine("huge")
