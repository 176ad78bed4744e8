"""What the product knows, printed: its version, tools, Incident CRD and schema, and state machines."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .common import check_output, fail

machines_app = typer.Typer(help="The per-model-class state machines.", no_args_is_help=True)
schema_app = typer.Typer(help="JSON schemas of the files sre-agent reads.", no_args_is_help=True)


def version() -> None:
    """Print the version."""
    from .. import __version__

    typer.echo(__version__)


def tools_list(output: Annotated[str, typer.Option("--output", "-o", help="table, json or yaml")] = "table") -> None:
    """List the tools agents may call: access, category, arguments and how a write is undone."""
    from ..tools.registry import rows, table

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
    from ..incident import incident_schema

    typer.echo(json.dumps(incident_schema(), indent=2))


def crd_command(output: Annotated[str, typer.Option("--output", "-o", help="yaml or json")] = "yaml") -> None:
    """Print the Incident CustomResourceDefinition (for `kubectl apply -f -`), generated from the same
    models as incident.yaml."""
    check_output(output, "yaml")
    from ..operator.crd import render_crd

    typer.echo(render_crd(output), nl=False)


@machines_app.command("show")
def machines_show(
    model_class: Annotated[str, typer.Argument(help="frontier, mid or open")],
) -> None:
    """Print a class's state machine as Mermaid."""
    from ..machines import MachineError, load_machine, mermaid

    try:
        typer.echo(mermaid(load_machine(model_class)), nl=False)
    except MachineError as err:
        fail(str(err))


@machines_app.command("list")
def machines_list() -> None:
    """List the classes, their machines and the model patterns that select them."""
    from ..machines import available_classes, load_machine
    from ..models.classes import class_table

    for cls in available_classes():
        spec = load_machine(cls)
        typer.echo(f"{cls:<9} {spec.description}")
    typer.echo("")
    for pattern, cls in class_table():
        typer.echo(f"  {pattern:<28} -> {cls}")
