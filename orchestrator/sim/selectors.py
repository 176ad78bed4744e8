"""Label and field selectors as accepted by the Kubernetes list/watch API.

* :func:`parse_label_selector` parses the ``labelSelector`` query string
  (``app=web,tier in (fe,be),!canary``).
* :func:`selector_from_spec` turns a selector embedded in an object
  (``Deployment.spec.selector``, ``Service.spec.selector``) into the same type.
* :func:`parse_field_selector` parses the ``fieldSelector`` query string
  (``metadata.name=x,status.phase!=Running``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "Requirement",
    "SelectorError",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_spec",
]


class SelectorError(ValueError):
    """A label or field selector is syntactically or semantically invalid."""


# --------------------------------------------------------------------------------------
# Label selectors
# --------------------------------------------------------------------------------------

# Label syntax rules from the Kubernetes docs: name segment <= 63 chars, alphanumeric at
# both ends; optional DNS-subdomain prefix <= 253 chars; values like names, or empty.
_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_INTEGER = re.compile(r"-?[0-9]+")

EQUALS = "="
NOT_EQUALS = "!="
IN = "in"
NOT_IN = "notin"
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"


def _validate_key(key: str) -> None:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise SelectorError(f"invalid label key {key!r}: prefix must be a DNS subdomain")
    if not name or len(name) > 63 or not _NAME.fullmatch(name):
        raise SelectorError(
            f"invalid label key {key!r}: name must be 1-63 alphanumeric characters, "
            "'-', '_' or '.', starting and ending with an alphanumeric character"
        )


def _validate_value(value: str) -> None:
    if value and (len(value) > 63 or not _NAME.fullmatch(value)):
        raise SelectorError(
            f"invalid label value {value!r}: must be empty or 1-63 alphanumeric "
            "characters, '-', '_' or '.', starting and ending with an alphanumeric "
            "character"
        )


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector, e.g. ``tier in (fe,be)``."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the label set satisfies this clause."""
        present = self.key in labels
        if self.operator == EXISTS:
            return present
        if self.operator == DOES_NOT_EXIST:
            return not present
        if self.operator in (EQUALS, IN):
            return present and labels[self.key] in self.values
        if self.operator in (NOT_EQUALS, NOT_IN):
            # Kubernetes semantics: a missing label satisfies "!=" and "notin".
            return not present or labels[self.key] not in self.values
        if self.operator in (GREATER_THAN, LESS_THAN):
            if not present or not _INTEGER.fullmatch(str(labels[self.key])):
                return False
            actual, bound = int(labels[self.key]), int(self.values[0])
            return actual > bound if self.operator == GREATER_THAN else actual < bound
        raise AssertionError(f"unhandled operator {self.operator!r}")

    def __str__(self) -> str:
        if self.operator == EXISTS:
            return self.key
        if self.operator == DOES_NOT_EXIST:
            return f"!{self.key}"
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({','.join(self.values)})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{self.values[0]}"


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of label requirements; no requirements selects everything."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        """True if the selector has no requirements and so matches every object."""
        return not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with these labels (``None`` = no labels) is selected."""
        labels = labels or {}
        return all(req.matches(labels) for req in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(req) for req in self.requirements)


def _make_requirement(key: str, operator: str, values: list[str]) -> Requirement:
    """Validate and build a requirement (shared by the string and object forms)."""
    _validate_key(key)
    if operator in (IN, NOT_IN) and not values:
        raise SelectorError(f"label selector {key!r}: '{operator}' requires at least one value")
    if operator in (GREATER_THAN, LESS_THAN):
        if len(values) != 1 or not _INTEGER.fullmatch(values[0]):
            raise SelectorError(f"label selector {key!r}: '>' and '<' require one integer value")
    else:
        for value in values:
            _validate_value(value)
    # Sorted and de-duplicated so equal selectors compare equal and print stably.
    return Requirement(key, operator, tuple(sorted(set(values))))


_SPECIAL = "(),=!<>"


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    """Split a selector into (kind, text, position); kind is "id" or the symbol."""
    tokens: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "(),<>":
            tokens.append((ch, ch, i))
            i += 1
        elif ch in "=!":
            if text.startswith("==", i) or text.startswith("!=", i):
                tokens.append((text[i : i + 2], text[i : i + 2], i))
                i += 2
            else:
                tokens.append((ch, ch, i))
                i += 1
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            tokens.append(("id", text[start:i], start))
    return tokens


class _LabelParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def error(self, message: str) -> SelectorError:
        where = self.tokens[self.pos][2] if self.pos < len(self.tokens) else len(self.text)
        return SelectorError(f"invalid label selector {self.text!r}: {message} at position {where}")

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self, kind: str, what: str) -> str:
        if self.peek() != kind:
            found = repr(self.tokens[self.pos][1]) if self.pos < len(self.tokens) else "end of input"
            raise self.error(f"expected {what}, found {found}")
        value = self.tokens[self.pos][1]
        self.pos += 1
        return value

    def parse(self) -> LabelSelector:
        requirements: list[Requirement] = []
        if not self.tokens:
            return LabelSelector()
        while True:
            requirements.append(self.requirement())
            if self.peek() is None:
                break
            self.take(",", "',' or end of input")
        return LabelSelector(tuple(requirements))

    def build(self, key: str, operator: str, values: list[str]) -> Requirement:
        try:
            return _make_requirement(key, operator, values)
        except SelectorError as exc:
            # Name the whole selector so the 400 message shows what the client sent.
            raise SelectorError(f"invalid label selector {self.text!r}: {exc}") from None

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.pos += 1
            return self.build(self.take("id", "label key"), DOES_NOT_EXIST, [])
        key = self.take("id", "label key")
        op = self.peek()
        if op in (None, ","):
            return self.build(key, EXISTS, [])
        if op in ("=", "==", "!="):
            self.pos += 1
            # "key=" is legal and selects an empty label value.
            value = self.take("id", "value") if self.peek() == "id" else ""
            return self.build(key, NOT_EQUALS if op == "!=" else EQUALS, [value])
        if op in ("<", ">"):
            self.pos += 1
            value = self.take("id", "integer value")
            return self.build(key, GREATER_THAN if op == ">" else LESS_THAN, [value])
        if op == "id" and self.tokens[self.pos][1] in (IN, NOT_IN):
            operator = self.tokens[self.pos][1]
            self.pos += 1
            return self.build(key, operator, self.value_set())
        raise self.error("expected an operator (=, ==, !=, in, notin, <, >), ',' or end")

    def value_set(self) -> list[str]:
        self.take("(", "'('")
        values: list[str] = []
        expecting = True  # a value may be empty, e.g. "(a,,b)" holds ""
        while True:
            kind = self.peek()
            if kind == "id" and expecting:
                values.append(self.take("id", "value"))
                expecting = False
            elif kind == ",":
                if expecting:
                    values.append("")
                self.pos += 1
                expecting = True
            elif kind == ")":
                if expecting and values:
                    values.append("")
                self.pos += 1
                return values
            else:
                raise self.error("expected a value, ',' or ')'")


def parse_label_selector(s: str) -> LabelSelector:
    """Parse a label selector string such as ``app=web,tier in (fe,be),!canary``.

    Supports ``=``, ``==``, ``!=``, ``in``, ``notin``, existence (``key``), absence
    (``!key``) and the integer comparisons ``<`` / ``>``. An empty string selects
    everything. Raises :class:`SelectorError` on bad syntax.
    """
    if not isinstance(s, str):
        raise SelectorError(f"label selector must be a string, got {type(s).__name__}")
    return _LabelParser(s).parse()


_EXPRESSION_OPERATORS = {
    "In": IN,
    "NotIn": NOT_IN,
    "Exists": EXISTS,
    "DoesNotExist": DOES_NOT_EXIST,
}


def _is_label_selector_object(sel: Mapping[str, Any]) -> bool:
    # A Service selector is a flat str->str map; a LabelSelector has typed members.
    if not set(sel) <= {"matchLabels", "matchExpressions"}:
        return False
    return isinstance(sel.get("matchLabels") or {}, Mapping) and isinstance(sel.get("matchExpressions") or [], list)


def selector_from_spec(sel: Mapping[str, Any] | None) -> LabelSelector:
    """Build a selector from a Kubernetes ``LabelSelector`` object or a plain label map.

    ``{"matchLabels": {...}, "matchExpressions": [...]}`` (operators In, NotIn, Exists,
    DoesNotExist) and a Service-style ``{"app": "web"}`` map are both accepted.
    ``None`` or an empty selector selects *everything*, as for a LabelSelector.
    Callers implementing Services must special-case a missing/empty
    ``spec.selector`` themselves: there it means "select nothing" (endpoints are
    managed manually).
    """
    if sel is None:
        return LabelSelector()
    if not isinstance(sel, Mapping):
        raise SelectorError(f"selector must be an object, got {type(sel).__name__}")
    requirements: list[Requirement] = []
    if _is_label_selector_object(sel):
        match_labels = sel.get("matchLabels") or {}
        expressions = sel.get("matchExpressions") or []
    else:
        match_labels, expressions = sel, []
    for key, value in match_labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise SelectorError(f"matchLabels entry {key!r}: {value!r} must map a string to a string")
        requirements.append(_make_requirement(key, EQUALS, [value]))
    for index, expr in enumerate(expressions):
        requirements.append(_expression(index, expr))
    return LabelSelector(tuple(requirements))


def _expression(index: int, expr: Any) -> Requirement:
    where = f"matchExpressions[{index}]"
    if not isinstance(expr, Mapping):
        raise SelectorError(f"{where} must be an object")
    key, operator, values = (
        expr.get("key"),
        expr.get("operator"),
        expr.get("values") or [],
    )
    if not isinstance(key, str):
        raise SelectorError(f"{where}.key must be a string")
    if operator not in _EXPRESSION_OPERATORS:
        raise SelectorError(f"{where}.operator {operator!r} is not one of {', '.join(_EXPRESSION_OPERATORS)}")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SelectorError(f"{where}.values must be a list of strings")
    op = _EXPRESSION_OPERATORS[operator]
    if op in (EXISTS, DOES_NOT_EXIST) and values:
        raise SelectorError(f"{where}: values must be empty when operator is {operator}")
    if op in (IN, NOT_IN) and not values:
        raise SelectorError(f"{where}: values must be non-empty when operator is {operator}")
    return _make_requirement(key, op, values)


# --------------------------------------------------------------------------------------
# Field selectors
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRequirement:
    """One ``field=value`` or ``field!=value`` clause of a field selector."""

    field: str
    operator: str  # "=" or "!="
    value: str
    # The path split once: a list of tens of thousands of events tests every one of them.
    parts: tuple[str, ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.field.split(".")))

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj``'s field value satisfies this clause."""
        actual = _field_value(obj, self.parts)
        return actual == self.value if self.operator == EQUALS else actual != self.value

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.field}{self.operator}{escaped}"


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of field requirements; no requirements selects everything."""

    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def fields(self) -> frozenset[str]:
        """Field paths referenced, so the server can 400 on ones it doesn't index."""
        return frozenset(req.field for req in self.requirements)

    @property
    def empty(self) -> bool:
        """True if the selector has no requirements and so matches every object."""
        return not self.requirements

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether the object satisfies every requirement."""
        return all(req.matches(obj) for req in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(req) for req in self.requirements)


def _field_value(obj: Any, parts: tuple[str, ...]) -> str:
    """Look up a dotted path (split); missing or non-scalar values compare as ""."""
    current = obj
    for part in parts:
        # A dict is by far the common case: test it before the slower Mapping check.
        if not (type(current) is dict or isinstance(current, Mapping)) or part not in current:
            return ""
        current = current[part]
    if current is None or isinstance(current, (dict, list)):
        return ""
    if isinstance(current, bool):
        # Go formats booleans lowercase (e.g. spec.unschedulable=true on Nodes).
        return "true" if current else "false"
    return str(current)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, i = [], [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])  # keep escapes; decoded per value later
            i += 2
        elif text[i] == sep:
            parts.append("".join(current))
            current = []
            i += 1
        else:
            current.append(text[i])
            i += 1
    parts.append("".join(current))
    return parts


def _unescape_value(value: str, term: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            if i + 1 >= len(value) or value[i + 1] not in "\\,=":
                raise SelectorError(f"invalid field selector term {term!r}: invalid escape sequence")
            out.append(value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _parse_field_term(term: str) -> FieldRequirement:
    # Find the first unescaped operator; "!=" and "==" must win over a bare "=".
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        for symbol, operator in (("!=", NOT_EQUALS), ("==", EQUALS), ("=", EQUALS)):
            if term.startswith(symbol, i):
                field = term[:i].strip()
                if not field or any(ch.isspace() for ch in field):
                    raise SelectorError(f"invalid field selector term {term!r}: bad field name")
                value = _unescape_value(term[i + len(symbol) :].strip(), term)
                return FieldRequirement(field, operator, value)
        i += 1
    raise SelectorError(
        f"invalid field selector term {term!r}: expected 'field=value', 'field==value' or 'field!=value'"
    )


def parse_field_selector(s: str) -> FieldSelector:
    """Parse a field selector such as ``metadata.name=web,status.phase!=Running``.

    Operators are ``=``, ``==`` and ``!=``; terms are comma-separated and values may
    escape ``\\``, ``,`` and ``=`` with a backslash. Empty terms are skipped (as the
    Kubernetes parser does) and an empty string selects everything.
    """
    if not isinstance(s, str):
        raise SelectorError(f"field selector must be a string, got {type(s).__name__}")
    requirements = [_parse_field_term(term) for term in _split_unescaped(s, ",") if term.strip()]
    return FieldSelector(tuple(requirements))
