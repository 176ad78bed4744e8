"""Service addresses in pod templates: `NAME:PORT` and `scheme://NAME:PORT` environment values naming a
Service of the namespace by its short DNS name. A name no Service has (while a workload of that name runs)
means a deleted Service; a port the Service does not expose means a misconfigured caller."""

from __future__ import annotations

import re
from collections import defaultdict

from .common import containers, name_of, ns_of, pod_spec, template_owners
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot

# A short (single-label) DNS name and a port, optionally after a scheme or `user@`; dotted names are
# external or cross-namespace and out of this analyzer's reach.
ADDRESS = re.compile(r"(?:^|[/@,\s])([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?):(\d{1,5})(?=$|[/,\s])")
NOT_HOSTS = {"localhost"}


@analyzer(
    "Service", name="service_addresses", reads={"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
)
def service_addresses(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Environment values that address a Service which does not exist, or on a port it does not expose."""
    out: list[Finding] = []
    if not reads.fetched("Service"):
        return out
    for ns in scope.namespaces:
        services = {name_of(s): s for s in reads.of("Service", ns)}
        missing: dict[str, list[str]] = defaultdict(list)
        for kind, obj in template_owners(reads, ns):
            spec = pod_spec(obj)
            for c in containers(spec):
                for env in c.get("env") or []:
                    for host, port in ADDRESS.findall(str(env.get("value") or "")):
                        if host in NOT_HOSTS or _is_self(reads, ns, spec, services.get(host)):
                            continue
                        where = (
                            f"{kind} {name_of(obj)} container {c.get('name')} env {env.get('name')}={env.get('value')}"
                        )
                        svc = services.get(host)
                        if svc is None:
                            missing[host].append(where)
                        elif not _exposes(svc, int(port)):
                            out.append(_bad_port(kind, obj, c, env, svc, int(port)))
        workloads = {name_of(o) for k, o in template_owners(reads, ns) if k != "Pod"}
        for host, refs in missing.items():
            out.append(_missing(ns, host, refs, host in workloads))
    return out


def _is_self(reads: Snapshot, ns: str, spec: dict, svc: dict | None) -> bool:
    """A workload naming its own Service (peers, advertised listeners) says nothing about its callers."""
    selector = ((svc or {}).get("spec") or {}).get("selector") or {}
    if not selector:
        return False
    # The template's labels are not in the pod spec; compare against the running pods that use this spec.
    for pod in reads.pods(ns, selector, label_selector=False):
        if [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []] == [
            c.get("name") for c in spec.get("containers") or []
        ]:
            return True
    return False


def _exposes(svc: dict, port: int) -> bool:
    return any(int(p.get("port") or 0) == port for p in (svc.get("spec") or {}).get("ports") or [])


def _bad_port(kind: str, obj: dict, c: dict, env: dict, svc: dict, port: int) -> Finding:
    ports = ", ".join(str(p.get("port")) for p in (svc.get("spec") or {}).get("ports") or []) or "none"
    evidence = [
        f"spec.template container {c.get('name')} env {env.get('name')}={env.get('value')}",
        f"Service {name_of(svc)} exposes port(s) {ports}, not {port}",
    ]
    cause = f"{env.get('name')} addresses Service {name_of(svc)} on port {port}, which the Service does not expose"
    field = f"spec.template.spec.containers[{c.get('name')}].env[{env.get('name')}]"
    return Finding(kind, ns_of(obj), name_of(obj), cause, evidence, "high", field)


def _missing(ns: str, host: str, refs: list[str], workload_exists: bool) -> Finding:
    callers = sorted(set(refs))
    evidence = [f"no Service {host} in namespace {ns}"] + [f"addressed by {r}" for r in callers[:4]]
    if workload_exists:
        evidence.append(f"a workload named {host} runs in {ns}, but no Service exposes it")
    # Several callers, or a workload waiting behind the name, make a deleted Service far likelier than a typo.
    confidence = "high" if workload_exists or len({r.split(" container")[0] for r in callers}) > 1 else "low"
    cause = f"Service {host} does not exist, but {len(callers)} environment value(s) address it"
    return Finding("Service", ns, host, cause, evidence, confidence, "metadata.name", owner=None)
