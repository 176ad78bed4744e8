"""Random-looking strings: the secrets no format names (a generated password, an API key of a service the
table does not know, a base64-encoded credential).

A candidate is a run of base64/base64url characters. It is random-looking when it mixes upper- and
lower-case letters and digits, changes character class often (random text does so at about 0.6 of its
neighbouring pairs, CamelCase words at about 0.3) and has enough Shannon entropy per character. Kubernetes
names, UIDs, digests, pod-template hashes and resourceVersions are lower case, hex or digits only, so they
are never candidates; shapes in the table's `not_secrets` (certificates, public keys, tool-call ids) are
skipped whole.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from .table import Entropy

CANDIDATE = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_EDGES = "+/_-="
_SEPARATORS = re.compile(r"[+/_=-]")
_MIN_PIECE = 4  # shorter pieces between separators say nothing either way
_RANDOM_SHARE = 0.6  # of a candidate's letters and digits, in random-looking pieces


def _class(ch: str) -> str:
    if ch.isdigit():
        return "d"
    if ch.isupper():
        return "u"
    if ch.islower():
        return "l"
    return ""


def bits_per_char(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def class_changes(s: str) -> float:
    """The share of neighbouring letters/digits that change class (separators skipped)."""
    classes = [c for c in map(_class, s) if c]
    if len(classes) < 2:
        return 0.0
    return sum(a != b for a, b in zip(classes, classes[1:], strict=False)) / (len(classes) - 1)


def looks_random(s: str, rule: Entropy) -> bool:
    core = s.strip(_EDGES)
    if len(core) < rule.min_length or bits_per_char(core) < rule.min_bits_per_char:
        return False
    # Judged piece by piece between separators: `Pod/cart-64qqkb4v2c-2d96g` mixes cases and digits only
    # across its pieces (a CamelCase kind, lower-case names), a random key within each of them.
    pieces = [p for p in _SEPARATORS.split(core) if p]
    random_chars = sum(len(p) for p in pieces if len(p) >= _MIN_PIECE and _random_piece(p, rule))
    return random_chars >= _RANDOM_SHARE * sum(map(len, pieces))


def _random_piece(piece: str, rule: Entropy) -> bool:
    has_upper = has_lower = has_digit = False
    for ch in piece:
        if ch.isdigit():
            has_digit = True
        elif ch.isupper():
            has_upper = True
        elif ch.islower():
            has_lower = True
    if not (has_upper and has_lower):
        return False
    needed = rule.min_class_changes if has_digit else rule.no_digit_min_class_changes
    return class_changes(piece) >= needed


def mask_random(text: str, rule: Entropy, not_secrets: tuple[re.Pattern[str], ...]) -> str:
    if len(text) < rule.min_length:
        return text
    spans = [m.span() for p in not_secrets for m in p.finditer(text)]
    out: list[str] = []
    last = 0
    for m in CANDIDATE.finditer(text):
        start, end = m.span()
        if end - start < rule.min_length or not looks_random(m.group(0), rule):
            continue
        if any(s < end and start < e for s, e in spans):
            continue
        out += [text[last:start], rule.mask]
        last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)
