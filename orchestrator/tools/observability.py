"""Alerts from the Alertmanager v2 API and instant queries against the Prometheus HTTP API."""

from __future__ import annotations

import asyncio
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..endpoints import open_url
from .context import ToolContext
from .errors import ToolError, one_line
from .rows import capped
from .schema import params, prop
from .spec import ToolSpec

HTTP_TIMEOUT_SECONDS = 10.0
SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "info": 3}


def _get_json(url: str, what: str) -> Any:
    try:
        with open_url(url, HTTP_TIMEOUT_SECONDS) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        body = err.read().decode("utf-8", errors="replace")
        try:
            doc = json.loads(body)
            detail = doc.get("error") if isinstance(doc, dict) else doc
        except ValueError:
            detail = body
        raise ToolError(f"{what} answered {err.code}: {one_line(str(detail), 300)}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ToolError(f"cannot reach {what} at {url.split('/api/')[0]}: {reason}") from None
    except ValueError as err:
        raise ToolError(f"{what} sent a response that is not JSON: {err}") from None


async def fetch_json(url: str, what: str) -> Any:
    return await asyncio.to_thread(_get_json, url, what)


def _base(url: str | None, what: str) -> str:
    if not url:
        raise ToolError(f"no {what} URL is configured for this run")
    return url.rstrip("/")


# ---------------------------------------------------------------------------------------------- alerts
def alert_row(alert: dict) -> dict[str, Any]:
    labels = alert.get("labels") or {}
    annotations = alert.get("annotations") or {}
    row = {
        "name": labels.get("alertname"),
        "state": (alert.get("status") or {}).get("state", "active"),
        "severity": labels.get("severity"),
        "labels": labels,
        "summary": annotations.get("summary") or annotations.get("description") or "",
        "startsAt": alert.get("startsAt"),
    }
    if annotations.get("description") and annotations.get("description") != row["summary"]:
        row["description"] = annotations["description"]
    return row


async def active_alerts(ctx: ToolContext, namespace: str | None = None) -> list[dict[str, Any]]:
    """Active (not silenced, not inhibited) alerts as rows, most severe and oldest first."""
    base = _base(ctx.alertmanager_url, "Alertmanager")
    query = urllib.parse.urlencode({"active": "true", "silenced": "false", "inhibited": "false"})
    alerts = await fetch_json(f"{base}/api/v2/alerts?{query}", "Alertmanager")
    if not isinstance(alerts, list):
        raise ToolError("Alertmanager sent something other than a list of alerts")
    rows = [alert_row(a) for a in alerts]
    if namespace:
        rows = [r for r in rows if r["labels"].get("namespace") == namespace]
    rows.sort(key=lambda r: (SEVERITY_ORDER.get(str(r["severity"]), 9), r["startsAt"] or "", r["name"] or ""))
    return rows


async def get_alerts(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    rows = await active_alerts(ctx, args.get("namespace"))
    return capped(rows, "alerts", count=len(rows))


# ---------------------------------------------------------------------------------------------- metrics
def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


async def instant_query(ctx: ToolContext, query: str) -> list[dict[str, Any]]:
    base = _base(ctx.prometheus_url, "Prometheus")
    body = await fetch_json(f"{base}/api/v1/query?{urllib.parse.urlencode({'query': query})}", "Prometheus")
    if not isinstance(body, dict) or body.get("status") != "success":
        raise ToolError(f"Prometheus query failed: {(body or {}).get('error', 'no result')}")
    data = body.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("scalar", "string"):
        return [{"metric": {}, "value": _number(result[1]) if isinstance(result, list) else None}]
    rows = []
    for series in result or []:
        if "value" in series:
            row = {"metric": series.get("metric") or {}, "value": _number(series["value"][1])}
        else:  # a range vector: the latest sample, and how many there were
            values = series.get("values") or []
            row = {"metric": series.get("metric") or {}, "value": _number(values[-1][1]) if values else None}
            row["samples"] = len(values)
        rows.append(row)
    return rows


async def query_metrics(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    rows = await instant_query(ctx, args["query"])
    # Largest first: with a capped list, the series that matter (error rates, restarts) survive the cut.
    rows.sort(key=lambda r: (r["value"] is None, -(r["value"] or 0.0)))
    return {"query": args["query"], **capped(rows, "result"), "count": len(rows)}


TOOLS = [
    ToolSpec(
        "get_alerts",
        "Active alerts from Alertmanager (name, state, severity, labels, summary, startsAt), most severe "
        "first; optionally only those labelled with a namespace.",
        params(namespace=prop("string", "only alerts whose namespace label is this")),
        "read",
        get_alerts,
        order=10,
        category="alerts",
    ),
    ToolSpec(
        "query_metrics",
        "Instant PromQL query against Prometheus; returns each series' labels and value, largest first. "
        'E.g. app_errors_per_second{namespace="otel-demo"} > 0, '
        'sum by (service, callee) (app_call_errors_per_second{namespace="otel-demo"}).',
        params(["query"], query=prop("string", "a PromQL expression")),
        "read",
        query_metrics,
        order=70,
        category="metrics",
    ),
]
