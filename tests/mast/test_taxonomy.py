from __future__ import annotations

import pytest

from orchestrator.mast.taxonomy import FATAL_MODES, MODES, mode


def test_there_are_exactly_fourteen_modes_in_three_categories() -> None:
    assert len(MODES) == 14
    assert len({m.id for m in MODES}) == 14
    assert {m.category for m in MODES} == {"FC1", "FC2", "FC3"}
    assert [m.id for m in MODES if m.category == "FC3"] == ["3.1", "3.2", "3.3"]


def test_fatal_modes_follow_the_taxonomy() -> None:
    assert sorted(FATAL_MODES) == ["1.4", "1.5", "2.2", "2.3", "3.1"]


def test_mode_lookup_accepts_both_spellings() -> None:
    assert mode("FM-3.2").name == "No or incomplete verification"
    assert mode("3.3").fm_id == "FM-3.3"
    assert "coverage" in mode("3.2").definition.lower()
    with pytest.raises(KeyError, match="unknown MAST mode '4.1'"):
        mode("4.1")


def test_every_mode_documents_signal_mitigation_and_assessability() -> None:
    for m in MODES:
        assert m.definition and m.signal and m.mitigation and m.assessable, m.id
