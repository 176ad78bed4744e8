"""Fetching what the analyzers need for a scope, through the official client, bounded and in parallel.

Every kind is listed by its API path (`/api/v1/...`, `/apis/GROUP/VERSION/...`), so kinds the typed
client methods do not cover and CRD-backed kinds read the same way. A kind the cluster does not serve
(404) or the caller may not list (403) is left out of the snapshot, so the analyzers that need it stay
silent instead of reporting its objects missing. Secret values are replaced by their sizes on arrival.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote as urlquote

from ..kube import decode_response, server_date
from ..tools.redact import secret_sizes
from .snapshot import Snapshot

# kind -> (API prefix, plural, namespaced)
KINDS: dict[str, tuple[str, str, bool]] = {
    "Pod": ("api/v1", "pods", True),
    "Service": ("api/v1", "services", True),
    "Endpoints": ("api/v1", "endpoints", True),
    "Event": ("api/v1", "events", True),
    "ConfigMap": ("api/v1", "configmaps", True),
    "Secret": ("api/v1", "secrets", True),
    "PersistentVolumeClaim": ("api/v1", "persistentvolumeclaims", True),
    "ResourceQuota": ("api/v1", "resourcequotas", True),
    "LimitRange": ("api/v1", "limitranges", True),
    "ServiceAccount": ("api/v1", "serviceaccounts", True),
    "Node": ("api/v1", "nodes", False),
    "PersistentVolume": ("api/v1", "persistentvolumes", False),
    "Namespace": ("api/v1", "namespaces", False),
    "Deployment": ("apis/apps/v1", "deployments", True),
    "ReplicaSet": ("apis/apps/v1", "replicasets", True),
    "StatefulSet": ("apis/apps/v1", "statefulsets", True),
    "DaemonSet": ("apis/apps/v1", "daemonsets", True),
    "Job": ("apis/batch/v1", "jobs", True),
    "CronJob": ("apis/batch/v1", "cronjobs", True),
    "Ingress": ("apis/networking.k8s.io/v1", "ingresses", True),
    "NetworkPolicy": ("apis/networking.k8s.io/v1", "networkpolicies", True),
    "HorizontalPodAutoscaler": ("apis/autoscaling/v2", "horizontalpodautoscalers", True),
    "PodDisruptionBudget": ("apis/policy/v1", "poddisruptionbudgets", True),
    "StorageClass": ("apis/storage.k8s.io/v1", "storageclasses", False),
    "PrometheusRule": ("apis/monitoring.coreos.com/v1", "prometheusrules", True),  # the Prometheus Operator's
}
PAGE = 500
MAX_PAGES = 20  # at most 10,000 objects of one kind per namespace: a first pass, not an inventory
LOG_TAIL = 20
MAX_LOGS = 20  # containers whose logs are read: the crashed ones first seen
WORKERS = 8


class ReadFailure(Exception):
    """The cluster could not be read at all (unreachable, not an API server); one line."""


@dataclass
class ReadResult:
    snapshot: Snapshot
    skipped: list[str] = field(default_factory=list)  # kinds left out, with why


class _Http:
    def __init__(self, api: Any, timeout: float) -> None:
        self.api = api
        self.timeout = timeout
        self.server_time: float | None = None

    def get(self, path: str, query: list[tuple[str, Any]] | None = None) -> tuple[int, bytes]:
        import urllib3

        method, url, headers, body, post = self.api.param_serialize(
            "GET",
            "/" + path,
            query_params=query or [],
            header_params={"Accept": "application/json, */*"},
            auth_settings=["BearerToken"],
        )
        try:
            resp = self.api.call_api(method, url, headers, body, post, _request_timeout=self.timeout)
            resp.read()
        except (urllib3.exceptions.HTTPError, OSError) as err:
            host = self.api.configuration.host
            reason = str(getattr(err, "reason", None) or err)
            reason = reason.split(">: ", 1)[-1]  # urllib3 prefixes the repr of its connection object
            raise ReadFailure(f"cannot reach the cluster at {host}: {' '.join(reason.split())[:200]}") from None
        ts = server_date(resp)
        if ts is not None:
            self.server_time = max(self.server_time or ts, ts)
        return resp.status, resp.data or b""


def read_snapshot(
    api: Any,
    namespaces: Iterable[str],
    kinds: Iterable[str] | None = None,
    timeout: float = 10.0,
    logs: bool = True,
    normal_events: Iterable[str] | None = None,
) -> ReadResult:
    """List the kinds (default: every kind the reader knows) in the namespaces, then the recent logs of
    crashed containers; raises ReadFailure when the cluster cannot be reached. Events are the Warning ones
    and the Normal ones of the reasons in `normal_events` (default: those the registered analyzers read)."""
    namespaces = list(dict.fromkeys(namespaces))
    wanted = [k for k in (kinds or KINDS) if k in KINDS]
    http = _Http(api, timeout)
    jobs = [
        (k, ns, selector)
        for k in wanted
        for ns in (namespaces if KINDS[k][2] else [None])
        for selector in (_event_selectors(normal_events) if k == "Event" else [None])
    ]
    objects: dict[str, list[dict]] = {}
    skipped: list[str] = []
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for kind, ns, items, problem, more in pool.map(lambda j: _list(http, *j), jobs):
            if problem is not None:
                if problem not in skipped:
                    skipped.append(problem)
                continue
            if more:
                skipped.append(f"{kind}: only the first {len(items)} in {ns or 'the cluster'} read")
            objects.setdefault(kind, []).extend(items)
    if "Event" in objects:  # one list per selector: back in the order one list would give
        objects["Event"].sort(key=lambda e: (e["metadata"].get("namespace", ""), e["metadata"].get("name", "")))
    for secret in objects.get("Secret", []):
        secret["data"] = secret_sizes(secret)
        secret.pop("stringData", None)
    logs_read = _logs(http, objects.get("Pod", []), namespaces) if logs and "Pod" in objects else {}
    return ReadResult(Snapshot(objects, logs_read, http.server_time), skipped)


def read_alerts(url: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Alertmanager v2's firing alerts as `{"name", "labels", "annotations"}` (what a run reads with its
    get_alerts tool); raises ReadFailure with one line when Alertmanager cannot be read."""
    import urllib.error

    from ..endpoints import open_url

    try:
        with open_url(f"{url.rstrip('/')}/api/v2/alerts?active=true", timeout) as resp:
            body = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise ReadFailure(f"cannot read alerts from Alertmanager at {url}: {getattr(err, 'reason', err)}") from None
    out = []
    for a in body if isinstance(body, list) else []:
        labels = a.get("labels") or {}
        out.append({"name": labels.get("alertname"), "labels": labels, "annotations": a.get("annotations") or {}})
    return out


def _event_selectors(normal_events: Iterable[str] | None) -> list[str]:
    """Field selectors (type and reason are selectable fields of core/v1 Events) for the events read."""
    if normal_events is None:
        from .registry import REGISTRY
        from .run import needed_normal_events

        normal_events = needed_normal_events(REGISTRY.all())
    return ["type=Warning"] + [f"type=Normal,reason={reason}" for reason in sorted(set(normal_events))]


def _list(
    http: _Http, kind: str, ns: str | None, field_selector: str | None = None
) -> tuple[str, str | None, list[dict], str | None, bool]:
    """(kind, namespace, items, why the kind is left out, whether more items than MAX_PAGES hold exist)"""
    prefix, plural, namespaced = KINDS[kind]
    path = f"{prefix}/namespaces/{urlquote(ns)}/{plural}" if namespaced and ns else f"{prefix}/{plural}"
    items: list[dict] = []
    token = None
    for _ in range(MAX_PAGES):
        query: list[tuple[str, Any]] = [("limit", PAGE)] + ([("continue", token)] if token else [])
        if field_selector:
            query.append(("fieldSelector", field_selector))
        status, data = http.get(path, query)
        if status in (404, 405):
            return kind, ns, [], f"{kind}: not served by this cluster", False
        if status in (401, 403):
            return kind, ns, [], f"{kind}: forbidden ({status})", False
        if status >= 300:
            return kind, ns, [], f"{kind}: the API server answered {status}", False
        try:
            body = decode_response(data)
        except ValueError:
            raise ReadFailure(
                f"cannot read {plural}: the response is not JSON (is this a Kubernetes API server?)"
            ) from None
        for item in body.get("items") or []:
            item.setdefault("kind", kind)  # list items omit their kind
            items.append(item)
        token = (body.get("metadata") or {}).get("continue")
        if not token:
            break
    return kind, ns, items, None, bool(token)


def _logs(http: _Http, pods: list[dict], namespaces: list[str]) -> dict[tuple[str, str, str], str]:
    """The last lines of containers that crashed (previous instance) or exited, then of running ones (an app
    that serves errors says why only there), for a bounded set of pods."""
    wanted: list[tuple[str, str, str, bool]] = []
    running: list[tuple[str, str, str, bool]] = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        if meta.get("namespace") not in namespaces:
            continue
        status = pod.get("status") or {}
        for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            crashed = bool((cs.get("lastState") or {}).get("terminated")) and (cs.get("restartCount") or 0) > 0
            exited = bool((cs.get("state") or {}).get("terminated"))
            if crashed or exited:
                wanted.append((meta["namespace"], meta.get("name", ""), cs.get("name", ""), crashed))
            elif (cs.get("state") or {}).get("running"):
                running.append((meta["namespace"], meta.get("name", ""), cs.get("name", ""), False))
    wanted = (wanted + running)[:MAX_LOGS]
    out: dict[tuple[str, str, str], str] = {}

    def fetch(job: tuple[str, str, str, bool]) -> tuple[tuple[str, str, str], str | None]:
        ns, pod, container, previous = job
        path = f"api/v1/namespaces/{urlquote(ns)}/pods/{urlquote(pod)}/log"
        query: list[tuple[str, Any]] = [("container", container), ("tailLines", LOG_TAIL)]
        try:
            status, data = http.get(path, query + ([("previous", "true")] if previous else []))
            if previous and status == 400:  # the previous instance never started: the current one is all there is
                status, data = http.get(path, query)
        except ReadFailure:
            return (ns, pod, container), None
        return (ns, pod, container), data.decode("utf-8", errors="replace") if status == 200 else None

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for key, text in pool.map(fetch, wanted):
            if text:
                out[key] = text
    return out
