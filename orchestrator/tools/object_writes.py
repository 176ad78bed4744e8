"""Write tools for other objects: patch, delete_pod, delete_failed_pods, delete_resource, uncordon,
restore_service.

A patch of a bare, unscheduled Pod that the API server refuses because a Pod's spec may not change in place
re-creates the Pod with the patched spec (`pod_recreate.py`), as `kubectl replace --force` would.

The toolbox has put each call before the ActionPolicy's screen already; each then reads the object and goes
through `guarded_write`. Secret edits are not offered, and only
NetworkPolicies, ResourceQuotas, Pods and HorizontalPodAutoscalers may be deleted.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from .base import ToolResult
from .context import ToolContext
from .diff import object_changes, undo_patch
from .discovery import kind_for
from .errors import ToolError
from .history import ROLLOUT_KINDS
from .kinds import KINDS, KindInfo, ref, resolve_kind, split_object, who
from .pod_recreate import IMMUTABLE_POD_FIELDS, manifest, merged, recreatable, recreate_change
from .rows import owner_of, replica_set_owners
from .schema import params, prop
from .service_front import fronted_selector
from .spec import ToolSpec
from .writes import Change, guarded_write, kubectl_kind, nothing_to_change, refuse, screen

PATCHABLE = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Service",
    "ConfigMap",
    "NetworkPolicy",
    "ResourceQuota",
    "HorizontalPodAutoscaler",
    "Node",
    "PersistentVolumeClaim",
    "Pod",
    "PrometheusRule",
)
DELETABLE = ("NetworkPolicy", "ResourceQuota", "Pod", "HorizontalPodAutoscaler")


# ---------------------------------------------------------------------------------------------- any object
async def patch(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    info = await kind_for(ctx, args["kind"])
    if info.kind == "Secret":
        target = ref(info.kind, args.get("namespace"), args["name"])
        return refuse("patch", target, f"patch secret {target}", "Secret edits are not offered by this toolbox")
    if info.kind not in PATCHABLE:
        raise ToolError(f"patching a {info.kind} is not offered; patchable kinds: {', '.join(PATCHABLE)}")
    name = args["name"]
    namespace = ctx.namespace_for(args.get("namespace"), info.kind) if info.namespaced else None
    if info.discovered and (denied := screen(ctx, "patch", ref(info.kind, namespace, name), args)) is not None:
        return denied  # the scope discovery found, screened before the object is read
    body, patch_type = args["patch"], args["patch_type"]
    if patch_type == "json" and not isinstance(body, list):
        raise ToolError("argument 'patch' must be a list of operations when patch_type is json")
    if patch_type != "json" and not isinstance(body, dict):
        raise ToolError(f"argument 'patch' must be an object when patch_type is {patch_type}")
    obj = await ctx.kube.get(info, name, namespace)
    pod_dry_run = await _pod_dry_run(ctx, info, name, namespace, body, patch_type) if info.kind == "Pod" else None
    if pod_dry_run is not None and pod_dry_run.immutable:
        why = recreatable(obj)
        if why is not None:
            raise ToolError(f"{who('Pod', namespace, name)} may not change these fields in place, and {why}")
        return await guarded_write(ctx, recreate_change(ctx, "patch", obj, merged(obj, body, patch_type)), args)
    ns_flag = f" -n {namespace}" if namespace else ""

    def explain(preview: dict) -> tuple[str, str]:
        # The dry run tells what the patch really changes; the summary and the undo are built from it.
        lines = object_changes(obj, preview)
        if not lines:
            raise nothing_to_change(f"the patch leaves {who(info.kind, namespace, name)} as it is")
        if info.kind in ROLLOUT_KINDS and any(line.startswith("spec.template") for line in lines):
            revert = f"kubectl rollout undo {kubectl_kind(info.kind)}/{name}{ns_flag}"
        else:
            undo = json.dumps(undo_patch(preview, obj), separators=(",", ":"))
            revert = f"kubectl patch {kubectl_kind(info.kind)} {name}{ns_flag} --type merge -p '{undo}'"
        summary = f"{patch_type} patch of {who(info.kind, namespace, name)}: " + "; ".join(lines[:4])
        return summary + (f" (+{len(lines) - 4} more)" if len(lines) > 4 else ""), revert

    async def apply(dry_run: bool) -> dict:
        if dry_run and pod_dry_run is not None:
            return pod_dry_run.answer()  # already sent, to learn whether the Pod may change in place
        return await ctx.kube.patch(info, name, namespace, body, patch_type, dry_run)

    summary = f"{patch_type} patch of {who(info.kind, namespace, name)}: {json.dumps(body, separators=(',', ':'))}"
    change = Change("patch", info, name, namespace, summary, "", apply, before=obj, explain=explain)
    return await guarded_write(ctx, change, args)


@dataclass(frozen=True)
class PodDryRun:
    """What the API server said to a Pod patch's dry run: the object it would be, or why not."""

    preview: dict | None
    error: ToolError | None

    @property
    def immutable(self) -> bool:
        """Refused because a Pod's spec may not change in place (the Pod is re-created instead)."""
        return self.error is not None and IMMUTABLE_POD_FIELDS in self.error.message

    def answer(self) -> dict:
        if self.error is not None:
            raise self.error
        assert self.preview is not None
        return self.preview


async def _pod_dry_run(
    ctx: ToolContext, info: KindInfo, name: str, namespace: str | None, body: Any, patch_type: str
) -> PodDryRun:
    """The patch's one dry run, sent before the policy flow because its answer decides which change that flow
    judges: the patch itself (the answer is its preview) or the Pod's re-creation."""
    try:
        return PodDryRun(await ctx.kube.patch(info, name, namespace, body, patch_type, True), None)
    except ToolError as err:
        return PodDryRun(None, err)


async def delete_pod(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    return await _delete(ctx, KINDS["Pod"], args["name"], args["namespace"], "delete_pod", args)


async def delete_failed_pods(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    """Delete a workload's pods in phase Failed (evicted, or ended with an error): no controller counts or
    replaces them, and kube-state-metrics reports each as not ready (KubePodNotReady) until it is deleted, as
    `kubectl delete pod --field-selector=status.phase=Failed` would. One change to the workload's pods: it
    counts as one object toward the run's limit, and nothing that runs is touched."""
    info = resolve_kind(args["kind"])
    if info.kind not in ROLLOUT_KINDS + ("Job",):
        raise ToolError(f"kind must be a Deployment, StatefulSet, DaemonSet or Job, not {info.kind}")
    name, namespace = args["name"], args["namespace"]
    workload = await ctx.kube.get(info, name, namespace)
    owners = (
        replica_set_owners(await ctx.kube.list(KINDS["ReplicaSet"], namespace)) if info.kind == "Deployment" else {}
    )
    failed = [
        pod
        for pod in await ctx.kube.list(KINDS["Pod"], namespace, field_selector="status.phase=Failed")
        if (pod.get("status") or {}).get("phase") == "Failed" and owner_of(pod, owners) == f"{info.kind}/{name}"
    ]
    if not failed:
        raise nothing_to_change(f"{who(info.kind, namespace, name)} has no pod in phase Failed")
    names = sorted(p["metadata"]["name"] for p in failed)
    reasons = sorted({str(reason) for p in failed if (reason := (p.get("status") or {}).get("reason"))})
    why = f" ({', '.join(reasons)})" if reasons else ""
    summary = (
        f"delete {len(names)} failed pods of {who(info.kind, namespace, name)}{why}: "
        + ", ".join(names[:5])
        + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
    )

    async def apply(dry_run: bool) -> dict:
        for pod_name in names:
            await ctx.kube.delete(KINDS["Pod"], pod_name, namespace, dry_run)
        return workload

    revert = "nothing to undo: the pods had terminated and nothing ran in them (their last status is in the trace)"
    change = Change(
        "delete_failed_pods", info, name, namespace, summary, revert, apply, before=workload,
        diff=[f"Pod/{n}: deleted" for n in names][:30],
    )  # fmt: skip
    return await guarded_write(ctx, change, args)


async def delete_resource(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    info = resolve_kind(args["kind"])
    if info.kind not in DELETABLE:
        target = ref(info.kind, args["namespace"], args["name"])
        reason = f"deleting a {info.kind} is not offered (delete_resource deletes {', '.join(DELETABLE)})"
        return refuse("delete_resource", target, f"delete {who(info.kind, args['namespace'], args['name'])}", reason)
    return await _delete(ctx, info, args["name"], args["namespace"], "delete_resource", args)


async def _delete(ctx: ToolContext, info: KindInfo, name: str, namespace: str, action: str, args: dict) -> ToolResult:
    obj = await ctx.kube.get(info, name, namespace)
    extra: dict[str, Any] = {}
    if info.kind == "Pod":
        owners = [f"{r.get('kind')}/{r.get('name')}" for r in obj["metadata"].get("ownerReferences") or []]
        owner = owners[0] if owners else None
        summary = f"delete pod {namespace}/{name}" + (
            f" ({owner} re-creates it)" if owner else " (a bare pod: nothing re-creates it)"
        )
    else:
        summary = f"delete {who(info.kind, namespace, name)}"
        owner = None
    if owner:
        revert = f"nothing to undo: {owner} replaces the pod"
    else:
        revert = f"echo '{json.dumps(manifest(obj), separators=(',', ':'))}' | kubectl create -f -"

    async def apply(dry_run: bool) -> dict:
        return await ctx.kube.delete(info, name, namespace, dry_run)

    change = Change(
        action, info, name, namespace, summary, revert, apply, before=obj, diff=[f"{info.kind}/{name}: deleted"],
        extra=extra,
    )  # fmt: skip
    return await guarded_write(ctx, change, args)


async def uncordon(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    info, name = KINDS["Node"], args["node"]
    node = await ctx.kube.get(info, name)
    if not (node.get("spec") or {}).get("unschedulable"):
        raise nothing_to_change(f"node {name} is not cordoned")

    async def apply(dry_run: bool) -> dict:
        return await ctx.kube.patch(info, name, None, {"spec": {"unschedulable": None}}, "strategic", dry_run)

    summary = f"uncordon node {name} (spec.unschedulable: true -> unset; new pods may be scheduled on it)"
    change = Change("uncordon", info, name, None, summary, f"kubectl cordon {name}", apply, before=node)
    return await guarded_write(ctx, change, args)


async def restore_service(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    namespace, name = args["namespace"], args["name"]
    svc_kind = KINDS["Service"]
    kind, workload_name = split_object(args["workload"], default_kind="Deployment")
    if kind.kind not in ROLLOUT_KINDS:
        raise ToolError(f"workload must be a Deployment, StatefulSet or DaemonSet, not {kind.kind}")
    if await ctx.kube.find(svc_kind, name, namespace) is not None:
        raise nothing_to_change(f"service {namespace}/{name} exists")
    workload = await ctx.kube.get(kind, workload_name, namespace)
    selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not selector:
        raise ToolError(f"{who(kind.kind, namespace, workload_name)} has no matchLabels selector to select its pods by")
    selector, siblings = await fronted_selector(ctx, namespace, {**workload, "kind": kind.kind}, dict(selector))
    ports = []
    containers = (((workload.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    for c in containers:
        for p in c.get("ports") or []:
            number = p.get("containerPort")
            port_name = p.get("name") or f"port-{number}"
            ports.append(
                {"name": port_name, "port": number, "targetPort": number, "protocol": p.get("protocol", "TCP")}
            )
    if not ports:
        raise ToolError(f"{who(kind.kind, namespace, workload_name)} declares no container ports to serve")
    labels = {k: v for k, v in (workload["metadata"].get("labels") or {}).items() if isinstance(v, str)}
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"type": "ClusterIP", "selector": dict(selector), "ports": ports},
    }

    async def apply(dry_run: bool) -> dict:
        return await ctx.kube.create(svc_kind, namespace, copy.deepcopy(manifest), dry_run)

    port_text = ", ".join(f"{p['name']} {p['port']}->{p['targetPort']}" for p in ports)
    sel_text = ",".join(f"{k}={v}" for k, v in selector.items())
    fronted = ", ".join([workload_name, *siblings])
    summary = (
        f"create service {namespace}/{name} selecting {sel_text} (pods of {kind.kind}/{fronted}) on ports {port_text}"
    )
    change = Change(
        "restore_service",
        svc_kind,
        name,
        namespace,
        summary,
        f"kubectl delete service {name} -n {namespace}",
        apply,
        diff=[f"Service/{name}: created"],
        extra={"manifest": manifest},
    )
    return await guarded_write(ctx, change, args)


# ---------------------------------------------------------------------------------------------- declarations
_NAME = prop("string", "object name")
_NS = prop("string", "namespace")

TOOLS = [
    ToolSpec(
        "patch",
        "`kubectl patch` a Deployment, StatefulSet, DaemonSet, Service, ConfigMap, NetworkPolicy, ResourceQuota, "
        "HorizontalPodAutoscaler, Node, PersistentVolumeClaim, Pod or PrometheusRule. patch_type strategic "
        "(default), merge, json (operations).",
        params(
            ["kind", "name", "patch"],
            kind=prop("string", "kind or kubectl alias"),
            name=_NAME,
            namespace=prop("string", "namespace (not for Node)"),
            patch=prop(["object", "array"], 'e.g. {"spec": {"selector": {"app": "cart"}}}'),
            patch_type=prop(
                "string", "strategic, merge or json", enum=["strategic", "merge", "json"], default="strategic"
            ),
        ),
        "write",
        patch,
        order=110,
        category="patch",
        revert="a merge patch of the values before (rollout undo for a pod template)",
        changes="{kind}/{name}",
    ),
    ToolSpec(
        "delete_pod",
        "Delete one pod so its controller re-creates it (`kubectl delete pod`).",
        params(["namespace", "name"], namespace=_NS, name=prop("string", "pod name")),
        "write",
        delete_pod,
        order=111,
        category="delete",
        revert="nothing when its controller re-creates it, else kubectl create of its manifest",
        changes="Pod/{name}",
    ),
    ToolSpec(
        "delete_failed_pods",
        "Delete a workload's pods in phase Failed (Evicted, Error), which alert as not ready until deleted.",
        params(["kind", "name", "namespace"], kind=prop("string", "workload kind"), name=_NAME, namespace=_NS),
        "write",
        delete_failed_pods,
        order=115,
        category="delete",
        revert="nothing: the pods had terminated",
        changes="{kind}/{name}",
    ),
    ToolSpec(
        "uncordon",
        "Mark a cordoned node schedulable again (`kubectl uncordon`).",
        params(["node"], node=prop("string", "node name")),
        "write",
        uncordon,
        order=112,
        category="node",
        revert="kubectl cordon <node>",
        changes="Node/{node}",
    ),
    ToolSpec(
        "delete_resource",
        "Delete a NetworkPolicy, ResourceQuota, Pod or HorizontalPodAutoscaler (nothing else).",
        params(
            ["kind", "name", "namespace"],
            kind=prop("string", "NetworkPolicy, ResourceQuota, Pod or HorizontalPodAutoscaler"),
            name=_NAME,
            namespace=_NS,
        ),
        "write",
        delete_resource,
        order=113,
        category="delete",
        revert="kubectl create of the deleted manifest",
        changes="{kind}/{name}",
    ),
    ToolSpec(
        "restore_service",
        "Re-create a deleted Service for a workload: selector from the workload's selector labels, one port "
        "per container port (port = targetPort = containerPort).",
        params(
            ["namespace", "name", "workload"],
            namespace=_NS,
            name=prop("string", "the Service name to create"),
            workload=prop("string", "Kind/name of the workload it serves, e.g. Deployment/product-catalog"),
        ),
        "write",
        restore_service,
        order=114,
        category="create",
        revert="kubectl delete service <name>",
        changes="Service/{name}",
    ),
]
