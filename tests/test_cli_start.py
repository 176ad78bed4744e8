"""`sre-agent --help` must not import the heavy libraries (its speed is measured by `sre-agent bench
cli`; here we assert the behaviour that makes it fast)."""

from __future__ import annotations

import subprocess
import sys

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
