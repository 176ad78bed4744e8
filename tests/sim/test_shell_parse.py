"""The container shell parses a script the way POSIX shells do before running any of it: quoted newlines
stay in their word, comments are dropped, and a stray closing word rejects the whole script."""

from __future__ import annotations

import pytest

from orchestrator.sim.controllers.kubelet import ShellSyntaxError, parse_script, tokenize


def test_a_quoted_newline_belongs_to_its_word() -> None:
    assert tokenize("echo 'first\nsecond'; exit 1") == ["echo", "first\nsecond", ";", "exit", "1", ";"]


def test_comments_end_at_the_line_and_a_hash_inside_a_word_stays() -> None:
    script = "#!/bin/sh\nwhile true; do # poll\n  echo a#b\n  sleep 5\ndone"
    assert [t for t in tokenize(script) if t != ";"] == ["while", "true", "do", "echo", "a#b", "sleep", "5", "done"]


def test_an_escaped_quote_does_not_end_a_double_quoted_word() -> None:
    assert tokenize('echo "say \\"hi\\""\necho next')[:4] == ["echo", 'say "hi"', ";", "echo"]


@pytest.mark.parametrize("script", ["while true; do sleep 10; done; fi", "echo a; done", "then echo"])
def test_a_stray_closing_word_is_a_syntax_error(script: str) -> None:
    with pytest.raises(ShellSyntaxError, match="unexpected"):
        parse_script(script)


def test_an_unterminated_quote_is_a_syntax_error() -> None:
    with pytest.raises(ShellSyntaxError, match="unterminated"):
        parse_script("echo 'no end")
