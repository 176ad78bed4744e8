"""The README is the tested entry point: every command it shows exists with the options it uses, every
file it names is there, every incident it shows validates, and the commands that need no model or cluster
run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from orchestrator.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# Commands that read only local files: run each exactly as the README shows it.
OFFLINE = {("validate",), ("schema", "incident"), ("machines", "show"), ("machines", "list"), ("tools",)}


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def commands() -> list[list[str]]:
    """Every `sre-agent ...` line of the sh blocks, continuation lines joined, comments dropped."""
    found = []
    for block in blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip().rstrip("&").strip()
            words = shlex.split(line) if line else []
            if words and words[0].endswith("sre-agent"):
                found.append(words[1:])
    return found


def resolve(words: list[str]) -> tuple[tuple[str, ...], Any, list[str]]:
    """The subcommand path, the (click) command it names and the words after it."""
    cmd: Any = typer.main.get_command(app)
    path: list[str] = []
    rest = list(words)
    while hasattr(cmd, "get_command") and rest and not rest[0].startswith("-"):
        sub = cmd.get_command(None, rest[0])
        assert sub is not None, f"README: `sre-agent {' '.join(words)}`: no command {rest[0]!r}"
        path.append(rest.pop(0))
        cmd = sub
    return tuple(path), cmd, rest


CASES = commands()


def test_the_readme_shows_commands() -> None:
    assert len(CASES) >= 10
    first = [line.split("#")[0].strip() for line in blocks("sh")[0].splitlines()]
    assert first == ["make demo", "make test"]  # the two commands come first


@pytest.mark.parametrize("words", CASES, ids=[" ".join(w)[:60] for w in CASES])
def test_command_exists_with_its_options(words: list[str]) -> None:
    path, cmd, rest = resolve(words)
    known = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)}
    for word in rest:
        if word.startswith("-"):
            assert word.split("=", 1)[0] in known, f"`sre-agent {' '.join(words)}`: {word} is not an option"
        elif re.match(r"^(examples|orchestrator|roles|playbooks)/", word):
            assert (ROOT / word).exists(), f"`sre-agent {' '.join(words)}`: {word} does not exist"


@pytest.mark.parametrize("words", [w for w in CASES if resolve(w)[0] in OFFLINE])
def test_offline_command_runs_as_written(words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As a reader would: in a folder holding the README's incident saved as incident.yaml, beside examples/.
    (tmp_path / "incident.yaml").write_text(next(b for b in blocks("yaml") if "kind: Incident" in b))
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, words)
    assert result.exit_code == 0, result.output


def test_incident_examples_validate(tmp_path: Path) -> None:
    incidents = [b for b in blocks("yaml") if "kind: Incident" in b]
    assert incidents
    for i, text in enumerate(incidents):
        path = tmp_path / f"readme-{i}.yaml"
        path.write_text(text)
        result = CliRunner().invoke(app, ["validate", str(path)])
        assert result.exit_code == 0, f"README incident #{i}: {result.output}"


def test_python_examples_run() -> None:
    for text in blocks("python"):
        exec(compile(text, "README.md", "exec"), {})


def test_every_exit_code_is_documented_in_the_readme_and_the_run_help() -> None:
    from orchestrator import cli
    from orchestrator.engine import state

    codes = {value for name, value in vars(state).items() if name.startswith("EXIT_")}
    assert codes == set(range(7))
    assert {int(c) for c in re.findall(r"^\| \*\*(\d)\*\* \|", README, flags=re.M)} == codes
    shown = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "100"}).stdout
    assert {int(c) for c in re.findall(r"^\W*(\d) [a-z]", shown, flags=re.M)} == codes
    assert (cli.EXIT_BAD_INPUT, cli.EXIT_CLUSTER) == (state.EXIT_BAD_INPUT, state.EXIT_CLUSTER)
