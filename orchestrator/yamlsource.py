"""YAML that remembers where every key and list item came from.

Validation reports errors at a field path (`spec.remediation.mode`); a person fixes them in a file, so
each path needs a line. `load_yaml` composes the document (yaml's node tree keeps start marks), records
the line of every mapping key and sequence item by path, then constructs the plain Python value from the
same nodes, so the data and the lines can never disagree.

The text may come from anyone, so the walk is bounded before it starts: nesting deeper than `MAX_DEPTH`
and documents that hold more than `MAX_VALUES` values once every alias is expanded (a "billion laughs"
bomb is a few lines that expand to 10^9) are syntax errors, as are characters YAML forbids (a NUL byte)
and scalars that cannot be built; each is one line with the line number where the parser knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

FieldPath = tuple[str | int, ...]

MAX_DEPTH = 64  # levels of nesting; incidents use 5, Kubernetes manifests in scenarios about 15
MAX_VALUES = 100_000  # mappings, lists and scalars, each alias use counted as a copy of what it names


class YamlSyntaxError(ValueError):
    """Text that is not YAML; `line` is 1-based when the parser knows it."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class DuplicateKey:
    path: FieldPath
    line: int
    first_line: int


@dataclass(frozen=True)
class SourcedYaml:
    """A YAML document's value with the 1-based line of each key and item, by path."""

    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict)
    duplicates: list[DuplicateKey] = field(default_factory=list)

    def line_of(self, path: FieldPath) -> int | None:
        """The line of `path`, or of its nearest ancestor present in the file (a missing field's parent)."""
        path = tuple(path)
        while True:
            line = self.lines.get(path)
            if line is not None:
                return line
            if not path:
                return None
            path = path[:-1]


def load_yaml(text: str, *, max_values: int = MAX_VALUES, max_depth: int = MAX_DEPTH) -> SourcedYaml:
    """Parse one YAML document; raises YamlSyntaxError with the line of the problem. A document nested
    deeper than `max_depth`, or holding more than `max_values` values once every alias is expanded, is
    refused before anything walks it."""
    try:
        loader = _BoundedLoader(text, max_depth)
    except yaml.reader.ReaderError as err:  # a character YAML forbids (a NUL byte, say): raised on reading
        raise YamlSyntaxError(_reader_problem(err), _line_at(text, err.position)) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return SourcedYaml(None)
        _check_expansion(node, max_values, {}, set())
        lines: dict[FieldPath, int] = {(): node.start_mark.line + 1}
        duplicates: list[DuplicateKey] = []
        _record(node, (), lines, duplicates)
        data = loader.construct_document(node)
    except yaml.reader.ReaderError as err:
        raise YamlSyntaxError(_reader_problem(err), _line_at(text, err.position)) from None
    except yaml.MarkedYAMLError as err:
        raise YamlSyntaxError(_describe(err), _line(err)) from None
    except yaml.YAMLError as err:
        raise YamlSyntaxError("not valid YAML: " + _one_line(str(err)), None) from None
    finally:
        loader.dispose()
    return SourcedYaml(data, lines, duplicates)


MAX_INT_DIGITS = 4000


class _BoundedLoader(yaml.SafeLoader):
    """yaml's safe loader, refusing nesting deeper than `max_depth` (its composer recurses per level, so a
    deep document would otherwise end in RecursionError), and turning a scalar that cannot be built (a
    date that does not exist, an integer of 5,000 digits) into an error with the scalar's line."""

    def __init__(self, text: str, max_depth: int) -> None:
        super().__init__(text)
        self.max_depth = max_depth
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"nested more than {self.max_depth} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INT_DIGITS:  # Python refuses to read it anyway, with advice meant for programmers
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of {digits:,} digits is too long", node.start_mark
            )
        return super().construct_yaml_int(node)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError) as err:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value {_short(node)}: {_one_line(str(err))}", node.start_mark
            ) from None


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _check_expansion(node: yaml.Node, limit: int, sizes: dict[int, int], active: set[int]) -> int:
    """How many values `node` stands for with every alias expanded (memoised per node, so an alias bomb
    is measured in the time of its few nodes); YamlSyntaxError past `limit` or for a node inside itself."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:
        raise YamlSyntaxError("not valid YAML: an alias refers to a node that contains it", node.start_mark.line + 1)
    active.add(key)
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        children = []
    total = 1
    for child in children:
        total += _check_expansion(child, limit, sizes, active)
        if total > limit:
            raise YamlSyntaxError(
                f"too large: the document holds more than {limit:,} values once its aliases are expanded",
                node.start_mark.line + 1,
            )
    active.discard(key)
    sizes[key] = total
    return total


def _record(node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], duplicates: list[DuplicateKey]) -> None:
    # `_check_expansion` ran first: no node contains itself, and the walk is bounded.
    if isinstance(node, yaml.MappingNode):
        last: dict[str, int] = {}  # key -> index of its last occurrence, the one yaml keeps
        seen: dict[str, int] = {}  # key -> line of its previous occurrence
        for i, (key_node, _) in enumerate(node.value):
            if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                last[key_node.value] = i
        for i, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            child = (*path, key_node.value)
            line = key_node.start_mark.line + 1
            if key_node.value in seen and key_node.value != "<<":
                duplicates.append(DuplicateKey(child, line, seen[key_node.value]))
            seen[key_node.value] = line
            if key_node.value != "<<" and last[key_node.value] != i:
                continue  # the last value wins (as yaml constructs it): only its lines are kept
            lines[child] = line
            _record(value_node, child, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _record(item, (*path, i), lines, duplicates)


def _reader_problem(err: yaml.reader.ReaderError) -> str:
    if err.character == 0:
        return "not valid YAML: a NUL byte (a binary file?)"
    return f"not valid YAML: the character #x{err.character:04x} is not allowed in YAML text"


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _short(node: yaml.Node) -> str:
    value = str(node.value) if isinstance(node, yaml.ScalarNode) else node.tag
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _line(err: yaml.MarkedYAMLError) -> int | None:
    mark = err.problem_mark or err.context_mark
    return mark.line + 1 if mark is not None else None


def _describe(err: yaml.MarkedYAMLError) -> str:
    """The parser's words without its multi-line position dump: one line a person can act on."""
    parts = [p for p in (err.context, err.problem) if p]
    return "not valid YAML: " + ("; ".join(parts) if parts else "syntax error")
