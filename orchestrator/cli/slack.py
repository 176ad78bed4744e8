"""`slack`: the Slack app."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from .common import csv_items, fail


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

    from ..slack.settings import SettingsError, settings_from

    if model is not None:
        from ..cluster import model_problem

        problem = model_problem(model)
        if problem:
            fail(problem)
    if scenario is not None:
        from ..cluster import scenario_problem

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
            approvers=csv_items(approvers) if approvers else (),
            alert_channels=tuple(alert_channel or ()),
            concurrency=concurrency,
            model=model,
            port=port,
            approval_timeout=approval_timeout,
            runs_dir=runs_dir,
        )
    except SettingsError as err:
        fail(str(err))
    from ..logs import configure
    from ..slack.app import serve

    configure("warning")
    how = "Socket Mode" if settings.socket_mode else f"HTTP on port {settings.port}"
    typer.echo(f"sre-agent slack: {how}, mode {settings.mode}, {settings.concurrency} at once", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))
