"""The `sre-agent` command line.

Heavy libraries (aiohttp, kubernetes, litellm, autogen) are imported inside the commands that use
them, so `sre-agent --help` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="sre-agent",
    help="Multi-agent SRE orchestrator for Kubernetes incidents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sim_app = typer.Typer(help="The embedded Kubernetes and observability simulator.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print their figures.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")
app.add_typer(bench_app, name="bench")

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """One line on stderr and the exit code: the way every user mistake ends."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the version."""
    from . import __version__

    typer.echo(__version__)


@sim_app.command("serve")
def sim_serve(
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", "-s", help="Scenario file (ITBench itbench.io/v2 or ours), or a built-in name."),
    ] = None,
    port: Annotated[int, typer.Option("--port", "-p", help="Port on 127.0.0.1 (0 picks a free one).")] = 0,
    kubeconfig_out: Annotated[
        Path | None, typer.Option("--kubeconfig-out", help="Write a kubeconfig for this server here.")
    ] = None,
    clock: Annotated[
        str, typer.Option("--clock", help="virtual (moved by POST /sim/v1/advance) or realtime.")
    ] = "virtual",
    seed: Annotated[int, typer.Option("--seed", help="Seed for names and randomness.")] = 0,
) -> None:
    """Serve a simulated cluster until stopped; prints `listening on URL` once ready."""
    import asyncio

    if clock not in ("virtual", "realtime"):
        fail(f"--clock must be virtual or realtime, not {clock!r}")
    from .sim.builtin import resolve_scenario
    from .sim.faults import FaultError
    from .sim.runner import SimulatorServer
    from .sim.scenario import ScenarioError

    try:
        path = resolve_scenario(scenario) if scenario else None
        server = SimulatorServer.create(path, clock=clock, seed=seed, port=port)
    except (ScenarioError, FaultError, FileNotFoundError) as err:
        fail(str(err))

    async def main() -> None:
        try:
            await server.serve()
        except OSError as err:
            fail(f"cannot listen on 127.0.0.1:{port}: {err.strerror or err}")
        if kubeconfig_out:
            server.write_kubeconfig(kubeconfig_out)
        typer.echo(f"listening on {server.url}", err=False)
        sys.stdout.flush()
        try:
            await asyncio.Event().wait()
        finally:
            await server.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@sim_app.command("faults")
def sim_faults(output: Annotated[str, typer.Option("--output", "-o", help="table or json")] = "table") -> None:
    """List the fault ids the simulator implements."""
    from .sim.faults import FAULTS, NOT_SIMULATED, _load_families

    _load_families()
    rows = [
        {"index": f.index, "id": f.id, "targets": list(f.targets)}
        for f in sorted(FAULTS.values(), key=lambda f: f.index)
    ]
    if output == "json":
        typer.echo(json.dumps({"faults": rows, "notSimulated": NOT_SIMULATED}, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['index']:>3}  {r['id']:<62} {','.join(r['targets'])}")
    for fid, why in NOT_SIMULATED.items():
        typer.echo(f"  -  {fid:<62} not simulated: {why}")


@sim_app.command("scenarios")
def sim_scenarios() -> None:
    """List the built-in scenarios."""
    from .sim.builtin import builtin_scenarios

    for name, path in builtin_scenarios().items():
        typer.echo(f"{name:<40} {path.name}")


@bench_app.command("sim")
def bench_sim(
    pods: Annotated[str, typer.Option(help="Comma-separated pod counts for the list/patch figures.")] = "100,1000",
    samples: Annotated[int, typer.Option(help="Requests per latency measurement.")] = 200,
    output: Annotated[str, typer.Option("--output", "-o", help="table or json")] = "table",
) -> None:
    """Simulator figures: scenario load time, list/patch latency over HTTP, reconcile cost."""
    from .sim.bench import run_benchmark

    try:
        counts = [int(x) for x in pods.split(",") if x.strip()]
    except ValueError:
        fail(f"--pods must be comma-separated integers, not {pods!r}")
    results = run_benchmark(counts, samples)
    if output == "json":
        typer.echo(json.dumps(results, indent=2))
    else:
        for line in results["lines"]:
            typer.echo(line)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
