"""formats.yaml as compiled rules: the secret formats in order, the high-entropy thresholds and the shapes
that are never secrets. Loaded once, on first use (the CLI's --help never pays for it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

DEFAULT_MASK = "<redacted:{name}>"


class FormatError(ValueError):
    """formats.yaml is malformed: the message names the entry."""


@dataclass(frozen=True)
class Format:
    name: str
    what: str
    pattern: re.Pattern[str]
    mask: str

    def apply(self, text: str) -> str:
        if "secret" not in self.pattern.groupindex:
            return self.pattern.sub(self.mask, text)
        return self.pattern.sub(self._masked_group, text)

    def _masked_group(self, m: re.Match[str]) -> str:
        whole = m.group(0)
        if m.start("secret") < 0:  # an optional secret that did not take part
            return whole
        start, end = m.start("secret") - m.start(), m.end("secret") - m.start()
        return whole[:start] + self.mask + whole[end:]


@dataclass(frozen=True)
class Entropy:
    name: str
    min_length: int
    min_class_changes: float
    no_digit_min_class_changes: float
    min_bits_per_char: float

    @property
    def mask(self) -> str:
        return DEFAULT_MASK.format(name=self.name)


@dataclass(frozen=True)
class Table:
    credential_words: tuple[str, ...]
    credential_name_parts: tuple[str, ...]
    formats: tuple[Format, ...]
    entropy: Entropy
    not_secrets: tuple[re.Pattern[str], ...]


def credential_regexes(words: list[str], parts: list[str]) -> dict[str, str]:
    """The placeholders a pattern may use: {credential} (one of the words) and {credential_name} (a whole
    name that holds a credential: DB_PASSWORD, api-key, client_secret_value)."""
    word = "(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + ")"
    part = "(?:" + "|".join(map(re.escape, parts)) + ")"
    return {
        "{credential}": word,
        "{credential_name}": rf"(?:(?:[\w.-]*[_.-])?{word}|[\w.-]*{part}[\w.-]*)",
    }


def _compile(where: str, raw: Any, placeholders: dict[str, str]) -> re.Pattern[str]:
    if not isinstance(raw, str) or not raw:
        raise FormatError(f"{where}: pattern must be a non-empty string")
    for key, value in placeholders.items():
        raw = raw.replace(key, value)
    try:
        return re.compile(raw)
    except re.error as err:
        raise FormatError(f"{where}: pattern does not compile: {err}") from None


def parse_table(doc: Any) -> Table:
    if not isinstance(doc, dict):
        raise FormatError("formats.yaml must be a mapping")
    words = [str(w) for w in doc.get("credential_words") or []]
    parts = [str(p) for p in doc.get("credential_name_parts") or []]
    placeholders = credential_regexes(words, parts)
    formats = []
    for i, entry in enumerate(doc.get("formats") or []):
        where = f"formats[{i}] {entry.get('name', '?') if isinstance(entry, dict) else ''}".rstrip()
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("what"):
            raise FormatError(f"{where}: every format needs a name, what it is and a pattern")
        pattern = _compile(where, entry.get("pattern"), placeholders)
        mask = str(entry.get("mask") or DEFAULT_MASK.format(name=entry["name"]))
        formats.append(Format(str(entry["name"]), str(entry["what"]), pattern, mask))
    e = doc.get("high_entropy") or {}
    try:
        entropy = Entropy(
            name=str(e["name"]),
            min_length=int(e["min_length"]),
            min_class_changes=float(e["min_class_changes"]),
            no_digit_min_class_changes=float(e["no_digit_min_class_changes"]),
            min_bits_per_char=float(e["min_bits_per_char"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise FormatError(f"high_entropy: {err}") from None
    shapes = tuple(
        _compile(f"not_secrets[{i}]", (s or {}).get("pattern"), placeholders)
        for i, s in enumerate(doc.get("not_secrets") or [])
    )
    return Table(tuple(words), tuple(parts), tuple(formats), entropy, shapes)


@cache
def table() -> Table:
    text = resources.files(__package__).joinpath("formats.yaml").read_text(encoding="utf-8")
    return parse_table(yaml.safe_load(text))
