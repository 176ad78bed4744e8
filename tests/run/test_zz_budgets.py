"""Runs last in this package: every trace the suite wrote, every model call within its class budget."""

from __future__ import annotations

import json
from pathlib import Path


def test_no_model_call_exceeded_its_class_budget(runs_root: Path) -> None:
    traces = sorted(runs_root.glob("**/trace.jsonl"))
    assert len(traces) >= 5, f"expected the run tests' traces under {runs_root}, found {len(traces)}"
    calls = 0
    for path in traces:
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event["kind"] == "llm_call":
                calls += 1
                data = event["data"]
                assert data["prompt_tokens"] <= data["budget"], (path, event["seq"])
                assert data["sent"] and data["within_budget"], (path, event["seq"])
    assert calls > 0


MAST_KEYS = ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3"]


def test_every_run_wrote_its_mast_annotation(runs_root: Path) -> None:
    run_dirs = sorted(p.parent for p in runs_root.glob("**/trace.jsonl"))
    assert len(run_dirs) >= 5
    for run_dir in run_dirs:
        mast = json.loads((run_dir / "mast.json").read_text())
        assert sorted(mast["mast_annotation"]) == MAST_KEYS, run_dir


def test_builtin_playbook_runs_with_mitigations_show_no_fatal_mode(runs_root: Path) -> None:
    """Issue 4's bar: builtin/playbook with mitigations on over the scenario suite shows none of FM-1.4, 1.5,
    2.3, 3.1 (or 2.2). Checked over every resolved builtin run the suite made."""
    checked = 0
    for run_dir in sorted(p.parent for p in runs_root.glob("scenario-*/trace.jsonl")):
        report = json.loads((run_dir / "report.json").read_text())
        mast = json.loads((run_dir / "mast.json").read_text())
        assert report["model"] == "builtin/playbook"
        assert mast["fatal_modes"] == [], (run_dir.name, mast["fatal_modes"])
        checked += 1
    assert checked >= 20
