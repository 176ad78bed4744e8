"""Ingresses whose backend Service, or the port on it, does not exist."""

from __future__ import annotations

from .common import event_lines, name_of, ns_of
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot


@analyzer("Ingress", reads={"Service", "Event"})
def ingresses(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Ingress backends that name a missing Service or a port the Service does not expose."""
    out: list[Finding] = []
    if not reads.fetched("Service"):
        return out
    for ns in scope.namespaces:
        for ing in reads.of("Ingress", ns):
            for path, backend in _backends(ing):
                f = _check(reads, ing, path, backend)
                if f is not None:
                    out.append(f)
    return out


def _backends(ing: dict) -> list[tuple[str, dict]]:
    spec = ing.get("spec") or {}
    found: list[tuple[str, dict]] = []
    if spec.get("defaultBackend"):
        found.append(("spec.defaultBackend", spec["defaultBackend"]))
    for i, rule in enumerate(spec.get("rules") or []):
        for j, p in enumerate((rule.get("http") or {}).get("paths") or []):
            found.append((f"spec.rules[{i}].http.paths[{j}].backend", p.get("backend") or {}))
    return found


def _check(reads: Snapshot, ing: dict, path: str, backend: dict) -> Finding | None:
    service = backend.get("service")
    if not service:
        return None  # a resource backend (e.g. a bucket): not a Service to check
    ns, name = ns_of(ing), name_of(ing)
    svc_name = service.get("name", "")
    port = service.get("port") or {}
    events = event_lines(reads, "Ingress", ns, name)
    svc = reads.find("Service", ns, svc_name)
    if svc is None:
        evidence = [f"{path}.service.name={svc_name}: no such Service in {ns}", *events]
        return Finding(
            "Ingress", ns, name, f"backend Service {svc_name} does not exist", evidence, "high", f"{path}.service.name"
        )
    ports = (svc.get("spec") or {}).get("ports") or []
    wanted = port.get("number") if port.get("number") is not None else port.get("name")
    if wanted is None:
        return None
    if any(p.get("port") == wanted or (p.get("name") and p.get("name") == wanted) for p in ports):
        return None
    exposed = ", ".join(str(p.get("name") or p.get("port")) for p in ports) or "none"
    evidence = [f"{path}.service.port={wanted}: Service {svc_name} exposes {exposed}", *events]
    cause = f"backend port {wanted} is not a port of Service {svc_name}"
    return Finding("Ingress", ns, name, cause, evidence, "high", f"{path}.service.port")
