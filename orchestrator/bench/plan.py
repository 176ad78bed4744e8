"""A bench plan (suite × models × mitigations × seeds) and running it to `results.json` and its reports."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .runner import Task, run_tasks
from .suite import Case, load_suite


@dataclass(frozen=True)
class Plan:
    suite: str
    cases: list[Case]
    models: list[str]
    mitigations: list[bool]
    seeds: int
    base_url: str | None = None

    def tasks(self) -> list[Task]:
        # seed-major order: the first results already span every arm, so an interrupted bench is comparable
        return [
            Task(case, model, arm, seed, self.base_url)
            for seed in range(self.seeds)
            for case in self.cases
            for model in self.models
            for arm in self.mitigations
        ]


def make_plan(
    suite: str,
    models: list[str],
    mitigations: list[str],
    seeds: int,
    only: list[str] | None = None,
    base_url: str | None = None,
) -> Plan:
    """Validate the user's choices; ValueError (one line) names the one at fault."""
    bad = [m for m in mitigations if m not in ("on", "off")]
    if bad or not mitigations:
        raise ValueError(f"--mitigations: expected on, off or on,off; got {','.join(mitigations) or 'nothing'}")
    if not models:
        raise ValueError("--models: name at least one model")
    if seeds < 1:
        raise ValueError(f"--seeds: must be at least 1, got {seeds}")
    from ..models import canonical_model, check_model_choice

    # a model named twice (or by its alias) is one arm, not two runs into one folder
    models = list(dict.fromkeys(canonical_model(m) for m in models))
    for model in models:
        check_model_choice(None, model, None, base_url)
    arms = [m == "on" for m in dict.fromkeys(mitigations)]
    return Plan(suite, load_suite(suite, only), models, arms, seeds, base_url)


def run_plan(
    plan: Plan, out: Path, jobs: int = 1, on_done: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Run every task, then write results.json and the reports into `out`; returns the results."""
    from .report import write_reports
    from .results import build_results

    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    rows = run_tasks(plan.tasks(), out, jobs=jobs, on_done=on_done)
    results = build_results(
        rows,
        {
            "suite": plan.suite,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "models": plan.models,
            "mitigations": ["on" if m else "off" for m in plan.mitigations],
            "seeds": plan.seeds,
            "scenarios": [c.name for c in plan.cases],
            "jobs": jobs,
            "wall_seconds": round(time.monotonic() - started, 1),
        },
    )
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_reports(results, out)
    return results
