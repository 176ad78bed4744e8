"""Run the real CLI in-process against incident files, and read what a run left behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from orchestrator.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "incidents"


def write_incident(tmp: Path, name: str, scenario: Path | str, **spec: Any) -> Path:
    doc = {
        "apiVersion": "sre-agent.dev/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": name},
        "spec": {
            "summary": spec.pop("summary", "users report errors"),
            "cluster": {"simulate": {"scenario": str(scenario)}},
            **spec,
        },
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_cli(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(argv), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def events(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "trace.jsonl").read_text().splitlines() if line.strip()]


def root_causes(run_dir: Path) -> set[str]:
    out = json.loads((run_dir / "agent_output.json").read_text())
    return {e["name"] for e in out["entities"] if e["contributing_factor"]}


def writes(run_dir: Path) -> list[dict[str, Any]]:
    return [e["data"]["write"] for e in events(run_dir) if e["kind"] == "tool_result" and e["data"].get("write")]
