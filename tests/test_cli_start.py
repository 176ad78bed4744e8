"""`sre-agent --help` must not import the heavy libraries (its speed is measured by `sre-agent bench
cli`; here we assert the behaviour that makes it fast)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from typer.testing import CliRunner
from orchestrator.cli import app
for argv in (["--help"], ["run", "--help"], ["machines", "show", "open"], ["operator", "run", "--help"], ["crd"],
             ["operator", "webhook", "--help"]):
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, (argv, result.output)
heavy = sorted(m for m in ("litellm", "autogen_agentchat", "autogen_core", "kubernetes", "tiktoken", "kopf", "aiohttp")
               if m in sys.modules)
print(",".join(heavy))
"""


def test_help_imports_no_heavy_library() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
