"""The incident a run starts from: a file or an alert file, checked, with the command line's overrides and
its model choice checked before anything is contacted."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import EXIT_BAD_INPUT, fail


def load_incident(path: Path):  # noqa: ANN202 - Incident, imported lazily
    from ..cluster import load_checked_incident
    from ..incident import IncidentError

    try:
        return load_checked_incident(path)
    except IncidentError as err:
        from ..redaction import mask_text

        for line in mask_text(str(err)).splitlines():  # an error may quote a value of the file
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


ALERT_FILE_LIMIT = 4 * 1024 * 1024  # a notification holds at most a few hundred alerts


def incident_from_alert(path: Path | None, namespace: str | None):  # noqa: ANN202 - Incident, imported lazily
    """The incident an alert file's firing alerts make (`run --alert`), checked as an incident file is."""
    from ..cluster import parse_checked_incident
    from ..incident import IncidentError
    from ..userfiles import UserFileError, read_user_bytes
    from ..webhook.payload import PayloadError, parse_notification
    from ..webhook.record import incident_document

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


def check_model_choice(doc, model: str | None, model_class: str | None, base_url: str | None) -> None:  # noqa: ANN001
    """What `run` would refuse about the model before contacting it: the name, the class, the base URL,
    a missing key. `validate` asks the same, and so does the operator before a run."""
    from ..models import check_model_choice as check
    from ..models.errors import ModelError

    try:
        check(doc.spec, model, model_class, base_url)
    except (ModelError, ValueError) as err:
        fail(str(err))


def apply_overrides(doc, namespace: str | None, kube_context: str | None, kubeconfig: Path | None) -> None:  # noqa: ANN001
    """Apply kubectl-style flags to a loaded Incident."""
    import re

    from ..incident import DNS_LABEL, PATTERN_HINTS

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
