"""Alertmanager's webhook notification (version 4), read strictly enough to act on and no further.

    {"version": "4", "groupKey": "{}:{alertname=\"KubePodCrashLooping\"}", "status": "firing",
     "receiver": "sre-agent", "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0,
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...}, "startsAt": "...",
                 "endsAt": "...", "generatorURL": "...", "fingerprint": "c1d2..."}]}

Fields Alertmanager may add later are ignored; a missing or ill-typed field the receiver needs is a
`PayloadError` with one line naming it (the HTTP answer is 400 with that line).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

AlertStatus = Literal["firing", "resolved"]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class PayloadError(ValueError):
    """A notification the receiver cannot use; the message is one line naming what is wrong."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Alert(_Model):
    """One alert of the group, as Alertmanager reports it."""

    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: str = Field(default="", alias="startsAt")
    ends_at: str = Field(default="", alias="endsAt")
    fingerprint: NonEmpty

    @property
    def name(self) -> str:
        return self.labels["alertname"]


class Notification(_Model):
    """A group of alerts Alertmanager routed to this receiver."""

    version: Literal["4"]
    group_key: NonEmpty = Field(alias="groupKey")
    status: AlertStatus
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    truncated_alerts: int = Field(default=0, ge=0, alias="truncatedAlerts")
    alerts: list[Alert] = Field(min_length=1)

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "firing"]


def parse_notification(body: bytes, *, alert_list: bool = False) -> Notification:
    """The notification in `body` (JSON), or PayloadError with the first problem found. With `alert_list`,
    a JSON list of alerts as Alertmanager's v2 API and `amtool alert query -o json` give them is one group."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PayloadError(f"the body is not JSON: {err}") from None
    if alert_list and isinstance(data, list):
        data = _as_group(data)
    if not isinstance(data, dict):
        raise PayloadError(f"expected an Alertmanager notification (a JSON object), got {type(data).__name__}")
    try:
        notification = Notification.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(_first_problem(exc)) from None
    for i, alert in enumerate(notification.alerts):
        if not alert.labels.get("alertname"):
            # Prometheus always sets it; without it there is nothing to name the incident's alert by.
            raise PayloadError(f"alerts[{i}].labels: has no alertname")
    return notification


def _as_group(alerts: list[Any]) -> dict[str, Any]:
    """API v2 alerts as one notification: their `status` is an object whose state `active` means firing."""
    out = []
    for a in alerts:
        if not isinstance(a, dict):
            raise PayloadError(f"expected a list of alerts (JSON objects), got a {type(a).__name__} in it")
        state = a.get("status")
        if isinstance(state, dict):
            state = "firing" if state.get("state", "active") in ("active", "unprocessed", "suppressed") else "resolved"
        out.append({**a, "status": state or "firing"})
    return {"version": "4", "groupKey": "alert-list", "status": "firing", "alerts": out}


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ""
    for part in err["loc"]:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where or 'notification'}: {err['msg']}{more}"
