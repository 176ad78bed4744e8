"""`bench`: the scenario-suite benchmark and the timings of parts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import check_output, csv_items, fail, print_structured

bench_app = typer.Typer(help="Benchmarks that print their figures.")


@bench_app.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    suite: Annotated[
        str | None,
        typer.Option(help="builtin, or a folder of ITBench scenario folders (scenario.yaml + groundtruth.yaml)."),
    ] = None,
    models: Annotated[str, typer.Option(help="Comma-separated models (builtin/... or any litellm model).")] = (
        "builtin/playbook"
    ),
    mitigations: Annotated[str, typer.Option(help="on, off, or on,off (each is an arm).")] = "on",
    seeds: Annotated[int, typer.Option(help="Runs per scenario, model and arm (seeds 0..N-1).")] = 1,
    jobs: Annotated[int, typer.Option(help="Worker processes; 0 = one per core.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Folder for results.json, reports and every run.")] = None,
    only: Annotated[str | None, typer.Option(help="Comma-separated scenario names to keep.")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server for litellm models.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="table, json or yaml")] = "table",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run models x mitigations x seeds over a scenario suite and score every run against ground truth.

    Writes results.json, results.csv, runs.csv, results.md, recall.png, modes.png and report.html into
    --out (default runs/bench-TIMESTAMP), with every run's directory under runs/. Subcommands time parts.
    """
    if ctx.invoked_subcommand is not None:
        return
    if suite is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    check_output(output, "table")
    import os
    import time

    from ..bench.plan import make_plan, run_plan
    from ..bench.report import markdown_table
    from ..bench.suite import SuiteError
    from ..logs import configure
    from ..models.errors import ModelError

    try:
        plan = make_plan(
            suite, csv_items(models), csv_items(mitigations), seeds, csv_items(only) if only else None, base_url
        )
    except (SuiteError, ModelError, ValueError) as err:
        fail(str(err))
    configure("warning")
    jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
    out = out or Path("runs") / time.strftime("bench-%Y%m%d-%H%M%S")
    tasks = len(plan.tasks())
    if quiet or output != "table":
        results = run_plan(plan, out, jobs=jobs)
    else:
        from ..bench.progress import BenchProgress

        with BenchProgress(tasks, f"{len(plan.cases)} scenarios, {jobs} jobs") as progress:
            results = run_plan(plan, out, jobs=jobs, on_done=progress.advance)
    if print_structured(output, {k: results[k] for k in ("arms", "detectors", "wall_seconds")}):
        return
    typer.echo(markdown_table(results))
    typer.echo(f"\n{tasks} runs in {results['wall_seconds']} s; results and report.html in {out}")


@bench_app.command("sim")
def bench_sim(
    pods: Annotated[str, typer.Option(help="Comma-separated pod counts for the list/patch figures.")] = "100,1000",
    samples: Annotated[int, typer.Option(help="Requests per latency measurement.")] = 200,
    output: Annotated[str, typer.Option("--output", "-o", help="table, json or yaml")] = "table",
    incident_pods: Annotated[
        int, typer.Option(help="Also time one whole `sre-agent run` of an incident at about this many pods (0: off).")
    ] = 0,
) -> None:
    """Simulator figures: scenario load time, list/patch latency over HTTP, reconcile cost."""
    check_output(output, "table")
    if incident_pods < 0:
        fail(f"--incident-pods must be 0 or more, not {incident_pods}")
    from ..sim import run_benchmark

    try:
        counts = [int(x) for x in pods.split(",") if x.strip()]
    except ValueError:
        fail(f"--pods must be comma-separated integers, not {pods!r}")
    results = run_benchmark(counts, samples)
    if incident_pods:
        from ..bench.incident_run import add_incident_run

        add_incident_run(results, incident_pods)
    if not print_structured(output, results):
        for line in results["lines"]:
            typer.echo(line)


@bench_app.command("mast")
def bench_mast(events: Annotated[int, typer.Option(help="Events in the synthetic trace.")] = 10_000) -> None:
    """Time to annotate a synthetic trace with the MAST detectors (goal < 1 s for 10,000 events)."""
    from ..mast.bench import bench_annotate

    typer.echo(json.dumps(bench_annotate(events), indent=2, default=str))


@bench_app.command("cli")
def bench_cli(samples: Annotated[int, typer.Option(help="How many `sre-agent --help` runs.")] = 10) -> None:
    """Start-up time of `sre-agent --help` in a fresh interpreter (goal < 0.5 s)."""
    import statistics
    import subprocess
    import time

    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "orchestrator.cli", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    typer.echo(f"sre-agent --help: p50 {statistics.median(times):.3f} s, max {max(times):.3f} s over {samples} runs")
