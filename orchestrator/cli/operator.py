"""`operator`: Incidents run in the cluster (the controller, one Job's run, the Alertmanager webhook)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer

from .common import (
    EXIT_BAD_INPUT,
    EXIT_CLUSTER,
    AlertmanagerOpt,
    BaseUrlOpt,
    ContextOpt,
    InClusterOpt,
    KubeconfigOpt,
    ModelOpt,
    PrometheusOpt,
    RunsDirOpt,
    WriteNamespacesOpt,
    connect_cluster,
    fail,
)

operator_app = typer.Typer(
    help="Run Incidents in the cluster (the Incident CRD: `sre-agent crd`).", no_args_is_help=True
)


def operator_settings(
    kubeconfig: Path | None,
    kube_context: str | None,
    in_cluster: bool,
    alertmanager: str | None,
    prometheus: str | None,
    write_namespaces: list[str] | None,
    runs_dir: Path,
    model: str | None,
    base_url: str | None,
    namespaces: list[str] | None = None,
):  # noqa: ANN202 - (ApiClient, ExecutorSettings), imported lazily
    """What `operator run` and `operator execute` share: the cluster, checked, and how runs are made."""
    import re

    from ..incident import DNS_LABEL, HTTP_URL, PATTERN_HINTS
    from ..operator.executor import ExecutorSettings
    from ..operator.incidents import Target

    if in_cluster and (kubeconfig or kube_context):
        fail("--in-cluster cannot be combined with --kubeconfig or --context")
    for flag, url in (("--alertmanager", alertmanager), ("--prometheus", prometheus)):
        if url and not re.match(HTTP_URL, url):
            fail(f"{flag} {PATTERN_HINTS[HTTP_URL]}, not {url!r}")
    for ns in write_namespaces or []:
        if not re.match(DNS_LABEL, ns):
            fail(f"--write-namespace {PATTERN_HINTS[DNS_LABEL]}, not {ns!r}")
    if model:
        from ..models import check_model_choice
        from ..models.errors import ModelError

        try:
            check_model_choice(None, model, None, base_url)
        except (ModelError, ValueError) as err:
            fail(str(err))
    api = connect_cluster(kube_context, kubeconfig, in_cluster)
    from ..operator.incidents import IncidentApi

    incidents = IncidentApi(api)
    every: list[str | None] = [None]  # None: every namespace
    for watched in namespaces or every:
        problem = incidents.served_problem(watched)
        if problem is not None:
            fail(problem, EXIT_CLUSTER)
    target = Target(
        kubeconfig=kubeconfig.expanduser().resolve() if kubeconfig else None,
        context=kube_context,
        in_cluster=in_cluster,
        alertmanager=alertmanager.rstrip("/") if alertmanager else None,
        prometheus=prometheus.rstrip("/") if prometheus else None,
        write_namespaces=tuple(write_namespaces) if write_namespaces else None,
    )
    return api, ExecutorSettings(target=target, runs_dir=runs_dir, model=model, base_url=base_url)


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

    from ..incident import DNS_LABEL, PATTERN_HINTS

    if bool(namespace) == all_namespaces:
        fail("give the namespaces to watch (-n, repeatable) or --all-namespaces")
    for ns in namespace or []:
        if not re.match(DNS_LABEL, ns):
            fail(f"--namespace {PATTERN_HINTS[DNS_LABEL]}, not {ns!r}")
    if concurrency < 1:
        fail(f"--concurrency must be at least 1, not {concurrency}")
    if lease <= 0 or grace < 0:
        fail("--lease must be positive and --grace not negative")
    jobs = job_template(executor, job_image, job_namespace, job_service_account, job_api_key_secret, job_ttl,
                         job_resources, model, base_url)  # fmt: skip
    watched = None if all_namespaces else list(dict.fromkeys(namespace or []))
    api, settings = operator_settings(
        kubeconfig, kube_context, in_cluster, alertmanager, prometheus, write_namespace, runs_dir, model, base_url,
        watched,
    )  # fmt: skip
    from ..logs import configure
    from ..operator.controller import OperatorConfig, serve

    configure("warning")
    logging.getLogger("kopf").setLevel(logging.INFO if verbose else logging.WARNING)
    config = OperatorConfig(
        executor=settings,
        namespaces=watched,
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


def job_template(
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
    from ..operator.jobs import JobTemplate

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

    from ..operator.incidents import Ref

    try:
        ref = Ref.parse(incident)
    except ValueError as err:
        fail(str(err))
    in_cluster = not (kubeconfig or kube_context or os.environ.get("KUBECONFIG")) and bool(
        os.environ.get("KUBERNETES_SERVICE_HOST")
    )
    api, settings = operator_settings(
        kubeconfig, kube_context, in_cluster, alertmanager, prometheus, write_namespace, runs_dir, model, base_url,
        [ref.namespace],
    )  # fmt: skip
    from kubernetes.client.rest import ApiException

    from ..logs import configure
    from ..operator.claims import claimed, holder_name, is_stale
    from ..operator.executor import execute
    from ..operator.incidents import IncidentApi
    from ..operator.status import IncidentStatus

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

    from ..userfiles import UserFileError, read_user_file
    from ..webhook.record import TemplateError, load_template

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
    api = connect_cluster(kube_context, kubeconfig, in_cluster)
    from ..webhook.server import serve
    from ..webhook.store import IncidentStore, StoreError

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
