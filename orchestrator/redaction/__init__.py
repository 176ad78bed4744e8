"""Redaction: secrets in text from the cluster are masked before the text reaches a model, a log, the
trace, a report or the terminal.

What counts as a secret is declared once, in `formats.yaml` beside this file (known token formats,
credential assignments, high-entropy strings and the shapes that are never secrets); `mask_text` applies
it to one string, `scrub` to every string of a JSON-able value. Each boundary calls one of them in one
place:

- where cluster text comes in: the toolbox (`tools/spec.py`, every tool result), the analyzers
  (`analyzers/run.py`), the verifier gate's checks (`verify.py`), the incident (`engine/loop.py`);
- where text goes out: every model request (`agents.py` MeteredClient), the trace (`trace.py`, hence the
  progress view and every file derived from it), structlog (`logs.py`), the run's result (`engine/loop.py`:
  report.json/md/html, agent_output.json, stdout), one-line errors and the approval prompt (`cli/common.py`, `cli/run.py`).

Masking is idempotent (a mask is never masked again), so text may cross several boundaries; what was
masked once is remembered by digest, so a model's growing context is not scanned again at each call.
Helpers that cut text to a length mask it first (a cut could halve a secret past recognition).
Secret objects' values and credential-named env vars are handled before this, in `tools/redact.py`.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from functools import cache
from typing import Any

from .entropy import mask_random
from .table import Table, table

MASK = "<redacted>"
_MEMO_SIZE = 16_384  # texts remembered; an unchanged one costs its digest only
_memo: OrderedDict[bytes, str | None] = OrderedDict()
_memo_lock = threading.Lock()


def mask_text(text: str) -> str:
    """`text` with every secret the table knows masked (`<redacted:FORMAT>`, or `<redacted>` after a name
    that says what it is: `password=<redacted>`)."""
    if not text:
        return text
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    with _memo_lock:
        if key in _memo:
            _memo.move_to_end(key)
            masked = _memo[key]
            return text if masked is None else masked
    masked = _mask(text, table())
    with _memo_lock:
        _memo[key] = None if masked == text else masked
        if len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return masked


def _mask(text: str, t: Table) -> str:
    for rule in t.formats:
        text = rule.apply(text)
    return mask_random(text, t.entropy, t.not_secrets)


def scrub(value: Any) -> Any:
    """Every string in a JSON-able value masked (dict keys are left alone); other values as they are."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, tuple):
        return tuple(scrub(v) for v in value)
    return value


def is_credential_name(name: str) -> bool:
    """True for names whose values are credentials: VALKEY_PASSWORD, api_key, auth-token, secret."""
    return bool(_credential_name().search(str(name)))


def is_credential_flag(word: str) -> bool:
    """True for a command-line flag that takes a credential: --requirepass, -password, --db-token."""
    return bool(_credential_flag().fullmatch(word))


def keep_value(value: str) -> bool:
    """References and non-values are evidence, never secrets: $(VALKEY_PASSWORD), ${TOKEN}, an earlier mask."""
    return value.startswith(("$", "<redacted")) or value.lower() in ("true", "false", "none", "null", "")


@cache
def _credential_name() -> re.Pattern[str]:
    t = table()
    words = "|".join(map(re.escape, t.credential_words))
    parts = "|".join(map(re.escape, t.credential_name_parts))
    # At the end after a separator (DB_PASSWORD, api-key; not Valkey or monkey), or anywhere for parts.
    return re.compile(rf"^(?:.*[_\-.])?(?:{words})$|{parts}", re.IGNORECASE)


@cache
def _credential_flag() -> re.Pattern[str]:
    words = "|".join(map(re.escape, table().credential_words))
    return re.compile(rf"--?[\w-]*(?:{words})[\w-]*", re.IGNORECASE)
