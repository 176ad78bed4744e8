"""A run directory belongs to one run: a second run into it is refused in one line, so no trace is lost, and
the run's files are written whole (temporary file, then rename)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.engine import RunOptions, RunResult, run_incident
from orchestrator.files import write_atomic
from orchestrator.incident import load_incident

from .helpers import EXAMPLES, events, run_cli

CLI = [str(Path(sys.executable).parent / "sre-agent")]


def test_a_second_run_into_the_same_directory_is_refused_and_the_first_kept(runs_root: Path) -> None:
    out = runs_root / "taken"
    code, _, _ = run_cli("run", str(EXAMPLES / "demo.yaml"), "--output", str(out), "--quiet")
    assert code == 0
    first = (out / "trace.jsonl").read_text()
    code, _, stderr = run_cli("run", str(EXAMPLES / "demo.yaml"), "--output", str(out), "--quiet")
    assert code == 2
    assert stderr.strip().splitlines() == [
        f"error: run directory {out} already holds a run (trace.jsonl); choose another --output or remove it"
    ]
    assert (out / "trace.jsonl").read_text() == first


def test_an_output_that_is_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a directory")
    code, _, stderr = run_cli("run", str(EXAMPLES / "demo.yaml"), "--output", str(taken), "--quiet")
    assert code == 2
    assert stderr.strip() == f"error: run directory {taken} is not a directory"


def test_two_runs_started_together_into_one_directory_lose_no_trace(runs_root: Path) -> None:
    out = runs_root / "race"
    argv = [*CLI, "run", str(EXAMPLES / "demo.yaml"), "--output", str(out), "--quiet"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = sorted((p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in procs)
    assert [code for code, _ in outcomes] == [0, 2]
    assert "already holds a run" in outcomes[1][1]
    trace = events(out)
    assert trace[0]["kind"] == "run_start" and trace[-1]["kind"] == "run_end"
    assert len({e["run_id"] for e in trace}) == 1
    assert json.loads((out / "report.json").read_text())["run_id"] == trace[0]["run_id"]


def test_two_runs_of_one_incident_started_in_the_same_second_get_their_own_directories(runs_root: Path) -> None:
    incident = load_incident(EXAMPLES / "demo.yaml")

    async def both() -> list[RunResult]:
        options = RunOptions(runs_dir=runs_root / "ids")
        return list(await asyncio.gather(run_incident(incident, options), run_incident(incident, options)))

    first, second = asyncio.run(both())
    assert first.run_id != second.run_id and first.output_dir != second.output_dir
    assert first.exit_code == second.exit_code == 0


def test_an_atomic_write_that_fails_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.json"
    write_atomic(target, "old")
    assert target.read_text() == "old"

    def power_cut(src: str, dst: Path) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left behind
