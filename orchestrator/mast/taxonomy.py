"""The 14 MAST failure modes as data (taxonomy.yaml), loaded once.

Detectors, annotations and summaries all refer to modes by their short id ("1.1" … "3.3"), the keys of
the public MAST dataset's `mast_annotation`; "FM-1.1" is accepted wherever an id is expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")


@dataclass(frozen=True)
class Mode:
    id: str  # "1.1"
    name: str
    category: str  # FC1 | FC2 | FC3
    category_name: str
    fatal: bool
    definition: str
    signal: str
    mitigation: str
    assessable: str
    mitigation_detectors: tuple[str, ...]

    @property
    def fm_id(self) -> str:
        return f"FM-{self.id}"


@cache
def _data() -> dict[str, Any]:
    return yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8"))


@cache
def _modes() -> tuple[Mode, ...]:
    data = _data()
    return tuple(
        Mode(
            id=str(m["id"]),
            name=m["name"],
            category=m["category"],
            category_name=data["categories"][m["category"]],
            fatal=bool(m["fatal"]),
            definition=m["definition"],
            signal=m["signal"],
            mitigation=m["mitigation"],
            assessable=m["assessable"],
            mitigation_detectors=tuple(m.get("mitigation_detectors") or ()),
        )
        for m in data["modes"]
    )


def normalize_id(mode_id: str) -> str:
    """'FM-1.3', 'fm-1.3' and '1.3' all name mode '1.3'."""
    text = str(mode_id).strip()
    return text[3:] if text.upper().startswith("FM-") else text


def mode(mode_id: str) -> Mode:
    """The mode with this id; a one-line KeyError naming the id when there is none."""
    wanted = normalize_id(mode_id)
    for m in _modes():
        if m.id == wanted:
            return m
    raise KeyError(f"unknown MAST mode {mode_id!r} (known: {', '.join(MODE_IDS)})")


@cache
def write_tools() -> frozenset[str]:
    """Tools that change the cluster (the tool registry's writes): a call to one of these in a read-only run
    is FM-1.1 even when the dispatcher refuses it."""
    from ..tools.registry import write_names

    return frozenset(write_names())


def thresholds() -> dict[str, float]:
    return dict(_data()["thresholds"])


MODES: tuple[Mode, ...] = _modes()
MODE_IDS: tuple[str, ...] = tuple(m.id for m in MODES)
FATAL_MODES: frozenset[str] = frozenset(m.id for m in MODES if m.fatal)
MEANING: str = _data()["meaning"]
