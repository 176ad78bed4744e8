"""`sre-agent --help` must not import the heavy libraries (its speed is measured by `sre-agent bench
cli`; here we assert the behaviour that makes it fast)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from typer.testing import CliRunner
from orchestrator.cli import app
for argv in (["--help"], ["--version"], ["run", "--help"], ["slack", "--help"], ["machines", "show", "open"],
             ["operator", "run", "--help"], ["crd"], ["operator", "webhook", "--help"]):
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, (argv, result.output)
heavy = sorted(m for m in ("litellm", "autogen_agentchat", "autogen_core", "kubernetes", "tiktoken", "slack_bolt",
                           "slack_sdk", "kopf", "aiohttp") if m in sys.modules)
print(",".join(heavy))
"""


def test_help_imports_no_heavy_library() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_version_and_python_dash_m() -> None:
    from orchestrator import __version__

    for argv in (["-m", "orchestrator", "--version"], ["-m", "orchestrator", "version"]):
        out = subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == __version__
    helped = subprocess.run(
        [sys.executable, "-m", "orchestrator", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage: python -m orchestrator" in helped.stdout and "run" in helped.stdout


def test_yaml_output_is_the_json_document() -> None:
    import json

    import yaml
    from typer.testing import CliRunner

    from orchestrator.cli import app

    runner = CliRunner()
    as_json = json.loads(runner.invoke(app, ["sim", "faults", "-o", "json"]).stdout)
    as_yaml = yaml.safe_load(runner.invoke(app, ["sim", "faults", "-o", "yaml"]).stdout)
    assert as_json == as_yaml and as_json["faults"]
    bad = runner.invoke(app, ["sim", "faults", "-o", "xml"])
    assert bad.exit_code == 2 and "-o must be table, json or yaml, not 'xml'" in bad.output


def test_log_level_and_format() -> None:
    env = {"SRE_AGENT_LOG_LEVEL": "", "SRE_AGENT_LOG_FORMAT": ""}
    probe = (
        "import structlog, sys\n"
        "from orchestrator.cli import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, sys.argv[1:] + ['sim', 'faults', '-o', 'json'])\n"
        "from orchestrator.logs import configure\n"
        "configure('warning')\n"
        "structlog.get_logger().info('hello', secret_token='ghp_' + 'a' * 36)\n"
        "print(r.exit_code)\n"
    )
    quiet = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env={**_env(), **env})
    assert quiet.stdout.strip() == "0" and "hello" not in quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-c", probe, "--log-level", "info", "--log-format", "console"],
        capture_output=True, text=True, env={**_env(), **env},
    )  # fmt: skip
    assert loud.stdout.strip() == "0" and "hello" in loud.stderr and not loud.stderr.lstrip().startswith("{")
    assert "ghp_" not in loud.stderr  # masked in the console format too


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_shell_completion_script() -> None:
    from typer.testing import CliRunner

    from orchestrator.cli import app

    out = CliRunner().invoke(app, ["--show-completion", "bash"])
    assert out.exit_code == 0 and "_sre_agent_completion" in out.stdout and "complete " in out.stdout


def test_the_run_directory_flag_and_its_earlier_name(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from orchestrator.cli import app

    for flag in ("--output-dir", "--output"):
        out = tmp_path / flag.strip("-")
        result = CliRunner().invoke(app, ["run", "builtin:image", flag, str(out), "-q", "-o", "json"])
        assert result.exit_code == 0 and (out / "report.json").is_file(), result.output
