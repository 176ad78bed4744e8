"""`describe`: one object's essentials, its status and its events, per kind.

Like `kubectl describe`, but as data and without the noise: a Deployment shows the pod template fields
faults live in (image, command, env references, resources, probes, scheduling constraints, volumes), a
Service shows which pods it really reaches, a Secret shows key names and sizes only.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import batch, ingresses, metrics, rbac, storage
from .context import ToolContext
from .discovery import kind_for
from .events import events_for
from .kinds import KINDS, WORKLOAD_KINDS, KindInfo, ref
from .redact import config_value, secret_sizes
from .rows import REVISION, condition, owner_of, pod_reasons
from .schema import params, prop
from .spec import ToolSpec
from .summaries import endpoint_addresses, hpa_metrics, selector_text, service_ports, taint_texts
from .templates import compact, conditions, container_status, template_essentials


# ---------------------------------------------------------------------------------------------- per kind
async def _workload(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    kind = obj.get("kind", "Deployment")
    revision: Any = (obj["metadata"].get("annotations") or {}).get(REVISION)
    if kind == "StatefulSet" and status.get("updateRevision"):
        cr = await ctx.kube.find(KINDS["ControllerRevision"], status["updateRevision"], obj["metadata"]["namespace"])
        revision = (cr or {}).get("revision")
    out_spec = compact(
        {
            "replicas": spec.get("replicas") if kind != "DaemonSet" else None,
            "selector": selector_text(spec.get("selector")),
            "strategy": spec.get("strategy") or spec.get("updateStrategy"),
            "paused": spec.get("paused"),
            "template": template_essentials(spec.get("template") or {}),
        }
    )
    if kind == "DaemonSet":
        counts = {
            "desired": status.get("desiredNumberScheduled", 0),
            "ready": status.get("numberReady", 0),
            "available": status.get("numberAvailable", 0),
            "updated": status.get("updatedNumberScheduled", 0),
        }
    else:
        counts = {
            "replicas": status.get("replicas", 0),
            "ready": status.get("readyReplicas", 0),
            "available": status.get("availableReplicas", 0),
            "updated": status.get("updatedReplicas", 0),
        }
    return out_spec, {**counts, "conditions": conditions(obj), "revision": _as_int(revision)}


async def _replica_set(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    owners = [f"{r.get('kind')}/{r.get('name')}" for r in obj["metadata"].get("ownerReferences") or []]
    out_spec = {
        "replicas": spec.get("replicas", 1),
        "owner": owners[0] if owners else None,
        "template": template_essentials(spec.get("template") or {}),
    }
    revision = _as_int((obj["metadata"].get("annotations") or {}).get(REVISION))
    return out_spec, {
        "replicas": status.get("replicas", 0),
        "ready": status.get("readyReplicas", 0),
        "revision": revision,
    }


async def _pod(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    out_spec = {"node": spec.get("nodeName"), "owner": await _pod_owner(ctx, obj)}
    out_spec |= template_essentials({"metadata": obj.get("metadata"), "spec": spec})
    reasons, message = pod_reasons(obj)
    out_status = compact(
        {
            "phase": status.get("phase"),
            "node": spec.get("nodeName"),
            "podIP": status.get("podIP"),
            "reasons": reasons,
            "message": message,
            "conditions": conditions(obj),
            "initContainerStatuses": [container_status(s) for s in status.get("initContainerStatuses") or []],
            "containerStatuses": [container_status(s) for s in status.get("containerStatuses") or []],
        }
    )
    return out_spec, out_status


async def _pod_owner(ctx: ToolContext, pod: dict) -> str | None:
    """`Kind/name` of the pod's controller, a ReplicaSet resolved to its Deployment."""
    refs = [r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller", True)]
    if not refs:
        return None
    kind, name = refs[0].get("kind"), refs[0].get("name")
    if kind == "ReplicaSet":
        rs = await ctx.kube.find(KINDS["ReplicaSet"], name, pod["metadata"].get("namespace"))
        resolved = owner_of(rs, {}) if rs else None
        return resolved or f"ReplicaSet/{name}"
    return f"{kind}/{name}"


async def _service(ctx: ToolContext, obj: dict) -> tuple[dict, dict, dict]:
    spec = obj.get("spec") or {}
    ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
    selector = spec.get("selector") or {}
    label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    endpoints, pods = await asyncio.gather(
        ctx.kube.find(KINDS["Endpoints"], name, ns),
        ctx.kube.list(KINDS["Pod"], ns, label_selector=label_selector) if selector else _nothing(),
    )
    pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    ready_pods = [p for p in pods if condition(p, "Ready").get("status") == "True"]
    pod_ports = sorted(
        {
            p.get("containerPort")
            for pod in pods
            for c in (pod.get("spec") or {}).get("containers") or []
            for p in c.get("ports") or []
        }
        - {None}
    )
    addresses = endpoint_addresses(endpoints)
    out_spec = {
        "type": spec.get("type", "ClusterIP"),
        "selector": selector,
        "ports": service_ports(obj),
        "clusterIP": spec.get("clusterIP"),
    }
    status = {
        "endpoints_ready": len(addresses["ready"]),
        "endpoints_not_ready": len(addresses["not_ready"]),
        "matching_pods": len(pods) if selector else None,
        "matching_pods_ready": len(ready_pods) if selector else None,
        "pod_container_ports": pod_ports,
        "endpoints_object": endpoints is not None,
    }
    extra = {"endpoints": addresses, "matching_pods": len(pods) if selector else None}
    return out_spec, status, extra


async def _network_policy(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    spec = obj.get("spec") or {}
    return {
        "podSelector": selector_text(spec.get("podSelector")),
        "policyTypes": spec.get("policyTypes") or ["Ingress"],
        "ingress": spec.get("ingress") or [],
        "egress": spec.get("egress") or [],
    }, {}


async def _quota(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    spec = obj.get("spec") or {}
    return compact({"hard": spec.get("hard") or {}, "scopes": spec.get("scopes")}), {
        "used": (obj.get("status") or {}).get("used") or {}
    }


async def _hpa(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    target = spec.get("scaleTargetRef") or {}
    return compact(
        {
            "target": f"{target.get('kind')}/{target.get('name')}",
            "minReplicas": spec.get("minReplicas", 1),
            "maxReplicas": spec.get("maxReplicas"),
            "metrics": spec.get("metrics") or [],
            "behavior": spec.get("behavior"),
        }
    ), compact(
        {
            "currentReplicas": status.get("currentReplicas"),
            "desiredReplicas": status.get("desiredReplicas"),
            "metrics": hpa_metrics(obj),
            "conditions": conditions(obj),
        }
    )


async def _node(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    name = obj["metadata"]["name"]
    pods = await ctx.kube.list(KINDS["Pod"], None, field_selector=f"spec.nodeName={name}")
    return {
        "unschedulable": bool(spec.get("unschedulable", False)),
        "taints": taint_texts(spec.get("taints")),
        "labels": obj["metadata"].get("labels") or {},
    }, {
        "ready": condition(obj, "Ready").get("status") == "True",
        "conditions": conditions(obj),
        "allocatable": status.get("allocatable") or {},
        "capacity": status.get("capacity") or {},
        "architecture": (status.get("nodeInfo") or {}).get("architecture"),
        "pods": len([p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]),
    }


async def _configmap(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    data = {k: config_value(k, v) for k, v in (obj.get("data") or {}).items()}
    binary = sorted((obj.get("binaryData") or {}).keys())
    return compact({"data": data, "binaryDataKeys": binary}), {}


async def _secret(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    return {"type": obj.get("type", "Opaque"), "data": secret_sizes(obj)}, {}


async def _priority_class(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    return compact(
        {
            "value": obj.get("value"),
            "preemptionPolicy": obj.get("preemptionPolicy", "PreemptLowerPriority"),
            "globalDefault": bool(obj.get("globalDefault", False)),
            "description": obj.get("description"),
        }
    ), {}


async def _controller_revision(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    template = ((obj.get("data") or {}).get("spec") or {}).get("template") or {}
    return {"revision": obj.get("revision"), "template": template_essentials(template)}, {}


async def _endpoints(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    ports = [p for s in obj.get("subsets") or [] for p in s.get("ports") or []]
    return {"ports": ports}, endpoint_addresses(obj)


async def _generic(ctx: ToolContext, obj: dict) -> tuple[dict, dict]:
    return obj.get("spec") or {}, {k: v for k, v in (obj.get("status") or {}).items() if k != "conditions"} | (
        {"conditions": conditions(obj)} if (obj.get("status") or {}).get("conditions") else {}
    )


DESCRIBERS: dict[str, Any] = {
    **dict.fromkeys(WORKLOAD_KINDS, _workload),
    "ReplicaSet": _replica_set,
    "Pod": _pod,
    "NetworkPolicy": _network_policy,
    "ResourceQuota": _quota,
    "HorizontalPodAutoscaler": _hpa,
    "Node": _node,
    "ConfigMap": _configmap,
    "Secret": _secret,
    "PriorityClass": _priority_class,
    "ControllerRevision": _controller_revision,
    "Endpoints": _endpoints,
    **batch.DESCRIBERS,
    **ingresses.DESCRIBERS,
    **storage.DESCRIBERS,
    **rbac.DESCRIBERS,
    **metrics.DESCRIBERS,
}


async def _nothing() -> list[dict]:
    return []


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def describe_object(ctx: ToolContext, info: KindInfo, name: str, namespace: str | None) -> dict[str, Any]:
    obj = await ctx.kube.get(info, name, namespace)
    obj.setdefault("kind", info.kind)
    extra: dict[str, Any] = {}
    if info.kind == "Service":
        spec, status, extra = await _service(ctx, obj)
    else:
        describer = DESCRIBERS.get(info.key, _generic)
        spec, status = await describer(ctx, obj)
    events = await events_for(ctx, info, namespace, name) if info.kind != "Event" else []
    return {
        "object": ref(info.kind, namespace, name),
        "kind": info.kind,
        "spec": spec,
        "status": status,
        **extra,
        "events": events,
    }


async def describe(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    info = await kind_for(ctx, args["kind"])
    namespace = ctx.namespace_for(args.get("namespace"), info.kind) if info.namespaced else None
    return await describe_object(ctx, info, args["name"], namespace)


TOOLS = [
    ToolSpec(
        "describe",
        # As many tokens as before relations beyond Services were added (see list_resources).
        "One object in detail: essential spec (workloads: pod template images, command, env references, "
        "resources, probes, scheduling, volumes), status, recent events and relations: a Service's endpoints, "
        "a Job's pod exits, an Ingress's backends, a PVC's StorageClass, a ServiceAccount's grants and refusals.",
        params(
            ["kind", "name"],
            kind=prop("string", "kind or alias, e.g. Deployment, svc, node, widgets.example.com"),
            name=prop("string", "object name"),
            namespace=prop("string", "namespace, if namespaced"),
        ),
        "read",
        describe,
        order=30,
        category="inspect",
    )
]
