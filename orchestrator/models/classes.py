"""Model → model class, and each class's budget profile (data in classes.yaml).

The class decides which state machine runs and how much context a model call may use. The table is data
so a user can place a new model without touching code; `sre-agent machines list` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import Any

CLASSES_FILE = Path(__file__).resolve().with_name("classes.yaml")
MODEL_CLASSES = ("frontier", "mid", "open")
AUTO = "auto"


class ClassTableError(ValueError):
    """classes.yaml cannot be used; the message names the field at fault."""


@dataclass(frozen=True)
class ClassProfile:
    """What a model class may spend per model call, and how patient the run is with the cluster."""

    name: str
    context_tokens: int  # whole prompt of one call: messages + tool definitions
    max_tool_output_tokens: int  # one tool result is cut to this on arrival
    reply_tokens: int  # completion tokens reserved for the answer
    stabilise_seconds: int  # settle time after a mitigation, before verification
    description: str = ""


@dataclass(frozen=True)
class ClassTable:
    patterns: tuple[tuple[str, str], ...]
    default: str
    profiles: dict[str, ClassProfile]


def _require(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise ClassTableError(f"{where}: missing field {key!r}")
    return mapping[key]


def _class_name(value: Any, where: str) -> str:
    if value not in MODEL_CLASSES:
        raise ClassTableError(f"{where}: unknown class {value!r}; allowed: {', '.join(MODEL_CLASSES)}")
    return value


def _profile(name: str, raw: Any, where: str) -> ClassProfile:
    fields = ("context_tokens", "max_tool_output_tokens", "reply_tokens", "stabilise_seconds")
    values: dict[str, int] = {}
    for key in fields:
        value = _require(raw, key, where)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ClassTableError(f"{where}.{key}: expected a non-negative integer, got {value!r}")
        values[key] = value
    unknown = set(raw) - {*fields, "description"}
    if unknown:
        raise ClassTableError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    if values["max_tool_output_tokens"] >= values["context_tokens"]:
        raise ClassTableError(f"{where}.max_tool_output_tokens: must be smaller than context_tokens")
    return ClassProfile(name=name, description=str(raw.get("description", "")), **values)


def load_class_table(path: Path = CLASSES_FILE) -> ClassTable:
    """Read and check a class table file (the packaged one by default)."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ClassTableError(f"{path}: cannot read class table: {err}".splitlines()[0]) from None
    where = path.name
    patterns = []
    for i, entry in enumerate(_require(raw, "patterns", where) or []):
        pattern = _require(entry, "pattern", f"{where}: patterns[{i}]")
        if not isinstance(pattern, str) or not pattern:
            raise ClassTableError(f"{where}: patterns[{i}].pattern: expected a non-empty string")
        patterns.append(
            (pattern, _class_name(_require(entry, "class", f"{where}: patterns[{i}]"), f"{where}: patterns[{i}].class"))
        )
    default = _class_name(_require(raw, "default", where), f"{where}: default")
    profiles_raw = _require(raw, "profiles", where)
    profiles = {}
    for name in MODEL_CLASSES:
        profiles[name] = _profile(name, _require(profiles_raw, name, f"{where}: profiles"), f"{where}: profiles.{name}")
    return ClassTable(tuple(patterns), default, profiles)


@lru_cache(maxsize=1)
def _table() -> ClassTable:
    return load_class_table()


def class_table() -> list[tuple[str, str]]:
    """The ordered (pattern, class) list; the first match wins."""
    return list(_table().patterns)


def _candidates(model: str) -> list[str]:
    """The model string and each part after a provider prefix: a/b/c → a/b/c, b/c, c."""
    name = model.strip().lower()
    parts = name.split("/")
    return ["/".join(parts[i:]) for i in range(len(parts)) if parts[i]]


def match_class(model: str, table: ClassTable | None = None) -> str:
    """The class the table gives `model`, or the table's default when no pattern matches."""
    table = table or _table()
    names = _candidates(model)
    for pattern, cls in table.patterns:
        lowered = pattern.lower()
        if any(fnmatchcase(name, lowered) for name in names):
            return cls
    return table.default


def resolve_class(model: str, override: str | None = None) -> str:
    """The model class to run `model` as: `override` unless it is None/"auto", else the table's answer."""
    if override is not None and override.strip().lower() != AUTO:
        chosen = override.strip().lower()
        if chosen not in MODEL_CLASSES:
            raise ValueError(f"unknown model class {override!r}; allowed: {AUTO}, {', '.join(MODEL_CLASSES)}")
        return chosen
    if not model or not model.strip():
        raise ValueError("model: must name a model, e.g. builtin/playbook or openai/gpt-4o")
    from . import canonical_model

    return match_class(canonical_model(model))


def class_profile(cls: str) -> ClassProfile:
    """The budget profile of a model class."""
    profiles = _table().profiles
    if cls not in profiles:
        raise ValueError(f"unknown model class {cls!r}; allowed: {', '.join(MODEL_CLASSES)}")
    return profiles[cls]
