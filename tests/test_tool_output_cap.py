"""One tool answer is capped in characters before anything counts its tokens."""

from __future__ import annotations

import json
import time

from orchestrator.context import cap_tool_output
from orchestrator.dispatch import MAX_TOOL_OUTPUT_CHARS, cap_answer


def test_an_answer_within_the_cap_is_untouched() -> None:
    text = json.dumps({"ok": True, "error": None, "rows": ["x" * 1000] * 10})
    assert cap_answer(text, True, None) is text


def test_a_runaway_answer_keeps_its_start_and_says_so_and_stays_cheap_to_fit() -> None:
    text = json.dumps({"ok": True, "error": None, "log": "panic: " + "z" * (20 * 1024 * 1024)})
    capped = cap_answer(text, True, None)
    body = json.loads(capped)
    assert len(capped) < MAX_TOOL_OUTPUT_CHARS
    assert body["ok"] is True and body["start"].startswith('{"ok": true, "error": null, "log": "panic: zzz')
    assert body["note"] == (
        f"the output was {len(text):,} characters, over the {MAX_TOOL_OUTPUT_CHARS:,}-character cap; "
        "only its start is kept"
    )
    started = time.process_time()
    fitted = cap_tool_output(capped, 1500, "gpt-4o")  # what the context does with it on arrival
    assert time.process_time() - started < 2.0 and len(fitted) < len(capped)
