"""YAML that remembers where every key and list item came from.

Validation reports errors at a field path (`spec.remediation.mode`); a person fixes them in a file, so
each path needs a line. `load_yaml` composes the document (yaml's node tree keeps start marks), records
the line of every mapping key and sequence item by path, then constructs the plain Python value from the
same nodes, so the data and the lines can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

FieldPath = tuple[str | int, ...]


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


def load_yaml(text: str) -> SourcedYaml:
    """Parse one YAML document; raises YamlSyntaxError with the line of the problem."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return SourcedYaml(None)
        lines: dict[FieldPath, int] = {(): node.start_mark.line + 1}
        duplicates: list[DuplicateKey] = []
        _record(node, (), lines, duplicates, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        raise YamlSyntaxError(_describe(err), _line(err)) from None
    except yaml.YAMLError as err:
        raise YamlSyntaxError(str(err), None) from None
    finally:
        loader.dispose()
    return SourcedYaml(data, lines, duplicates)


def _record(
    node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], duplicates: list[DuplicateKey], active: set[int]
) -> None:
    # Aliases share nodes; `active` stops a recursive alias from recursing forever.
    if id(node) in active:
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            child = (*path, key_node.value)
            line = key_node.start_mark.line + 1
            if child in lines and key_node.value != "<<":
                # The last value wins (as yaml constructs it): forget the lines under the first one.
                duplicates.append(DuplicateKey(child, line, lines[child]))
                for stale in [p for p in lines if p[: len(child)] == child]:
                    del lines[stale]
            lines[child] = line
            _record(value_node, child, lines, duplicates, active)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _record(item, (*path, i), lines, duplicates, active)
    active.discard(id(node))


def _line(err: yaml.MarkedYAMLError) -> int | None:
    mark = err.problem_mark or err.context_mark
    return mark.line + 1 if mark is not None else None


def _describe(err: yaml.MarkedYAMLError) -> str:
    """The parser's words without its multi-line position dump: one line a person can act on."""
    parts = [p for p in (err.context, err.problem) if p]
    return "not valid YAML: " + ("; ".join(parts) if parts else "syntax error")
