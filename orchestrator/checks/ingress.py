"""ingress_backends_ready: every backend of an Ingress (or of every Ingress of a namespace) is a Service
that exists, exposes the port named, and has ready endpoints."""

from __future__ import annotations

from ..tools.ingresses import backend_rows
from .kube import meta
from .registry import Context, Outcome, check
from .targets import Target
from .text import count, listed


@check("ingress_backends_ready", kinds={"Ingress"}, namespace=True)
def ingress_backends_ready(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """Each Service backend of the Ingress exists, has the port the Ingress names, and has ready endpoints;
    an Ingress with no backend at all fails. For a namespace: every Ingress."""
    assert target is not None
    ingresses = ctx.subjects("Ingress", target)
    if ingresses is None:
        return Outcome(False, {"exists": False}, f"{target} not found")
    services = {meta(s).get("name", ""): s for s in ctx.reads.list("Service", target.namespace)}
    endpoints = {meta(e).get("name", ""): e for e in ctx.reads.list("Endpoints", target.namespace)}
    value, problems, served = {}, [], 0
    for ing in ingresses:
        name = meta(ing).get("name", "")
        rows = backend_rows(ing, services, endpoints)
        value[name] = rows
        served += sum(1 for r in rows if "service" in r)
        problems += [f"Ingress {name} {r['path']}: {r['problem']}" for r in rows if r.get("problem")]
        if not rows:
            problems.append(f"Ingress {name}: no rule and no default backend, it routes nothing")
    if problems:
        return Outcome(False, {"ingresses": value}, f"{target}: {listed(problems)}")
    if not ingresses:
        return Outcome(True, {"ingresses": value}, f"{target}: no Ingress")
    return Outcome(True, {"ingresses": value}, f"{target}: {count(served, 'Service backend')} ready with endpoints")
