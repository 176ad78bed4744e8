"""The investigations in flight, kept in a small JSON file so that after a restart each thread can be
told its run was interrupted (and where its run directory is) instead of going quiet."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..files import write_atomic


@dataclass(frozen=True)
class InFlight:
    key: str
    channel: str
    thread_ts: str
    progress_ts: str
    summary: str
    namespace: str
    run_dir: str = ""  # known once the run started


class InFlightFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, InFlight] = {}

    def put(self, entry: InFlight) -> None:
        self.entries[entry.key] = entry
        self._save()

    def drop(self, key: str) -> None:
        if self.entries.pop(key, None) is not None:
            self._save()

    def clear(self) -> None:
        self.entries.clear()
        self._save()

    def left_over(self) -> list[InFlight]:
        """What a previous process left in flight; an unreadable file is treated as empty (and replaced)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            rows = data.get("inFlight") if isinstance(data, dict) else None
            return [InFlight(**row) for row in rows or [] if isinstance(row, dict)]
        except (OSError, ValueError, TypeError):
            return []

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        rows = [asdict(e) for e in self.entries.values()]
        write_atomic(self.path, json.dumps({"inFlight": rows}, indent=1) + "\n")
