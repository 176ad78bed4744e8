"""Each hand-written corpus trace decides its own mode exactly: `<mode>-pos-*` is 1, `<mode>-neg-*` (a near
miss) is 0, `<mode>-na-*` is None (the trace cannot decide it). Whole runs (trimmed excerpts of real runs)
check the modes a run is known to show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.mast import MODE_IDS, LiveDetectors, MastInputError, annotate, annotate_run_dir
from orchestrator.mast.annotate import read_events

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = {"pos": 1, "neg": 0, "na": None}
FILES = sorted(CORPUS.glob("*.jsonl"))


def _case(path: Path) -> tuple[str, int | None]:
    mode_id, kind, _ = path.stem.split("-", 2)
    return mode_id, EXPECTED[kind]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_file_decides_its_mode(path: Path) -> None:
    mode_id, expected = _case(path)
    annotation = annotate(read_events(path))
    assert annotation.mast_annotation[mode_id] == expected, annotation.findings


def test_every_mode_has_a_positive_and_a_near_miss() -> None:
    cases = [_case(p) for p in FILES]
    for mode_id in MODE_IDS:
        assert (mode_id, 1) in cases, f"no positive for {mode_id}"
        assert (mode_id, 0) in cases, f"no negative for {mode_id}"


def test_positive_names_the_events_that_show_it() -> None:
    annotation = annotate(read_events(CORPUS / "1.3-pos-same-call-same-result-3x.jsonl"))
    entry = annotation.modes["1.3"]
    assert entry["rule"] == "repeat-same-signature-3x"
    assert entry["events"] == [2, 4, 6]
    assert entry["source"] == "detector" and entry["mitigated"] is False


def test_liar_run_shows_incorrect_verification() -> None:
    annotation = annotate(read_events(CORPUS / "runs" / "liar.jsonl"))
    values = annotation.mast_annotation
    assert values["3.3"] == 1
    assert annotation.modes["3.3"]["rule"] == "pass-contradicted-by-gate"
    assert values["2.5"] == 1 and values["3.1"] == 1  # same diagnosis after FAIL; "the incident is fixed"
    assert values["2.2"] == 1 and annotation.modes["2.2"]["rule"] == "root-cause-without-evidence"  # it cites none
    assert annotation.failed is True
    assert annotation.distinct_modes == 4
    assert annotation.fatal_modes == ["2.2", "3.1"]


def test_mismatch_run_shows_reasoning_action_mismatch_and_its_mitigation() -> None:
    annotation = annotate(read_events(CORPUS / "runs" / "mismatch.jsonl"))
    assert annotation.mast_annotation["2.6"] == 1
    assert annotation.modes["2.6"]["mitigated"] is True  # the dispatcher rejected the call
    assert annotation.failed is False


def test_clean_runs_show_no_mode() -> None:
    for name in ("demo-open", "ambiguous"):
        annotation = annotate(read_events(CORPUS / "runs" / f"{name}.jsonl"))
        assert {m for m, v in annotation.mast_annotation.items() if v} == set(), name
        assert annotation.mast_annotation["3.3"] is (None if name == "ambiguous" else 0)


def test_annotation_has_exactly_the_dataset_keys() -> None:
    annotation = annotate(read_events(FILES[0]))
    assert list(annotation.mast_annotation) == list(MODE_IDS)
    assert len(MODE_IDS) == 14 and MODE_IDS[0] == "1.1" and MODE_IDS[-1] == "3.3"


def test_annotate_run_dir_writes_mast_json(tmp_path: Path) -> None:
    (tmp_path / "trace.jsonl").write_text((CORPUS / "runs" / "liar.jsonl").read_text())
    (tmp_path / "report.json").write_text(json.dumps({"model": "openai/liar", "status": "escalated"}))
    annotation = annotate_run_dir(tmp_path)
    saved = json.loads((tmp_path / "mast.json").read_text())
    assert saved["mast_annotation"] == annotation.mast_annotation
    assert saved["failed"] is True and saved["run"]["model"] == "openai/liar"
    assert "3.2 = coverage" in saved["meaning"]


def test_bad_run_dir_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(MastInputError, match="trace.jsonl: no such trace file"):
        annotate_run_dir(tmp_path)
    (tmp_path / "trace.jsonl").write_text('{"seq": 1, "kind": "run_start"}\nnot json\n')
    with pytest.raises(MastInputError, match=r"trace.jsonl:2: not JSON"):
        annotate_run_dir(tmp_path)


def test_live_detectors_report_each_finding_once_as_it_happens() -> None:
    events = read_events(CORPUS / "1.3-pos-same-call-same-result-3x.jsonl")
    live = LiveDetectors()
    fired_at = []
    for ev in events:
        for finding in live.feed(ev):
            fired_at.append((ev["seq"], finding.mode))
    assert fired_at == [(7, "1.3")]


def test_live_detectors_see_mismatch_and_false_pass() -> None:
    live = LiveDetectors()
    modes = [f.mode for ev in read_events(CORPUS / "runs" / "liar.jsonl") for f in live.feed(ev)]
    assert modes.count("3.3") == 2 and "2.5" in modes
    live = LiveDetectors({"2.6"})
    modes = [f.mode for ev in read_events(CORPUS / "runs" / "mismatch.jsonl") for f in live.feed(ev)]
    assert modes == ["2.6"]
