"""The `sre-agent` command line.

Heavy libraries (aiohttp, kubernetes, litellm, autogen) are imported inside the commands that use
them, so `sre-agent --help` stays fast. The commands live in one module per group; this module
assembles them in the order `--help` shows them.
"""

from __future__ import annotations

import gc

import typer

from .ask import analyze_command, ask
from .bench import bench_app
from .catalogue import crd_command, machines_app, schema_app, tools_list, version
from .common import EXIT_BAD_INPUT, EXIT_CLUSTER, fail
from .mast import mast_app
from .operator import operator_app
from .run import resume, run, validate
from .simulator import sim_app
from .slack import slack_command

__all__ = ["EXIT_BAD_INPUT", "EXIT_CLUSTER", "app", "main"]

app = typer.Typer(
    name="sre-agent",
    help="Multi-agent SRE orchestrator for Kubernetes incidents.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
    log_level: str | None = typer.Option(
        None, "--log-level", help="debug, info, warning or error: what reaches stderr (default warning)."
    ),
    log_format: str | None = typer.Option(None, "--log-format", help="json (default) or console."),
) -> None:
    """Multi-agent SRE orchestrator for Kubernetes incidents."""
    if log_level is None and log_format is None:
        return
    import os

    from ..logs import FORMAT_ENV, FORMATS, LEVEL_ENV, LEVELS

    for value, allowed, name, env in (
        (log_level, LEVELS, "--log-level", LEVEL_ENV),
        (log_format, FORMATS, "--log-format", FORMAT_ENV),
    ):
        if value is None:
            continue
        if value.lower() not in allowed:
            fail(f"{name} must be {', '.join(allowed[:-1])} or {allowed[-1]}, not {value!r}")
        os.environ[env] = value.lower()  # read by logs.configure, in this process and the runs it starts


app.add_typer(sim_app, name="sim")
app.add_typer(bench_app, name="bench")
app.add_typer(machines_app, name="machines")
app.add_typer(schema_app, name="schema")
app.add_typer(mast_app, name="mast")
app.add_typer(operator_app, name="operator")

app.command()(version)
app.command()(run)
app.command()(resume)
app.command("slack")(slack_command)
app.command()(validate)
app.command("ask")(ask)
app.command("analyze")(analyze_command)
app.command("tools")(tools_list)
app.command("crd")(crd_command)


def main() -> None:
    try:
        app()
    finally:
        # What is alive now dies with the process. Frozen, the interpreter's closing collections skip it:
        # after a run on a large simulated cluster they walked it for seconds.
        gc.freeze()
