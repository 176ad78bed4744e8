"""The `sre-agent` command line.

Heavy libraries (aiohttp, kubernetes, litellm, autogen) are imported inside the commands that use
them, so `sre-agent --help` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="sre-agent",
    help="Multi-agent SRE orchestrator for Kubernetes incidents.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
sim_app = typer.Typer(help="The embedded Kubernetes and observability simulator.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print their figures.")
machines_app = typer.Typer(help="The per-model-class state machines.", no_args_is_help=True)
mast_app = typer.Typer(help="MAST failure-mode annotation of runs.", no_args_is_help=True)
schema_app = typer.Typer(help="JSON schemas of the files sre-agent reads.", no_args_is_help=True)
operator_app = typer.Typer(
    help="Run Incidents in the cluster (the Incident CRD: `sre-agent crd`).", no_args_is_help=True
)


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

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

    from .logs import FORMAT_ENV, FORMATS, LEVEL_ENV, LEVELS

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

EXIT_BAD_INPUT = 2
# The model settings' precedence: the flag, then these variables, then the incident's spec.model.
MODEL_ENV, BASE_URL_ENV = "SRE_AGENT_MODEL", "SRE_AGENT_BASE_URL"
EXIT_CLUSTER = 5  # as orchestrator.engine.state says; the CLI does not import the engine to print --help


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """One line on stderr and the exit code: the way every user mistake ends (secrets masked: an error may
    quote the cluster)."""
    from .redaction import mask_text

    typer.echo(f"error: {mask_text(message)}", err=True)
    raise typer.Exit(code)


def check_output(output: str, plain: str = "text") -> None:
    """-o is the plain rendering (text or table), json or yaml, for every command."""
    choices = list(dict.fromkeys((plain, "json", "yaml")))
    if output not in choices:
        fail(f"-o must be {', '.join(choices[:-1])} or {choices[-1]}, not {output!r}")


def print_structured(output: str, doc: Any) -> bool:
    """Print `doc` as -o json or yaml; False when the plain rendering was asked for."""
    if output == "json":
        typer.echo(json.dumps(doc, indent=2, default=str))
    elif output == "yaml":
        import yaml

        typer.echo(yaml.safe_dump(json.loads(json.dumps(doc, default=str)), sort_keys=False), nl=False)
    else:
        return False
    return True


@app.command()
def version() -> None:
    """Print the version."""
    from . import __version__

    typer.echo(__version__)


def _load_incident(path: Path):  # noqa: ANN202 - Incident, imported lazily
    from .cluster import load_checked_incident
    from .incident import IncidentError

    try:
        return load_checked_incident(path)
    except IncidentError as err:
        from .redaction import mask_text

        for line in mask_text(str(err)).splitlines():  # an error may quote a value of the file
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


ALERT_FILE_LIMIT = 4 * 1024 * 1024  # a notification holds at most a few hundred alerts


def _incident_from_alert(path: Path | None, namespace: str | None):  # noqa: ANN202 - Incident, imported lazily
    """The incident an alert file's firing alerts make (`run --alert`), checked as an incident file is."""
    from .cluster import parse_checked_incident
    from .incident import IncidentError
    from .userfiles import UserFileError, read_user_bytes
    from .webhook.payload import PayloadError, parse_notification
    from .webhook.record import incident_document

    assert path is not None
    try:
        notification = parse_notification(
            read_user_bytes(path, limit=ALERT_FILE_LIMIT, what="alert files"), alert_list=True
        )
    except (UserFileError, PayloadError) as err:
        fail(f"{path}: {err}")
    if not notification.firing:
        fail(f"{path}: no alert in it is firing: nothing to investigate")
    doc = incident_document(notification, [namespace] if namespace else None)
    if not doc["spec"]["scope"]["namespaces"]:
        fail(f"{path}: no firing alert has a namespace label; give the namespace with -n")
    try:
        return parse_checked_incident(json.dumps(doc), source=str(path))
    except IncidentError as err:
        fail(f"{path}: the incident made of its alerts is invalid: {str(err).splitlines()[0]}")


@app.command()
def run(
    incident: Annotated[
        Path | None, typer.Argument(help="Incident file (apiVersion sre-agent.dev/v1alpha1, kind Incident).")
    ] = None,
    alert: Annotated[
        Path | None,
        typer.Option(
            "--alert",
            help="Instead of an incident file: Alertmanager's webhook JSON, or a list of alerts as its API and "
            "`amtool alert query -o json` give them; the incident is made of the firing alerts.",
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "--output",
            help="Run directory (default runs/<timestamp>-<name>-<id>/); one that holds another run is refused. "
            "--output is its earlier name; -o is the output format.",
        ),
    ] = None,
    output: Annotated[str, typer.Option("-o", help="text, json or yaml (the result on stdout)")] = "text",
    model: Annotated[
        str | None,
        typer.Option("--model", envvar=MODEL_ENV, help="Override spec.model, e.g. openai/gpt-4o."),
    ] = None,
    model_class: Annotated[
        str | None, typer.Option("--model-class", help="Override the class: auto, frontier, mid or open.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", envvar=BASE_URL_ENV, help="OpenAI-compatible server for the model (no key needed)."),
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Override spec.scope.namespaces with one namespace.")
    ] = None,
    kube_context: Annotated[
        str | None, typer.Option("--context", help="Kubeconfig context (overrides spec.cluster.context).")
    ] = None,
    kubeconfig: Annotated[
        Path | None, typer.Option("--kubeconfig", help="Kubeconfig file (overrides spec.cluster.kubeconfig).")
    ] = None,
    mitigations: Annotated[
        str,
        typer.Option(
            "--mitigations", help="on, or off: one free-running agent with no verifier gate (for measurement)."
        ),
    ] = "on",
    seed: Annotated[int, typer.Option("--seed", help="Seed for the failure-prone built-in models.")] = 0,
    mast_judge: Annotated[
        str | None, typer.Option("--mast-judge", help="LLM judge for the MAST modes detectors cannot decide.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Run an incident to a verified resolution, an escalation, or a finding that nothing is wrong.

    Exit codes (the one-line reason says what happened):
    0 resolved and verified
    1 internal error
    2 bad input: incident file, flags, model, base URL, kubeconfig, --output
    3 escalated: e.g. no change applied, or the mitigation had no effect
    4 no fault found: no alert, no recent rollout, no finding; nothing changed
    5 cluster unreachable or refusing the credentials, or namespace not found
    6 model unreachable, or its replies unusable, after retries
    The run directory is written once the run starts (a bad file or flag
    stops it before).
    """
    import asyncio

    check_output(output)
    if mitigations not in ("on", "off"):
        fail(f"--mitigations must be on or off, not {mitigations!r}")
    if (incident is None) == (alert is None):
        fail("give an incident file or --alert FILE (one of them)")
    doc = _load_incident(incident) if incident is not None else _incident_from_alert(alert, namespace)
    _override(doc, namespace, kube_context, kubeconfig)
    _check_model_choice(doc, model, model_class, base_url)
    from .engine import OutputDirError, RunOptions, run_incident
    from .logs import configure

    configure("warning")
    progress = None
    if not quiet and output == "text":
        from .progress import ConsoleProgress

        progress = ConsoleProgress()
    options = RunOptions(
        output_dir=output_dir,
        model=model,
        model_class=model_class,
        base_url=base_url,
        mitigations=mitigations == "on",
        mast_judge=mast_judge,
        seed=seed,
    )
    approver = _ask_approval if sys.stdin.isatty() else None  # approve mode without a person: denied
    try:
        result = asyncio.run(run_incident(doc, options, events=progress, approver=approver))
    except OutputDirError as err:
        fail(str(err))
    if not print_structured(output, result.to_dict()):
        if progress is None:  # the progress display already printed the outcome
            typer.echo(f"{result.status}: {result.reason}")
        typer.echo(f"run directory: {result.output_dir}")
    if result.status == "error":
        typer.echo(f"error: {result.reason}", err=True)
    raise typer.Exit(result.exit_code)


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="The run directory of an interrupted run.")],
    revert: Annotated[
        bool, typer.Option("--revert", help="Put back every change the run made (through the action policy).")
    ] = False,
    output: Annotated[str, typer.Option("-o", help="text, json or yaml (the result on stdout)")] = "text",
) -> None:
    """Complete a run that was interrupted: verify what it changed, optionally revert it, write its report.

    Reads the run's journal (journal.jsonl: the incident and every write sent), reconnects to its
    cluster, waits the stabilisation window and runs the verifier gate's checks (no model).
    Exit codes:
    0 resolved-after-resume: the gate passes on what the run changed
    2 nothing to resume: no run there, or it ended normally, or it ran on an embedded simulator
    3 escalated (the gate fails, or a revert was not made), or reverted
    5 cluster unreachable or refusing the credentials, or namespace not found
    """
    import asyncio

    check_output(output)
    from .engine.resume import NothingToResume, resume_run
    from .engine.state import RunFailed
    from .logs import configure

    configure("warning")
    approver = _ask_approval if sys.stdin.isatty() else None
    try:
        result = asyncio.run(resume_run(run_dir, revert=revert, approver=approver))
    except NothingToResume as err:
        fail(str(err))
    except RunFailed as err:
        fail(str(err), err.exit_code)
    except Exception as err:  # a bug: one line, as a run reports its own
        fail(f"internal error: {type(err).__name__}: {err}", 1)
    if not print_structured(output, result.to_dict()):
        typer.echo(f"{result.status}: {result.reason}")
        typer.echo(f"run directory: {result.output_dir}")
    raise typer.Exit(result.exit_code)


def _check_model_choice(doc, model: str | None, model_class: str | None, base_url: str | None) -> None:  # noqa: ANN001
    """What `run` would refuse about the model before contacting it: the name, the class, the base URL,
    a missing key. `validate` asks the same."""
    from .models import check_model, model_api_key
    from .models.classes import resolve_class
    from .models.errors import ModelError

    chosen = model or doc.spec.model_name or "builtin/playbook"
    settings = doc.spec.model_settings if not model else None  # the file's settings go with the file's model
    try:
        resolve_class(chosen, model_class or doc.spec.model_class)
        check_model(chosen, base_url or (settings.base_url if settings else None), model_api_key(settings))
    except (ModelError, ValueError) as err:
        fail(str(err))


def _override(doc, namespace: str | None, kube_context: str | None, kubeconfig: Path | None) -> None:  # noqa: ANN001
    """Apply kubectl-style flags to a loaded Incident."""
    import re

    from .incident import DNS_LABEL, PATTERN_HINTS

    spec = doc.spec
    if namespace is not None and not re.match(DNS_LABEL, namespace):
        fail(f"--namespace {PATTERN_HINTS[DNS_LABEL]}, not {namespace!r}")
    if namespace:
        scoped_by_default = spec.remediation.allowed_namespaces == spec.scope.namespaces
        spec.scope.namespaces = [namespace]
        if scoped_by_default:
            spec.remediation.allowed_namespaces = [namespace]
    if (kube_context or kubeconfig) and spec.cluster.simulate is not None:
        fail("--context/--kubeconfig name a real cluster, but spec.cluster.simulate is set")
    if kube_context:
        spec.cluster.context = kube_context
    if kubeconfig:
        if spec.cluster.in_cluster:
            fail("--kubeconfig conflicts with spec.cluster.inCluster: true")
        spec.cluster.kubeconfig = kubeconfig.expanduser().resolve()


async def _ask_approval(request) -> bool:  # noqa: ANN001 - tools.policy.ActionRequest, imported lazily
    import asyncio

    from .redaction import mask_text

    question = mask_text(f"apply {request.action} to {request.target}: {request.change}?")
    return await asyncio.to_thread(typer.confirm, question, default=False, err=True)


@app.command("slack")
def slack_command(
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Namespace when a request names none.")
    ] = None,
    kube_context: Annotated[str | None, typer.Option("--context", help="Kubeconfig context.")] = None,
    kubeconfig: Annotated[Path | None, typer.Option("--kubeconfig", help="Kubeconfig file.")] = None,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="Investigate on the embedded simulator running this scenario (a demo)."),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="Remediation mode: approve (buttons in the thread), dry-run or off.")
    ] = "approve",
    approvers: Annotated[
        str | None,
        typer.Option(
            "--approvers",
            help="Comma-separated Slack user ids (U…) and user group ids (S…) who may approve; "
            "default: the person who asked.",
        ),
    ] = None,
    alert_channel: Annotated[
        list[str] | None,
        typer.Option("--alert-channel", help="Channel id where Alertmanager posts start investigations (repeatable)."),
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Investigations running at once.")] = 2,
    model: Annotated[str | None, typer.Option("--model", help="Model for every investigation.")] = None,
    port: Annotated[int, typer.Option("--port", help="HTTP mode: port for Slack's requests.")] = 3000,
    approval_timeout: Annotated[
        float, typer.Option("--approval-timeout", help="Seconds before an unanswered change is rejected.")
    ] = 900.0,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Where run directories go.")] = Path("runs"),
) -> None:
    """Run the Slack app: investigations from mentions, /sre-agent, alerts and the message shortcut.

    Tokens come from the environment: SLACK_BOT_TOKEN, and SLACK_APP_TOKEN (Socket Mode) or
    SLACK_SIGNING_SECRET (HTTP mode, POST /slack/events). Exit codes: 2 bad flags or tokens.
    """
    import asyncio

    from .slack.settings import SettingsError, settings_from

    if model is not None:
        from .cluster import model_problem

        problem = model_problem(model)
        if problem:
            fail(problem)
    if scenario is not None:
        from .cluster import scenario_problem

        ref = scenario if scenario.startswith("builtin:") or Path(scenario).exists() else f"builtin:{scenario}"
        problem = scenario_problem(ref)
        if problem:
            fail(problem)
        scenario = ref
    try:
        settings = settings_from(
            namespace=namespace,
            kube_context=kube_context,
            kubeconfig=kubeconfig.expanduser().resolve() if kubeconfig else None,
            scenario=scenario,
            mode=mode,
            approvers=_csv(approvers) if approvers else (),
            alert_channels=tuple(alert_channel or ()),
            concurrency=concurrency,
            model=model,
            port=port,
            approval_timeout=approval_timeout,
            runs_dir=runs_dir,
        )
    except SettingsError as err:
        fail(str(err))
    from .logs import configure
    from .slack.app import serve

    configure("warning")
    how = "Socket Mode" if settings.socket_mode else f"HTTP on port {settings.port}"
    typer.echo(f"sre-agent slack: {how}, mode {settings.mode}, {settings.concurrency} at once", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))


@app.command()
def validate(
    incident: Annotated[Path, typer.Argument(help="Incident file to check, or builtin:NAME (a scenario's example).")],
    model: Annotated[
        str | None, typer.Option("--model", envvar=MODEL_ENV, help="As for run: override spec.model.")
    ] = None,
    model_class: Annotated[str | None, typer.Option("--model-class", help="As for run: override the class.")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", envvar=BASE_URL_ENV, help="As for run: the model's server.")
    ] = None,
) -> None:
    """Check an incident file, and the model choice, as `run` would before it contacts anything; every
    error in the file is reported with its field path and line. Exit codes: 0 valid, 2 not."""
    doc = _load_incident(incident)
    _check_model_choice(doc, model, model_class, base_url)
    typer.echo(f"{incident}: valid Incident {doc.metadata.name}")


@app.command("ask")
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

    from .cluster import parse_checked_incident
    from .engine import RunOptions, run_incident
    from .incident import IncidentError
    from .logs import configure

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
    _check_model_choice(incident, model, None, base_url)
    configure("warning")
    result = asyncio.run(run_incident(incident, RunOptions(model=model, base_url=base_url)))
    if result.status == "error":
        fail(result.reason, result.exit_code)
    d = result.diagnosis or {}
    answer: dict[str, Any] = {
        "question": question,
        "answer": d.get("summary") or result.reason,
        "root_causes": [e["name"] for e in d.get("entities") or [] if e.get("contributing_factor")],
        "proposed_change": [m for m in d.get("mitigations") or []],
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


@app.command("analyze")
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
    from .analyzers import REGISTRY, ReadFailure, Scope, UnknownKind, analyze, needed_kinds, read_snapshot
    from .analyzers.reader import read_alerts
    from .analyzers.render import FORMATS, render

    if output not in FORMATS:
        fail(f"-o must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}, not {output!r}")
    wanted = _csv(kinds) if kinds else None
    try:
        defs = REGISTRY.select(wanted)
    except UnknownKind as err:
        fail(str(err))
    if scenario and (kube_context or kubeconfig):
        fail("--scenario runs the embedded simulator; it does not take --context or --kubeconfig")
    simulator = _start_simulator(scenario) if scenario else None
    try:
        api = simulator[1] if simulator else _connect(kube_context, kubeconfig)
        try:
            result = read_snapshot(api, namespace, needed_kinds(defs))
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

    from .cluster import scenario_file_problem
    from .sim import FaultError, ScenarioError, SimulatorServer, resolve_scenario

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


def _connect(kube_context: str | None, kubeconfig: Path | None, in_cluster: bool = False):  # noqa: ANN202 - ApiClient
    """The cluster, checked to answer: exit 5 when it does not, 2 for a kubeconfig or context at fault."""
    from .kube import ClusterError, ClusterUnreachable, check_reachable, connect

    try:
        api = connect(kubeconfig=str(kubeconfig) if kubeconfig else None, context=kube_context, in_cluster=in_cluster)
        check_reachable(api)
    except ClusterUnreachable as err:
        fail(str(err), EXIT_CLUSTER)
    except ClusterError as err:
        fail(str(err))
    return api


@app.command("tools")
def tools_list(output: Annotated[str, typer.Option("--output", "-o", help="table, json or yaml")] = "table") -> None:
    """List the tools agents may call: access, category, arguments and how a write is undone."""
    from .tools.registry import rows, table

    if output == "table":
        typer.echo(table(), nl=False)
    elif output == "json":
        typer.echo(json.dumps({"tools": rows()}, indent=2))
    elif output == "yaml":
        import yaml

        typer.echo(yaml.safe_dump({"tools": rows()}, sort_keys=False), nl=False)
    else:
        fail(f"-o must be table, json or yaml, not {output!r}")


@schema_app.command("incident")
def schema_incident() -> None:
    """Print the Incident JSON schema (also usable as a CRD openAPIV3Schema)."""
    from .incident import incident_schema

    typer.echo(json.dumps(incident_schema(), indent=2))


@app.command("crd")
def crd_command(output: Annotated[str, typer.Option("--output", "-o", help="yaml or json")] = "yaml") -> None:
    """Print the Incident CustomResourceDefinition (for `kubectl apply -f -`), generated from the same
    models as incident.yaml."""
    check_output(output, "yaml")
    from .operator.crd import render_crd

    typer.echo(render_crd(output), nl=False)


def _operator_settings(
    kubeconfig: Path | None,
    kube_context: str | None,
    in_cluster: bool,
    alertmanager: str | None,
    prometheus: str | None,
    write_namespaces: list[str] | None,
    runs_dir: Path,
    model: str | None,
    base_url: str | None,
):  # noqa: ANN202 - (ApiClient, ExecutorSettings), imported lazily
    """What `operator run` and `operator execute` share: the cluster, checked, and how runs are made."""
    import re

    from .incident import DNS_LABEL, HTTP_URL, PATTERN_HINTS
    from .operator.executor import ExecutorSettings
    from .operator.incidents import Target

    if in_cluster and (kubeconfig or kube_context):
        fail("--in-cluster cannot be combined with --kubeconfig or --context")
    for flag, url in (("--alertmanager", alertmanager), ("--prometheus", prometheus)):
        if url and not re.match(HTTP_URL, url):
            fail(f"{flag} {PATTERN_HINTS[HTTP_URL]}, not {url!r}")
    for ns in write_namespaces or []:
        if not re.match(DNS_LABEL, ns):
            fail(f"--write-namespace {PATTERN_HINTS[DNS_LABEL]}, not {ns!r}")
    if model:
        from .models import check_model
        from .models.errors import ModelError

        try:
            check_model(model, base_url)
        except (ModelError, ValueError) as err:
            fail(str(err))
    api = _connect(kube_context, kubeconfig, in_cluster)
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    from .operator.crd import CRD_NAME

    try:
        client.ApiextensionsV1Api(api).read_custom_resource_definition(CRD_NAME)
    except ApiException as err:
        if err.status == 404:
            fail(
                f"the cluster has no {CRD_NAME} CRD: install it with `sre-agent crd | kubectl apply -f -`", EXIT_CLUSTER
            )
        if err.status != 403:  # a service account without the right to read CRDs goes on and finds out by watching
            fail(f"cannot read the {CRD_NAME} CRD: HTTP {err.status} {err.reason}", EXIT_CLUSTER)
    target = Target(
        kubeconfig=kubeconfig.expanduser().resolve() if kubeconfig else None,
        context=kube_context,
        in_cluster=in_cluster,
        alertmanager=alertmanager.rstrip("/") if alertmanager else None,
        prometheus=prometheus.rstrip("/") if prometheus else None,
        write_namespaces=tuple(write_namespaces) if write_namespaces else None,
    )
    return api, ExecutorSettings(target=target, runs_dir=runs_dir, model=model, base_url=base_url)


KubeconfigOpt = Annotated[Path | None, typer.Option("--kubeconfig", help="Kubeconfig file (default: kubectl's).")]
ContextOpt = Annotated[str | None, typer.Option("--context", help="Kubeconfig context.")]
InClusterOpt = Annotated[bool, typer.Option("--in-cluster", help="Use the pod's service account.")]
AlertmanagerOpt = Annotated[
    str | None, typer.Option("--alertmanager", envvar="SRE_AGENT_ALERTMANAGER", help="Alertmanager URL for runs.")
]
PrometheusOpt = Annotated[
    str | None, typer.Option("--prometheus", envvar="SRE_AGENT_PROMETHEUS", help="Prometheus URL for runs.")
]
WriteNamespacesOpt = Annotated[
    list[str] | None,
    typer.Option("--write-namespace", help="Runs may change objects only in these namespaces (repeatable; default: "
                 "wherever each Incident allows)."),
]  # fmt: skip
RunsDirOpt = Annotated[
    Path, typer.Option("--runs-dir", envvar="SRE_AGENT_RUNS_DIR", help="Where run directories go (one per run).")
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", envvar=MODEL_ENV, help="The model for every run (overrides spec.model)."),
]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", envvar=BASE_URL_ENV, help="OpenAI-compatible server for the model.")
]


@operator_app.command("run")
def operator_run(
    namespace: Annotated[
        list[str] | None, typer.Option("--namespace", "-n", help="Watch Incidents in this namespace (repeatable).")
    ] = None,
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A", help="Watch every namespace.")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Incidents run at once; the rest queue.")] = 2,
    kubeconfig: KubeconfigOpt = None,
    kube_context: ContextOpt = None,
    in_cluster: InClusterOpt = False,
    alertmanager: AlertmanagerOpt = None,
    prometheus: PrometheusOpt = None,
    write_namespace: WriteNamespacesOpt = None,
    runs_dir: RunsDirOpt = Path("runs"),
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    lease: Annotated[
        float, typer.Option("--lease", help="Seconds without a heartbeat before another operator takes a run over.")
    ] = 60.0,
    grace: Annotated[
        float,
        typer.Option("--grace", help="Seconds beyond an Incident's budget.seconds before it is Failed as stuck."),
    ] = 600.0,
    executor: Annotated[
        str, typer.Option("--executor", help="in-process, or job: one Kubernetes Job per Incident.")
    ] = "in-process",
    job_image: Annotated[
        str | None, typer.Option("--job-image", envvar="SRE_AGENT_JOB_IMAGE", help="The Jobs' image (job executor).")
    ] = None,
    job_namespace: Annotated[
        str | None,
        typer.Option(
            "--job-namespace", envvar="POD_NAMESPACE", help="Where Jobs are created (default: the operator's)."
        ),
    ] = None,
    job_service_account: Annotated[
        str, typer.Option("--job-service-account", help="The Jobs' ServiceAccount.")
    ] = "sre-agent",
    job_api_key_secret: Annotated[
        str | None,
        typer.Option(
            "--job-api-key-secret", help="A Secret whose keys become the Jobs' environment (the model's key)."
        ),
    ] = None,
    job_ttl: Annotated[int, typer.Option("--job-ttl", help="ttlSecondsAfterFinished of each Job.")] = 3600,
    job_resources: Annotated[
        str | None,
        typer.Option(
            "--job-resources", help='The Jobs\' container resources as JSON, e.g. {"limits": {"memory": "1Gi"}}.'
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="kopf's own log lines too.")] = False,
) -> None:
    """Watch Incidents and run each one through the engine, its progress and outcome in its status.

    Restart-safe: a run's claim is renewed while it goes; another operator (or this one, restarted) takes
    over a claim whose heartbeat stopped for --lease seconds and finishes it without repeating its changes.
    Exit codes: 2 bad flags or kubeconfig; 5 the cluster does not answer or has no Incident CRD.
    """
    import asyncio
    import logging
    import re

    from .incident import DNS_LABEL, PATTERN_HINTS

    if bool(namespace) == all_namespaces:
        fail("give the namespaces to watch (-n, repeatable) or --all-namespaces")
    for ns in namespace or []:
        if not re.match(DNS_LABEL, ns):
            fail(f"--namespace {PATTERN_HINTS[DNS_LABEL]}, not {ns!r}")
    if concurrency < 1:
        fail(f"--concurrency must be at least 1, not {concurrency}")
    if lease <= 0 or grace < 0:
        fail("--lease must be positive and --grace not negative")
    jobs = _job_template(executor, job_image, job_namespace, job_service_account, job_api_key_secret, job_ttl,
                         job_resources, model, base_url)  # fmt: skip
    api, settings = _operator_settings(
        kubeconfig, kube_context, in_cluster, alertmanager, prometheus, write_namespace, runs_dir, model, base_url
    )
    from .logs import configure
    from .operator.controller import OperatorConfig, serve

    configure("warning")
    logging.getLogger("kopf").setLevel(logging.INFO if verbose else logging.WARNING)
    config = OperatorConfig(
        executor=settings,
        namespaces=None if all_namespaces else list(dict.fromkeys(namespace or [])),
        concurrency=concurrency,
        lease_seconds=lease,
        sweep_seconds=max(1.0, min(15.0, lease / 3)),
        grace_seconds=grace,
        jobs=jobs,
    )
    typer.echo(f"watching Incidents in {'all namespaces' if all_namespaces else ', '.join(config.namespaces or [])} "
               f"as {config.holder}", err=True)  # fmt: skip
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, api))


def _job_template(
    executor: str,
    image: str | None,
    namespace: str | None,
    service_account: str,
    api_key_secret: str | None,
    ttl: int,
    resources: str | None,
    model: str | None,
    base_url: str | None,
):  # noqa: ANN202 - JobTemplate | None, imported lazily
    if executor not in ("in-process", "job"):
        fail(f"--executor must be in-process or job, not {executor!r}")
    if executor == "in-process":
        return None
    if not image:
        fail("--executor job needs --job-image (the image the Jobs run)")
    if not namespace:
        fail("--executor job needs --job-namespace (or $POD_NAMESPACE, set in the operator's pod)")
    parsed: dict = {}
    if resources:
        try:
            parsed = json.loads(resources)
        except json.JSONDecodeError as err:
            fail(f"--job-resources is not JSON: {err.msg} at character {err.pos}")
        if not isinstance(parsed, dict):
            fail('--job-resources must be a JSON object, e.g. {"limits": {"memory": "1Gi"}}')
    if ttl < 0:
        fail(f"--job-ttl cannot be negative ({ttl})")
    from .operator.jobs import JobTemplate

    return JobTemplate(image=str(image), namespace=str(namespace), service_account=service_account,
                       api_key_secret=api_key_secret, ttl_seconds=ttl, resources=parsed, model=model,
                       base_url=base_url)  # fmt: skip


@operator_app.command("execute")
def operator_execute(
    incident: Annotated[str, typer.Argument(help="NAMESPACE/NAME of the Incident to run.")],
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Adopt the operator's claim with this run id (a Job's own run).")
    ] = None,
    previous_run: Annotated[
        str | None, typer.Option("--previous-run", help="The interrupted run this one takes over.")
    ] = None,
    kubeconfig: KubeconfigOpt = None,
    kube_context: ContextOpt = None,
    alertmanager: AlertmanagerOpt = None,
    prometheus: PrometheusOpt = None,
    write_namespace: WriteNamespacesOpt = None,
    runs_dir: RunsDirOpt = Path("runs"),
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    grace: Annotated[float, typer.Option("--grace", help="As for operator run.")] = 600.0,
) -> None:
    """Run one Incident and write the outcome to its status (the Job executor's entrypoint).

    Inside a pod it connects with the pod's service account; elsewhere with the kubeconfig.
    Exit codes: as `sre-agent run` (0 resolved, 3 escalated, 4 no fault, 1 failed); 2 no such Incident,
    or one another process holds; 5 the cluster does not answer.
    """
    import asyncio
    import os

    from .operator.incidents import Ref

    try:
        ref = Ref.parse(incident)
    except ValueError as err:
        fail(str(err))
    in_cluster = not (kubeconfig or kube_context or os.environ.get("KUBECONFIG")) and bool(
        os.environ.get("KUBERNETES_SERVICE_HOST")
    )
    api, settings = _operator_settings(
        kubeconfig, kube_context, in_cluster, alertmanager, prometheus, write_namespace, runs_dir, model, base_url
    )
    from kubernetes.client.rest import ApiException

    from .logs import configure
    from .operator.claims import claimed, holder_name, is_stale
    from .operator.executor import execute
    from .operator.incidents import IncidentApi
    from .operator.status import IncidentStatus

    configure("warning")
    incidents = IncidentApi(api)
    try:
        obj = incidents.get(ref)
    except ApiException as err:
        fail(f"no Incident {ref}" if err.status == 404 else f"cannot read Incident {ref}: HTTP {err.status}",
             EXIT_BAD_INPUT if err.status == 404 else EXIT_CLUSTER)  # fmt: skip
    status = IncidentStatus.read(obj.get("status"))
    if status.terminal:
        typer.echo(f"{ref}: already {status.phase}: {status.reason}")
        raise typer.Exit(status.exit_code if status.exit_code is not None else 0)
    claim = status.claim
    if run_id is not None:
        if claim is None or claim.run_id != run_id:
            held = f"run {claim.run_id} of {claim.holder}" if claim else "nobody"
            fail(f"{ref} is not claimed for run {run_id} (its claim: {held})")
    else:
        if claim is not None and not is_stale(claim, ""):
            fail(f"{ref} is claimed by {claim.holder} (run {claim.run_id}); it runs there")
        previous_run = previous_run or (claim.run_id if claim else None)
        status = claimed(obj, status, holder_name(), grace, executor="job")
        try:
            obj = incidents.replace_status(obj, status)
        except ApiException as err:
            fail(
                f"{ref} was claimed by someone else first"
                if err.status == 409
                else f"cannot claim {ref}: HTTP {err.status}"
            )
    final = asyncio.run(execute(incidents, obj, status, settings, previous_run=previous_run))
    typer.echo(f"{ref}: {final.phase}: {final.reason}")
    raise typer.Exit(final.exit_code if final.exit_code is not None else 1)


@mast_app.command("annotate")
def mast_annotate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (with trace.jsonl).")],
    judge: Annotated[str | None, typer.Option("--judge", help="LLM judge for undecided modes.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server for the judge.")] = None,
    output: Annotated[str, typer.Option("-o", help="text, json or yaml")] = "text",
) -> None:
    """Re-annotate a saved run with MAST's 14 failure modes; rewrites RUN_DIR/mast.json."""
    check_output(output)
    from .mast.annotate import MastInputError, annotate_run_dir

    try:
        mast = annotate_run_dir(run_dir).to_dict()
        if judge:
            from .engine.outputs import judge_undecided

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
    from .mast.annotate import MastInputError
    from .mast.summarize import render_table, summarize

    try:
        summary = summarize(run_dirs)
    except MastInputError as err:
        fail(str(err))
    if not print_structured(output, summary):
        typer.echo(render_table(summary))


@machines_app.command("show")
def machines_show(
    model_class: Annotated[str, typer.Argument(help="frontier, mid or open")],
) -> None:
    """Print a class's state machine as Mermaid."""
    from .machines import MachineError, load_machine, mermaid

    try:
        typer.echo(mermaid(load_machine(model_class)), nl=False)
    except MachineError as err:
        fail(str(err))


@machines_app.command("list")
def machines_list() -> None:
    """List the classes, their machines and the model patterns that select them."""
    from .machines import available_classes, load_machine
    from .models.classes import class_table

    for cls in available_classes():
        spec = load_machine(cls)
        typer.echo(f"{cls:<9} {spec.description}")
    typer.echo("")
    for pattern, cls in class_table():
        typer.echo(f"  {pattern:<28} -> {cls}")


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
    from .cluster import scenario_file_problem
    from .sim import (
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
    from .sim import NOT_SIMULATED, simulated_faults

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
    from .sim import builtin_scenarios

    for name, path in builtin_scenarios().items():
        typer.echo(f"{name:<40} {path.name}")


def _csv(value: str) -> list[str]:
    return [x.strip() for x in value.split(",") if x.strip()]


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

    from .bench.plan import make_plan, run_plan
    from .bench.report import markdown_table
    from .bench.suite import SuiteError
    from .logs import configure
    from .models.errors import ModelError

    try:
        plan = make_plan(suite, _csv(models), _csv(mitigations), seeds, _csv(only) if only else None, base_url)
    except (SuiteError, ModelError, ValueError) as err:
        fail(str(err))
    configure("warning")
    jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
    out = out or Path("runs") / time.strftime("bench-%Y%m%d-%H%M%S")
    tasks = len(plan.tasks())
    if quiet or output != "table":
        results = run_plan(plan, out, jobs=jobs)
    else:
        from .bench.progress import BenchProgress

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
    from .sim import run_benchmark

    try:
        counts = [int(x) for x in pods.split(",") if x.strip()]
    except ValueError:
        fail(f"--pods must be comma-separated integers, not {pods!r}")
    results = run_benchmark(counts, samples)
    if incident_pods:
        from .bench.incident_run import add_incident_run

        add_incident_run(results, incident_pods)
    if not print_structured(output, results):
        for line in results["lines"]:
            typer.echo(line)


@bench_app.command("mast")
def bench_mast(events: Annotated[int, typer.Option(help="Events in the synthetic trace.")] = 10_000) -> None:
    """Time to annotate a synthetic trace with the MAST detectors (goal < 1 s for 10,000 events)."""
    from .mast.bench import bench_annotate

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


@operator_app.command("webhook")
def operator_webhook(
    namespace: Annotated[
        str,
        typer.Option("--namespace", "-n", envvar="SRE_AGENT_NAMESPACE", help="Namespace the Incidents are created in."),
    ] = "default",
    template: Annotated[
        Path | None,
        typer.Option(
            "--template",
            envvar="SRE_AGENT_INCIDENT_TEMPLATE",
            help="An incident file whose spec (model, remediation, cluster, budget, ...) every Incident starts "
            "from; its summary, alerts and scope come from the alerts.",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port (0 picks a free one).")] = 8080,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="File holding the bearer token (default: $SRE_AGENT_WEBHOOK_TOKEN)."),
    ] = None,
    in_cluster: InClusterOpt = False,
    kube_context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
) -> None:
    """Receive Alertmanager's notifications on POST /alerts and create or join Incidents.

    Alerts of one group (or sharing a fingerprint with an open Incident) join that Incident; a resolved
    alert is recorded on it. Exit codes: 2 bad input (token, template, flags); 5 the cluster does not
    answer, or does not serve the Incident kind."""
    import asyncio
    import os

    from .userfiles import UserFileError, read_user_file
    from .webhook.record import TemplateError, load_template

    if in_cluster and (kube_context or kubeconfig):
        fail("--in-cluster uses the pod's service account; it does not take --context or --kubeconfig")
    try:
        token = read_user_file(token_file, limit=4096, what="token files") if token_file else None
    except UserFileError as err:
        fail(str(err))
    token = (token if token is not None else os.environ.get("SRE_AGENT_WEBHOOK_TOKEN", "")).strip()
    if not token:
        fail("no webhook token given: name a file holding it with --token-file, or set SRE_AGENT_WEBHOOK_TOKEN")
    try:
        spec = load_template(template)
    except TemplateError as err:
        fail(str(err))
    api = _connect(kube_context, kubeconfig, in_cluster)
    from .webhook.server import serve
    from .webhook.store import IncidentStore, StoreError

    store = IncidentStore(api, namespace, spec)
    try:
        store.check_served()
    except StoreError as err:
        fail(str(err), EXIT_CLUSTER)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(store, token, host, port))
    except OSError as err:
        fail(f"cannot listen on {host}:{port}: {err.strerror or err}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
