"""Resource usage from the metrics API (metrics.k8s.io), what `kubectl top` shows: `list_resources` and
`describe` of PodMetrics (`podmetrics`) and NodeMetrics (`nodemetrics`), found through discovery like
any served kind, summarised against what each may use: a pod's container limits, a node's allocatable.

A container near its memory limit is the next OOMKill; a node near its allocatable memory is the next
eviction. So each pod shows its fullest container as a percentage of its limit, each node its share.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..checks.kube import quantity
from .context import ToolContext
from .kinds import KINDS
from .templates import compact

GROUP = "metrics.k8s.io"
MI = Decimal(2**20)


def _amount(value: Any) -> Decimal:
    parsed = quantity(value) if value is not None else None
    return parsed if parsed is not None else Decimal(0)


def _percent(used: Decimal, limit: Any) -> int | None:
    total = quantity(limit) if limit is not None else None
    return int(used * 100 / total) if total else None


def _container_rows(metrics: dict, pod: dict | None) -> list[dict[str, Any]]:
    """Each container's use, and its share of its limit where it has one."""
    limits = {
        c.get("name"): (c.get("resources") or {}).get("limits") or {}
        for c in ((pod or {}).get("spec") or {}).get("containers") or []
    }
    rows = []
    for c in metrics.get("containers") or []:
        usage, limit = c.get("usage") or {}, limits.get(c.get("name"), {})
        cpu, memory = _amount(usage.get("cpu")), _amount(usage.get("memory"))
        rows.append(
            compact(
                {
                    "name": c.get("name"),
                    "cpu_m": int(cpu * 1000),
                    "memory_mi": int(memory / MI),
                    "cpu_limit": limit.get("cpu"),
                    "cpu_of_limit": _percent(cpu, limit.get("cpu")),
                    "memory_limit": limit.get("memory"),
                    "memory_of_limit": _percent(memory, limit.get("memory")),
                }
            )
        )
    return rows


def pod_usage(metrics: dict, pod: dict | None) -> dict[str, Any]:
    """A pod's total use, and its fullest container against its limit: `92% of 512Mi (cart)`."""
    rows = _container_rows(metrics, pod)
    out: dict[str, Any] = {
        "cpu_m": sum(r["cpu_m"] for r in rows),
        "memory_mi": sum(r["memory_mi"] for r in rows),
    }
    for resource in ("memory", "cpu"):
        limited = [r for r in rows if f"{resource}_of_limit" in r]
        if limited:
            top = max(limited, key=lambda r: r[f"{resource}_of_limit"])
            out[f"{resource}_of_limit"] = (
                f"{top[f'{resource}_of_limit']}% of {top[f'{resource}_limit']} ({top['name']})"
            )
    return out


def node_usage(metrics: dict, node: dict | None) -> dict[str, Any]:
    usage = metrics.get("usage") or {}
    allocatable = ((node or {}).get("status") or {}).get("allocatable") or {}
    cpu, memory = _amount(usage.get("cpu")), _amount(usage.get("memory"))
    return compact(
        {
            "cpu_m": int(cpu * 1000),
            "cpu_of_allocatable": _percent(cpu, allocatable.get("cpu")),
            "memory_mi": int(memory / MI),
            "memory_of_allocatable": _percent(memory, allocatable.get("memory")),
        }
    )


async def _pods(ctx: ToolContext, namespace: str | None) -> dict[tuple[str, str], dict]:
    return {
        (p["metadata"].get("namespace", ""), p["metadata"]["name"]): p
        for p in await ctx.kube.list(KINDS["Pod"], namespace)
    }


async def pod_summaries(ctx: ToolContext, items: list[dict], namespace: str | None) -> list[dict[str, Any]]:
    pods = await _pods(ctx, namespace) if items else {}
    return [pod_usage(m, pods.get((m["metadata"].get("namespace", ""), m["metadata"]["name"]))) for m in items]


async def node_summaries(ctx: ToolContext, items: list[dict], namespace: str | None) -> list[dict[str, Any]]:
    nodes = {n["metadata"]["name"]: n for n in await ctx.kube.list(KINDS["Node"])} if items else {}
    return [node_usage(m, nodes.get(m["metadata"]["name"])) for m in items]


async def describe_pod_metrics(ctx: ToolContext, metrics: dict) -> tuple[dict, dict]:
    pod = await ctx.kube.find(KINDS["Pod"], metrics["metadata"]["name"], metrics["metadata"].get("namespace"))
    status = {"timestamp": metrics.get("timestamp"), "window": metrics.get("window")}
    return {}, {**status, **pod_usage(metrics, pod), "containers": _container_rows(metrics, pod)}


async def describe_node_metrics(ctx: ToolContext, metrics: dict) -> tuple[dict, dict]:
    node = await ctx.kube.find(KINDS["Node"], metrics["metadata"]["name"])
    status = {"timestamp": metrics.get("timestamp"), "window": metrics.get("window")}
    return {}, {**status, **node_usage(metrics, node)}


LIST_SUMMARIES = {f"PodMetrics.{GROUP}": pod_summaries, f"NodeMetrics.{GROUP}": node_summaries}
DESCRIBERS = {f"PodMetrics.{GROUP}": describe_pod_metrics, f"NodeMetrics.{GROUP}": describe_node_metrics}
