"""`ask` and `analyze`: a question answered by a read-only investigation, and the model-free analysis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import BASE_URL_ENV, MODEL_ENV, check_output, connect_cluster, csv_items, fail, print_structured
from .incident_input import check_model_choice


def ask(
    question: Annotated[str, typer.Argument(help='What to find out, e.g. "why is checkout slow".')],
    namespace: Annotated[list[str], typer.Option("--namespace", "-n", help="Namespace to look in (repeat).")],
    kube_context: Annotated[str | None, typer.Option("--context", help="Kubeconfig context.")] = None,
    kubeconfig: Annotated[Path | None, typer.Option("--kubeconfig", help="Kubeconfig file.")] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Ask about the embedded simulator running this scenario.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", envvar=MODEL_ENV, help="As for run.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", envvar=BASE_URL_ENV, help="As for run.")] = None,
    output: Annotated[str, typer.Option("-o", help="text, json or yaml")] = "text",
) -> None:
    """A one-off question, answered by a read-only investigation: nothing in the cluster is changed.

    Exit codes: 0 answered; 2 bad input; 5 cluster unreachable; 6 the model cannot be used."""
    import asyncio

    from ..cluster import parse_checked_incident
    from ..engine import RunOptions, run_incident
    from ..engine.state import root_causes
    from ..incident import IncidentError
    from ..logs import configure

    check_output(output)
    if scenario and (kube_context or kubeconfig):
        fail("--scenario runs on the embedded simulator; it does not take --context or --kubeconfig")
    # A built-in scenario by name (as `analyze --scenario` takes it), or a scenario file.
    named = scenario and not scenario.startswith("builtin:") and not Path(scenario).exists()
    cluster: dict[str, Any] = (
        {"simulate": {"scenario": f"builtin:{scenario}" if named else scenario}} if scenario else {}
    )
    if kube_context:
        cluster["context"] = kube_context
    if kubeconfig:
        cluster["kubeconfig"] = str(kubeconfig.expanduser().resolve())
    spec: dict[str, Any] = {
        "summary": question,
        "scope": {"namespaces": namespace},
        "remediation": {"mode": "off"},  # read-only, whatever the model proposes
        **({"cluster": cluster} if cluster else {}),
    }
    doc = {"apiVersion": "sre-agent.dev/v1alpha1", "kind": "Incident", "metadata": {"name": "ask"}, "spec": spec}
    try:
        incident = parse_checked_incident(json.dumps(doc), source="the question")
    except IncidentError as err:
        fail(str(err).splitlines()[0])
    check_model_choice(incident, model, None, base_url)
    configure("warning")
    result = asyncio.run(run_incident(incident, RunOptions(model=model, base_url=base_url)))
    if result.status == "error":
        fail(result.reason, result.exit_code)
    d = result.diagnosis or {}
    answer: dict[str, Any] = {
        "question": question,
        "answer": d.get("summary") or result.reason,
        "root_causes": root_causes(d),
        "proposed_change": list(d.get("mitigations") or []),
        "run_directory": str(result.output_dir),
    }
    if print_structured(output, answer):
        return
    typer.echo(answer["answer"])
    for root in answer["root_causes"]:
        typer.echo(f"root cause: {root}")
    for m in answer["proposed_change"]:
        typer.echo(f"would change: {m.get('action')} {json.dumps(m.get('args'), separators=(',', ':'))} (not applied)")
    typer.echo(f"run directory: {answer['run_directory']}")


def analyze_command(
    namespace: Annotated[
        list[str], typer.Option("--namespace", "-n", help="Namespace to analyze (repeat for several).")
    ],
    kube_context: Annotated[str | None, typer.Option("--context", help="Kubeconfig context.")] = None,
    kubeconfig: Annotated[Path | None, typer.Option("--kubeconfig", help="Kubeconfig file.")] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Analyze the embedded simulator running this built-in scenario.")
    ] = None,
    kinds: Annotated[
        str | None, typer.Option("--filter", help="Comma-separated kinds whose analyzers run (default: all).")
    ] = None,
    alertmanager: Annotated[
        str | None,
        typer.Option(
            "--alertmanager",
            help="Alertmanager URL: its firing alerts join the analysis (a rule group Prometheus cannot "
            "evaluate is named only there). --scenario uses the simulator's.",
        ),
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="table, json or yaml")] = "table",
) -> None:
    """Find what is wrong in the namespaces from Kubernetes' own semantics (no model involved).

    Exit codes: 0 analyzed (with or without findings); 2 bad input (or reads the cluster refused);
    5 the cluster does not answer or refuses the credentials.
    """
    from ..analyzers import (
        REGISTRY,
        ReadFailure,
        Scope,
        UnknownKind,
        analyze,
        needed_kinds,
        needed_normal_events,
        read_snapshot,
    )
    from ..analyzers.reader import read_alerts
    from ..analyzers.render import FORMATS, render

    if output not in FORMATS:
        fail(f"-o must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}, not {output!r}")
    wanted = csv_items(kinds) if kinds else None
    try:
        defs = REGISTRY.select(wanted)
    except UnknownKind as err:
        fail(str(err))
    if scenario and (kube_context or kubeconfig):
        fail("--scenario runs the embedded simulator; it does not take --context or --kubeconfig")
    simulator = _start_simulator(scenario) if scenario else None
    try:
        api = simulator[1] if simulator else connect_cluster(kube_context, kubeconfig)
        try:
            result = read_snapshot(api, namespace, needed_kinds(defs), normal_events=needed_normal_events(defs))
            url = alertmanager or (simulator[0].url if simulator else None)
            if url:
                result.snapshot.alerts = read_alerts(url)
        except ReadFailure as err:
            fail(str(err))
        report = analyze(result.snapshot, Scope(tuple(dict.fromkeys(namespace))), wanted)
    finally:
        if simulator:
            simulator[0].stop()
    typer.echo(render(report, output), nl=False)


# How long the simulator lets a scenario's fault develop before analysis: until an alert fires (as when
# an incident is paged), at most ten minutes of virtual time.
ANALYZE_SETTLE_SECONDS = 600
ANALYZE_STEP_SECONDS = 30


def _start_simulator(name: str):  # noqa: ANN202 - (SimulatorServer, ApiClient), imported lazily
    from kubernetes import client

    from ..cluster import scenario_file_problem
    from ..sim import FaultError, ScenarioError, SimulatorServer, resolve_scenario

    try:
        path = resolve_scenario(name)
        problem = scenario_file_problem(path)
        if problem is not None:
            fail(problem)
        sim = SimulatorServer.start(scenario=path)
    except (ScenarioError, FaultError, FileNotFoundError, ValueError) as err:
        fail(str(err))
    waited = 0
    while waited < ANALYZE_SETTLE_SECONDS and not sim.call(lambda: sim.cluster.observability.alerts.firing()):
        sim.advance(ANALYZE_STEP_SECONDS)
        waited += ANALYZE_STEP_SECONDS
    config = sim.client_configuration()
    config.retries = 1
    return sim, client.ApiClient(config)
