"""`sre-agent mast annotate|summarize` on saved runs, with the judge answering through a local server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from orchestrator.cli import app
from tests.models.openai_stub import OpenAIStub

CORPUS = Path(__file__).parent / "corpus"


def _run_dir(tmp: Path, trace: str) -> Path:
    run = tmp / "run"
    run.mkdir()
    shutil.copy(CORPUS / trace, run / "trace.jsonl")
    return run


def test_annotate_asks_the_judge_only_about_undecided_modes(tmp_path: Path) -> None:
    run = _run_dir(tmp_path, "3.3-na-no-verdict.jsonl")
    asked: list[str] = []

    def judge(body: dict) -> dict:
        prompt = body["messages"][-1]["content"]
        mode = next(
            m for m in ("2.4", "2.6", "3.3", "3.2", "3.1", "2.5") if f'"mode": "{m}"' in prompt or f"FM-{m}" in prompt
        )
        asked.append(mode)
        return {"content": json.dumps({"mode": mode, "present": False, "evidence": [], "reason": "nothing shows it"})}

    with OpenAIStub(judge) as stub:
        result = CliRunner().invoke(
            app, ["mast", "annotate", str(run), "--judge", "openai/judge", "--base-url", stub.base_url, "-o", "json"]
        )
    assert result.exit_code == 0, result.output
    mast = json.loads((run / "mast.json").read_text())
    assert asked and None not in [mast["mast_annotation"][m] for m in asked]
    assert all(mast["modes"][m]["source"] == "judge" for m in asked)
    assert all(mast["modes"][k].get("source") != "judge" for k, v in mast["mast_annotation"].items() if k not in asked)


def test_annotate_bad_run_dir_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["mast", "annotate", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "not a run directory" in result.stderr


def test_summarize_prints_one_row_per_model(tmp_path: Path) -> None:
    runs = []
    for name in ("liar", "mismatch"):
        run = tmp_path / name
        run.mkdir()
        shutil.copy(CORPUS / "runs" / f"{name}.jsonl", run / "trace.jsonl")
        runs.append(str(run))
    result = CliRunner().invoke(app, ["mast", "summarize", *runs, "-o", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert sum(row["runs"] for row in summary.values()) == 2
    assert sum(row["failed_runs"] for row in summary.values()) == 1  # the liar escalated; the mismatch run resolved
    table = CliRunner().invoke(app, ["mast", "summarize", *runs]).stdout
    assert table.startswith("| Model |") and "FM-" in table
