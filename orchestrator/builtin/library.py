"""Playbooks: one YAML file per fault family, loaded, checked and matched against a suspect's facts.

A family file names its causes under `signals`; each cause says which kind of suspect it applies to, which
facts it requires, which ones support or exclude it, which extra reads confirm it, and (under `localise`
and `mitigation`, keyed by the cause) how to name the root-cause entities and which write fixes it. Facts
are plain strings an investigation collects per suspect, grouped by key:

- exact keys: pod_reason, event_reason, alert, state (compared case-insensitively as whole values)
- text keys: event_message, change, log, spec (a pattern matches as a case-insensitive substring)

A mistake in a playbook file raises PlaybookError naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..resources import load_yaml_fast

SUSPECTS = ("workload", "service", "caller", "autoscaler", "change")
EXACT_KEYS = ("pod_reason", "event_reason", "alert", "state")
TEXT_KEYS = ("event_message", "change", "log", "spec")
ENTITY_REFS = ("workload", "service", "network_policy", "resource_quota", "autoscaler", "node", "secret", "config_map")
REQUIRE_WEIGHT = 10  # a required fact outweighs any number of supporting ones
Facts = dict[str, list[str]]


class PlaybookError(ValueError):
    """A playbook file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Signal:
    key: str
    patterns: tuple[str, ...]
    weight: int = 1

    def matches(self, facts: Facts) -> list[str]:
        """The facts this signal matched (empty when it did not match)."""
        values = facts.get(self.key) or []
        hits = []
        for value in values:
            low = str(value).lower()
            for p in self.patterns:
                if (low == p.lower()) if self.key in EXACT_KEYS else (p.lower() in low):
                    hits.append(f"{self.key}: {value}")
                    break
        return hits


@dataclass(frozen=True)
class MitigationOption:
    action: str
    args: dict[str, Any]
    when: tuple[str, ...] = ()  # context flags that must be true
    rationale: str = ""


@dataclass(frozen=True)
class Cause:
    id: str
    family: str
    suspect: str
    summary: str
    require: tuple[Signal, ...]
    trigger: tuple[Signal, ...]  # lines that make the extra reads worth it (default: require)
    support: tuple[Signal, ...]
    exclude: tuple[Signal, ...]
    reads: tuple[dict[str, Any], ...]
    root_causes: tuple[str, ...]
    reasoning: str
    mitigations: tuple[MitigationOption, ...]
    checks: tuple[str, ...]
    priority: int = 0  # added to the score: a catch-all cause sets it below zero so specific ones win

    def triggered(self, facts: Facts) -> bool:
        """Every trigger line (by default every required line) matches: worth the confirming reads."""
        return all(s.matches(facts) for s in self.trigger or self.require)

    def score(self, facts: Facts) -> tuple[int, list[str]] | None:
        """(score, matched facts) when the cause applies, None when a requirement fails or an exclusion hits."""
        matched: list[str] = []
        for s in self.require:
            hits = s.matches(facts)
            if not hits:
                return None
            matched += hits
        if any(s.matches(facts) for s in self.exclude):
            return None
        score = REQUIRE_WEIGHT * len(self.require) + self.priority
        for s in self.support:
            hits = s.matches(facts)
            if hits:
                score += s.weight
                matched += hits
        return score, matched


@dataclass(frozen=True)
class Playbook:
    family: str
    title: str
    faults: tuple[str, ...]
    notes: str
    causes: tuple[Cause, ...]
    path: Path


@dataclass
class Library:
    playbooks: list[Playbook] = field(default_factory=list)

    @property
    def causes(self) -> list[Cause]:
        return [c for p in self.playbooks for c in p.causes]

    def for_suspect(self, suspect: str) -> list[Cause]:
        return [c for c in self.causes if c.suspect == suspect]

    def best(self, suspect: str, facts: Facts) -> tuple[Cause, int, list[str]] | None:
        """The highest-scoring cause for these facts (first in file order on a tie)."""
        best: tuple[Cause, int, list[str]] | None = None
        for cause in self.for_suspect(suspect):
            scored = cause.score(facts)
            if scored and (best is None or scored[0] > best[1]):
                best = (cause, scored[0], scored[1])
        return best


# ---------------------------------------------------------------------------------------------- loading
def load_library(folder: Path | None = None) -> Library:
    if folder is None:
        from ..resources import data_dir

        folder = data_dir("playbooks")
    folder = Path(folder)
    if not folder.is_dir():
        raise PlaybookError(f"{folder}: playbooks folder not found")
    books = [load_playbook(p) for p in sorted(folder.glob("*.yaml"))]
    if not books:
        raise PlaybookError(f"{folder}: no playbook files (*.yaml)")
    seen: dict[str, Path] = {}
    for book in books:
        for cause in book.causes:
            if cause.id in seen:
                raise PlaybookError(f"{book.path}: cause {cause.id!r} is already defined in {seen[cause.id]}")
            seen[cause.id] = book.path
    return Library(books)


def load_playbook(path: Path) -> Playbook:
    try:
        doc = load_yaml_fast(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise PlaybookError(f"{path}: cannot read the playbook: {err}") from err
    if not isinstance(doc, dict):
        raise PlaybookError(f"{path}: a playbook must be a mapping")
    where = str(path)
    family = _str(doc, "family", where)
    localise = _mapping(doc.get("localise") or {}, f"{where}: localise")
    mitigation = _mapping(doc.get("mitigation") or {}, f"{where}: mitigation")
    checks = doc.get("checks") or []
    signals = doc.get("signals")
    if not isinstance(signals, list) or not signals:
        raise PlaybookError(f"{where}: signals must be a non-empty list of causes")
    causes = tuple(
        _cause(s, i, family, localise, mitigation, checks, where) for i, s in enumerate(signals) if s is not None
    )
    for key in list(localise) + list(mitigation):
        if key not in {c.id for c in causes}:
            raise PlaybookError(f"{where}: localise/mitigation names {key!r}, which no signal defines")
    return Playbook(
        family=family,
        title=str(doc.get("title") or family),
        faults=tuple(str(f) for f in doc.get("faults") or []),
        notes=str(doc.get("notes") or ""),
        causes=causes,
        path=path,
    )


def _cause(raw: Any, i: int, family: str, localise: dict, mitigation: dict, checks: Any, where: str) -> Cause:
    at = f"{where}: signals[{i}]"
    if not isinstance(raw, dict):
        raise PlaybookError(f"{at} must be a mapping")
    cid = _str(raw, "cause", at)
    suspect = _str(raw, "suspect", at)
    if suspect not in SUSPECTS:
        raise PlaybookError(f"{at}.suspect must be one of {', '.join(SUSPECTS)}, not {suspect!r}")
    require = _signals(raw.get("require"), f"{at}.require", required=True)
    trigger = _signals(raw.get("trigger"), f"{at}.trigger")
    support = _signals(raw.get("support"), f"{at}.support")
    exclude = _signals(raw.get("exclude"), f"{at}.exclude")
    loc = _mapping(localise.get(cid) or {}, f"{where}: localise.{cid}")
    roots = tuple(str(r) for r in loc.get("root_causes") or [])
    if not roots:
        raise PlaybookError(f"{where}: localise.{cid}.root_causes must name at least one of {', '.join(ENTITY_REFS)}")
    for r in roots:
        if r not in ENTITY_REFS:
            raise PlaybookError(
                f"{where}: localise.{cid}.root_causes: unknown entity {r!r} (known: {', '.join(ENTITY_REFS)})"
            )
    options = mitigation.get(cid) or []
    if not isinstance(options, list) or not options:
        raise PlaybookError(f"{where}: mitigation.{cid} must be a non-empty list of options")
    cause_checks = checks.get(cid) if isinstance(checks, dict) else checks
    return Cause(
        id=cid,
        family=family,
        suspect=suspect,
        summary=str(raw.get("summary") or cid),
        require=require,
        trigger=trigger,
        support=support,
        exclude=exclude,
        reads=tuple(_read(r, f"{at}.reads[{j}]") for j, r in enumerate(raw.get("reads") or [])),
        root_causes=roots,
        reasoning=str(loc.get("reasoning") or raw.get("summary") or cid),
        mitigations=tuple(_option(o, f"{where}: mitigation.{cid}[{j}]") for j, o in enumerate(options)),
        checks=tuple(str(c) for c in cause_checks or []),
        priority=int(raw.get("priority", 0)),
    )


def _signals(raw: Any, at: str, required: bool = False) -> tuple[Signal, ...]:
    if raw is None:
        if required:
            raise PlaybookError(f"{at} is required")
        return ()
    if not isinstance(raw, list):
        raise PlaybookError(f"{at} must be a list of {{key: [patterns]}} lines")
    out = []
    for j, line in enumerate(raw):
        if not isinstance(line, dict) or not line:
            raise PlaybookError(f"{at}[{j}] must be a mapping like {{pod_reason: [ImagePullBackOff]}}")
        weight = int(line.get("weight", 1))
        keys = [k for k in line if k != "weight"]
        if len(keys) != 1:
            raise PlaybookError(f"{at}[{j}] must have exactly one fact key (and an optional weight)")
        key = keys[0]
        if key not in EXACT_KEYS + TEXT_KEYS:
            raise PlaybookError(f"{at}[{j}]: unknown fact key {key!r} (known: {', '.join(EXACT_KEYS + TEXT_KEYS)})")
        patterns = line[key]
        if isinstance(patterns, str):
            patterns = [patterns]
        if not isinstance(patterns, list) or not patterns:
            raise PlaybookError(f"{at}[{j}].{key} must be a non-empty list of patterns")
        out.append(Signal(key, tuple(str(p) for p in patterns), weight))
    if required and not out:
        raise PlaybookError(f"{at} must list at least one fact")
    return tuple(out)


def _read(raw: Any, at: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("tool"), str):
        raise PlaybookError(f"{at} must be a mapping with a tool name and args")
    args = raw.get("args") or {}
    if not isinstance(args, dict):
        raise PlaybookError(f"{at}.args must be a mapping")
    return {"tool": raw["tool"], "args": args}


def _option(raw: Any, at: str) -> MitigationOption:
    if not isinstance(raw, dict) or not isinstance(raw.get("action"), str):
        raise PlaybookError(f"{at} must be a mapping with an action (a write tool name)")
    args = raw.get("args") or {}
    if not isinstance(args, dict):
        raise PlaybookError(f"{at}.args must be a mapping")
    when = raw.get("when") or []
    return MitigationOption(
        action=raw["action"],
        args=args,
        when=tuple([when] if isinstance(when, str) else [str(w) for w in when]),
        rationale=str(raw.get("rationale") or ""),
    )


def _str(doc: dict, key: str, at: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PlaybookError(f"{at}: {key} is required (a non-empty string)")
    return value.strip()


def _mapping(value: Any, at: str) -> dict:
    if not isinstance(value, dict):
        raise PlaybookError(f"{at} must be a mapping keyed by cause")
    return value


# ---------------------------------------------------------------------------------------------- templates
class MissingValue(KeyError):  # noqa: N818 - a template placeholder with no value in this context
    pass


def render(template: Any, context: dict[str, Any]) -> Any:
    """Fill "{name}" placeholders from context; a value that is exactly one placeholder keeps its type."""
    if isinstance(template, dict):
        return {k: render(v, context) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, context) for v in template]
    if not isinstance(template, str):
        return template
    stripped = template.strip()
    if stripped.startswith("{") and stripped.endswith("}") and stripped.count("{") == 1:
        key = stripped[1:-1]
        if key not in context or context[key] is None:
            raise MissingValue(key)
        return context[key]
    try:
        return template.format_map(_Strict(context))
    except (KeyError, IndexError, ValueError) as err:
        raise MissingValue(str(err)) from err


class _Strict(dict):
    def __missing__(self, key: str) -> Any:
        raise MissingValue(key)
