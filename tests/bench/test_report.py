from __future__ import annotations

import base64
import csv
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.bench.report import ARM_COLUMNS, ReportInputError, markdown_table, write_reports
from orchestrator.mast.taxonomy import MODE_IDS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ODD_MODEL = "acme/<b>x</b>&co"  # a model name that must be escaped in HTML
SLUGS = {"builtin/flaky-frontier": "flaky-frontier", ODD_MODEL: "acme-x-co"}  # run dirs are named by slug


def _rates(**present: float) -> dict[str, float]:
    return {m: present.get("m" + m.replace(".", "_"), 0.0) for m in MODE_IDS}


def _run(scenario: str, model: str, cls: str, mitigations: str, seed: int, ok: bool, modes: list[str]) -> dict:
    return {
        "scenario": scenario,
        "model": model,
        "model_class": cls,
        "mitigations": mitigations,
        "seed": seed,
        "exit_code": 0 if ok else 3,
        "status": "resolved" if ok else "escalated",
        "succeeded": ok,
        "false_closure": False,
        "verified_mitigation": ok,
        "recall": 1.0 if ok else 0.0,
        "precision": 1.0 if ok else None,
        "strict": ok,
        "steps": 14 if ok else 30,
        "tokens": 12000,
        "seconds": 1.2,
        "modes": modes,
        "injected": modes,
        "run_dir": f"runs/{scenario}/{SLUGS[model]}-{mitigations}-s{seed}",
    }


@pytest.fixture
def results() -> dict[str, Any]:
    runs = [
        _run("crash", "builtin/flaky-frontier", "frontier", "on", 0, True, []),
        _run("image", "builtin/flaky-frontier", "frontier", "on", 0, True, ["1.3"]),
        _run("crash", "builtin/flaky-frontier", "frontier", "on", 1, False, ["3.3", "2.6"]),
        _run("crash", ODD_MODEL, "open", "off", 0, False, ["1.3", "2.2"]),
        _run("image", ODD_MODEL, "open", "off", 0, False, ["1.3"]),
    ]
    detectors = {m: {"precision": None, "recall": None, "support": 0, "tp": 0, "fp": 0, "fn": 0} for m in MODE_IDS}
    detectors["1.3"] = {"precision": 0.75, "recall": 1.0, "support": 3, "tp": 3, "fp": 1, "fn": 0}
    detectors["3.3"] = {"precision": 1.0, "recall": 0.5, "support": 2, "tp": 1, "fp": 0, "fn": 1}
    return {
        "suite": "builtin",
        "created": "2026-11-25T05:30:00Z",
        "models": ["builtin/flaky-frontier", ODD_MODEL],
        "mitigations": ["off", "on"],
        "seeds": 2,
        "scenarios": ["crash", "image"],
        "wall_seconds": 12.5,
        "arms": [
            {
                "model": "builtin/flaky-frontier",
                "model_class": "frontier",
                "mitigations": "on",
                "runs": 3,
                "resolved": 2,
                "recall": 0.755,
                "precision": 0.91,
                "strict_pass_at_1": 0.6667,
                "verified_mitigation_rate": 0.6667,
                "failed_runs": 1,
                "modes_per_failed_run": 2.0,
                "dominant_mode": "3.3",
                "mode_rates": {"failed": _rates(m3_3=1.0, m2_6=1.0), "succeeded": _rates(m1_3=0.5)},
                "false_closures": 0,
                "tokens_per_resolved": 18000.0,
                "median_seconds": 1.2,
                "median_steps": 14,
            },
            {
                "model": ODD_MODEL,
                "model_class": "open",
                "mitigations": "off",
                "runs": 2,
                "resolved": 0,
                "recall": 0.0,
                "precision": None,
                "strict_pass_at_1": 0.0,
                "verified_mitigation_rate": 0.0,
                "failed_runs": 2,
                "modes_per_failed_run": 1.5,
                "dominant_mode": None,
                "mode_rates": {"failed": _rates(m1_3=1.0, m2_2=0.5), "succeeded": {m: None for m in MODE_IDS}},
                "false_closures": 1,
                "tokens_per_resolved": None,
                "median_seconds": 1.2,
                "median_steps": 30,
            },
        ],
        "detectors": detectors,
        "runs": runs,
    }


def test_writes_every_output_into_out(results: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "bench"
    paths = write_reports(results, out)
    names = ["results.csv", "runs.csv", "results.md", "recall.png", "modes.png", "report.html"]
    assert [p.name for p in paths] == names
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)


def test_results_csv_has_one_row_per_arm_and_blank_for_null(results: dict[str, Any], tmp_path: Path) -> None:
    write_reports(results, tmp_path)
    with (tmp_path / "results.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == ARM_COLUMNS
    assert ARM_COLUMNS[:3] == ("model", "model_class", "mitigations") and len(ARM_COLUMNS) == 17
    assert "entity_recall" in ARM_COLUMNS
    assert [r["model"] for r in rows] == ["builtin/flaky-frontier", ODD_MODEL]
    frontier, odd = rows
    assert (frontier["recall"], frontier["resolved"], frontier["dominant_mode"]) == ("0.755", "2", "3.3")
    assert frontier["tokens_per_resolved"] == "18000.0" and frontier["median_steps"] == "14"
    assert (odd["tokens_per_resolved"], odd["precision"], odd["dominant_mode"]) == ("", "", "")
    assert odd["false_closures"] == "1"


def test_runs_csv_has_one_row_per_run(results: dict[str, Any], tmp_path: Path) -> None:
    write_reports(results, tmp_path)
    with (tmp_path / "runs.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(results["runs"])
    failed = rows[2]
    assert (failed["scenario"], failed["seed"], failed["exit_code"]) == ("crash", "1", "3")
    assert (failed["succeeded"], failed["strict"], failed["precision"]) == ("false", "false", "")
    assert failed["modes"] == "3.3;2.6" and failed["run_dir"] == "runs/crash/flaky-frontier-on-s1"


def test_markdown_arms_table_one_row_per_arm_with_recall_percent(results: dict[str, Any], tmp_path: Path) -> None:
    table = markdown_table(results)
    lines = table.splitlines()
    assert lines[0] == (
        "| Model | Mitigations | Task recall | Modes/failed run | Dominant failure | Strict pass@1 "
        "| False closures | Tokens/resolved | Median s |"
    )
    assert len(lines) == 2 + 2
    assert lines[2].startswith(
        "| builtin/flaky-frontier | on | 75.5% | 2.0 | FM-3.3 Incorrect verification (+100.0 pp) |"
    )
    assert "| 66.7% | 0 | 18,000 | 1.2 |" in lines[2]
    assert lines[3] == f"| {ODD_MODEL} | off | 0.0% | 1.5 | — | 0.0% | 1 | — | 1.2 |"

    write_reports(results, tmp_path)
    md = (tmp_path / "results.md").read_text()
    assert table in md
    detectors = md[md.index("## Detectors") :]
    assert "| Mode | Name | Precision | Recall | Support |" in detectors
    assert "| FM-1.3 | Step repetition | 75.0% | 100.0% | 3 |" in detectors
    assert "| FM-1.1 | Disobey task specification | — | — | 0 |" in detectors
    assert sum(1 for line in detectors.splitlines() if line.startswith("| FM-")) == 14


def test_plots_are_readable_pngs(results: dict[str, Any], tmp_path: Path) -> None:
    from matplotlib.image import imread

    write_reports(results, tmp_path)
    for name in ("recall.png", "modes.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG_MAGIC
        pixels = imread(tmp_path / name)
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert pixels.std() > 0  # something was drawn, not a blank canvas


def test_html_is_self_contained_escaped_and_links_every_run(results: dict[str, Any], tmp_path: Path) -> None:
    write_reports(results, tmp_path)
    page = (tmp_path / "report.html").read_text()
    for anchor in ("arms", "detectors", "runs", "plots"):
        assert f'id="{anchor}"' in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert [base64.b64decode(i) for i in images] == [
        (tmp_path / "recall.png").read_bytes(),
        (tmp_path / "modes.png").read_bytes(),
    ]
    for run in results["runs"]:
        assert f'href="{run["run_dir"]}/report.html"' in page
    assert "http://" not in page and "https://" not in page
    assert "<b>x</b>" not in page and "acme/&lt;b&gt;x&lt;/b&gt;&amp;co" in page
    assert "FM-3.3 Incorrect verification" in page and "Step repetition" in page


def test_run_dir_cannot_become_an_active_link(results: dict[str, Any], tmp_path: Path) -> None:
    results["runs"][0]["run_dir"] = 'javascript:alert(1)"x'
    write_reports(results, tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert 'href="javascript%3Aalert%281%29%22x/report.html"' in page


def test_empty_results_still_write_every_output(tmp_path: Path) -> None:
    paths = write_reports({"suite": "empty", "arms": [], "runs": [], "detectors": {}}, tmp_path)
    assert len(paths) == 6
    assert (tmp_path / "recall.png").read_bytes()[:8] == PNG_MAGIC
    assert markdown_table({"arms": []}).count("\n") == 1
    assert "| FM-3.3 | Incorrect verification | — | — | — |" in (tmp_path / "results.md").read_text()


def test_malformed_results_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match=r"results\.arms: expected a list"):
        write_reports({"arms": {"model": "x"}}, tmp_path / "a")
    with pytest.raises(ReportInputError, match=r"results\.runs\[1\]: expected an object"):
        write_reports({"arms": [], "runs": [{}, "x"]}, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_importing_the_module_does_not_import_matplotlib() -> None:
    code = "import sys, orchestrator.bench.report; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
