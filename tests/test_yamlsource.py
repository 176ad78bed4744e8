"""YAML from anyone: bounded before it is walked, every problem one line with its line number, and the
lines of keys and items still right for documents that use aliases, merges and repeated keys."""

from __future__ import annotations

import gc
import time

import pytest

from orchestrator.yamlsource import MAX_DEPTH, MAX_VALUES, YamlSyntaxError, load_yaml


def bomb(levels: int, width: int = 10) -> str:
    lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_in_the_time_of_its_few_lines() -> None:
    started = time.process_time()
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml(bomb(levels=30))  # 10^30 values once expanded
    assert time.process_time() - started < 1.0
    assert caught.value.message == (
        f"too large: the document holds more than {MAX_VALUES:,} values once its aliases are expanded"
    )
    assert caught.value.line == 5  # the first level whose expansion passes the bound


def test_aliases_within_the_bound_load_and_keep_their_lines() -> None:
    doc = load_yaml("base: &b {image: web:1, port: 80}\nweb: *b\napi:\n  <<: *b\n  port: 81\n")
    assert doc.data == {
        "base": {"image": "web:1", "port": 80},
        "web": {"image": "web:1", "port": 80},
        "api": {"image": "web:1", "port": 81},
    }
    assert doc.line_of(("web", "image")) == 1  # an alias's keys are where the anchored node was written
    assert doc.line_of(("api", "port")) == 5
    assert doc.duplicates == []


def test_a_repeated_key_keeps_the_lines_of_its_last_value_only() -> None:
    doc = load_yaml("a:\n  x: 1\n  y: 2\nb: 0\na:\n  x: 3\na:\n  z: 4\n")
    assert doc.data == {"a": {"z": 4}, "b": 0}
    assert [(d.path, d.line, d.first_line) for d in doc.duplicates] == [(("a",), 5, 1), (("a",), 7, 5)]
    assert doc.line_of(("a", "z")) == 8
    assert ("a", "x") not in doc.lines and ("a", "y") not in doc.lines


def test_many_repeated_keys_stay_linear() -> None:
    """Ten times the keys cost about ten times as much (a quadratic walk would cost a hundred times): a
    ratio of CPU times on the same machine, not a deadline that a slow or busy one would miss."""

    def cost(n: int) -> float:
        text = "".join(f"k: {i}\n" for i in range(n))
        started = time.process_time()
        doc = load_yaml(text)
        spent = time.process_time() - started
        assert doc.data == {"k": n - 1} and len(doc.duplicates) == n - 1
        return spent

    # The collector is off while measuring: a full collection the rest of the process owes (after a large
    # suite, a simulator's heap unfrozen at its stop) must not land in one window. The best of three of each
    # size leaves out what another process on a busy machine took from this one's caches.
    gc.collect()
    gc.disable()
    try:
        small = min(cost(2_000) for _ in range(3))
        large = min(cost(20_000) for _ in range(3))
    finally:
        gc.enable()
    assert large < 40 * small


def test_nesting_is_bounded_before_the_parser_recurses() -> None:
    fits = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert load_yaml(fits).data is not None
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml("a:\n  b: " + "[" * 50_000 + "]" * 50_000)
    assert caught.value.message == f"not valid YAML: nested more than {MAX_DEPTH} levels deep"
    assert caught.value.line == 2


def test_a_node_inside_itself_is_refused() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml("a: 1\nloop: &l {self: *l}\n")
    assert (caught.value.line, caught.value.message) == (
        2,
        "not valid YAML: an alias refers to a node that contains it",
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\nb: 'x\0y'\n", 2, "not valid YAML: a NUL byte (a binary file?)"),
        ("a: 1\n\nb: \x1b[31m\n", 3, "not valid YAML: the character #x001b is not allowed in YAML text"),
        ("a: 1\nn: " + "7" * 4500 + "\n", 2, "not valid YAML: an integer of 4,500 digits is too long"),
        ("when: 2023-02-30\n", 1, "not valid YAML: cannot read the value '2023-02-30': day is out of range for month"),
    ],
)
def test_reader_and_scalar_errors_are_one_line_with_their_line(text: str, line: int, message: str) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml(text)
    assert (caught.value.line, caught.value.message) == (line, message)
