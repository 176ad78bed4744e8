"""What an Incident made from Alertmanager notifications says about its alerts, as pure functions over
the object's JSON: its name, the spec a first notification gives it, and the record later ones add.

- **Name**: `alert-<hash of the group key>`, so every receiver replica that sees the same group tries to
  create the same object and the API server's 409 decides who joins whom; the group's next Incident,
  once one is closed, is `alert-<hash>-2`, and so on.
- **Spec**: the template's spec (model, remediation, cluster, ...) with the summary, the firing alerts and
  the namespaces their `namespace` labels name.
- **Record** (annotations, so that it survives whatever the CRD's schema prunes): the group key, and per
  fingerprint the alert's name, status, startsAt and endsAt; a resolved alert is recorded there.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..incident import API_VERSION, DNS_LABEL, HTTP_URL, KIND, IncidentError, IncidentSpec, load_incident, name_part
from ..operator.status import IncidentStatus
from ..userfiles import UserFileError, read_user_file
from ..yamlsource import load_yaml
from .payload import Alert, Notification

SOURCE_LABEL = "sre-agent.dev/source"
SOURCE = "alertmanager"
GROUP_LABEL = "sre-agent.dev/alert-group"
GENERATION_LABEL = "sre-agent.dev/alert-generation"
GROUP_KEY_ANNOTATION = "sre-agent.dev/alert-group-key"
ALERTS_ANNOTATION = "sre-agent.dev/alerts"
UNRECORDED_ANNOTATION = "sre-agent.dev/alerts-not-recorded"

# An alert storm must not grow one object without bound (annotations share 256 KiB; the model reads the
# spec's alerts): past these, alerts are counted, not kept.
MAX_RECORDED_ALERTS = 200
MAX_SPEC_ALERTS = 30
SUMMARY_LIMIT = 300
TEMPLATE_FILE_LIMIT = 1024 * 1024


class TemplateError(ValueError):
    """The incident template cannot be used; the message is one line."""


def group_hash(group_key: str) -> str:
    return hashlib.sha256(group_key.encode()).hexdigest()[:12]


def incident_name(group_key: str, generation: int) -> str:
    base = f"alert-{group_hash(group_key)}"
    return base if generation == 1 else f"{base}-{generation}"


def generation_of(obj: Mapping[str, Any]) -> int:
    raw = obj.get("metadata", {}).get("labels", {}).get(GENERATION_LABEL, "1")
    return int(raw) if str(raw).isdigit() else 1


def is_closed(obj: Mapping[str, Any]) -> bool:
    """Whether the operator is done with this Incident (its phase is terminal): a group's later alerts then
    start a new one."""
    return IncidentStatus.read(obj.get("status")).terminal


def recorded_alerts(obj: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """fingerprint -> {name, status, startsAt, endsAt}, as the Incident's annotation records them."""
    raw = (obj.get("metadata", {}).get("annotations") or {}).get(ALERTS_ANNOTATION, "")
    try:
        data = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        return {}
    return {a["fingerprint"]: a for a in data if isinstance(a, dict) and isinstance(a.get("fingerprint"), str)}


# ============================================================================================ template
def load_template(path: str | Path | None) -> dict[str, Any]:
    """The spec every Incident starts from: an Incident file (validated as `sre-agent validate` would),
    of which the spec is taken as written, so that defaults derived from the scope (allowed namespaces)
    are derived from each Incident's own scope. No file: an empty spec (the CRD's defaults)."""
    if path is None:
        return {}
    try:
        load_incident(path)
        data = load_yaml(read_user_file(path, limit=TEMPLATE_FILE_LIMIT, what="incident files")).data
    except IncidentError as err:
        raise TemplateError(str(err).splitlines()[0] if str(err) else f"{path}: not a valid incident") from None
    except UserFileError as err:
        raise TemplateError(str(err)) from None
    spec = dict(data["spec"])
    for made_here in ("summary", "alerts", "scope"):
        spec.pop(made_here, None)
    return spec


# ============================================================================================ objects
def new_incident(
    notification: Notification, template: Mapping[str, Any], namespace: str, generation: int
) -> dict[str, Any]:
    """The Incident a group's first firing notification creates (raises ValueError if the spec is invalid)."""
    firing = notification.firing
    spec = copy.deepcopy(dict(template))
    spec["summary"] = summary(notification)
    spec["alerts"] = spec_alerts([], firing)
    spec["scope"] = {**spec.get("scope", {}), "namespaces": namespaces_of(firing)}
    try:
        IncidentSpec.model_validate(spec)
    except ValidationError as exc:
        raise ValueError(f"the incident made from this notification is invalid: {exc.errors()[0]['msg']}") from None
    record, unrecorded = _merge_record({}, notification.alerts)
    annotations = {
        GROUP_KEY_ANNOTATION: notification.group_key,
        ALERTS_ANNOTATION: _dump(record),
    }
    if unrecorded:
        annotations[UNRECORDED_ANNOTATION] = str(unrecorded)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": incident_name(notification.group_key, generation),
            "namespace": namespace,
            "labels": {
                SOURCE_LABEL: SOURCE,
                GROUP_LABEL: group_hash(notification.group_key),
                GENERATION_LABEL: str(generation),
            },
            "annotations": annotations,
        },
        "spec": spec,
    }


def incident_document(notification: Notification, namespaces: list[str] | None = None) -> dict[str, Any]:
    """The incident file `sre-agent run --alert` makes of a notification's firing alerts: its summary, the
    alerts, and the namespaces they name (or `namespaces`, when given)."""
    firing = notification.firing
    names = sorted({a.name for a in firing})
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name_part("-".join(names), 50) or "alert"},
        "spec": {
            "summary": summary(notification),
            "alerts": spec_alerts([], firing),
            "scope": {"namespaces": namespaces or namespaces_of(firing)},
            # The Alertmanager that sent it, where the gate sees whether the alerts cleared.
            **(
                {"observability": {"alertmanager": url}} if re.match(HTTP_URL, url := notification.external_url) else {}
            ),
        },
    }


def joined(obj: Mapping[str, Any], notification: Notification, *, add_alerts: bool) -> dict[str, Any] | None:
    """The Incident with this notification's alerts recorded (and, while it is open, its new firing alerts
    and namespaces added to the spec); None when that changes nothing."""
    updated = copy.deepcopy(dict(obj))
    meta = updated.setdefault("metadata", {})
    annotations = meta.setdefault("annotations", {}) or {}
    meta["annotations"] = annotations
    record, unrecorded = _merge_record(recorded_alerts(obj), notification.alerts)
    annotations[ALERTS_ANNOTATION] = _dump(record)
    previously = int(annotations.get(UNRECORDED_ANNOTATION, "0") or 0)
    if unrecorded:
        annotations[UNRECORDED_ANNOTATION] = str(previously + unrecorded)
    if add_alerts:
        spec = updated.setdefault("spec", {})
        spec["alerts"] = spec_alerts(spec.get("alerts") or [], notification.firing)
        scope = spec.setdefault("scope", {})
        scope["namespaces"] = sorted(set(scope.get("namespaces") or []) | set(namespaces_of(notification.firing)))
    return None if updated == obj else updated


def summary(notification: Notification) -> str:
    """The symptom as the alerts put it: the group's summary annotation, else the first firing alert's,
    else the alert names."""
    firing = notification.firing or notification.alerts
    for notes in (notification.common_annotations, *(a.annotations for a in firing)):
        for key in ("summary", "description", "message"):
            text = " ".join(notes.get(key, "").split())
            if text:
                return text[:SUMMARY_LIMIT]
    names = sorted({a.name for a in firing})
    where = namespaces_of(firing)
    text = f"Alertmanager: {', '.join(names)} firing" + (f" in {', '.join(where)}" if where else "")
    return text[:SUMMARY_LIMIT]


def namespaces_of(alerts: list[Alert]) -> list[str]:
    """The namespaces the alerts' `namespace` labels name (values that are no namespace name are left out)."""
    return sorted({ns for a in alerts if re.match(DNS_LABEL, ns := a.labels.get("namespace", ""))})


def spec_alerts(existing: list[dict[str, Any]], firing: list[Alert]) -> list[dict[str, Any]]:
    alerts = list(existing)
    seen = {json.dumps(a.get("labels", {}), sort_keys=True) for a in alerts}
    for alert in firing:
        key = json.dumps(alert.labels, sort_keys=True)
        if key not in seen and len(alerts) < MAX_SPEC_ALERTS:
            seen.add(key)
            alerts.append({"name": alert.name, "labels": dict(alert.labels)})
    return alerts


def _merge_record(record: dict[str, dict[str, str]], alerts: list[Alert]) -> tuple[dict[str, dict[str, str]], int]:
    merged = dict(record)
    unrecorded = 0
    for alert in alerts:
        if alert.fingerprint not in merged and len(merged) >= MAX_RECORDED_ALERTS:
            unrecorded += 1
            continue
        entry = {"fingerprint": alert.fingerprint, "name": alert.name, "status": alert.status}
        # Alertmanager writes Go's zero time for "not ended"; it is left out rather than recorded as a date.
        times = (("startsAt", alert.starts_at), ("endsAt", alert.ends_at))
        entry.update({k: v for k, v in times if v and not v.startswith("0001-")})
        merged[alert.fingerprint] = entry
    return merged, unrecorded


def _dump(record: dict[str, dict[str, str]]) -> str:
    return json.dumps([record[fp] for fp in sorted(record)], separators=(",", ":"))
