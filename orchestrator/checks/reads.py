"""Fresh reads for one evaluation: Kubernetes objects through the official client, alerts from Alertmanager v2.

A `Reads` lives for one verdict only. Within it each list/get happens once (checks of the same verdict see
the same snapshot); a new verdict builds a new `Reads`, so nothing is cached between verdicts. Every failure
becomes a `ReadError` with one line a human can read: the check that needed the read fails with it.
"""

from __future__ import annotations

import builtins
import json
import re
import threading
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from ..kube import api_message, decode_response
from ..redaction import mask_text
from ..tools.kinds import KINDS

T = TypeVar("T")

# kind -> (client API class, method stem, plural for messages)
RESOURCES: dict[str, tuple[str, str, str]] = {
    "Deployment": ("AppsV1Api", "deployment", "deployments"),
    "StatefulSet": ("AppsV1Api", "stateful_set", "statefulsets"),
    "DaemonSet": ("AppsV1Api", "daemon_set", "daemonsets"),
    "ReplicaSet": ("AppsV1Api", "replica_set", "replicasets"),
    "Pod": ("CoreV1Api", "pod", "pods"),
    "Service": ("CoreV1Api", "service", "services"),
    "Endpoints": ("CoreV1Api", "endpoints", "endpoints"),
    "Event": ("CoreV1Api", "event", "events"),
    "ResourceQuota": ("CoreV1Api", "resource_quota", "resourcequotas"),
    "NetworkPolicy": ("NetworkingV1Api", "network_policy", "networkpolicies"),
    "HorizontalPodAutoscaler": ("AutoscalingV2Api", "horizontal_pod_autoscaler", "horizontalpodautoscalers"),
    "Node": ("CoreV1Api", "node", "nodes"),
    "Job": ("BatchV1Api", "job", "jobs"),
    "CronJob": ("BatchV1Api", "cron_job", "cronjobs"),
    "Ingress": ("NetworkingV1Api", "ingress", "ingresses"),
    "PersistentVolumeClaim": ("CoreV1Api", "persistent_volume_claim", "persistentvolumeclaims"),
    "PersistentVolume": ("CoreV1Api", "persistent_volume", "persistentvolumes"),
    "StorageClass": ("StorageV1Api", "storage_class", "storageclasses"),
}

MAX_ERROR_CHARS = 300


class ReadError(Exception):
    """A read that failed (403, 500, unreachable, unreadable): the message is one line."""


def one_line(text: object) -> str:
    line = " ".join(mask_text(str(text)).split())  # masked before the cut, which could halve a secret
    # urllib3 prefixes connection errors with the repr of its connection object: noise for a human.
    line = re.sub(r"<[\w.]+ object at 0x[0-9a-f]+>:\s*", "", line)
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


class Reads:
    def __init__(self, api: Any, alertmanager_url: str | None = None, timeout: float = 10.0) -> None:
        self.api = api
        self.alertmanager_url = alertmanager_url.rstrip("/") if alertmanager_url else None
        self.timeout = timeout
        self.server_time: float | None = None  # newest HTTP Date header the API server sent
        self._memo: dict[tuple, tuple[bool, Any]] = {}
        self._key_locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ Kubernetes
    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        """The object as served (camelCase JSON), or None when it does not exist (404)."""
        return self._once(("get", kind, namespace, name), lambda: self._call(kind, "read", namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        if not KINDS[kind].namespaced:
            namespace = None  # one list of a cluster-scoped kind, whatever namespace the caller judges
        body = self._once(("list", kind, namespace), lambda: self._call(kind, "list", namespace, None))
        return list((body or {}).get("items") or [])

    def _call(self, kind: str, verb: str, namespace: str | None, name: str | None) -> dict | None:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        api_class, stem, plural = RESOURCES[kind]
        api = getattr(client, api_class)(self.api)
        args: list[str] = [name] if name else []
        if not KINDS[kind].namespaced:
            method = getattr(api, f"{verb}_{stem}")
        else:
            method = getattr(api, f"{verb}_namespaced_{stem}")
            args.append(namespace or "")
        what = f"{plural} {namespace}/{name}" if name and namespace else f"{plural} {name or ''}".strip()
        if not name and namespace:
            what += f" in {namespace}"
        try:
            resp = method(*args, _preload_content=False, _request_timeout=self.timeout)
        except ApiException as err:
            if err.status == 404 and verb == "read":
                return None
            raise ReadError(f"cannot {'get' if verb == 'read' else verb} {what}: {_api_message(err)}") from err
        except (HTTPError, OSError) as err:  # refused, reset, timed out: the cluster did not answer
            raise ReadError(f"cannot reach the cluster at {self.api.configuration.host}: {_reason(err)}") from err
        self._note_date(resp.headers.get("Date"))
        try:
            return decode_response(resp.data)
        except ValueError as err:
            raise ReadError(f"cannot read {what}: the response is not JSON") from err

    def _note_date(self, header: str | None) -> None:
        if not header:
            return
        try:
            ts = parsedate_to_datetime(header).timestamp()
        except (TypeError, ValueError):
            return
        with self._lock:
            self.server_time = ts if self.server_time is None else max(self.server_time, ts)

    # ------------------------------------------------------------------ Alertmanager
    def alerts(self) -> builtins.list[dict]:
        """Every alert Alertmanager v2 holds (active, silenced and inhibited alike)."""
        return self._once(("alerts",), self._read_alerts)

    def _read_alerts(self) -> builtins.list[dict]:
        import urllib.error

        from ..endpoints import open_url

        url = self.alertmanager_url
        if not url:
            raise ReadError("cannot read alerts: no Alertmanager URL is configured")
        try:
            with open_url(f"{url}/api/v2/alerts", self.timeout) as resp:
                body = json.loads(resp.read())
        except urllib.error.HTTPError as err:
            raise ReadError(f"cannot read alerts at {url}: HTTP {err.code} {one_line(err.reason)}") from err
        except urllib.error.URLError as err:
            raise ReadError(f"cannot read alerts at {url}: {one_line(err.reason)}") from err
        except (OSError, ValueError) as err:
            raise ReadError(f"cannot read alerts at {url}: {one_line(err) or type(err).__name__}") from err
        if not isinstance(body, list):
            raise ReadError(f"cannot read alerts at {url}: expected a JSON list of alerts")
        return body

    # ------------------------------------------------------------------ once per verdict
    def _once(self, key: tuple, fn: Callable[[], T]) -> T:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # checks run in threads: the second asker waits for the first read
            if key not in self._memo:
                try:
                    self._memo[key] = (True, fn())
                except ReadError as err:
                    self._memo[key] = (False, err)
            ok, value = self._memo[key]
        if not ok:
            raise value
        return value


def _api_message(err: Any) -> str:
    return one_line(f"{err.status} {api_message(err) or err.reason or ''}".strip())


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None) or err
    return one_line(reason) or type(err).__name__
