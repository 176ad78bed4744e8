"""The Job executor: one Kubernetes Job per Incident, so a fleet's incidents spread over the cluster's
nodes. The operator claims the Incident (holder `job/NAME`) and creates the Job; the Job's pod runs
`sre-agent operator execute NAMESPACE/NAME --run-id RUN`, which adopts that claim, keeps it beating and
writes the outcome to the Incident's status, as the in-process executor does."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .incidents import Ref, Target

JOB_LABEL = "sre-agent.dev/incident"
RUNS_DIR = "/tmp/runs"  # the pod's emptyDir: the root filesystem is read-only


@dataclass(frozen=True)
class JobTemplate:
    """What every Job gets (the chart's values)."""

    image: str
    namespace: str
    service_account: str = "sre-agent"
    api_key_secret: str | None = None  # a Secret whose keys become the pod's environment (OPENAI_API_KEY=...)
    ttl_seconds: int = 3600
    backoff_limit: int = 0  # a retried pod would start the run again: the operator's takeover decides instead
    resources: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    base_url: str | None = None


def job_name(ref: Ref, run_id: str) -> str:
    """A DNS-1123 name unique per run, at most 63 characters."""
    digest = hashlib.sha256(f"{ref.namespace}/{ref.name}/{run_id}".encode()).hexdigest()[:10]
    return f"sre-agent-{ref.name[:40].rstrip('-.')}-{digest}"


def execute_args(ref: Ref, run_id: str, previous_run: str | None, target: Target, template: JobTemplate) -> list[str]:
    """`sre-agent operator execute` as the Job runs it (in the pod it connects with its service account)."""
    args = ["operator", "execute", str(ref), "--run-id", run_id]
    if previous_run:
        args += ["--previous-run", previous_run]
    for flag, value in (("--alertmanager", target.alertmanager), ("--prometheus", target.prometheus),
                        ("--model", template.model), ("--base-url", template.base_url)):  # fmt: skip
        if value:
            args += [flag, value]
    for ns in target.write_namespaces or ():
        args += ["--write-namespace", ns]
    return args


def job_manifest(
    ref: Ref,
    run_id: str,
    previous_run: str | None,
    target: Target,
    template: JobTemplate,
    deadline_seconds: int | None = None,
) -> dict[str, Any]:
    """The Job for one run of an Incident; past `deadline_seconds` Kubernetes stops its pod, the claim's
    heartbeat stops with it and the operator's sweep moves the Incident to Failed."""
    container: dict[str, Any] = {
        "name": "execute",
        "image": template.image,
        "args": execute_args(ref, run_id, previous_run, target, template),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },  # fmt: skip
        "env": [{"name": "SRE_AGENT_RUNS_DIR", "value": RUNS_DIR}],
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    if template.api_key_secret:
        container["envFrom"] = [{"secretRef": {"name": template.api_key_secret}}]
    if template.resources:
        container["resources"] = template.resources
    labels = {
        JOB_LABEL: ref.name,
        "sre-agent.dev/incident-namespace": ref.namespace,
        "app.kubernetes.io/name": "sre-agent",
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": job_name(ref, run_id), "namespace": template.namespace, "labels": labels},
        "spec": {
            "backoffLimit": template.backoff_limit,
            **({"activeDeadlineSeconds": deadline_seconds} if deadline_seconds else {}),
            "ttlSecondsAfterFinished": template.ttl_seconds,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": template.service_account,
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }
