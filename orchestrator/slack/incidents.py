"""A Slack request as an Incident: the summary and namespace asked about, the alerts Alertmanager posted,
and the cluster, model and remediation mode `sre-agent slack` was started with."""

from __future__ import annotations

from typing import Any

import yaml

from ..cluster import parse_checked_incident
from ..incident import API_VERSION, KIND, Incident, IncidentError, name_part
from .settings import SlackSettings
from .triggers import TriggerError


def incident_for(
    settings: SlackSettings,
    *,
    namespace: str | None,
    summary: str,
    name_hint: str,
    alerts: list[dict[str, Any]] | None = None,
) -> Incident:
    """The incident to run; raises TriggerError (one line, for the thread) when it cannot be one."""
    namespace = namespace or settings.namespace
    if not namespace:
        raise TriggerError("which namespace? add `-n NAMESPACE` (or start sre-agent slack with `-n`)")
    if not summary.strip():
        raise TriggerError("what is wrong? add a summary, e.g. `investigate -n shop checkout returns 500s`")
    cluster: dict[str, Any] = {}
    remediation: dict[str, Any] = {"mode": settings.mode}
    if settings.scenario:
        cluster["simulate"] = {"scenario": settings.scenario}
        remediation["allowFaultedObjects"] = True  # the scenario's own faults may be undone, as its example does
    else:
        if settings.kube_context:
            cluster["context"] = settings.kube_context
        if settings.kubeconfig:
            cluster["kubeconfig"] = str(settings.kubeconfig)
    spec: dict[str, Any] = {
        "summary": summary.strip()[:2000],
        "scope": {"namespaces": [namespace]},
        "cluster": cluster,
        "remediation": remediation,
        "alerts": alerts or [],
    }
    if settings.model:
        spec["model"] = settings.model
    slug = name_part(name_hint)
    doc = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": f"slack-{slug}" if slug else "slack"},
           "spec": spec}  # fmt: skip
    try:
        return parse_checked_incident(yaml.safe_dump(doc, sort_keys=False), source="slack")
    except IncidentError as err:
        raise TriggerError(f"cannot make an incident of it: {err.by_field()}") from None
