"""Ingresses and IngressClasses as `list_resources` summarises them and `describe` details them.

An Ingress is only as good as its backends: each one is shown resolved the way a proxy resolves it (the
Service exists, the port is one of its ports, it has ready endpoints), with what stops it otherwise.
`backend_rows` is that judgement, shared with the verifier's `ingress_backends_ready` check.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .context import ToolContext
from .kinds import KINDS
from .templates import compact

DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"


def backends(ing: dict) -> list[tuple[str, dict]]:
    """(where, backend) for each rule path and the default backend: `shop.example.com/cart`, `default`."""
    spec = ing.get("spec") or {}
    out = []
    for rule in spec.get("rules") or []:
        for p in (rule.get("http") or {}).get("paths") or []:
            out.append((f"{rule.get('host') or '*'}{p.get('path') or '/'}", p.get("backend") or {}))
    if spec.get("defaultBackend"):
        out.append(("default", spec["defaultBackend"]))
    return out


def _ready(endpoints: dict | None, port: dict) -> int:
    """Ready addresses of the Service's Endpoints serving this Service port (matched by port name)."""
    count = 0
    for subset in (endpoints or {}).get("subsets") or []:
        ports = subset.get("ports") or []
        if any(p.get("name", "") == port.get("name", "") for p in ports):
            count += len(subset.get("addresses") or [])
    return count


def backend_rows(ing: dict, services: dict[str, dict], endpoints: dict[str, dict]) -> list[dict[str, Any]]:
    """One row per backend: where, service:port, ready endpoints, and the problem if it cannot serve.
    `services` and `endpoints` are the Ingress's namespace's, by name."""
    rows = []
    for where, backend in backends(ing):
        ref = backend.get("service")
        if not ref:
            resource = backend.get("resource") or {}
            rows.append({"path": where, "resource": f"{resource.get('kind')}/{resource.get('name')}"})
            continue
        name = str(ref.get("name") or "")
        wanted = ref.get("port") or {}
        port_text = wanted.get("number") if wanted.get("number") is not None else wanted.get("name")
        row: dict[str, Any] = {"path": where, "service": f"{name}:{port_text}"}
        svc = services.get(name)
        if svc is None:
            row["problem"] = f"Service {name} not found"
            rows.append(row)
            continue
        ports = (svc.get("spec") or {}).get("ports") or []
        port = next(
            (
                p
                for p in ports
                if (wanted.get("number") is not None and p.get("port") == wanted.get("number"))
                or (wanted.get("name") and p.get("name") == wanted.get("name"))
            ),
            None,
        )
        if port is None:
            exposed = ", ".join(str(p.get("name") or p.get("port")) for p in ports) or "none"
            row["problem"] = f"port {port_text} is not a port of Service {name} (ports: {exposed})"
            rows.append(row)
            continue
        row["ready_endpoints"] = _ready(endpoints.get(name), port)
        if not row["ready_endpoints"]:
            row["problem"] = f"Service {name} has no ready endpoints"
        rows.append(row)
    return rows


def _addresses(ing: dict) -> list[str]:
    lb = ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [a.get("ip") or a.get("hostname") or "" for a in lb]


def _class(ing: dict) -> str | None:
    spec = ing.get("spec") or {}
    annotations = (ing.get("metadata") or {}).get("annotations") or {}
    return spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class")


async def _neighbours(ctx: ToolContext, namespace: str | None) -> tuple[dict, dict]:
    """The namespace's (or every namespace's) Services and Endpoints, by (namespace, name)."""
    services, endpoints = await asyncio.gather(
        ctx.kube.list(KINDS["Service"], namespace), ctx.kube.list(KINDS["Endpoints"], namespace)
    )

    def key(o: dict) -> tuple[str, str]:
        return (o["metadata"].get("namespace", ""), o["metadata"]["name"])

    return {key(s): s for s in services}, {key(e): e for e in endpoints}


def _in(objects: dict[tuple[str, str], dict], namespace: str) -> dict[str, dict]:
    return {name: o for (ns, name), o in objects.items() if ns == namespace}


async def ingress_summaries(ctx: ToolContext, items: list[dict], namespace: str | None) -> list[dict[str, Any]]:
    """Summaries of listed Ingresses, each backend resolved against the Services it names."""
    if not items:
        return []
    services, endpoints = await _neighbours(ctx, namespace)
    out = []
    for ing in items:
        ns = ing["metadata"].get("namespace", "")
        rows = backend_rows(ing, _in(services, ns), _in(endpoints, ns))
        out.append(
            compact(
                {
                    "class": _class(ing),
                    "address": _addresses(ing),
                    "backends": [f"{r['path']} -> {r.get('service') or r.get('resource')}" for r in rows],
                    "problems": [f"{r['path']}: {r['problem']}" for r in rows if r.get("problem")],
                }
            )
        )
    return out


async def describe_ingress(ctx: ToolContext, ing: dict) -> tuple[dict, dict]:
    spec = ing.get("spec") or {}
    ns = ing["metadata"].get("namespace", "")
    services, endpoints = await _neighbours(ctx, ns)
    name = _class(ing)
    classes = await ctx.kube.list(KINDS["IngressClass"])
    if name:
        ingress_class = next((c for c in classes if c["metadata"]["name"] == name), None)
        class_note = None if ingress_class else f"IngressClass {name} not found: no controller serves this Ingress"
    else:
        marked = [c for c in classes if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
        ingress_class = marked[0] if marked else None
        class_note = None if ingress_class else "no ingressClassName and no default IngressClass"
    out_spec = compact(
        {
            "ingressClassName": name,
            "tls": [
                compact({"hosts": t.get("hosts"), "secretName": t.get("secretName")}) for t in spec.get("tls") or []
            ],
        }
    )
    out_status = compact(
        {
            "address": _addresses(ing),
            "class": (ingress_class or {}).get("metadata", {}).get("name"),
            "class_problem": class_note,
            "backends": backend_rows(ing, _in(services, ns), _in(endpoints, ns)),
        }
    )
    return out_spec, out_status


def ingress_class_summary(ic: dict) -> dict[str, Any]:
    return {
        "controller": (ic.get("spec") or {}).get("controller"),
        "default": ((ic.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true",
    }


async def describe_ingress_class(ctx: ToolContext, ic: dict) -> tuple[dict, dict]:
    spec = ic.get("spec") or {}
    return compact({**ingress_class_summary(ic), "parameters": spec.get("parameters")}), {}


SUMMARIES = {"IngressClass": ingress_class_summary}
LIST_SUMMARIES = {"Ingress": ingress_summaries}  # summaries that read related objects
DESCRIBERS = {"Ingress": describe_ingress, "IngressClass": describe_ingress_class}
