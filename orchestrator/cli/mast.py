"""`mast`: MAST failure-mode annotation of saved runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import check_output, fail, print_structured

mast_app = typer.Typer(help="MAST failure-mode annotation of runs.", no_args_is_help=True)


@mast_app.command("annotate")
def mast_annotate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (with trace.jsonl).")],
    judge: Annotated[str | None, typer.Option("--judge", help="LLM judge for undecided modes.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server for the judge.")] = None,
    output: Annotated[str, typer.Option("-o", help="text, json or yaml")] = "text",
) -> None:
    """Re-annotate a saved run with MAST's 14 failure modes; rewrites RUN_DIR/mast.json."""
    check_output(output)
    from ..mast.annotate import MastInputError, annotate_run_dir

    try:
        mast = annotate_run_dir(run_dir).to_dict()
        if judge:
            from ..engine.outputs import judge_undecided

            report = json.loads((run_dir / "report.json").read_text()) if (run_dir / "report.json").is_file() else {}
            mast = judge_undecided(run_dir, mast, judge, report.get("model"), base_url)
    except (MastInputError, ValueError) as err:
        fail(str(err))
    if print_structured(output, mast):
        return
    for key, value in mast["mast_annotation"].items():
        info = mast["modes"].get(key, {})
        shown = {1: "present", 0: "absent", None: "not assessable"}[value]
        detail = f"  {info.get('rule', '')} {info.get('events', '')}" if value == 1 else ""
        typer.echo(f"FM-{key:<4} {shown}{detail}")
    typer.echo(f"failed: {mast['failed']}; fatal modes: {', '.join(mast['fatal_modes']) or 'none'}")


@mast_app.command("summarize")
def mast_summarize(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories.")],
    output: Annotated[str, typer.Option("-o", help="text, json or yaml")] = "text",
) -> None:
    """Per model: runs, task recall, failed runs, modes per failed run, mode rates in failed vs successful runs."""
    check_output(output)
    from ..mast.annotate import MastInputError
    from ..mast.summarize import render_table, summarize

    try:
        summary = summarize(run_dirs)
    except MastInputError as err:
        fail(str(err))
    if not print_structured(output, summary):
        typer.echo(render_table(summary))
