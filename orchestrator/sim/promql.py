"""A small, standard-library-only PromQL subset.

Used by the simulator for Prometheus ``/api/v1/query`` instant queries and for
alert rules whose ``expr:`` strings are evaluated against stored scrapes.

Data model
----------
* :class:`Sample` -- one series value: ``name`` (the metric name, kept out of
  ``labels``), ``labels`` (never contains ``__name__``) and ``value``.  Result
  samples of arithmetic have ``name == ""``.  Treat ``labels`` as read-only:
  results may share label dicts with their inputs.
* :class:`SeriesSource` -- anything with ``now``, ``at(ts)`` (the samples
  visible at ``ts``) and ``timestamps()`` (sorted past scrape times, used by
  range functions).  Optionally ``index_at(ts) -> SampleIndex`` to reuse a
  per-scrape name index.  :class:`StaticSource` (one fixed snapshot) and
  :class:`HistorySource` (a list of recorded scrapes) are provided.

API
---
* :func:`parse` -- ``str -> Expr`` (cached), raises :class:`PromQLError`
  whose message names the (0-based) character position.
* :func:`evaluate` -- ``(expr, source, ts=None) -> list[Sample] | float``.
* :func:`to_prometheus_json` -- the ``data`` member of an ``/api/v1/query``
  response.

Supported: vector selectors with ``= != =~ !~`` matchers, ``offset``, range
selectors (only as function arguments), number/string literals, unary minus,
``+ - * / % ^ atan2``, comparisons (filtering, or ``bool``), ``and or
unless``, ``on``/``ignoring`` with ``group_left``/``group_right``, the
aggregations ``sum min max avg count group stddev stdvar topk bottomk
quantile`` with ``by``/``without`` before or after the argument list, and the
functions listed in ``FUNCTIONS``.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
import operator
import re
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, cast

__all__ = [
    "AGGREGATIONS",
    "FUNCTIONS",
    "Aggregate",
    "Binary",
    "Call",
    "Expr",
    "HistorySource",
    "Matcher",
    "MatrixSelector",
    "NumberLiteral",
    "PromQLError",
    "Sample",
    "SampleIndex",
    "SeriesSource",
    "StaticSource",
    "StringLiteral",
    "Unary",
    "VectorMatching",
    "VectorSelector",
    "evaluate",
    "format_value",
    "parse",
    "parse_duration",
    "to_prometheus_json",
]


class PromQLError(ValueError):
    """Bad syntax (``position`` is the 0-based offset) or an evaluation error."""

    def __init__(self, message: str, position: int | None = None, expr: str | None = None):
        self.message = message
        self.position = position
        self.expr = expr
        if position is not None:
            text = f"parse error at position {position}: {message}"
            if expr is not None:
                text += f"\n  {expr}\n  {' ' * position}^"
        else:
            text = message
        super().__init__(text)


# ---------------------------------------------------------------------------
# Samples and sources
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """One series value. ``labels`` must not contain ``__name__``."""

    name: str
    labels: Mapping[str, str]
    value: float

    def __post_init__(self) -> None:
        if type(self.value) is not float:
            object.__setattr__(self, "value", float(self.value))

    def __hash__(self) -> int:
        return hash((self.name, frozenset(self.labels.items()), self.value))

    @property
    def metric(self) -> dict[str, str]:
        """Labels including ``__name__`` (when the sample has a name)."""
        if self.name:
            return {"__name__": self.name, **self.labels}
        return dict(self.labels)


_new_object = object.__new__
_set_name, _set_labels, _set_value = (Sample.__dict__[f].__set__ for f in ("name", "labels", "value"))


def float_sample(name: str, labels: Mapping[str, str], value: float) -> Sample:
    """`Sample(name, labels, value)` for a value already of type float, made without the dataclass'
    frozen `__init__` (a scrape makes one per running container every step)."""
    sample = _new_object(Sample)
    _set_name(sample, name)
    _set_labels(sample, labels)
    _set_value(sample, value)
    return sample


def group_by_name(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    """Samples by metric name, each list in the samples' order."""
    by_name: dict[str, list[Sample]] = {}
    for s in samples:
        bucket = by_name.get(s.name)
        if bucket is None:
            by_name[s.name] = [s]
        else:
            bucket.append(s)
    return by_name


class SampleIndex:
    """The samples of one scrape grouped by metric name (built once)."""

    __slots__ = ("_parts", "_samples", "by_name")

    def __init__(self, samples: Iterable[Sample]):
        self._samples: list[Sample] | None = samples if isinstance(samples, list) else list(samples)
        self._parts: list[list[Sample]] = []
        self.by_name = group_by_name(self._samples)

    @property
    def samples(self) -> list[Sample]:
        """Every sample, in scrape order. An index built from parts lays them end to end on first use
        only: most scrapes are only ever read by metric name."""
        if self._samples is None:
            samples: list[Sample] = []
            for part in self._parts:
                samples.extend(part)
            self._samples, self._parts = samples, []
        return self._samples

    @classmethod
    def of_parts(cls, parts: Iterable[tuple[list[Sample], dict[str, list[Sample]]]]) -> SampleIndex:
        """The index of the parts' samples laid end to end, built from each part's own grouping (what
        grouping the whole would give). The parts' lists are shared, never modified: a scrape reuses
        the parts of objects that did not change."""
        index = cls.__new__(cls)
        lists: list[list[Sample]] = []
        by_name: dict[str, list[Sample]] = {}
        for part, groups in parts:
            lists.append(part)
            for name, bucket in groups.items():
                have = by_name.get(name)
                by_name[name] = bucket if have is None else have + bucket
        index._samples, index._parts, index.by_name = None, lists, by_name
        return index

    def extend(self, samples: list[Sample]) -> None:
        """Add samples after the others: as one more part, or a new flat list once laid out. The flat list
        and the groups are never appended to: they are shared with the scrapes before it and with what
        matchers remember of them."""
        if self._samples is None:
            self._parts.append(list(samples))
        else:
            self._samples = self._samples + samples
        for name, group in group_by_name(samples).items():
            self.by_name[name] = self.by_name.get(name, []) + group

    def select(self, selector: VectorSelector) -> list[Sample]:
        """The samples matching ``selector`` (the offset is not applied here)."""
        matchers = selector.matchers
        if selector.name is not None:
            cands = self.by_name.get(selector.name, [])
        elif any(m.label == "__name__" for m in matchers):
            # Match metric names once per distinct name instead of per sample.
            name_ms = [m for m in matchers if m.label == "__name__"]
            matchers = tuple(m for m in matchers if m.label != "__name__")
            cands = []
            for name, bucket in self.by_name.items():
                if all(m.matches(name) for m in name_ms):
                    cands.extend(bucket)
        else:
            cands = self.samples
        for m in matchers:
            if not cands:
                break
            cands = m.filter(cands)
        return cands


_EMPTY_INDEX = SampleIndex([])


class SeriesSource(Protocol):
    """Where the evaluator reads samples from."""

    now: float

    def at(self, ts: float) -> list[Sample]:
        """Samples visible at ``ts`` (normally: the latest scrape <= ts)."""
        ...

    def timestamps(self) -> list[float]:
        """Sorted timestamps of the stored scrapes (for range functions)."""
        ...


class StaticSource:
    """A single snapshot, visible at every time; ``timestamps() == [now]``."""

    def __init__(self, samples: Iterable[Sample], now: float | None = None):
        self.now = time.time() if now is None else float(now)
        self._index = SampleIndex(list(samples))

    def at(self, ts: float) -> list[Sample]:
        return self._index.samples

    def index_at(self, ts: float) -> SampleIndex:
        return self._index

    def timestamps(self) -> list[float]:
        return [self.now]


class HistorySource:
    """Recorded scrapes: ``add(ts, samples)``; ``at(ts)`` is the latest scrape
    at or before ``ts`` that is no older than ``lookback`` seconds."""

    def __init__(
        self,
        *,
        retention: float | None = 3600.0,
        lookback: float = 300.0,
        now: float | None = None,
    ):
        self.retention = retention
        self.lookback = lookback
        self.now = 0.0 if now is None else float(now)
        self._ts: list[float] = []
        self._idx: list[SampleIndex] = []

    def add(self, ts: float, samples: Iterable[Sample] | SampleIndex) -> None:
        ts = float(ts)
        index = samples if isinstance(samples, SampleIndex) else SampleIndex(list(samples))
        i = bisect.bisect_left(self._ts, ts)
        if i < len(self._ts) and self._ts[i] == ts:
            self._idx[i] = index
        else:
            self._ts.insert(i, ts)
            self._idx.insert(i, index)
        self.now = max(self.now, ts)
        if self.retention is not None:
            cut = bisect.bisect_left(self._ts, self.now - self.retention)
            if cut:
                del self._ts[:cut]
                del self._idx[:cut]

    def index_at(self, ts: float) -> SampleIndex:
        i = bisect.bisect_right(self._ts, ts) - 1
        if i < 0 or ts - self._ts[i] > self.lookback:
            return _EMPTY_INDEX
        return self._idx[i]

    def at(self, ts: float) -> list[Sample]:
        return self.index_at(ts).samples

    def timestamps(self) -> list[float]:
        return self._ts

    def __len__(self) -> int:
        return len(self._ts)


# ---------------------------------------------------------------------------
# AST
# ---------------------------------------------------------------------------

SCALAR, VECTOR, MATRIX, STRING = "scalar", "vector", "matrix", "string"

ONE_TO_ONE, MANY_TO_ONE, ONE_TO_MANY, MANY_TO_MANY = (
    "one-to-one",
    "many-to-one",
    "one-to-many",
    "many-to-many",
)

ARITH_OPS = frozenset({"+", "-", "*", "/", "%", "^", "atan2"})
COMPARISON_OPS = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPS = frozenset({"and", "or", "unless"})

_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "unless": 2,
    "==": 3,
    "!=": 3,
    ">": 3,
    "<": 3,
    ">=": 3,
    "<=": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
    "atan2": 5,
    "^": 6,
}
_RIGHT_ASSOC = frozenset({"^"})


class Expr:
    """Base class of parsed expressions."""

    __slots__ = ()

    @property
    def type(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class NumberLiteral(Expr):
    value: float

    @property
    def type(self) -> str:
        return SCALAR


@dataclass(frozen=True, slots=True)
class StringLiteral(Expr):
    value: str

    @property
    def type(self) -> str:
        return STRING


@dataclass(frozen=True, slots=True)
class Matcher:
    label: str
    op: str  # one of = != =~ !~
    value: str
    regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _memo: dict[str, bool] = field(default_factory=dict, init=False, compare=False, repr=False)
    # [samples, what filter gave for them]: a rule applies its matchers every evaluation to the same
    # lists while the objects behind them are unwritten (a scrape shares them; none is ever modified).
    _last: list[list[Sample]] = field(default_factory=list, init=False, compare=False, repr=False)

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        assert self.regex is not None
        hit = self.regex.fullmatch(value) is not None
        return hit if self.op == "=~" else not hit

    def filter(self, samples: list[Sample]) -> list[Sample]:
        last = self._last
        if last and last[0] is samples:
            return last[1]
        out = self._filter(samples)
        last[:] = (samples, out)
        return out

    def _filter(self, samples: list[Sample]) -> list[Sample]:
        op, want, label = self.op, self.value, self.label
        if label == "__name__":
            return [s for s in samples if self.matches(s.name)]
        if op == "=":
            return [s for s in samples if s.labels.get(label, "") == want]
        if op == "!=":
            return [s for s in samples if s.labels.get(label, "") != want]
        # Regex: test each distinct label value once (values repeat a lot,
        # within a scrape and across scrapes), memoised on the matcher.
        values = {s.labels.get(label, "") for s in samples}
        hits = self._regex_hits(values)
        if len(hits) == len(values):
            return samples
        if not hits:
            return []
        return [s for s in samples if s.labels.get(label, "") in hits]

    def _regex_hits(self, values: Iterable[str]) -> set[str]:
        memo = self._memo
        if len(memo) > 100_000:
            memo.clear()
        assert self.regex is not None
        fullmatch = self.regex.fullmatch
        positive = self.op == "=~"
        hits = set()
        for v in values:
            hit = memo.get(v)
            if hit is None:
                hit = memo[v] = (fullmatch(v) is not None) == positive
            if hit:
                hits.add(v)
        return hits


@dataclass(frozen=True, slots=True)
class VectorSelector(Expr):
    name: str | None
    matchers: tuple[Matcher, ...] = ()
    offset: float = 0.0

    @property
    def type(self) -> str:
        return VECTOR


@dataclass(frozen=True, slots=True)
class MatrixSelector(Expr):
    selector: VectorSelector
    range: float

    @property
    def type(self) -> str:
        return MATRIX


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]

    @property
    def type(self) -> str:
        return FUNCTIONS[self.func][1]


@dataclass(frozen=True, slots=True)
class Aggregate(Expr):
    op: str
    expr: Expr
    param: Expr | None = None
    grouping: tuple[str, ...] = ()
    without: bool = False

    @property
    def type(self) -> str:
        return VECTOR


@dataclass(frozen=True, slots=True)
class VectorMatching:
    card: str = ONE_TO_ONE
    on: bool = False
    labels: tuple[str, ...] = ()
    include: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    op: str
    lhs: Expr
    rhs: Expr
    return_bool: bool = False
    matching: VectorMatching | None = None

    @property
    def type(self) -> str:
        if self.lhs.type == SCALAR and self.rhs.type == SCALAR:
            return SCALAR
        return VECTOR


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str
    expr: Expr

    @property
    def type(self) -> str:
        return self.expr.type


# name -> (argument types, return type, number of optional trailing args)
FUNCTIONS: dict[str, tuple[tuple[str, ...], str, int]] = {
    "rate": ((MATRIX,), VECTOR, 0),
    "irate": ((MATRIX,), VECTOR, 0),
    "increase": ((MATRIX,), VECTOR, 0),
    "delta": ((MATRIX,), VECTOR, 0),
    "changes": ((MATRIX,), VECTOR, 0),
    "resets": ((MATRIX,), VECTOR, 0),
    "max_over_time": ((MATRIX,), VECTOR, 0),
    "min_over_time": ((MATRIX,), VECTOR, 0),
    "avg_over_time": ((MATRIX,), VECTOR, 0),
    "sum_over_time": ((MATRIX,), VECTOR, 0),
    "count_over_time": ((MATRIX,), VECTOR, 0),
    "last_over_time": ((MATRIX,), VECTOR, 0),
    "absent_over_time": ((MATRIX,), VECTOR, 0),
    "abs": ((VECTOR,), VECTOR, 0),
    "ceil": ((VECTOR,), VECTOR, 0),
    "floor": ((VECTOR,), VECTOR, 0),
    "sqrt": ((VECTOR,), VECTOR, 0),
    "exp": ((VECTOR,), VECTOR, 0),
    "ln": ((VECTOR,), VECTOR, 0),
    "log2": ((VECTOR,), VECTOR, 0),
    "log10": ((VECTOR,), VECTOR, 0),
    "round": ((VECTOR, SCALAR), VECTOR, 1),
    "absent": ((VECTOR,), VECTOR, 0),
    "clamp": ((VECTOR, SCALAR, SCALAR), VECTOR, 0),
    "clamp_min": ((VECTOR, SCALAR), VECTOR, 0),
    "clamp_max": ((VECTOR, SCALAR), VECTOR, 0),
    "vector": ((SCALAR,), VECTOR, 0),
    "scalar": ((VECTOR,), SCALAR, 0),
    "time": ((), SCALAR, 0),
    "timestamp": ((VECTOR,), VECTOR, 0),
    "sort": ((VECTOR,), VECTOR, 0),
    "sort_desc": ((VECTOR,), VECTOR, 0),
    "histogram_quantile": ((SCALAR, VECTOR), VECTOR, 0),
    "label_replace": ((VECTOR, STRING, STRING, STRING, STRING), VECTOR, 0),
}

AGGREGATIONS = frozenset(
    {
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
    }
)
_PARAM_AGGREGATIONS = frozenset({"topk", "bottomk", "quantile"})

_KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "and",
        "or",
        "unless",
    }
)


# ---------------------------------------------------------------------------
# Lexer
# ---------------------------------------------------------------------------


class _Tok(NamedTuple):
    kind: str  # NUM DUR STR IDENT OP EOF
    value: Any
    pos: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<dur>(?:\d+(?:ms|[smhdwy]))+)(?![\w:.])
  | (?P<num>0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
  | (?P<op>==|!=|=~|!~|>=|<=|[-+*/%^<>=(){}\[\],])
    """,
    re.VERBOSE,
)

_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
    "y": 31536000.0,
}
_DURATION_PART_RE = re.compile(r"(\d+)(ms|[smhdwy])")
_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
}
_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.DOTALL)


def parse_duration(text: str) -> float:
    """``"1h30m"`` -> ``5400.0`` seconds."""
    if not re.fullmatch(r"(?:\d+(?:ms|[smhdwy]))+", text):
        raise PromQLError(f"invalid duration {text!r}")
    return sum(int(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART_RE.findall(text))


def _unquote(raw: str, pos: int, expr: str) -> str:
    body = raw[1:-1]
    if raw[0] == "`" or "\\" not in body:
        return body

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc in _ESCAPES:
            if (esc == "'" and raw[0] == '"') or (esc == '"' and raw[0] == "'"):
                raise PromQLError(
                    f"invalid escape sequence \\{esc} in string",
                    pos + 1 + m.start(),
                    expr,
                )
            return _ESCAPES[esc]
        if esc[0] in "xuU":
            return chr(int(esc[1:], 16))
        if esc[0] in "01234567" and len(esc) == 3:
            return chr(int(esc, 8))
        raise PromQLError(f"unknown escape sequence \\{esc} in string", pos + 1 + m.start(), expr)

    return _ESCAPE_RE.sub(repl, body)


def _lex(expr: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos, end = 0, len(expr)
    match = _TOKEN_RE.match
    while pos < end:
        m = match(expr, pos)
        if m is None:
            ch = expr[pos]
            if ch in "\"'`":
                raise PromQLError("unterminated string", pos, expr)
            raise PromQLError(f"unexpected character {ch!r}", pos, expr)
        kind = m.lastgroup
        text = m.group(kind)  # type: ignore[arg-type]
        if kind == "dur":
            toks.append(_Tok("DUR", parse_duration(text), pos))
        elif kind == "num":
            value = float(int(text, 16)) if text[:2].lower() == "0x" else float(text)
            toks.append(_Tok("NUM", value, pos))
        elif kind == "ident":
            toks.append(_Tok("IDENT", text, pos))
        elif kind == "str":
            toks.append(_Tok("STR", _unquote(text, pos, expr), pos))
        elif kind == "op":
            toks.append(_Tok("OP", text, pos))
        pos = m.end()
    toks.append(_Tok("EOF", None, end))
    return toks


def _describe(tok: _Tok) -> str:
    if tok.kind == "EOF":
        return "end of input"
    if tok.kind == "STR":
        return f"string {tok.value!r}"
    if tok.kind == "DUR":
        return "duration"
    if tok.kind == "NUM":
        return f"number {tok.value:g}"
    return repr(tok.value)


# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------


class _Parser:
    def __init__(self, expr: str):
        self.expr = expr
        self.toks = _lex(expr)
        self.i = 0

    # -- token helpers ---------------------------------------------------
    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def error(self, msg: str, tok: _Tok | None = None) -> PromQLError:
        tok = tok or self.peek()
        return PromQLError(msg, tok.pos, self.expr)

    def is_op(self, sym: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok.kind == "OP" and tok.value == sym

    def is_kw(self, kw: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok.kind == "IDENT" and tok.value.lower() == kw

    def expect_op(self, sym: str, context: str = "") -> _Tok:
        tok = self.advance()
        if tok.kind != "OP" or tok.value != sym:
            where = f" {context}" if context else ""
            raise self.error(f"expected '{sym}'{where}, got {_describe(tok)}", tok)
        return tok

    # -- grammar ---------------------------------------------------------
    def parse(self) -> Expr:
        if self.peek().kind == "EOF":
            raise self.error("empty expression")
        node = self.parse_expr(0)
        tok = self.peek()
        if tok.kind != "EOF":
            raise self.error(f"unexpected {_describe(tok)}", tok)
        if node.type == MATRIX:
            raise PromQLError(
                "range selector is only allowed as a function argument (e.g. rate(x[5m]))",
                0,
                self.expr,
            )
        if node.type == STRING:
            raise PromQLError("expression must evaluate to a scalar or instant vector", 0, self.expr)
        return node

    def peek_binop(self) -> str | None:
        tok = self.peek()
        if tok.kind == "OP" and tok.value in _PRECEDENCE:
            return tok.value
        if tok.kind == "IDENT" and tok.value.lower() in (
            "and",
            "or",
            "unless",
            "atan2",
        ):
            return tok.value.lower()
        return None

    def parse_expr(self, min_prec: int) -> Expr:
        lhs = self.parse_unary()
        while True:
            op = self.peek_binop()
            if op is None or _PRECEDENCE[op] < min_prec:
                return lhs
            op_tok = self.advance()
            return_bool = False
            if self.is_kw("bool"):
                bool_tok = self.advance()
                if op not in COMPARISON_OPS:
                    raise self.error(
                        "bool modifier can only be used on comparison operators",
                        bool_tok,
                    )
                return_bool = True
            matching = self.parse_matching(op)
            next_prec = _PRECEDENCE[op] if op in _RIGHT_ASSOC else _PRECEDENCE[op] + 1
            rhs = self.parse_expr(next_prec)
            lhs = self.make_binary(op, lhs, rhs, return_bool, matching, op_tok)

    def parse_matching(self, op: str) -> VectorMatching | None:
        if not (self.is_kw("on") or self.is_kw("ignoring") or self.is_kw("group_left") or self.is_kw("group_right")):
            return None
        on = False
        labels: tuple[str, ...] = ()
        if self.is_kw("on") or self.is_kw("ignoring"):
            on = self.advance().value.lower() == "on"
            labels = self.parse_label_list()
        card = MANY_TO_MANY if op in SET_OPS else ONE_TO_ONE
        include: tuple[str, ...] = ()
        if self.is_kw("group_left") or self.is_kw("group_right"):
            tok = self.advance()
            if op in SET_OPS:
                raise self.error("no grouping allowed for set operations (and, or, unless)", tok)
            card = MANY_TO_ONE if tok.value.lower() == "group_left" else ONE_TO_MANY
            if self.is_op("("):
                include = self.parse_label_list()
            clash = set(include) & set(labels) if on else set()
            if clash:
                raise self.error(
                    f"label {min(clash)!r} must not occur in both on() and group modifier",
                    tok,
                )
        return VectorMatching(card=card, on=on, labels=labels, include=include)

    def make_binary(
        self,
        op: str,
        lhs: Expr,
        rhs: Expr,
        return_bool: bool,
        matching: VectorMatching | None,
        tok: _Tok,
    ) -> Expr:
        lt, rt = lhs.type, rhs.type
        if lt not in (SCALAR, VECTOR) or rt not in (SCALAR, VECTOR):
            bad = lt if lt not in (SCALAR, VECTOR) else rt
            hint = " (range selectors need a function such as rate() or max_over_time())" if bad == MATRIX else ""
            raise self.error(f"binary operator {op!r} does not accept a {bad} operand{hint}", tok)
        if op in SET_OPS and (lt != VECTOR or rt != VECTOR):
            raise self.error(f"set operator {op!r} only allowed between instant vectors", tok)
        if lt == SCALAR and rt == SCALAR and op in COMPARISON_OPS and not return_bool:
            raise self.error("comparisons between scalars must use the bool modifier", tok)
        if matching is not None and (lt != VECTOR or rt != VECTOR):
            raise self.error(
                "vector matching (on/ignoring/group_*) only allowed between instant vectors",
                tok,
            )
        if matching is None and lt == VECTOR and rt == VECTOR:
            matching = VectorMatching(card=MANY_TO_MANY if op in SET_OPS else ONE_TO_ONE)
        return Binary(op, lhs, rhs, return_bool, matching)

    def parse_unary(self) -> Expr:
        if self.is_op("-") or self.is_op("+"):
            tok = self.advance()
            operand = self.parse_expr(_PRECEDENCE["^"])
            if operand.type not in (SCALAR, VECTOR):
                raise self.error(f"unary {tok.value!r} needs a scalar or instant vector", tok)
            if tok.value == "+":
                return operand
            if isinstance(operand, NumberLiteral):
                return NumberLiteral(-operand.value)
            return Unary("-", operand)
        return self.parse_postfix(self.parse_primary())

    def parse_postfix(self, node: Expr) -> Expr:
        if isinstance(node, VectorSelector):
            if self.is_op("["):
                self.advance()
                tok = self.advance()
                if tok.kind == "DUR" or tok.kind == "NUM":
                    rng = tok.value
                else:
                    raise self.error(
                        f"expected a duration such as 5m in range selector, got {_describe(tok)}",
                        tok,
                    )
                if rng <= 0:
                    raise self.error("range must be positive", tok)
                self.expect_op("]", "to close range selector")
                offset = self.parse_offset()
                if offset is not None:
                    node = VectorSelector(node.name, node.matchers, offset)
                return MatrixSelector(node, rng)
            offset = self.parse_offset()
            if offset is not None:
                node = VectorSelector(node.name, node.matchers, offset)
        elif self.is_op("["):
            raise self.error("range selectors are only allowed directly after a vector selector (no subqueries)")
        return node

    def parse_offset(self) -> float | None:
        if not self.is_kw("offset"):
            return None
        self.advance()
        sign = 1.0
        if self.is_op("-"):
            self.advance()
            sign = -1.0
        tok = self.advance()
        if tok.kind != "DUR":
            raise self.error(f"expected a duration after offset, got {_describe(tok)}", tok)
        return sign * tok.value

    def parse_primary(self) -> Expr:
        tok = self.peek()
        if tok.kind == "NUM":
            self.advance()
            return NumberLiteral(tok.value)
        if tok.kind == "STR":
            self.advance()
            return StringLiteral(tok.value)
        if tok.kind == "DUR":
            raise self.error("unexpected duration outside of a range selector", tok)
        if tok.kind == "OP":
            if tok.value == "(":
                self.advance()
                inner = self.parse_expr(0)
                self.expect_op(")", "to close parenthesis")
                return inner
            if tok.value == "{":
                return self.parse_selector(None, tok)
            raise self.error(f"unexpected {_describe(tok)}", tok)
        if tok.kind == "IDENT":
            name = tok.value
            low = name.lower()
            nxt = self.peek(1)
            if low in AGGREGATIONS and (
                (nxt.kind == "OP" and nxt.value == "(") or self.is_kw("by", 1) or self.is_kw("without", 1)
            ):
                return self.parse_aggregate()
            if nxt.kind == "OP" and nxt.value == "(":
                if name in FUNCTIONS:
                    return self.parse_call()
                raise self.error(f"unknown function {name!r}", tok)
            if low in ("inf", "nan"):
                self.advance()
                return NumberLiteral(math.inf if low == "inf" else math.nan)
            if low in _KEYWORDS:
                raise self.error(f"unexpected keyword {name!r}", tok)
            self.advance()
            return self.parse_selector(name, tok)
        raise self.error(f"unexpected {_describe(tok)}", tok)

    def parse_selector(self, name: str | None, start: _Tok) -> VectorSelector:
        matchers: list[Matcher] = []
        if self.is_op("{"):
            self.advance()
            while not self.is_op("}"):
                label_tok = self.advance()
                if label_tok.kind == "STR" and name is None and not matchers and (self.is_op(",") or self.is_op("}")):
                    name = label_tok.value  # {"metric.name"} form
                else:
                    if label_tok.kind not in ("IDENT", "STR"):
                        raise self.error(
                            f"expected label name in selector, got {_describe(label_tok)}",
                            label_tok,
                        )
                    op_tok = self.advance()
                    if op_tok.kind != "OP" or op_tok.value not in (
                        "=",
                        "!=",
                        "=~",
                        "!~",
                    ):
                        raise self.error(
                            f"expected label matching operator (=, !=, =~, !~), got {_describe(op_tok)}",
                            op_tok,
                        )
                    val_tok = self.advance()
                    if val_tok.kind != "STR":
                        raise self.error(
                            f"expected string label value, got {_describe(val_tok)}",
                            val_tok,
                        )
                    matchers.append(self.make_matcher(label_tok.value, op_tok.value, val_tok.value, val_tok))
                if self.is_op(","):
                    self.advance()
                elif not self.is_op("}"):
                    raise self.error(f"expected ',' or '}}' in label matchers, got {_describe(self.peek())}")
            self.advance()
        # An equality matcher on __name__ acts as the metric name.
        if name is None:
            for i, m in enumerate(matchers):
                if m.label == "__name__" and m.op == "=":
                    name = m.value
                    del matchers[i]
                    break
        elif any(m.label == "__name__" for m in matchers):
            raise self.error("metric name must not be set twice", start)
        if name is None and all(m.matches("") for m in matchers):
            raise self.error("vector selector must contain at least one non-empty matcher", start)
        return VectorSelector(name, tuple(matchers))

    def make_matcher(self, label: str, op: str, value: str, tok: _Tok) -> Matcher:
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = re.compile(value, re.DOTALL)
            except re.error as exc:
                raise self.error(f"invalid regular expression {value!r}: {exc}", tok) from None
        return Matcher(label, op, value, regex)

    def parse_label_list(self) -> tuple[str, ...]:
        self.expect_op("(", "to open label list")
        labels: list[str] = []
        while not self.is_op(")"):
            tok = self.advance()
            if tok.kind not in ("IDENT", "STR"):
                raise self.error(f"expected label name, got {_describe(tok)}", tok)
            labels.append(tok.value)
            if self.is_op(","):
                self.advance()
            elif not self.is_op(")"):
                raise self.error(f"expected ',' or ')' in label list, got {_describe(self.peek())}")
        self.advance()
        return tuple(labels)

    def parse_grouping(self) -> tuple[tuple[str, ...], bool] | None:
        if self.is_kw("by") or self.is_kw("without"):
            without = self.advance().value.lower() == "without"
            return self.parse_label_list(), without
        return None

    def parse_aggregate(self) -> Aggregate:
        op_tok = self.advance()
        op = op_tok.value.lower()
        grouping = self.parse_grouping()
        self.expect_op("(", f"after {op}")
        param: Expr | None = None
        if op in _PARAM_AGGREGATIONS:
            param = self.parse_expr(0)
            if param.type != SCALAR:
                raise self.error(f"{op}: parameter must be a scalar, got {param.type}", op_tok)
            self.expect_op(",", f"after {op} parameter")
        arg_tok = self.peek()
        expr = self.parse_expr(0)
        if expr.type != VECTOR:
            raise self.error(f"{op}: expected instant vector argument, got {expr.type}", arg_tok)
        self.expect_op(")", f"to close {op}(...)")
        after = self.parse_grouping()
        if after is not None:
            if grouping is not None:
                raise self.error(f"{op}: by/without given twice", op_tok)
            grouping = after
        labels, without = grouping if grouping is not None else ((), False)
        return Aggregate(op, expr, param, labels, without)

    def parse_call(self) -> Call:
        name_tok = self.advance()
        name = name_tok.value
        self.advance()  # '('
        args: list[Expr] = []
        arg_toks: list[_Tok] = []
        while not self.is_op(")"):
            arg_toks.append(self.peek())
            args.append(self.parse_expr(0))
            if self.is_op(","):
                self.advance()
            elif not self.is_op(")"):
                raise self.error(f"expected ',' or ')' in call to {name}, got {_describe(self.peek())}")
        self.advance()
        arg_types, _ret, optional = FUNCTIONS[name]
        if not len(arg_types) - optional <= len(args) <= len(arg_types):
            want = str(len(arg_types)) if not optional else f"{len(arg_types) - optional}-{len(arg_types)}"
            raise self.error(f"{name}() expects {want} argument(s), got {len(args)}", name_tok)
        for i, (arg, want) in enumerate(zip(args, arg_types, strict=False)):
            if arg.type != want:
                hint = ""
                if want == MATRIX and arg.type == VECTOR:
                    hint = " (add a range such as [5m])"
                raise self.error(
                    f"{name}(): argument {i + 1} must be a range vector{hint}"
                    if want == MATRIX
                    else f"{name}(): argument {i + 1} must be a {_TYPE_NAMES[want]}, got {_TYPE_NAMES[arg.type]}",
                    arg_toks[i],
                )
        return Call(name, tuple(args))


_TYPE_NAMES = {
    SCALAR: "scalar",
    VECTOR: "instant vector",
    MATRIX: "range vector",
    STRING: "string",
}


@functools.lru_cache(maxsize=2048)
def parse(expr: str) -> Expr:
    """Parse a PromQL expression (cached). Raises :class:`PromQLError`."""
    if not isinstance(expr, str):
        raise TypeError(f"expected str, got {type(expr).__name__}")
    return _Parser(expr).parse()


# ---------------------------------------------------------------------------
# Evaluation helpers
# ---------------------------------------------------------------------------


def _arith(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            if a == 0 or math.isnan(a):
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
        return a / b
    if op == "%":
        if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
            return math.nan
        return math.fmod(a, b)
    if op == "^":
        try:
            return math.pow(a, b)
        except OverflowError:
            return math.inf if a > 0 or float(b).is_integer() and int(b) % 2 == 0 else -math.inf
        except ValueError:
            return math.inf if a == 0 else math.nan
    if op == "atan2":
        return math.atan2(a, b)
    raise PromQLError(f"unknown operator {op!r}")  # pragma: no cover


def _compare(op: str, a: float, b: float) -> bool:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == ">":
        return a > b
    if op == "<":
        return a < b
    if op == ">=":
        return a >= b
    return a <= b


def _label_key(labels: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


def _check_unique(samples: list[Sample]) -> list[Sample]:
    """Raise if dropping metric names made two samples indistinguishable."""
    if len(samples) > 1:
        seen: set[frozenset[tuple[str, str]]] = set()
        for s in samples:
            key = _label_key(s.labels)
            if key in seen:
                raise PromQLError(f"vector cannot contain metrics with the same labelset {_fmt_labels(s.labels)}")
            seen.add(key)
    return samples


def _drop_names(samples: Sequence[Sample], single_name: bool | None = None) -> list[Sample]:
    out = [Sample("", s.labels, s.value) if s.name else s for s in samples]
    if single_name is None:
        single_name = len({s.name for s in samples}) <= 1
    return out if single_name else _check_unique(out)


def _fmt_labels(labels: Mapping[str, str], name: str = "") -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _getter(label: str) -> Callable[[Sample], str]:
    if label == "__name__":
        return lambda s: s.name
    return lambda s: s.labels.get(label, "")


def _matched_labels_str(s: Sample, m: VectorMatching) -> str:
    if m.on:
        return _fmt_labels({k: v for k in m.labels if (v := s.labels.get(k))})
    return _fmt_labels({k: v for k, v in s.labels.items() if k not in m.labels})


def _result_metric(ls: Sample, rs: Sample, m: VectorMatching, drop_name: bool) -> tuple[str, Mapping[str, str]]:
    name = "" if drop_name else ls.name
    labels: Mapping[str, str] = ls.labels
    if m.card == ONE_TO_ONE:
        if m.on:
            labels = {k: v for k in m.labels if (v := ls.labels.get(k))}
            if "__name__" not in m.labels:
                name = ""
        elif m.labels:
            labels = {k: v for k, v in ls.labels.items() if k not in m.labels}
            if "__name__" in m.labels:
                name = ""
    if m.include:
        labels = dict(labels)
        for lbl in m.include:
            v = rs.labels.get(lbl, "")
            if v:
                labels[lbl] = v
            else:
                labels.pop(lbl, None)
    return name, labels


class _Series(NamedTuple):
    name: str
    labels: Mapping[str, str]
    points: list[tuple[float, float]]


def _extrapolated(series: _Series, start: float, end: float, is_counter: bool, is_rate: bool) -> float | None:
    pts = series.points
    if len(pts) < 2:
        return None
    first_t, first_v = pts[0]
    last_t, last_v = pts[-1]
    result = last_v - first_v
    if is_counter:
        prev = first_v
        for _, v in pts[1:]:
            if v < prev:
                result += prev
            prev = v
    sampled = last_t - first_t
    if sampled <= 0:
        return None
    avg_step = sampled / (len(pts) - 1)
    to_start = first_t - start
    to_end = end - last_t
    if is_counter and result > 0 and first_v >= 0:
        to_zero = sampled * (first_v / result)
        to_start = min(to_start, to_zero)
    threshold = avg_step * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else avg_step / 2
    interval += to_end if to_end < threshold else avg_step / 2
    result *= interval / sampled
    if is_rate:
        result /= end - start
    return result


def _bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets.sort(key=lambda b: b[0])
    # coalesce identical bounds and force monotonic cumulative counts
    merged: list[list[float]] = []
    for upper, count in buckets:
        if merged and merged[-1][0] == upper:
            merged[-1][1] += count
        else:
            merged.append([upper, count])
    for i in range(1, len(merged)):
        merged[i][1] = max(merged[i][1], merged[i - 1][1])
    if len(merged) < 2 or not math.isinf(merged[-1][0]):
        return math.nan
    observations = merged[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next(i for i, (_, c) in enumerate(merged) if c >= rank)
    if b == len(merged) - 1:
        return merged[-2][0]
    if b == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[b][0], merged[b][1]
    if b > 0:
        start = merged[b - 1][0]
        count -= merged[b - 1][1]
        rank -= merged[b - 1][1]
    if count == 0:
        return end
    return start + (end - start) * (rank / count)


_GO_TEMPLATE_RE = re.compile(r"\$(?:\{(\w+)\}|(\w+)|(\$))")


def _expand_replacement(template: str, m: re.Match[str]) -> str:
    def repl(ref: re.Match[str]) -> str:
        if ref.group(3):
            return "$"
        key = ref.group(1) or ref.group(2)
        try:
            value = m.group(int(key)) if key.isdigit() else m.group(key)
        except IndexError:  # unknown group number or name
            return ""
        return value or ""

    return _GO_TEMPLATE_RE.sub(repl, template)


_MATH_FUNCS: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": lambda v: float(math.ceil(v)) if math.isfinite(v) else v,
    "floor": lambda v: float(math.floor(v)) if math.isfinite(v) else v,
    "sqrt": lambda v: math.sqrt(v) if v >= 0 else math.nan,
    "exp": lambda v: math.exp(v) if v < 709.78 else math.inf,
    "ln": lambda v: math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "log2": lambda v: math.log2(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "log10": lambda v: math.log10(v) if v > 0 else (-math.inf if v == 0 else math.nan),
}


# ---------------------------------------------------------------------------
# Evaluator
# ---------------------------------------------------------------------------

Value = list[Sample] | float | str


class _Evaluator:
    def __init__(self, source: SeriesSource):
        self.source = source
        self._index_at = getattr(source, "index_at", None)
        self._indexes: dict[float, SampleIndex] = {}
        self._timestamps: list[float] | None = None

    def index(self, ts: float) -> SampleIndex:
        if self._index_at is not None:
            return self._index_at(ts)
        idx = self._indexes.get(ts)
        if idx is None:
            idx = self._indexes[ts] = SampleIndex(self.source.at(ts))
        return idx

    def timestamps(self) -> list[float]:
        if self._timestamps is None:
            tss = self.source.timestamps()
            self._timestamps = tss if isinstance(tss, list) else list(tss)
        return self._timestamps

    def eval(self, node: Expr, ts: float) -> Value:
        if isinstance(node, VectorSelector):
            return self.index(ts - node.offset).select(node)
        if isinstance(node, NumberLiteral):
            return node.value
        if isinstance(node, Binary):
            return self.eval_binary(node, ts)
        if isinstance(node, Aggregate):
            return self.eval_aggregate(node, ts)
        if isinstance(node, Call):
            return self.eval_call(node, ts)
        if isinstance(node, Unary):
            val = self.eval(node.expr, ts)
            if isinstance(val, float):
                return -val
            assert isinstance(val, list)
            return _drop_names([Sample("", s.labels, -s.value) for s in val], single_name=True)
        if isinstance(node, StringLiteral):
            return node.value
        raise PromQLError(f"cannot evaluate {type(node).__name__} here")

    def eval_vector(self, node: Expr, ts: float) -> list[Sample]:
        val = self.eval(node, ts)
        assert isinstance(val, list)
        return val

    def eval_scalar(self, node: Expr, ts: float) -> float:
        val = self.eval(node, ts)
        assert isinstance(val, float)
        return val

    # -- range selectors -------------------------------------------------
    def eval_matrix(self, node: Expr, ts: float) -> tuple[list[_Series], float, float]:
        assert isinstance(node, MatrixSelector)
        sel = node.selector
        end = ts - sel.offset
        start = end - node.range
        tss = self.timestamps()
        lo = bisect.bisect_right(tss, start)
        hi = bisect.bisect_right(tss, end)
        series: dict[tuple[str, Any], _Series] = {}
        for t in tss[lo:hi]:
            selected = self.index(t).select(sel)
            keys = _signatures(selected, (), exclude=True)
            for s, lkey in zip(selected, keys, strict=True):
                key = (s.name, lkey)
                entry = series.get(key)
                if entry is None:
                    series[key] = _Series(s.name, s.labels, [(t, s.value)])
                elif entry.points[-1][0] != t:
                    entry.points.append((t, s.value))
        return list(series.values()), start, end

    # -- binary ----------------------------------------------------------
    def eval_binary(self, node: Binary, ts: float) -> Value:
        op = node.op
        lhs = self.eval(node.lhs, ts)
        if op == "and" and not lhs:
            return []
        rhs = self.eval(node.rhs, ts)
        if isinstance(lhs, float) and isinstance(rhs, float):
            if op in COMPARISON_OPS:
                return 1.0 if _compare(op, lhs, rhs) else 0.0
            return _arith(op, lhs, rhs)
        if isinstance(lhs, list) and isinstance(rhs, list):
            assert node.matching is not None
            if op in SET_OPS:
                return self.set_op(op, lhs, rhs, node.matching)
            return self.vector_binop(op, lhs, rhs, node.matching, node.return_bool)
        # vector <op> scalar
        swap = isinstance(lhs, float)
        vec, scalar = (rhs, lhs) if swap else (lhs, rhs)
        assert isinstance(vec, list) and isinstance(scalar, float)
        out: list[Sample] = []
        if op in COMPARISON_OPS:
            for s in vec:
                keep = _compare(op, scalar, s.value) if swap else _compare(op, s.value, scalar)
                if node.return_bool:
                    out.append(Sample("", s.labels, 1.0 if keep else 0.0))
                elif keep:
                    out.append(s)
            return _drop_names(out) if node.return_bool else out
        for s in vec:
            value = _arith(op, scalar, s.value) if swap else _arith(op, s.value, scalar)
            out.append(Sample("", s.labels, value))
        if len(out) > 1 and len({s.name for s in vec}) > 1:
            _check_unique(out)
        return out

    def set_op(self, op: str, lhs: list[Sample], rhs: list[Sample], m: VectorMatching) -> list[Sample]:
        exclude = not m.on
        if op == "and":
            if not rhs:
                return []
            right = set(_signatures(rhs, m.labels, exclude))
            lkeys = _signatures(lhs, m.labels, exclude)
            return [s for s, k in zip(lhs, lkeys, strict=True) if k in right]
        if op == "unless":
            if not rhs:
                return lhs
            right = set(_signatures(rhs, m.labels, exclude))
            lkeys = _signatures(lhs, m.labels, exclude)
            return [s for s, k in zip(lhs, lkeys, strict=True) if k not in right]
        # or
        if not lhs:
            return rhs
        left = set(_signatures(lhs, m.labels, exclude))
        rkeys = _signatures(rhs, m.labels, exclude)
        return lhs + [s for s, k in zip(rhs, rkeys, strict=True) if k not in left]

    def vector_binop(
        self,
        op: str,
        lhs: list[Sample],
        rhs: list[Sample],
        m: VectorMatching,
        return_bool: bool,
    ) -> list[Sample]:
        if not lhs or not rhs:
            return []
        if m.card == ONE_TO_MANY:
            lhs, rhs = rhs, lhs
        exclude = not m.on
        right: dict[Any, Sample] = {}
        rs: Sample | None
        for rs, key in zip(rhs, _signatures(rhs, m.labels, exclude), strict=True):
            dup = right.get(key)
            if dup is not None:
                side = "left" if m.card == ONE_TO_MANY else "right"
                raise PromQLError(
                    f"found duplicate series for the match group {_matched_labels_str(rs, m)} on the {side} "
                    f"hand-side of the operation: [{_fmt_labels(rs.labels, rs.name)}, "
                    f"{_fmt_labels(dup.labels, dup.name)}]; many-to-many matching not allowed: "
                    "matching labels must be unique on one side"
                )
            right[key] = rs
        is_cmp = op in COMPARISON_OPS
        drop_name = not is_cmp or return_bool
        matched: dict[Any, set[frozenset[tuple[str, str]]] | None] = {}
        out: list[Sample] = []
        for ls, key in zip(lhs, _signatures(lhs, m.labels, exclude), strict=True):
            rs = right.get(key)
            if rs is None:
                continue
            vl, vr = ls.value, rs.value
            if m.card == ONE_TO_MANY:
                vl, vr = vr, vl
            if is_cmp:
                keep = _compare(op, vl, vr)
                if return_bool:
                    value = 1.0 if keep else 0.0
                elif not keep:
                    continue
                else:
                    value = vl
            else:
                value = _arith(op, vl, vr)
            name, labels = _result_metric(ls, rs, m, drop_name)
            if m.card == ONE_TO_ONE:
                if key in matched:
                    raise PromQLError(
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                    )
                matched[key] = None
            else:
                inserted = matched.get(key)
                if inserted is None:
                    inserted = matched[key] = set()
                rkey = _label_key(labels)
                if rkey in inserted:
                    raise PromQLError("multiple matches for labels: grouping labels must ensure unique matches")
                inserted.add(rkey)
            out.append(Sample(name, labels, value))
        return out

    # -- aggregation -----------------------------------------------------
    def eval_aggregate(self, node: Aggregate, ts: float) -> list[Sample]:
        op = node.op
        param = self.eval(node.param, ts) if node.param is not None else None
        vec = self.eval_vector(node.expr, ts)
        if not vec:
            return []
        groups = _group(vec, node.grouping, node.without)
        if op in ("topk", "bottomk"):
            assert isinstance(param, float)
            if math.isnan(param) or param < 1:
                return []
            k = int(min(param, len(vec)))
            out: list[Sample] = []
            for members in groups.values():
                if op == "topk":
                    out.extend(heapq.nlargest(k, members, key=_topk_key))
                else:
                    out.extend(heapq.nsmallest(k, members, key=_bottomk_key))
            return out
        results = []
        for members in groups.values():
            values = [s.value for s in members]
            if op == "sum":
                value = math.fsum(values)
            elif op == "avg":
                value = math.fsum(values) / len(values)
            elif op == "count":
                value = float(len(values))
            elif op == "group":
                value = 1.0
            elif op in ("max", "min"):
                real = [v for v in values if not math.isnan(v)]
                value = (max(real) if op == "max" else min(real)) if real else math.nan
            elif op == "stddev":
                value = statistics.pstdev(values)
            elif op == "stdvar":
                value = statistics.pvariance(values)
            else:  # quantile
                assert isinstance(param, float)
                value = _quantile(param, values)
            name, labels = _group_labels(members[0], node.grouping, node.without)
            results.append(Sample(name, labels, value))
        return results

    # -- functions -------------------------------------------------------
    def eval_call(self, node: Call, ts: float) -> Value:
        name = node.func
        args = node.args
        if name in ("rate", "increase", "delta"):
            series, start, end = self.eval_matrix(args[0], ts)
            out = []
            for s in series:
                v = _extrapolated(s, start, end, is_counter=name != "delta", is_rate=name == "rate")
                if v is not None:
                    out.append(Sample("", s.labels, v))
            return _check_unique(out)
        if name in _RANGE_REDUCERS:
            series, _start, _end = self.eval_matrix(args[0], ts)
            reducer = _RANGE_REDUCERS[name]
            out = []
            for s in series:
                v = reducer(s.points)
                if v is not None:
                    out.append(Sample("", s.labels, v))
            return _check_unique(out)
        if name == "last_over_time":
            series, _start, _end = self.eval_matrix(args[0], ts)
            return [Sample(s.name, s.labels, s.points[-1][1]) for s in series]
        if name == "absent_over_time":
            series, _start, _end = self.eval_matrix(args[0], ts)
            if series:
                return []
            assert isinstance(args[0], MatrixSelector)
            return [Sample("", _absent_labels(args[0].selector), 1.0)]
        if name in _MATH_FUNCS:
            fn = _MATH_FUNCS[name]
            return _drop_names([Sample("", s.labels, fn(s.value)) for s in self.eval_vector(args[0], ts)])
        if name == "absent":
            vec = self.eval_vector(args[0], ts)
            if vec:
                return []
            arg = args[0]
            return [
                Sample(
                    "",
                    _absent_labels(arg) if isinstance(arg, VectorSelector) else {},
                    1.0,
                )
            ]
        if name in ("clamp", "clamp_min", "clamp_max"):
            vec = self.eval_vector(args[0], ts)
            lo, hi = -math.inf, math.inf
            if name == "clamp":
                lo, hi = self.eval_scalar(args[1], ts), self.eval_scalar(args[2], ts)
                if lo > hi:
                    return []
            elif name == "clamp_min":
                lo = self.eval_scalar(args[1], ts)
            else:
                hi = self.eval_scalar(args[1], ts)
            return _drop_names([Sample("", s.labels, _clamp(s.value, lo, hi)) for s in vec])
        if name == "round":
            vec = self.eval_vector(args[0], ts)
            to = self.eval_scalar(args[1], ts) if len(args) > 1 else 1.0
            inv = 1.0 / to
            return _drop_names([Sample("", s.labels, math.floor(s.value * inv + 0.5) / inv) for s in vec])
        if name == "vector":
            return [Sample("", {}, self.eval_scalar(args[0], ts))]
        if name == "scalar":
            vec = self.eval_vector(args[0], ts)
            return vec[0].value if len(vec) == 1 else math.nan
        if name == "time":
            return float(ts)
        if name == "timestamp":
            return _drop_names([Sample("", s.labels, float(ts)) for s in self.eval_vector(args[0], ts)])
        if name in ("sort", "sort_desc"):
            vec = self.eval_vector(args[0], ts)
            desc = name == "sort_desc"
            return sorted(vec, key=lambda s: (math.isnan(s.value), -s.value if desc else s.value))
        if name == "histogram_quantile":
            return self.histogram_quantile(self.eval_scalar(args[0], ts), self.eval_vector(args[1], ts))
        if name == "label_replace":
            vec = self.eval_vector(args[0], ts)
            dst, repl, src, pattern = (self.eval(a, ts) for a in args[1:])
            assert isinstance(dst, str) and isinstance(repl, str) and isinstance(src, str)
            assert isinstance(pattern, str)
            return _label_replace(vec, dst, repl, src, pattern)
        raise PromQLError(f"function {name}() is not implemented")  # pragma: no cover

    def histogram_quantile(self, q: float, vec: list[Sample]) -> list[Sample]:
        groups: dict[frozenset[tuple[str, str]], tuple[dict[str, str], list[tuple[float, float]]]] = {}
        for s in vec:
            le = s.labels.get("le")
            if le is None:
                continue
            try:
                upper = float(le)
            except ValueError:
                continue
            rest = {k: v for k, v in s.labels.items() if k != "le"}
            key = frozenset(rest.items())
            g = groups.get(key)
            if g is None:
                groups[key] = (rest, [(upper, s.value)])
            else:
                g[1].append((upper, s.value))
        return [Sample("", labels, _bucket_quantile(q, buckets)) for labels, buckets in groups.values()]


def _signatures(vec: list[Sample], labels: tuple[str, ...], exclude: bool) -> list[Any]:
    """One hashable key per sample identifying its values for ``labels``
    (``exclude=False``: only those labels, as in ``by``/``on``) or for all
    labels except ``labels`` and ``__name__`` (``exclude=True``: ``without``/
    ``ignoring``/default matching). Computed in bulk for speed."""
    if exclude:
        # Resolve the kept label names once per distinct label-name layout.
        dropped = frozenset(labels)
        layouts: dict[tuple[str, ...], tuple[tuple[str, ...], Callable[..., Any]]] = {}
        keys = []
        for s in vec:
            names = tuple(s.labels)
            layout = layouts.get(names)
            if layout is None:
                kept = tuple(sorted(n for n in names if n not in dropped))
                getter = operator.itemgetter(*kept) if kept else _no_labels
                layout = layouts[names] = (kept, getter)
            keys.append((layout[0], layout[1](s.labels)))
        return keys
    if not labels:
        return [()] * len(vec)
    if "__name__" in labels:
        getters = [_getter(lbl) for lbl in labels]
        return [tuple([g(s) for g in getters]) for s in vec]
    getter = operator.itemgetter(*labels)
    try:
        return [getter(s.labels) for s in vec]
    except KeyError:  # some series lack a label: treat it as ""
        if len(labels) == 1:
            only = labels[0]
            return [s.labels.get(only, "") for s in vec]
        return [tuple([s.labels.get(lbl, "") for lbl in labels]) for s in vec]


def _group(vec: list[Sample], grouping: tuple[str, ...], without: bool) -> dict[Any, list[Sample]]:
    """Split ``vec`` into aggregation groups (keys computed in bulk for speed)."""
    if not grouping and not without:
        return {(): vec}
    keys = _signatures(vec, grouping, exclude=without)
    groups: dict[Any, list[Sample]] = {}
    for key, s in zip(keys, vec, strict=True):
        members = groups.get(key)
        if members is None:
            groups[key] = [s]
        else:
            members.append(s)
    return groups


def _no_labels(_labels: Mapping[str, str]) -> tuple[()]:
    return ()


def _group_labels(s: Sample, grouping: tuple[str, ...], without: bool) -> tuple[str, dict[str, str]]:
    if without:
        return "", {k: v for k, v in s.labels.items() if k not in grouping}
    name = s.name if "__name__" in grouping else ""
    return name, {k: v for k in grouping if k != "__name__" and (v := s.labels.get(k))}


def _topk_key(s: Sample) -> tuple[bool, float]:
    return (not math.isnan(s.value), s.value)


def _bottomk_key(s: Sample) -> tuple[bool, float]:
    return (math.isnan(s.value), s.value)


def _clamp(v: float, lo: float, hi: float) -> float:
    if math.isnan(v):
        return v
    return max(lo, min(hi, v))


def _quantile(q: float, values: list[float]) -> float:
    if not values or math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    lo = max(0, math.floor(rank))
    hi = min(len(ordered) - 1, lo + 1)
    weight = rank - math.floor(rank)
    return ordered[lo] * (1 - weight) + ordered[hi] * weight


def _absent_labels(sel: VectorSelector) -> dict[str, str]:
    labels: dict[str, str] = {}
    seen: set[str] = set()
    for m in sel.matchers:
        if m.op == "=" and m.label != "__name__":
            if m.label in seen:
                labels.pop(m.label, None)
            else:
                labels[m.label] = m.value
            seen.add(m.label)
    return labels


def _label_replace(vec: list[Sample], dst: str, repl: str, src: str, pattern: str) -> list[Sample]:
    try:
        regex = re.compile(pattern, re.DOTALL)
    except re.error as exc:
        raise PromQLError(f"label_replace: invalid regular expression {pattern!r}: {exc}") from None
    if not re.fullmatch(r"[a-zA-Z_]\w*", dst):
        raise PromQLError(f"label_replace: invalid destination label name {dst!r}")
    out = []
    for s in vec:
        src_val = s.name if src == "__name__" else s.labels.get(src, "")
        m = regex.fullmatch(src_val)
        if m is None:
            out.append(s)
            continue
        value = _expand_replacement(repl, m)
        if dst == "__name__":
            out.append(Sample(value, s.labels, s.value))
            continue
        labels = dict(s.labels)
        if value:
            labels[dst] = value
        else:
            labels.pop(dst, None)
        out.append(Sample(s.name, labels, s.value))
    return out


def _changes(points: list[tuple[float, float]]) -> float:
    n = 0
    prev = points[0][1]
    for _, v in points[1:]:
        if v != prev and not (math.isnan(v) and math.isnan(prev)):
            n += 1
        prev = v
    return float(n)


def _resets(points: list[tuple[float, float]]) -> float:
    n = 0
    prev = points[0][1]
    for _, v in points[1:]:
        if v < prev:
            n += 1
        prev = v
    return float(n)


def _irate(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 2:
        return None
    (t0, v0), (t1, v1) = points[-2], points[-1]
    if t1 <= t0:
        return None
    delta = v1 - v0 if v1 >= v0 else v1
    return delta / (t1 - t0)


def _max_over(points: list[tuple[float, float]]) -> float:
    best = points[0][1]
    for _, v in points[1:]:
        if v > best or math.isnan(best):
            best = v
    return best


def _min_over(points: list[tuple[float, float]]) -> float:
    best = points[0][1]
    for _, v in points[1:]:
        if v < best or math.isnan(best):
            best = v
    return best


_RANGE_REDUCERS: dict[str, Callable[[list[tuple[float, float]]], float | None]] = {
    "changes": _changes,
    "resets": _resets,
    "irate": _irate,
    "max_over_time": _max_over,
    "min_over_time": _min_over,
    "avg_over_time": lambda pts: math.fsum(v for _, v in pts) / len(pts),
    "sum_over_time": lambda pts: math.fsum(v for _, v in pts),
    "count_over_time": lambda pts: float(len(pts)),
}


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------


def instant_inputs(node: Expr) -> tuple[VectorSelector, ...] | None:
    """The selectors an expression reads when its value depends on nothing but the samples they select
    by metric name (instant selectors, literals, operators, aggregations); None for any other (a range,
    a function, a selector without a metric name): its value may move with the time alone."""
    if isinstance(node, VectorSelector):
        return (node,) if node.name is not None else None
    if isinstance(node, NumberLiteral | StringLiteral):
        return ()
    if isinstance(node, Unary):
        return instant_inputs(node.expr)
    parts: tuple[Expr | None, ...]
    if isinstance(node, Binary):
        parts = (node.lhs, node.rhs)
    elif isinstance(node, Aggregate):
        parts = (node.expr, node.param)
    else:
        return None
    out: tuple[VectorSelector, ...] = ()
    for part in parts:
        if part is None:
            continue
        inputs = instant_inputs(part)
        if inputs is None:
            return None
        out += inputs
    return out


def evaluate(
    expr: str | Expr,
    source: SeriesSource | Iterable[Sample],
    ts: float | None = None,
) -> list[Sample] | float:
    """Evaluate ``expr`` at ``ts`` (default ``source.now``).

    Returns a list of samples for vector results, a float for scalar results.
    A plain iterable of samples is accepted as a :class:`StaticSource`.
    """
    node = parse(expr) if isinstance(expr, str) else expr
    # A SeriesSource is a Protocol without runtime checks: what has timestamps is one.
    src = cast(SeriesSource, source) if hasattr(source, "timestamps") else StaticSource(source)
    when = src.now if ts is None else float(ts)
    result = _Evaluator(src).eval(node, when)
    if isinstance(result, str):  # pragma: no cover - rejected by the parser
        raise PromQLError("string results are not supported")
    if isinstance(result, list):
        return list(result)  # never hand out a list owned by a SampleIndex
    return result


def format_value(value: float) -> str:
    """Format a float the way Prometheus does in JSON (``"1"``, ``"0.5"``, ``"+Inf"``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def to_prometheus_json(result: list[Sample] | float, ts: float | None = None) -> dict[str, Any]:
    """The ``data`` member of a Prometheus ``/api/v1/query`` response."""
    when = time.time() if ts is None else float(ts)
    if isinstance(result, (int, float)):
        return {"resultType": "scalar", "result": [when, format_value(float(result))]}
    return {
        "resultType": "vector",
        "result": [{"metric": s.metric, "value": [when, format_value(s.value)]} for s in result],
    }
