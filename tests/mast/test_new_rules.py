"""The rules added for verifier-less runs and live mitigations: each positive corpus file fires its rule (not
only its mode), the verifier rules stay silent in runs closed by a closure audit, and the real traces that once
fooled them (read-only and dry-run closures, a write before the diagnosis record, a verifier's closing
step) are ordinary corpus files now."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.mast import LiveDetectors, annotate
from orchestrator.mast.annotate import read_events

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = {"pos": 1, "neg": 0, "na": None}

# positive file -> (mode, rule it must fire, trace seqs the finding names)
POSITIVES = {
    "2.2-pos-root-cause-without-evidence": ("2.2", "root-cause-without-evidence", [23]),
    "2.3-pos-off-scope-streak": ("2.3", "off-scope-streak", [16, 19, 22]),
    "3.1-pos-mitigation-claimed-without-write": ("3.1", "mitigation-claimed-without-write", [30]),
    "3.1-pos-closed-unchanged-while-failing": ("3.1", "closed-unchanged-while-failing", [21]),
    "3.2-pos-applied-change-never-checked": ("3.2", "applied-change-never-checked", [24]),
    "3.3-pos-closure-contradicted-by-cluster": ("3.3", "closure-contradicted-by-cluster", [18, 27]),
    "1.5-pos-submitted-only-when-forced": ("1.5", "submitted-only-when-forced", [27]),
    "1.3-pos-deduped-third-repeat": ("1.3", "repeat-same-signature-3x", [12, 18, 21]),
}
VERIFIER_RULES = {"closed-without-pass", "applied-change-never-verified"}


def _annotation(path: Path):
    return annotate(read_events(path))


@pytest.mark.parametrize("stem", sorted(POSITIVES))
def test_positive_fires_its_new_rule(stem: str) -> None:
    mode_id, rule, seqs = POSITIVES[stem]
    entry = _annotation(CORPUS / f"{stem}.jsonl").modes[mode_id]
    assert entry["value"] == 1
    assert entry["rules"] == [rule], entry
    assert entry["events"] == seqs


def test_every_new_positive_has_its_near_miss() -> None:
    for stem in POSITIVES:
        mode_id = stem.split("-", 1)[0]
        assert any(CORPUS.glob(f"{mode_id}-neg-*.jsonl")), stem


AUDITED = sorted(p for p in CORPUS.glob("*.jsonl") if "closure_audit" in p.read_text())


@pytest.mark.parametrize("path", AUDITED, ids=[p.stem for p in AUDITED])
def test_verifier_rules_are_silent_after_a_closure_audit(path: Path) -> None:
    fired = {f.rule for f in _annotation(path).findings}
    assert not fired & VERIFIER_RULES


def test_audited_corpus_covers_each_verifierless_rule() -> None:
    fired = {f.rule for p in AUDITED for f in _annotation(p).findings}
    assert {
        "closed-unchanged-while-failing",
        "applied-change-never-checked",
        "closure-contradicted-by-cluster",
    } <= fired


def test_refused_claim_and_closing_step_count_as_mitigated() -> None:
    # The engine refused the premature submit_mitigation and forced the closing step: both were acted on live.
    assert _annotation(CORPUS / "3.1-pos-mitigation-claimed-without-write.jsonl").modes["3.1"]["mitigated"] is True
    assert _annotation(CORPUS / "1.5-pos-submitted-only-when-forced.jsonl").modes["1.5"]["mitigated"] is True


def test_live_detectors_see_the_claim_when_it_is_submitted() -> None:
    # The engine vetoes the submission on this finding, so it must come with the submission event itself.
    live = LiveDetectors()
    fired = [
        (ev["seq"], f.rule)
        for ev in read_events(CORPUS / "3.1-pos-mitigation-claimed-without-write.jsonl")
        for f in live.feed(ev)
    ]
    assert fired == [(30, "mitigation-claimed-without-write")]


def test_deduped_repeat_is_missed_without_the_deduped_answer() -> None:
    # Control: the same trace cut before the deduped answer has only two results, so no 3x repeat yet.
    events = read_events(CORPUS / "1.3-pos-deduped-third-repeat.jsonl")
    assert events[-1]["data"]["status"] == "deduped"
    assert annotate(events[:-1]).mast_annotation["1.3"] == 0
