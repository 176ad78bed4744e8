"""Notifications into Incident objects through the Kubernetes API (the operator's `IncidentApi`).

One notification, one `deliver`:

1. the open Incident of its group (the newest `alert-<hash>[-N]` not closed), else an open Incident
   already recording one of its fingerprints: join it (write the record, and the new alerts to its spec);
2. otherwise, with alerts firing, create the group's next Incident; a 409 means another request (or
   another replica) created it first, so join that one instead;
3. a notification of only resolved alerts never creates one: it is recorded on the group's newest
   Incident, closed or not, and otherwise dropped.

Joins replace the object at the resourceVersion they read and read again on a 409, so concurrent joins
never lose an alert. The client is synchronous: callers run `deliver` in a thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..kube import api_message
from ..operator.incidents import IncidentApi, Ref
from .payload import Notification
from .record import (
    GROUP_LABEL,
    SOURCE,
    SOURCE_LABEL,
    generation_of,
    group_hash,
    incident_name,
    is_closed,
    joined,
    new_incident,
    recorded_alerts,
)

ATTEMPTS = 10  # conflicts in a row before giving up (Alertmanager retries a failed notification)
Action = Literal["created", "joined", "recorded", "unchanged", "dropped"]


class StoreError(Exception):
    """The cluster refused or failed a request; worth retrying (the HTTP answer is 503)."""


@dataclass(frozen=True)
class Delivery:
    """What became of a notification: the Incident it went to (None when dropped) and how."""

    action: Action
    name: str | None


class IncidentStore:
    """Creates and joins Incidents in one namespace."""

    def __init__(self, api_client: Any, namespace: str, template: Mapping[str, Any]) -> None:
        self.incidents = IncidentApi(api_client)
        self.namespace = namespace
        self.template = dict(template)

    def check_served(self) -> None:
        """StoreError unless the cluster serves Incidents in the namespace to this client."""
        problem = self.incidents.served_problem(self.namespace)
        if problem is not None:
            raise StoreError(problem)

    def deliver(self, notification: Notification) -> Delivery:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._deliver(notification)
        except ApiException as err:
            raise StoreError(
                f"the Kubernetes API answered {err.status} {err.reason}: {api_message(err) or err.reason}"
            ) from None
        except OSError as err:  # urllib3's connection errors are OSErrors
            raise StoreError(f"cannot reach the Kubernetes API: {err}") from None

    # ------------------------------------------------------------------------------------------------
    def _deliver(self, notification: Notification) -> Delivery:
        for _ in range(ATTEMPTS):
            mine, others = self._incidents(notification)
            target = _open_for(mine, others, notification)
            if target is not None:
                firing = bool(notification.firing)
                delivered = self._join(target["metadata"]["name"], notification, add_alerts=firing)
                if delivered is not None:
                    return delivered
                continue  # closed or deleted meanwhile: decide again
            if not notification.firing:
                if not mine:
                    return Delivery("dropped", None)
                newest = max(mine, key=generation_of)["metadata"]["name"]
                delivered = self._join(newest, notification, add_alerts=False)
                if delivered is not None:
                    return delivered
                continue
            generation = max((generation_of(o) for o in mine), default=0) + 1
            created = self._create(notification, generation)
            if created is not None:
                return created
            # 409: someone else created it; the next pass finds it and joins it.
        raise StoreError(f"gave up after {ATTEMPTS} conflicting attempts for group {notification.group_key!r}")

    def _incidents(self, notification: Notification) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """This group's Incidents, and the other open ones made from alerts."""
        items = self.incidents.list([self.namespace], label_selector=f"{SOURCE_LABEL}={SOURCE}")
        group = group_hash(notification.group_key)
        mine = [o for o in items if o["metadata"].get("labels", {}).get(GROUP_LABEL) == group]
        others = [o for o in items if o not in mine and not is_closed(o)]
        return mine, others

    def _create(self, notification: Notification, generation: int) -> Delivery | None:
        from kubernetes.client.exceptions import ApiException

        body = new_incident(notification, self.template, self.namespace, generation)
        try:
            self.incidents.create(body)
        except ApiException as err:
            if err.status == 409:
                return None
            raise
        return Delivery("created", body["metadata"]["name"])

    def _join(self, name: str, notification: Notification, *, add_alerts: bool) -> Delivery | None:
        """Record the notification on `name`; None if it is gone, or was closed while alerts were to be
        added (the caller decides again)."""
        from kubernetes.client.exceptions import ApiException

        for _ in range(ATTEMPTS):
            try:
                current = self.incidents.get(Ref(self.namespace, name))
            except ApiException as err:
                if err.status == 404:
                    return None
                raise
            if add_alerts and is_closed(current):
                return None
            updated = joined(current, notification, add_alerts=add_alerts)
            if updated is None:
                return Delivery("unchanged", name)
            try:
                self.incidents.replace(updated)
            except ApiException as err:
                if err.status in (404, 409):  # gone, or changed since read: read again
                    continue
                raise
            return Delivery("joined" if add_alerts else "recorded", name)
        raise StoreError(f"gave up after {ATTEMPTS} conflicting updates of Incident {name}")


def _open_for(
    mine: list[dict[str, Any]], others: list[dict[str, Any]], notification: Notification
) -> dict[str, Any] | None:
    """The open Incident this notification joins: its group's newest, else one holding its fingerprints."""
    open_mine = [o for o in mine if not is_closed(o)]
    if open_mine:
        return max(open_mine, key=generation_of)
    fingerprints = {a.fingerprint for a in notification.alerts}
    sharing = [o for o in others if fingerprints & set(recorded_alerts(o))]
    # Oldest first, so that every replica picks the same one.
    return min(sharing, key=lambda o: o["metadata"].get("creationTimestamp") or "", default=None)


__all__ = ["Delivery", "IncidentStore", "StoreError", "incident_name"]
