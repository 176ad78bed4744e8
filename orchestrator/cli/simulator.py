"""`sim`: the embedded Kubernetes and observability simulator, served and listed."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import check_output, fail, print_structured

sim_app = typer.Typer(help="The embedded Kubernetes and observability simulator.", no_args_is_help=True)


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
    alert_rules: Annotated[
        str,
        typer.Option(
            "--alert-rules",
            help="kube-prometheus (its rules and real `for:` durations) or library (the compressed "
            "durations the built-in scenarios and the bench were tuned with).",
        ),
    ] = "kube-prometheus",
    alert_for_scale: Annotated[
        float,
        typer.Option("--alert-for-scale", help="Multiply every alert rule's `for:` (0.1 for demos: 15m becomes 90s)."),
    ] = 1.0,
    clock_lead: Annotated[
        float,
        typer.Option(
            "--clock-lead",
            help="Start the cluster clock this many seconds before the wall clock, so that skipping ahead "
            "(POST /sim/v1/advance) up to that much keeps kubectl's client-side event ages valid.",
        ),
    ] = 3600.0,
    nodes: Annotated[
        int | None, typer.Option("--nodes", envvar="SRE_AGENT_SIM_NODES", help="Worker nodes (default 3).")
    ] = None,
    node_cpu: Annotated[
        str | None, typer.Option("--node-cpu", envvar="SRE_AGENT_SIM_NODE_CPU", help="CPU of each worker (default 8).")
    ] = None,
    node_memory: Annotated[
        str | None,
        typer.Option("--node-memory", envvar="SRE_AGENT_SIM_NODE_MEMORY", help="Memory of each worker (default 32Gi)."),
    ] = None,
    node_labels: Annotated[
        list[str] | None, typer.Option("--node-labels", help="k=v label on every worker (repeatable).")
    ] = None,
    node_taints: Annotated[
        list[str] | None, typer.Option("--node-taints", help="k=v:Effect taint on every worker (repeatable).")
    ] = None,
    gpus: Annotated[int | None, typer.Option("--gpus", help="nvidia.com/gpu on each worker (default 0).")] = None,
    system_pods: Annotated[
        bool,
        typer.Option(
            "--system-pods/--no-system-pods",
            help="Run kind's kube-system components (CoreDNS, kube-proxy, kindnet, the control plane's static pods).",
        ),
    ] = True,
    images: Annotated[
        list[Path] | None,
        typer.Option(
            "--images",
            envvar="SRE_AGENT_SIM_IMAGES",
            help="An image catalogue file of your own (format: orchestrator/sim/runtime/images.yaml), for images "
            "the simulator does not know (repeatable; $SRE_AGENT_SIM_IMAGES holds paths separated by ':').",
        ),
    ] = None,
) -> None:
    """Serve a simulated cluster until stopped; prints `listening on URL` once ready.

    Node flags shape the workers and win over a scenario's `cluster:` block."""
    import asyncio

    if clock not in ("virtual", "realtime"):
        fail(f"--clock must be virtual or realtime, not {clock!r}")
    if alert_rules not in ("kube-prometheus", "library"):
        fail(f"--alert-rules must be kube-prometheus or library, not {alert_rules!r}")
    if alert_for_scale < 0:
        fail(f"--alert-for-scale cannot be negative ({alert_for_scale})")
    if clock_lead < 0:
        fail(f"--clock-lead cannot be negative ({clock_lead})")
    from ..cluster import scenario_file_problem
    from ..sim import (
        CatalogueError,
        FaultError,
        ScenarioError,
        ShapeError,
        SimulatorServer,
        resolve_scenario,
        shape_from_flags,
    )

    try:
        shape = shape_from_flags(nodes, node_cpu, node_memory, node_labels, node_taints, gpus)
        path = resolve_scenario(scenario) if scenario else None
        problem = scenario_file_problem(path) if path is not None else None
        if problem is not None:
            fail(problem)
        server = SimulatorServer.create(
            path,
            clock=clock,
            seed=seed,
            port=port,
            alert_rules=alert_rules,
            alert_for_scale=alert_for_scale,
            clock_lead=clock_lead,
            shape=shape,
            system_pods=system_pods,
            images=list(images or ()),
        )
    except (ScenarioError, FaultError, FileNotFoundError, ShapeError, CatalogueError) as err:
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
def sim_faults(output: Annotated[str, typer.Option("--output", "-o", help="table, json or yaml")] = "table") -> None:
    """List the fault ids the simulator implements."""
    check_output(output, "table")
    from ..sim import NOT_SIMULATED, simulated_faults

    rows = [{"index": f.index, "id": f.id, "targets": list(f.targets)} for f in simulated_faults()]
    if print_structured(output, {"faults": rows, "notSimulated": NOT_SIMULATED}):
        return
    for f in simulated_faults():
        typer.echo(f"{f.index:>3}  {f.id:<62} {','.join(f.targets)}")
    for fid, why in NOT_SIMULATED.items():
        typer.echo(f"  -  {fid:<62} not simulated: {why}")


@sim_app.command("scenarios")
def sim_scenarios() -> None:
    """List the built-in scenarios."""
    from ..sim import builtin_scenarios

    for name, path in builtin_scenarios().items():
        typer.echo(f"{name:<40} {path.name}")
