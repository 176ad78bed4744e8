"""The per-class machines: every file loads, every state is reachable, the guards steer, and only the
machine reaches a terminal state (no trigger an agent controls skips the verifier on the way to resolved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.machines import MachineError, available_classes, load_machine, mermaid


class Guards:
    def __init__(self, **kw: bool) -> None:
        self.ambiguous = kw.get("ambiguous", False)
        self.healthy = kw.get("healthy", False)
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


@pytest.mark.parametrize("cls", ["frontier", "mid", "open", "unguarded"])
def test_a_healthy_scope_ends_no_fault_before_any_agent(cls: str) -> None:
    spec = load_machine(cls)
    m = Guards(healthy=True)
    spec.build(m)
    m.begin()
    assert m.state == "no_fault" and spec.states["no_fault"].exit_code == 4


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


def test_machine_options_are_checked_and_the_loop_limit_is_per_class(tmp_path: Path) -> None:
    assert load_machine("frontier").loop_limit > load_machine("mid").loop_limit == 3
    bad = tmp_path / "x.yaml"
    bad.write_text("initial: a\noptions: {loop_limt: 4}\nstates:\n  a: {kind: engine}\ntransitions: []\n")
    with pytest.raises(MachineError, match=r"x.yaml: options.loop_limt is not one of"):
        load_machine("x", bad)


def test_a_state_taking_over_at_the_cap_carries_the_reads_only_in_a_kept_context() -> None:
    mid = load_machine("mid")
    assert mid.takes_over_from("diagnose", "gather", "step_cap") == "gather"
    assert mid.takes_over_from("diagnose", "gather", "submitted") is None  # not a hand-over
    assert mid.takes_over_from("gather", "triage", "step_cap") is None  # planner's reads are not the investigator's
    open_ = load_machine("open")  # resets the context between states: the reads are gone, only the ledger stays
    assert open_.takes_over_from("diagnose", "localise", "step_cap") is None
