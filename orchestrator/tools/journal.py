"""The write journal: journal.jsonl in the run directory, one line per step of every real write, flushed to
disk before the next step, so a run killed at any point leaves a record of what it may have changed.

The first line (`start`) holds the incident as the run read it, so `sre-agent resume` can reconnect. Then,
for each write, `sent` before the request goes out (action, target, change, revert note and the object as
it was, which is what a revert restores) and `applied` or `failed` once the API server has answered. A
`sent` with no answer after it is a write whose outcome the run never learnt. `resuming` opens the reverts
of `sre-agent resume --revert` (journaled like any write, and never taken for the run's own), `resumed`
closes a run that resume completed. Values a secret could hide in are never kept: an object whose text the
redaction would mask is recorded without its content (`before_withheld`), and is then reverted by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..redaction import is_credential_name, mask_text, scrub

FILENAME = "journal.jsonl"
KEPT_METADATA = ("name", "namespace", "labels", "annotations", "ownerReferences")


class WriteJournal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, event: str, **data: Any) -> None:
        line = json.dumps({"event": event, **data}, default=str, separators=(",", ":")) + "\n"
        # Opened per line: a write is rare, and a line on disk must not wait for a buffer that dies with us.
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def sent(self, action: str, target: str, change: str, revert: str, before: Any) -> None:
        kept = restorable(before)
        withheld = isinstance(before, dict) and kept is None
        # The texts are masked like the trace's (a bare pod's revert note quotes its whole manifest).
        self.append("sent", action=action, target=target, change=mask_text(change), revert=mask_text(revert),
                    before=kept, before_withheld=withheld)  # fmt: skip

    def outcome(self, target: str, applied: bool, error: str | None = None) -> None:
        self.append("applied" if applied else "failed", target=target, **({"error": mask_text(error)} if error else {}))


def restorable(obj: Any) -> dict | None:
    """The object's content a revert needs (no status, no server-set metadata), or None when there is no
    object or its text holds something the redaction would mask."""
    if not isinstance(obj, dict):
        return None
    meta = obj.get("metadata") or {}
    kept = {k: v for k, v in obj.items() if k not in ("status", "metadata")}
    kept["metadata"] = {k: meta[k] for k in KEPT_METADATA if k in meta}
    return None if scrub(kept) != kept or _credential_entry(kept) else kept


def _credential_entry(value: Any) -> bool:
    """A {name, value} entry (a container's env) whose name says its value is a credential."""
    if isinstance(value, list):
        return any(_credential_entry(v) for v in value)
    if not isinstance(value, dict):
        return False
    name, literal = value.get("name"), value.get("value")
    if isinstance(name, str) and isinstance(literal, str) and literal and is_credential_name(name):
        return True
    return any(_credential_entry(v) for v in value.values())


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The journal's entries; a line cut short by a kill is the last one and is left out."""
    entries = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def journaled_writes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each write the journal saw sent, in order, with `outcome`: applied, failed, or unknown (the run ended
    before the API server's answer was recorded)."""
    writes: list[dict[str, Any]] = []
    for entry in entries:
        if entry.get("event") == "sent":
            writes.append({**entry, "outcome": "unknown"})
        elif entry.get("event") in ("applied", "failed") and writes and writes[-1]["outcome"] == "unknown":
            writes[-1]["outcome"] = entry["event"]
    return writes
