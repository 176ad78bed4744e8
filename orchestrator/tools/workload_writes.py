"""Write tools for workloads: the rollout and container mitigations an SRE applies with kubectl.

rollout_undo, rollout_restart, scale, set_image, set_env, set_resources. The toolbox has put each call
before the ActionPolicy's screen already; each then reads the workload, so a mistake (unknown container, nothing to change, wrong kind) is a readable error before anything is
attempted, then goes through `guarded_write` saying exactly what will change and how to undo it.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from typing import Any

from .base import ToolResult
from .context import ToolContext
from .diff import normal_template, template_changes
from .errors import ToolError
from .history import ROLLOUT_KINDS, history
from .kinds import KindInfo, resolve_kind, who
from .redact import env_value
from .rows import REVISION
from .schema import params, prop
from .spec import ToolSpec
from .writes import Change, guarded_write, kubectl_kind, nothing_to_change

# kubectl's rollback keeps these annotations from the Deployment and copies all others from the ReplicaSet.
ROLLBACK_KEPT_ANNOTATIONS = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}
SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


# ---------------------------------------------------------------------------------------------- helpers
async def _workload(ctx: ToolContext, args: dict, kinds: tuple[str, ...]) -> tuple[KindInfo, str, str, dict]:
    info = resolve_kind(args["kind"], kinds)
    name, namespace = args["name"], args["namespace"]
    return info, name, namespace, await ctx.kube.get(info, name, namespace)


def _container(obj: dict, name: str, kind: str) -> tuple[str, int, dict]:
    """("containers" or "initContainers", index, container) of the named container."""
    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    for key in ("containers", "initContainers"):
        for i, c in enumerate(spec.get(key) or []):
            if c.get("name") == name:
                return key, i, c
    names = [c.get("name") for key in ("containers", "initContainers") for c in spec.get(key) or []]
    meta = obj["metadata"]
    raise ToolError(
        f"container {name} not found in {who(kind, meta.get('namespace'), meta['name'])}; containers: {', '.join(names)}"
    )


def _template_patch(key: str, container: dict) -> dict:
    return {"spec": {"template": {"spec": {key: [container]}}}}


# ---------------------------------------------------------------------------------------------- rollout
def deployment_rollback_patch(deployment: dict, replica_set: dict) -> list[dict]:
    """The JSON patch `kubectl rollout undo` sends: the ReplicaSet's pod template (without its
    pod-template-hash label) and its annotations, keeping the Deployment's own rollout annotations."""
    template = copy.deepcopy((replica_set.get("spec") or {}).get("template") or {})
    ((template.get("metadata") or {}).get("labels") or {}).pop("pod-template-hash", None)
    kept = (deployment["metadata"].get("annotations") or {}).items()
    annotations = {k: v for k, v in kept if k in ROLLBACK_KEPT_ANNOTATIONS}
    copied = (replica_set["metadata"].get("annotations") or {}).items()
    annotations |= {k: v for k, v in copied if k not in ROLLBACK_KEPT_ANNOTATIONS}
    return [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "add", "path": "/metadata/annotations", "value": annotations},
    ]


async def rollout_undo(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    info = resolve_kind(args["kind"], ROLLOUT_KINDS)
    name, namespace = args["name"], args["namespace"]
    h = await history(ctx, info, name, namespace)
    wanted = args.get("to_revision")
    if wanted:
        target = h.get(int(wanted))
        if target is None:
            known = ", ".join(str(r.number) for r in h.revisions) or "none"
            raise ToolError(f"revision {wanted} of {who(info.kind, namespace, name)} not found; revisions: {known}")
    else:
        target = h.previous()
        if target is None:
            raise ToolError(f"{who(info.kind, namespace, name)} has no revision before {h.current} to roll back to")
    current_template = (h.workload.get("spec") or {}).get("template") or {}
    if target.number == h.current or normal_template(target.template) == normal_template(current_template):
        raise nothing_to_change(f"revision {target.number} has the same pod template as the current one")
    lines = template_changes(current_template, target.template)
    if info.kind == "Deployment":
        body: Any = deployment_rollback_patch(h.workload, target.source)
        patch_type = "json"
    else:  # StatefulSet/DaemonSet: the ControllerRevision's data is the patch (it replaces the template)
        body, patch_type = copy.deepcopy(target.source.get("data") or {}), "strategic"

    async def apply(dry_run: bool) -> dict:
        return await ctx.kube.patch(info, name, namespace, body, patch_type, dry_run)

    summary = f"roll {who(info.kind, namespace, name)} back from revision {h.current} to revision {target.number}"
    if lines:
        summary += ": " + "; ".join(lines[:4]) + (f" (+{len(lines) - 4} more)" if len(lines) > 4 else "")
    revert = f"kubectl rollout undo {kubectl_kind(info.kind)}/{name} -n {namespace} --to-revision={h.current}"
    # `before` is what a resumed run's revert restores (the diff is the templates').
    change = Change("rollout_undo", info, name, namespace, summary, revert, apply, before=h.workload, diff=lines)
    return await guarded_write(ctx, change, args)


async def rollout_restart(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    info, name, namespace, obj = await _workload(ctx, args, ROLLOUT_KINDS)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}

    async def apply(dry_run: bool) -> dict:
        return await ctx.kube.patch(info, name, namespace, body, "strategic", dry_run)

    summary = f"restart every pod of {who(info.kind, namespace, name)} (rolling; annotation restartedAt={stamp})"
    revert = "nothing to undo: a restart changes no configuration (it only replaces the pods)"
    change = Change("rollout_restart", info, name, namespace, summary, revert, apply, before=obj)
    return await guarded_write(ctx, change, args)


# ---------------------------------------------------------------------------------------------- scale
async def scale(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    info, name, namespace, obj = await _workload(ctx, args, SCALABLE)
    replicas = int(args["replicas"])
    old = int((obj.get("spec") or {}).get("replicas", 1))
    if old == replicas:
        raise nothing_to_change(f"{who(info.kind, namespace, name)} already has {replicas} replicas")

    async def apply(dry_run: bool) -> dict:
        return await ctx.kube.scale(info, name, namespace, replicas, dry_run)

    summary = f"scale {who(info.kind, namespace, name)} from {old} to {replicas} replicas"
    revert = f"kubectl scale {kubectl_kind(info.kind)}/{name} -n {namespace} --replicas={old}"
    diff = [f"spec.replicas: {old} -> {replicas}"]
    # `before` lets the policy see whether the workload is serving (no scale to 0 of one that is).
    change = Change("scale", info, name, namespace, summary, revert, apply, before=obj, diff=diff)
    return await guarded_write(ctx, change, args)


# ---------------------------------------------------------------------------------------------- containers
async def set_image(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    info, name, namespace, obj = await _workload(ctx, args, ROLLOUT_KINDS)
    key, _, container = _container(obj, args["container"], info.kind)
    old, image = container.get("image"), args["image"]
    if old == image:
        raise nothing_to_change(f"container {container['name']} already runs {image}")
    body = _template_patch(key, {"name": container["name"], "image": image})

    async def apply(dry_run: bool) -> dict:
        return await ctx.kube.patch(info, name, namespace, body, "strategic", dry_run)

    summary = f"set the image of container {container['name']} in {who(info.kind, namespace, name)}: {old} -> {image}"
    revert = f"kubectl set image {kubectl_kind(info.kind)}/{name} {container['name']}={old} -n {namespace}"
    change = Change("set_image", info, name, namespace, summary, revert, apply, before=obj)
    return await guarded_write(ctx, change, args)


def _env_display(entry: dict | None) -> str:
    if entry is None:
        return "unset"
    source = entry.get("valueFrom") or {}
    if "secretKeyRef" in source:
        r = source["secretKeyRef"] or {}
        return f"from secret {r.get('name')}/{r.get('key')}"
    if "configMapKeyRef" in source:
        r = source["configMapKeyRef"] or {}
        return f"from configmap {r.get('name')}/{r.get('key')}"
    if source:
        return "from " + json.dumps(source, separators=(",", ":"))
    return repr(env_value(entry.get("name", ""), entry.get("value", "")))


async def set_env(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    info, name, namespace, obj = await _workload(ctx, args, ROLLOUT_KINDS)
    key, index, container = _container(obj, args["container"], info.kind)
    var, value = args["env_name"], args.get("value")
    env = list(container.get("env") or [])
    position = next((i for i, e in enumerate(env) if e.get("name") == var), None)
    old = env[position] if position is not None else None
    if value is None:
        if old is None:
            raise nothing_to_change(f"env {var} is not set in container {container['name']}")
        new_env = [e for e in env if e.get("name") != var]
        new = None
    else:
        new = {"name": var, "value": str(value)}
        if old == new:
            raise nothing_to_change(f"env {var} of container {container['name']} is already {_env_display(new)}")
        new_env = [new if e.get("name") == var else e for e in env] if old is not None else [*env, new]
    path = f"/spec/template/spec/{key}/{index}"
    body = [
        {"op": "test", "path": f"{path}/name", "value": container["name"]},
        {"op": "add", "path": f"{path}/env", "value": new_env},
    ]

    async def apply(dry_run: bool) -> dict:
        return await ctx.kube.patch(info, name, namespace, body, "json", dry_run)

    where = f"container {container['name']} of {who(info.kind, namespace, name)}"
    if new is None:
        summary = f"remove env {var} (was {_env_display(old)}) from {where}"
    else:
        summary = f"set env {var}={_env_display(new)} (was {_env_display(old)}) in {where}"
    kubectl = f"kubectl set env {kubectl_kind(info.kind)}/{name} -n {namespace} -c {container['name']}"
    if old is None:
        revert = f"{kubectl} {var}-"
    elif "value" in old and not old.get("valueFrom") and env_value(var, old.get("value")) == old.get("value"):
        revert = f"{kubectl} {var}={old.get('value', '')}"
    else:  # a reference or a credential: the value cannot be written here, the previous template has it
        revert = f"kubectl rollout undo {kubectl_kind(info.kind)}/{name} -n {namespace}"
    change = Change("set_env", info, name, namespace, summary, revert, apply, before=obj)
    return await guarded_write(ctx, change, args)


def _resources_arg(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not value:
        raise ToolError(f'argument {name!r} must be an object like {{"cpu": "100m", "memory": "128Mi"}}')
    out = {}
    for res, qty in value.items():
        if res not in ("cpu", "memory", "ephemeral-storage"):
            raise ToolError(f"argument {name!r}: unknown resource {res!r} (use cpu, memory)")
        if not QUANTITY.match(str(qty)):
            raise ToolError(f"argument {name!r}: {res}={qty!r} is not a Kubernetes quantity (e.g. 250m, 512Mi)")
        out[res] = str(qty)
    return out


async def set_resources(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    info, name, namespace, obj = await _workload(ctx, args, ROLLOUT_KINDS)
    key, _, container = _container(obj, args["container"], info.kind)
    requests = _resources_arg("requests", args.get("requests"))
    limits = _resources_arg("limits", args.get("limits"))
    if not requests and not limits:
        raise ToolError("missing required argument 'requests' or 'limits'")
    current = container.get("resources") or {}
    wanted = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    if all((current.get(k) or {}).get(r) == q for k, v in wanted.items() for r, q in v.items()):
        raise nothing_to_change(f"container {container['name']} already has {json.dumps(wanted)}")
    body = _template_patch(key, {"name": container["name"], "resources": wanted})

    async def apply(dry_run: bool) -> dict:
        return await ctx.kube.patch(info, name, namespace, body, "strategic", dry_run)

    def text(section: dict) -> str:
        return ",".join(f"{r}={q}" for r, q in section.items())

    summary = f"set resources of container {container['name']} in {who(info.kind, namespace, name)}: " + "; ".join(
        f"{k} {text(v)} (was {text(current.get(k) or {}) or 'unset'})" for k, v in wanted.items()
    )
    undo = []
    for k, v in wanted.items():
        before = current.get(k) or {}
        undo.append(f"--{k}=" + ",".join(f"{r}={before.get(r, '0')}" for r in v))
    revert = (
        f"kubectl set resources {kubectl_kind(info.kind)}/{name} -n {namespace} -c {container['name']} "
        + " ".join(undo)
    )
    change = Change("set_resources", info, name, namespace, summary, revert, apply, before=obj)
    return await guarded_write(ctx, change, args)


# ---------------------------------------------------------------------------------------------- declarations
_KIND = prop("string", "Deployment (deploy), StatefulSet (sts) or DaemonSet (ds)")
_NAME = prop("string", "object name")
_NS = prop("string", "namespace")
_CONTAINER = prop("string", "container name")
_QTY = prop("object", 'e.g. {"cpu": "250m", "memory": "256Mi"}')

TOOLS = [
    ToolSpec(
        "rollout_undo",
        "Roll a Deployment/StatefulSet/DaemonSet back to its previous revision (or to_revision), exactly as "
        "`kubectl rollout undo`.",
        params(
            ["kind", "name", "namespace"],
            kind=_KIND,
            name=_NAME,
            namespace=_NS,
            to_revision=prop("integer", "revision to return to (default: the one before the current)", minimum=1),
        ),
        "write",
        rollout_undo,
        order=100,
        category="rollout",
        revert="kubectl rollout undo --to-revision=<the revision it replaced>",
        changes="{kind}/{name}",
    ),
    ToolSpec(
        "rollout_restart",
        "Restart every pod of a workload with a rolling update (`kubectl rollout restart`).",
        params(["kind", "name", "namespace"], kind=_KIND, name=_NAME, namespace=_NS),
        "write",
        rollout_restart,
        order=101,
        category="rollout",
        revert="nothing to undo: only the pods are replaced",
        changes="{kind}/{name}",
    ),
    ToolSpec(
        "scale",
        "Set the replica count of a Deployment or StatefulSet (`kubectl scale`).",
        params(
            ["kind", "name", "namespace", "replicas"],
            kind=prop("string", "Deployment or StatefulSet"),
            name=_NAME,
            namespace=_NS,
            replicas=prop("integer", "desired replicas", minimum=0, maximum=100),
        ),
        "write",
        scale,
        order=102,
        category="scale",
        revert="kubectl scale --replicas=<the count before>",
        changes="{kind}/{name}",
    ),
    ToolSpec(
        "set_image",
        "Change one container's image (`kubectl set image`).",
        params(
            ["kind", "name", "namespace", "container", "image"],
            kind=_KIND,
            name=_NAME,
            namespace=_NS,
            container=_CONTAINER,
            image=prop("string", "the full image reference"),
        ),
        "write",
        set_image,
        order=103,
        category="container",
        revert="kubectl set image <container>=<the image before>",
        changes="{kind}/{name}",
    ),
    ToolSpec(
        "set_env",
        "Set one environment variable of a container to a literal value, or remove it when value is omitted "
        "(`kubectl set env`).",
        params(
            ["kind", "name", "namespace", "container", "env_name"],
            kind=_KIND,
            name=_NAME,
            namespace=_NS,
            container=_CONTAINER,
            env_name=prop("string", "variable name"),
            value=prop("string", "new value; omit to remove the variable"),
        ),
        "write",
        set_env,
        order=104,
        category="container",
        revert="kubectl set env with the value before (rollout undo for a reference)",
        changes="{kind}/{name}",
    ),
    ToolSpec(
        "set_resources",
        "Set a container's resource requests and/or limits (`kubectl set resources`).",
        params(
            ["kind", "name", "namespace", "container"],
            kind=_KIND,
            name=_NAME,
            namespace=_NS,
            container=_CONTAINER,
            requests=_QTY,
            limits=_QTY,
        ),
        "write",
        set_resources,
        order=105,
        category="container",
        revert="kubectl set resources with the values before",
        changes="{kind}/{name}",
    ),
]
