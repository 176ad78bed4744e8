"""What every command shares: the one-line error and its exit codes, the -o formats, the options several
commands take, and the connection to a cluster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

EXIT_BAD_INPUT = 2
# The model settings' precedence: the flag, then these variables, then the incident's spec.model.
MODEL_ENV, BASE_URL_ENV = "SRE_AGENT_MODEL", "SRE_AGENT_BASE_URL"
EXIT_CLUSTER = 5  # as orchestrator.engine.state says; the CLI does not import the engine to print --help


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """One line on stderr and the exit code: the way every user mistake ends (secrets masked: an error may
    quote the cluster)."""
    from ..redaction import mask_text

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


def csv_items(value: str) -> list[str]:
    return [x.strip() for x in value.split(",") if x.strip()]


def connect_cluster(kube_context: str | None, kubeconfig: Path | None, in_cluster: bool = False):  # noqa: ANN202 - ApiClient
    """The cluster, checked to answer: exit 5 when it does not, 2 for a kubeconfig or context at fault."""
    from ..kube import ClusterError, ClusterUnreachable, check_reachable, connect

    try:
        api = connect(kubeconfig=str(kubeconfig) if kubeconfig else None, context=kube_context, in_cluster=in_cluster)
        check_reachable(api)
    except ClusterUnreachable as err:
        fail(str(err), EXIT_CLUSTER)
    except ClusterError as err:
        fail(str(err))
    return api


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
