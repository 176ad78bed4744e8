from __future__ import annotations

import json
from pathlib import Path

from orchestrator.mast.bench import bench_annotate, synthetic_trace
from orchestrator.mast.summarize import render_table, summarize

RUNS = Path(__file__).parent / "corpus" / "runs"


def _run_dir(root: Path, name: str, copy: int = 0) -> Path:
    run_dir = root / f"{name}-{copy}"
    run_dir.mkdir()
    (run_dir / "trace.jsonl").write_text((RUNS / f"{name}.jsonl").read_text())
    return run_dir


def test_summary_per_model_follows_the_seed_method(tmp_path: Path) -> None:
    dirs = [_run_dir(tmp_path, "liar", i) for i in range(3)] + [_run_dir(tmp_path, "mismatch")]
    summary = summarize(dirs)
    liar = summary["openai/liar"]
    assert (liar["runs"], liar["resolved"], liar["failed_runs"]) == (3, 0, 3)
    assert liar["task_recall"] == 0.0
    assert liar["modes_per_failed_run"] == 4.0  # 2.2 (no evidence), 2.5, 3.1, 3.3
    assert liar["modes"]["3.3"]["rate_failed"] == 1.0 and liar["modes"]["3.3"]["rate_successful"] is None
    other = summary["openai/x"]
    assert other["task_recall"] == 1.0 and other["modes_per_failed_run"] is None
    assert other["modes"]["2.6"]["rate_successful"] == 1.0


def test_summary_prefers_a_saved_mast_json(tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path, "mismatch")
    saved = {
        "mast_annotation": {m: 0 for m in ("1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5")}
        | {"2.6": 0, "3.1": 1, "3.2": 0, "3.3": 0},
        "failed": True,
        "distinct_modes": 1,
        "run": {"model": "judged", "model_class": "open"},
    }
    (run_dir / "mast.json").write_text(json.dumps(saved))
    summary = summarize([run_dir])
    assert list(summary) == ["judged"]
    assert summary["judged"]["modes"]["3.1"]["failed_runs"] == 1


def test_render_table_names_each_model_and_its_top_failure_mode(tmp_path: Path) -> None:
    text = render_table(summarize([_run_dir(tmp_path, "liar"), _run_dir(tmp_path, "demo-open")]))
    assert "| openai/liar | mid | 1 | 0.0 % | 1 | 4.0 |" in text
    assert "| builtin/playbook | open | 1 | 100.0 % | 0 | - | - |" in text
    assert "| FM-3.3 | 100.0 % | - | - |" in text


def test_synthetic_trace_is_the_asked_length_and_shows_the_sampled_modes() -> None:
    events = synthetic_trace(2_000)
    assert len(events) == 2_000 and [e["seq"] for e in events] == list(range(1, 2_001))
    figures = bench_annotate(2_000, repeats=1)
    assert figures["events"] == 2_000
    assert {"1.3", "2.6", "3.3", "1.5"} <= set(figures["modes"])
    assert figures["goal_seconds"] == 1.0 and figures["best_seconds"] > 0
