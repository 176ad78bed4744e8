"""Failure-prone built-in models in real runs: what they inject is in the trace as ground truth, and
neither the MAST detectors nor the judge get to see it."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.mast.annotate import annotate
from orchestrator.mast.judge import transcript

from .helpers import EXAMPLES, events, run_cli


def test_injections_are_recorded_and_hidden_from_annotation(runs_root: Path) -> None:
    out = runs_root / "flaky-open"
    code, _, _ = run_cli(
        "run", str(EXAMPLES / "demo.yaml"), "--model", "builtin/flaky-open", "--seed", "3", "--output", str(out), "-q"
    )
    assert code in (0, 3)
    trace = events(out)
    injected = [e for e in trace if e["kind"] == "injection"]
    assert injected and all(e["data"]["behaviour"] and e["data"]["mode"] for e in injected)
    without = [e for e in trace if e["kind"] != "injection"]
    assert annotate(trace).mast_annotation == annotate(without).mast_annotation
    assert "injection" not in transcript(trace)
    assert json.loads((out / "report.json").read_text())["model_class"] == "open"
