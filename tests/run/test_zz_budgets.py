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
