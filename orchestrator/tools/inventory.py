"""What is in a namespace: `list_workloads`, `list_pods` and `list_resources` (any kind the tools know, or
the cluster serves: custom resources are found through discovery)."""

from __future__ import annotations

import asyncio
from typing import Any

from . import batch, discovery, ingresses, metrics, rbac, storage
from .context import ToolContext
from .discovery import kind_for
from .errors import ToolError
from .kinds import KINDS, WORKLOAD_KINDS, KindInfo
from .kube_api import NotFound
from .rows import capped, cluster_now, owner_of, pod_row, replica_set_owners, workload_row
from .schema import params, prop
from .spec import ToolSpec
from .summaries import SIMPLE, service_summary

LISTABLE = tuple(k for k in KINDS if k != "ControllerRevision")
# Per kind (KindInfo.key), one object's short summary; LIST_SUMMARIES summarise with related objects.
SUMMARIES: dict[str, Any] = {
    **SIMPLE,
    **batch.SUMMARIES,
    **ingresses.SUMMARIES,
    **storage.SUMMARIES,
    **rbac.SUMMARIES,
    **discovery.SUMMARIES,
}
LIST_SUMMARIES: dict[str, Any] = {**ingresses.LIST_SUMMARIES, **metrics.LIST_SUMMARIES}


async def ensure_namespace(ctx: ToolContext, namespace: str) -> None:
    """An empty answer for a namespace that does not exist is an error, not "all healthy"."""
    try:
        await ctx.kube.get(KINDS["Namespace"], namespace)
    except NotFound:
        raise ToolError(f"namespace {namespace} not found") from None


async def statefulset_revisions(ctx: ToolContext, namespace: str | None) -> dict[tuple[str, str], int]:
    """(namespace, ControllerRevision name) -> revision number: a StatefulSet's revision is the number of
    the ControllerRevision named in status.updateRevision."""
    revisions = await ctx.kube.list(KINDS["ControllerRevision"], namespace)
    return {
        (cr["metadata"].get("namespace", ""), cr["metadata"]["name"]): int(cr.get("revision", 0)) for cr in revisions
    }


async def workload_rows(ctx: ToolContext, kinds: tuple[str, ...], namespace: str | None) -> list[dict]:
    found = await asyncio.gather(*(ctx.kube.list(KINDS[k], namespace) for k in kinds))
    objects = [obj for group in found for obj in group]
    cr_revisions = {}
    if any(o["kind"] == "StatefulSet" for o in objects):
        cr_revisions = await statefulset_revisions(ctx, namespace)
    rows = []
    for obj in objects:
        revision = None
        if obj["kind"] == "StatefulSet":
            update = (obj.get("status") or {}).get("updateRevision")
            revision = cr_revisions.get((obj["metadata"].get("namespace", ""), update)) if update else None
        rows.append(workload_row(obj, revision))
    return rows


def problems_first(rows: list[dict], has_problem: Any) -> list[dict]:
    return sorted(rows, key=lambda r: (not has_problem(r), r.get("namespace") or "", r.get("kind", ""), r["name"]))


async def pod_rows(ctx: ToolContext, namespace: str | None, selector: str | None = None) -> list[dict]:
    pods, sets = await asyncio.gather(
        ctx.kube.list(KINDS["Pod"], namespace, label_selector=selector), ctx.kube.list(KINDS["ReplicaSet"], namespace)
    )
    owners = replica_set_owners(sets)
    now = cluster_now(pods, ctx.kube.server_time)
    rows = []
    for pod in pods:
        row = pod_row(pod, owner_of(pod, owners), now)
        if namespace is None:
            row["namespace"] = pod["metadata"].get("namespace")
        rows.append(row)
    return rows


def _pod_unwell(row: dict) -> bool:
    ready, total = row["ready"].split("/")
    return bool(row["reasons"]) or (ready != total and row["phase"] != "Succeeded")


# ---------------------------------------------------------------------------------------------- tools
async def list_workloads(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    namespace = args["namespace"]
    rows = await workload_rows(ctx, WORKLOAD_KINDS, namespace)
    if not rows:
        await ensure_namespace(ctx, namespace)
    rows = problems_first(rows, lambda r: r["problems"])
    unhealthy = sum(1 for r in rows if r["problems"])
    return capped(rows, "workloads", namespace=namespace, count=len(rows), unhealthy=unhealthy)


async def list_pods(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    namespace = args["namespace"]
    rows = await pod_rows(ctx, namespace, args.get("selector"))
    if not rows:
        await ensure_namespace(ctx, namespace)
    rows = problems_first(rows, _pod_unwell)
    unhealthy = sum(1 for r in rows if _pod_unwell(r))
    return capped(rows, "pods", namespace=namespace, count=len(rows), unhealthy=unhealthy)


async def list_resources(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    info = await kind_for(ctx, args["kind"], LISTABLE)
    namespace = args.get("namespace") if info.namespaced else None
    items = await resource_items(ctx, info, namespace)
    if not items and namespace:
        await ensure_namespace(ctx, namespace)
    return {"kind": info.kind, **capped(items, "items"), "count": len(items)}


async def resource_items(ctx: ToolContext, info: KindInfo, namespace: str | None) -> list[dict]:
    if info.kind in WORKLOAD_KINDS:
        rows = await workload_rows(ctx, (info.kind,), namespace)
        return [_item(r["name"], r["namespace"], r) for r in problems_first(rows, lambda r: r["problems"])]
    if info.kind == "Pod":
        rows = await pod_rows(ctx, namespace)
        return [_item(r["name"], r.pop("namespace", namespace), r) for r in problems_first(rows, _pod_unwell)]
    objects = await ctx.kube.list(info, namespace)
    objects.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
    if info.kind == "Service":
        endpoints = await ctx.kube.list(KINDS["Endpoints"], namespace)
        by_name = {(e["metadata"].get("namespace"), e["metadata"]["name"]): e for e in endpoints}
        return [
            _item(
                o["metadata"]["name"],
                o["metadata"].get("namespace"),
                service_summary(o, by_name.get((o["metadata"].get("namespace"), o["metadata"]["name"]))),
            )
            for o in objects
        ]
    if info.key in LIST_SUMMARIES:
        summaries = await LIST_SUMMARIES[info.key](ctx, objects, namespace)
    else:
        summarize = SUMMARIES.get(info.key, discovery.summary if info.discovered else lambda o: {})
        summaries = [summarize(o) for o in objects]
    return [
        _item(o["metadata"]["name"], o["metadata"].get("namespace"), s) for o, s in zip(objects, summaries, strict=True)
    ]


def _item(name: str, namespace: str | None, summary: dict) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "summary": summary}


TOOLS = [
    ToolSpec(
        "list_workloads",
        "Deployments, StatefulSets and DaemonSets in a namespace with desired/ready/available/updated "
        "replicas, revision, images and problems (e.g. '0/1 ready', 'ProgressDeadlineExceeded'). "
        "Unhealthy workloads first.",
        params(["namespace"], namespace=prop("string", "the namespace, e.g. otel-demo")),
        "read",
        list_workloads,
        order=20,
        category="inventory",
    ),
    ToolSpec(
        "list_pods",
        "Pods in a namespace: phase, ready containers, restarts, reasons (ImagePullBackOff, CrashLoopBackOff, "
        "OOMKilled, Unschedulable, ContainersNotReady, Init:...), node, owning workload and age. "
        "Unhealthy pods first.",
        params(
            ["namespace"],
            namespace=prop("string", "the namespace"),
            selector=prop("string", "optional label selector, e.g. app.kubernetes.io/name=cart"),
        ),
        "read",
        list_pods,
        order=21,
        category="inventory",
    ),
    ToolSpec(
        "list_resources",
        # Its schema costs exactly the tokens it cost before the kinds beyond the table were added: every
        # model call carries it, and the calibrated bench prunes contexts by that count.
        "Objects of one kind, summarised: Service (selector, ports, ready endpoints), Ingress (backends checked), "
        "Job, PVC, Node, quota, hpa, Secret (keys only), RBAC, ... any kind the cluster serves: custom "
        "resources, podmetrics/nodemetrics (kubectl top). All namespaces if omitted.",
        params(
            ["kind"],
            kind=prop("string", "kind, plural or alias, e.g. svc, netpol, ing, pvc, widgets.example.com"),
            namespace=prop("string", "optional namespace (ignored for cluster-scoped kinds)"),
        ),
        "read",
        list_resources,
        order=22,
        category="inventory",
    ),
]
