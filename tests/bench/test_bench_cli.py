"""`sre-agent bench` end to end: the real CLI runs real incidents on the embedded simulator, scores them
against ground truth and writes results.json (the contract in the bench brief) with its reports.

Only cheap cases run (service-selector is BookInfo, the fastest; scale and image are single fixes).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.sim import resolve_scenario
from tests.run.helpers import run_cli

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MODE_IDS = [f"1.{i}" for i in range(1, 6)] + [f"2.{i}" for i in range(1, 7)] + [f"3.{i}" for i in range(1, 4)]

TOP_KEYS = {"suite", "created", "models", "mitigations", "seeds", "scenarios", "wall_seconds", "arms", "detectors"}
ARM_KEYS = {
    "model", "model_class", "mitigations", "runs", "resolved", "recall", "entity_recall", "precision",
    "strict_pass_at_1", "verified_mitigation_rate", "failed_runs", "modes_per_failed_run", "dominant_mode",
    "mode_rates", "false_closures", "tokens_per_resolved", "median_seconds", "median_steps",
}  # fmt: skip
DETECTOR_KEYS = {"precision", "recall", "support", "tp", "fp", "fn"}
RUN_KEYS = {
    "scenario", "model", "model_class", "mitigations", "seed", "exit_code", "status", "succeeded", "false_closure",
    "verified_mitigation", "recall", "precision", "strict", "steps", "tokens", "seconds", "modes", "injected",
    "run_dir",
}  # fmt: skip
RUN_FILES = ("trace.jsonl", "mast.json", "agent_output.json", "report.html")
REPORT_FILES = ("results.json", "results.csv", "runs.csv", "results.md", "recall.png", "modes.png", "report.html")


def bench(*argv: str) -> tuple[int, str, str]:
    return run_cli("bench", *argv)


def table_rows(stdout: str) -> list[dict[str, str]]:
    """The Markdown table's rows as {header: cell}."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    assert len(lines) >= 3, stdout
    headers = [h.strip() for h in lines[0].strip("|").split("|")]
    assert re.fullmatch(r"\|(---\|)+", lines[1]), lines[1]
    return [dict(zip(headers, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


def check_contract(results: dict[str, Any], out: Path) -> None:
    """results.json has the contract's keys and its figures agree with its own runs."""
    assert TOP_KEYS | {"runs"} <= set(results)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", results["created"])
    assert sorted(results["detectors"]) == MODE_IDS
    for mode, det in results["detectors"].items():
        assert set(det) == DETECTOR_KEYS, mode
        assert det["support"] == det["tp"] + det["fn"]
        for key in ("precision", "recall"):
            assert det[key] is None or 0.0 <= det[key] <= 1.0
    runs = results["runs"]
    assert (
        len(runs)
        == len(results["scenarios"]) * len(results["models"]) * len(results["mitigations"]) * (results["seeds"])
    )
    for run in runs:
        assert run["status"] != "error", run.get("error")  # a crash in the bench, not a model's failure
        assert set(run) >= RUN_KEYS, RUN_KEYS - set(run)
        assert run["scenario"] in results["scenarios"] and run["model"] in results["models"]
        assert run["mitigations"] in results["mitigations"] and 0 <= run["seed"] < results["seeds"]
        assert 0.0 <= run["recall"] <= 1.0 and 0.0 <= run["precision"] <= 1.0
        assert set(run["modes"]) <= set(MODE_IDS) and set(run["injected"]) <= set(MODE_IDS)
        # succeeded: closed, every root cause named, nothing left failing; a false closure is a closed run only
        if run["succeeded"]:
            assert run["exit_code"] == 0 and run["recall"] == 1.0 and run["verified_mitigation"]
        assert not (run["false_closure"] and run["verified_mitigation"])
        assert not run["false_closure"] or run["exit_code"] == 0
        run_dir = out / run["run_dir"]
        # runs/<scenario>/<model>-<arm>-s<seed>, relative to --out
        assert run["run_dir"].startswith(f"runs/{run['scenario']}/")
        assert run["run_dir"].endswith(f"-{run['mitigations']}-s{run['seed']}")
        for name in RUN_FILES:
            assert (run_dir / name).is_file(), run_dir / name
    assert {(a["model"], a["mitigations"]) for a in results["arms"]} == {
        (m, arm) for m in results["models"] for arm in results["mitigations"]
    }
    for arm in results["arms"]:
        assert set(arm) >= ARM_KEYS, ARM_KEYS - set(arm)
        mine = [r for r in runs if (r["model"], r["mitigations"]) == (arm["model"], arm["mitigations"])]
        resolved = sum(r["succeeded"] for r in mine)
        assert (arm["runs"], arm["resolved"], arm["failed_runs"]) == (len(mine), resolved, len(mine) - resolved)
        assert arm["recall"] == pytest.approx(resolved / len(mine), abs=1e-4)  # task recall
        assert arm["strict_pass_at_1"] == pytest.approx(sum(r["strict"] for r in mine) / len(mine), abs=1e-4)
        assert arm["false_closures"] == sum(r["false_closure"] for r in mine)
        assert sorted(arm["mode_rates"]) == ["failed", "succeeded"]
        assert all(sorted(rates) == MODE_IDS for rates in arm["mode_rates"].values())
        assert arm["dominant_mode"] is None or arm["dominant_mode"] in MODE_IDS


# ------------------------------------------------------------------------------------ builtin, end to end


@pytest.fixture(scope="module")
def builtin_bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("bench") / "out"
    argv = ["--suite", "builtin", "--only", "service-selector,scale", "--models", "builtin/playbook"]
    code, stdout, stderr = bench(*argv, "--seeds", "1", "--jobs", "1", "--out", str(out), "-q")
    assert code == 0, stderr
    return code, stdout, out


def test_the_table_shows_every_run_resolved_and_no_false_closure(builtin_bench: tuple[int, str, Path]) -> None:
    _, stdout, out = builtin_bench
    rows = table_rows(stdout)
    assert [(r["Model"], r["Mitigations"]) for r in rows] == [("builtin/playbook", "on")]
    assert rows[0]["Task recall"] == "100.0%" and rows[0]["Strict pass@1"] == "100.0%"
    assert rows[0]["False closures"] == "0"
    assert str(out) in stdout  # where the reports went
    assert "Traceback" not in stdout


def test_the_out_folder_holds_results_reports_and_every_run(builtin_bench: tuple[int, str, Path]) -> None:
    _, _, out = builtin_bench
    for name in REPORT_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    results = json.loads((out / "results.json").read_text())
    check_contract(results, out)
    assert results["suite"] == "builtin"
    assert (results["models"], results["mitigations"], results["seeds"]) == (["builtin/playbook"], ["on"], 1)
    assert results["scenarios"] == ["scale", "service-selector"]
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["scale", "service-selector"]
    (arm,) = results["arms"]
    assert (arm["runs"], arm["resolved"], arm["recall"], arm["false_closures"]) == (2, 2, 1.0, 0)
    assert arm["entity_recall"] == 1.0 and arm["verified_mitigation_rate"] == 1.0
    truth = {"scale": ["otel-demo/Deployment/accounting"], "service-selector": ["book-info/Service/details"]}
    for run in results["runs"]:
        assert run["strict"] and run["exit_code"] == 0 and not run["false_closure"], run
        agent_output = json.loads((out / run["run_dir"] / "agent_output.json").read_text())
        named = sorted(e["name"] for e in agent_output["entities"] if e["contributing_factor"])
        assert named == truth[run["scenario"]]
    with (out / "results.csv").open() as f:
        arms_csv = list(csv.DictReader(f))
    assert [(a["model"], a["mitigations"]) for a in arms_csv] == [("builtin/playbook", "on")]
    with (out / "runs.csv").open() as f:
        runs_csv = list(csv.DictReader(f))
    assert sorted(r["scenario"] for r in runs_csv) == ["scale", "service-selector"]
    assert "| builtin/playbook | on | 100.0% |" in (out / "results.md").read_text()
    assert (out / "recall.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / "modes.png").read_bytes().startswith(PNG_MAGIC)
    assert "builtin/playbook" in (out / "report.html").read_text()


# ------------------------------------------------------------------------------- an ITBench-layout folder


def write_itbench_case(root: Path, folder: str, scenario: str, deployment: str) -> None:
    case = root / folder
    case.mkdir(parents=True)
    shutil.copy(resolve_scenario(scenario), case / "scenario.yaml")
    truth = {
        "apiVersion": "itbench.io/v2",
        "kind": "GroundTruth",
        "metadata": {"name": folder},
        "spec": {
            "entities": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": deployment, "namespace": "otel-demo"},
                }
            ]
        },
    }
    (case / "groundtruth.yaml").write_text(yaml.safe_dump(truth, sort_keys=False))


# ITBench names its folders scenario_<n>; an underscore is no Kubernetes name, which the bench must cope with
@pytest.mark.parametrize("sep", ["-", "_"])
def test_an_itbench_folder_runs_and_the_playbook_passes_strictly(tmp_path: Path, sep: str) -> None:
    suite = tmp_path / "itbench"
    case_20, case_58 = f"scenario{sep}20", f"scenario{sep}58"
    write_itbench_case(suite, case_20, "image", "product-catalog")
    write_itbench_case(suite, case_58, "scale", "accounting")
    out = tmp_path / "out"
    code, stdout, stderr = bench(
        "--suite", str(suite), "--models", "builtin/playbook", "--seeds", "1", "--jobs", "1", "--out", str(out), "-q"
    )
    assert code == 0, stderr
    results = json.loads((out / "results.json").read_text())
    check_contract(results, out)
    assert results["suite"] == str(suite) and results["scenarios"] == [case_20, case_58]
    (arm,) = results["arms"]
    assert arm["strict_pass_at_1"] == 1.0 and arm["recall"] == 1.0, results["runs"]
    assert (out / "runs" / case_58 / "playbook-on-s0" / "agent_output.json").is_file()
    assert table_rows(stdout)[0]["Strict pass@1"] == "100.0%"


# ---------------------------------------------------------------------------- a failing model is data


def test_a_failing_model_is_scored_not_crashed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = bench(
        "--suite", "builtin", "--only", "scale", "--models", "builtin/flaky-open", "--mitigations", "off",
        "--seeds", "2", "--jobs", "1", "--out", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    assert "Traceback" not in stdout + stderr
    results = json.loads((out / "results.json").read_text())
    check_contract(results, out)
    runs = results["runs"]
    assert sorted(r["seed"] for r in runs) == [0, 1]
    assert all(r["model_class"] == "open" and r["mitigations"] == "off" for r in runs)
    assert any(r["injected"] for r in runs), runs  # the simulated model injected failures
    # the detectors were scored against what was injected
    injected = sum(len(r["injected"]) for r in runs)
    assert sum(d["support"] for d in results["detectors"].values()) == injected
    (row,) = table_rows(stdout)
    assert (row["Model"], row["Mitigations"]) == ("builtin/flaky-open", "off")
    assert row["Task recall"].endswith("%")


# ------------------------------------------------------------------------- JSON output and the worker pool


def test_json_output_from_a_worker_pool(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = bench(
        "--suite", "builtin", "--only", "service-selector", "--models", "builtin/playbook", "--seeds", "2",
        "--jobs", "2", "--out", str(out), "-o", "json",
    )  # fmt: skip
    assert code == 0, stderr
    printed = json.loads(stdout)  # nothing but the JSON on stdout
    results = json.loads((out / "results.json").read_text())
    check_contract(results, out)
    assert printed["arms"] == results["arms"] and printed["detectors"] == results["detectors"]
    assert sorted(printed["detectors"]) == MODE_IDS
    (arm,) = printed["arms"]
    assert (arm["runs"], arm["resolved"]) == (2, 2)
    # rows come back in task order whichever worker finished first
    assert [r["seed"] for r in results["runs"]] == [0, 1]


# ---------------------------------------------------------------------------------------- user mistakes


def itbench_folder_without_truth(tmp: Path) -> Path:
    case = tmp / "suite" / "scenario-20"
    case.mkdir(parents=True)
    shutil.copy(resolve_scenario("image"), case / "scenario.yaml")
    return case


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--suite", "{tmp}/missing"], "{tmp}/missing"),
        (["--suite", "{tmp}/empty"], "{tmp}/empty"),
        (["--suite", "{tmp}/suite"], "{tmp}/suite/scenario-20"),  # no groundtruth.yaml beside scenario.yaml
        (["--suite", "builtin", "--only", "scale,nope"], "nope"),
        (["--suite", "builtin", "--mitigations", "maybe"], "--mitigations"),
        (["--suite", "builtin", "--mitigations", "on,maybe"], "--mitigations"),
        (["--suite", "builtin", "--seeds", "0"], "--seeds"),
        (["--suite", "builtin", "--models", "builtin/nope"], "builtin/nope"),
    ],
)
def test_mistakes_are_one_line_and_exit_2_before_anything_runs(tmp_path: Path, argv: list[str], named: str) -> None:
    (tmp_path / "empty" / "not-a-case").mkdir(parents=True)
    itbench_folder_without_truth(tmp_path)
    out = tmp_path / "out"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, stdout, stderr = bench(*argv, "--jobs", "1", "--out", str(out), "-q")
    assert code == 2, (stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert named.replace("{tmp}", str(tmp_path)) in lines[0]
    assert "Traceback" not in stdout + stderr
    assert not out.exists()  # validated before any run


def test_an_invalid_scenario_in_a_suite_is_a_one_line_error(tmp_path: Path) -> None:
    case = itbench_folder_without_truth(tmp_path)
    (case / "scenario.yaml").write_text("apiVersion: itbench.io/v2\nkind: NotAScenario\n")
    shutil.copy(resolve_scenario("image").parent / "groundtruth.yaml", case)
    code, _, stderr = bench("--suite", str(tmp_path / "suite"), "--jobs", "1", "--out", str(tmp_path / "o"), "-q")
    assert code == 2 and stderr.startswith("error: ") and str(case / "scenario.yaml") in stderr


def test_bench_without_a_suite_prints_help() -> None:
    code, stdout, _ = bench()
    assert code == 0
    assert "Usage:" in stdout and "--suite" in stdout
    for sub in ("sim", "mast", "cli"):
        assert re.search(rf"^\W*{sub}\b", stdout, re.MULTILINE), sub  # the subcommands are listed too


def test_subcommands_still_work_beside_the_callback() -> None:
    code, stdout, stderr = bench("cli", "--samples", "1")
    assert code == 0, stderr
    assert re.search(r"sre-agent --help: p50 \d+\.\d+ s, max \d+\.\d+ s over 1 runs", stdout), stdout
