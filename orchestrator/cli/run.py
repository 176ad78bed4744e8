"""`run`, `resume` and `validate`: an incident driven to its outcome, an interrupted run completed, a file
checked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import BASE_URL_ENV, MODEL_ENV, check_output, fail, print_structured
from .incident_input import apply_overrides, check_model_choice, incident_from_alert, load_incident


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
    doc = load_incident(incident) if incident is not None else incident_from_alert(alert, namespace)
    apply_overrides(doc, namespace, kube_context, kubeconfig)
    check_model_choice(doc, model, model_class, base_url)
    from ..engine import OutputDirError, RunOptions, run_incident
    from ..logs import configure

    configure("warning")
    progress = None
    if not quiet and output == "text":
        from ..progress import ConsoleProgress

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
    approver = ask_approval if sys.stdin.isatty() else None  # approve mode without a person: denied
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
    from ..engine.resume import NothingToResume, resume_run
    from ..engine.state import RunFailed
    from ..logs import configure

    configure("warning")
    approver = ask_approval if sys.stdin.isatty() else None
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


async def ask_approval(request) -> bool:  # noqa: ANN001 - tools.policy.ActionRequest, imported lazily
    import asyncio

    from ..redaction import mask_text

    question = mask_text(f"apply {request.action} to {request.target}: {request.change}?")
    return await asyncio.to_thread(typer.confirm, question, default=False, err=True)


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
    doc = load_incident(incident)
    check_model_choice(doc, model, model_class, base_url)
    typer.echo(f"{incident}: valid Incident {doc.metadata.name}")
