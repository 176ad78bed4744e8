"""`top`: current CPU and memory use of pods or nodes from the resource metrics API (metrics.k8s.io), as
`kubectl top` shows it, set against what each may use: a pod's container limits, a node's allocatable.

A container near its memory limit is the next OOMKill; a node near its allocatable memory is the next
eviction. Both are shown as percentages, the fullest first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..checks.kube import quantity
from .context import ToolContext
from .errors import ToolError
from .inventory import ensure_namespace
from .kinds import KINDS
from .rows import capped
from .schema import params, prop
from .spec import ToolSpec

METRICS = "apis/metrics.k8s.io/v1beta1"
MI = Decimal(2**20)


def _amount(value: Any) -> Decimal:
    parsed = quantity(value) if value is not None else None
    return parsed if parsed is not None else Decimal(0)


def _millicores(cores: Decimal) -> int:
    return int(cores * 1000)


def _percent(used: Decimal, limit: Decimal | None) -> int | None:
    return int(used * 100 / limit) if limit else None


async def _metrics(ctx: ToolContext, path: str, selector: str | None) -> list[dict]:
    query = [("labelSelector", selector)] if selector else None
    try:
        body = await ctx.kube.get_path(f"{METRICS}/{path}", "metrics", query=query)
    except ToolError:
        if await ctx.discovery.find("nodes.metrics.k8s.io") is None:
            raise ToolError(
                "the cluster serves no resource metrics API (metrics.k8s.io; is metrics-server installed?)"
            ) from None
        raise
    return list(body.get("items") or [])


async def _pods(ctx: ToolContext, namespace: str, selector: str | None) -> list[dict[str, Any]]:
    usage = await _metrics(ctx, f"namespaces/{namespace}/pods", selector)
    if not usage:
        await ensure_namespace(ctx, namespace)
    specs = {p["metadata"]["name"]: p for p in await ctx.kube.list(KINDS["Pod"], namespace, label_selector=selector)}
    rows = []
    for m in usage:
        name = m["metadata"]["name"]
        limits = {
            c["name"]: (c.get("resources") or {}).get("limits") or {}
            for c in (specs.get(name) or {}).get("spec", {}).get("containers") or []
        }
        cpu = memory = Decimal(0)
        fullest: dict[str, tuple[int, str]] = {}  # resource -> (percent of limit, container), the highest
        for c in m.get("containers") or []:
            used = {
                "cpu": _amount((c.get("usage") or {}).get("cpu")),
                "memory": _amount((c.get("usage") or {}).get("memory")),
            }
            cpu += used["cpu"]
            memory += used["memory"]
            for resource, amount in used.items():
                limit = limits.get(c.get("name"), {}).get(resource)
                pct = _percent(amount, quantity(limit)) if limit else None
                if pct is not None and pct >= fullest.get(resource, (-1, ""))[0]:
                    fullest[resource] = (pct, f"{pct}% of {limit} ({c.get('name')})")
        row: dict[str, Any] = {"name": name, "cpu_m": _millicores(cpu), "memory_mi": int(memory / MI)}
        for resource, (_, text) in fullest.items():
            row[f"{resource}_of_limit"] = text
        rows.append(row)

    def fullness(r: dict) -> tuple:
        pcts = [int(str(r[k]).split("%")[0]) for k in ("memory_of_limit", "cpu_of_limit") if k in r]
        return (-max(pcts, default=-1), -r["memory_mi"], r["name"])

    return sorted(rows, key=fullness)


async def _nodes(ctx: ToolContext) -> list[dict[str, Any]]:
    usage = await _metrics(ctx, "nodes", None)
    nodes = {n["metadata"]["name"]: n for n in await ctx.kube.list(KINDS["Node"])}
    rows = []
    for m in usage:
        name = m["metadata"]["name"]
        allocatable = ((nodes.get(name) or {}).get("status") or {}).get("allocatable") or {}
        cpu, memory = _amount((m.get("usage") or {}).get("cpu")), _amount((m.get("usage") or {}).get("memory"))
        rows.append(
            {
                "name": name,
                "cpu_m": _millicores(cpu),
                "cpu_pct": _percent(cpu, quantity(allocatable["cpu"]) if "cpu" in allocatable else None),
                "memory_mi": int(memory / MI),
                "memory_pct": _percent(memory, quantity(allocatable["memory"]) if "memory" in allocatable else None),
            }
        )
    return sorted(rows, key=lambda r: (-(r["memory_pct"] or 0), -(r["cpu_pct"] or 0), r["name"]))


async def top(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    if args["kind"] == "nodes":
        rows = await _nodes(ctx)
        return capped(rows, "nodes", count=len(rows))
    namespace = ctx.namespace_for(args.get("namespace"), "Pod")
    rows = await _pods(ctx, namespace, args.get("selector"))
    return capped(rows, "pods", namespace=namespace, count=len(rows))


TOOLS = [
    ToolSpec(
        "top",
        "Current CPU (millicores) and memory (Mi) use of pods or nodes from the metrics API (kubectl top), "
        "with each pod's fullest container as % of its limit and each node's % of allocatable. Fullest first.",
        params(
            ["kind"],
            kind=prop("string", "pods or nodes", enum=["pods", "nodes"]),
            namespace=prop("string", "for pods: the namespace"),
            selector=prop("string", "for pods: optional label selector"),
        ),
        "read",
        top,
        order=71,
        category="metrics",
    )
]
