"""What a container's logs blame on its configuration: a host name that does not resolve, an expired or
invalid certificate. The finding is on the object that holds the bad value (the ConfigMap key the
container reads a host from, the workload whose template sets it literally, or the ConfigMap or Secret
mounted with the certificate), not on the pod that shows the symptom: that is where the fix goes. Secret
values are never read (only their key names), so a host kept in a Secret is not traced."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .common import name_of, ns_of, quote, symptoms_of
from .finding import Finding, ref
from .registry import analyzer
from .snapshot import Scope, Snapshot

# How common runtimes and clients say a name did not resolve; group 1 is the host.
UNRESOLVED = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"failed to resolve '([^'\s]+)'",
        r"could not translate host name \"([^\"\s]+)\"",
        r"lookup ([\w.-]+)(?: on [\d.:\[\]a-f]+)?: no such host",
        r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([\w.-]+)",
        r"UnknownHostException: ([\w.-]+)",
        r"unknown host:? '?([\w.-]+)",
        r"host='([^'\s]+)'.*(?:name or service not known|nodename nor servname|temporary failure in name resolution)",
        r"(?:cannot|can't|could not|unable to) resolve (?:host(?:name)?:? )?'?([\w.-]+)",
    )
)
# A lookup failed, in the words of libc, Go, Java and common clients (the host may be elsewhere in the line).
RESOLUTION_FAILED = re.compile(
    r"name or service not known|nodename nor servname|temporary failure in name resolution|no such host|"
    r"NXDOMAIN|UnknownHostException|getaddrinfo|name resolution",
    re.IGNORECASE,
)
EXPIRED_CERT = re.compile(
    r"certificate (?:has )?expired|x509: certificate has expired|certificate is not yet valid|"
    r"certificate verify failed|expired certificate",
    re.IGNORECASE,
)
CERT_KEY = re.compile(r"(?:\.pem|\.crt|\.cert|\.key|^tls\.|^ca\.)", re.IGNORECASE)


@analyzer(
    "ConfigMap",
    name="log_blame",
    reads={"Pod", "Secret", "Service", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"},
)
def log_blame(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Log lines naming a host that does not resolve or an expired certificate, traced to the ConfigMap,
    Secret or workload template that holds the value."""
    out: dict[tuple[str, str], Finding] = {}
    for ns in scope.namespaces:
        for pod in reads.of("Pod", ns):
            for cname, line in _log_lines(reads, pod):
                for finding in _unresolved(reads, pod, cname, line) + _certificate(reads, pod, cname, line):
                    key = (finding.object, finding.cause)
                    if key in out:
                        known = out[key].explains
                        known += [e for e in finding.explains if e not in known]
                    else:
                        out[key] = finding
    return list(out.values())


def _log_lines(reads: Snapshot, pod: dict) -> Iterator[tuple[str, str]]:
    for (ns, pname, cname), text in reads.logs.items():
        if ns == ns_of(pod) and pname == name_of(pod):
            for line in text.splitlines():
                if line.strip():
                    yield cname, line


def _container(pod: dict, cname: str) -> dict:
    spec = pod.get("spec") or {}
    return next(
        (c for c in (spec.get("initContainers") or []) + (spec.get("containers") or []) if c.get("name") == cname), {}
    )


def _template_holder(reads: Snapshot, pod: dict) -> tuple[str, dict]:
    """The object whose pod template made this pod: its top controller when known, else the pod."""
    top = reads.owner(pod)
    if top:
        obj = reads.find(*top)
        if obj is not None:
            return top[0], obj
    return "Pod", pod


def _env_sources(reads: Snapshot, pod: dict, container: dict) -> Iterator[tuple[str, str, str, str]]:
    """(variable, value, holder ref, field) for each env value the container sees, with where it comes from."""
    ns = ns_of(pod)
    kind, holder = _template_holder(reads, pod)
    holder_ref = ref(kind, ns, name_of(holder))
    prefix = "spec." if kind == "Pod" else "spec.template.spec."
    for e in container.get("env") or []:
        if "value" in e:
            yield (
                e.get("name", ""),
                str(e.get("value") or ""),
                holder_ref,
                f"{prefix}containers[{container.get('name')}].env[{e.get('name')}]",
            )
        src = (e.get("valueFrom") or {}).get("configMapKeyRef")
        if src:
            cm = reads.find("ConfigMap", ns, src.get("name", ""))
            value = ((cm or {}).get("data") or {}).get(src.get("key", ""))
            if value is not None:
                yield e.get("name", ""), str(value), ref("ConfigMap", ns, src.get("name", "")), f"data.{src.get('key')}"
    for e in container.get("envFrom") or []:
        src = e.get("configMapRef")
        if src:
            cm = reads.find("ConfigMap", ns, src.get("name", ""))
            for key, value in ((cm or {}).get("data") or {}).items():
                yield key, str(value), ref("ConfigMap", ns, src.get("name", "")), f"data.{key}"


def _resolves(reads: Snapshot, namespace: str | None, host: str) -> bool:
    """A Service of that name exists (short, namespaced or fully qualified form)."""
    parts = host.lower().rstrip(".").split(".")
    name = parts[0]
    svc_ns = parts[1] if len(parts) > 1 and parts[1] not in ("svc",) else namespace
    return reads.find("Service", svc_ns, name) is not None


def _backs_a_workload(reads: Snapshot, namespace: str | None, host: str) -> bool:
    """A workload of that name exists: the name is right and its Service is what is missing."""
    name = host.lower().split(".")[0]
    return any(reads.find(kind, namespace, name) is not None for kind in ("Deployment", "StatefulSet", "DaemonSet"))


def _named_host(line: str, container: dict, reads: Snapshot, pod: dict) -> str | None:
    """The host a resolution failure is about: named by the runtime's own wording, or, when the line only
    says the lookup failed, a host of the container's env values that the line mentions."""
    host = next((m.group(1) for p in UNRESOLVED if (m := p.search(line))), None)
    if host or not RESOLUTION_FAILED.search(line):
        return host
    for _var, value, _holder, _field in _env_sources(reads, pod, container):
        candidate = _host_of(value)
        if candidate and re.search(rf"(?<![\w.-]){re.escape(candidate)}(?![\w-])", line):
            return candidate
    return None


def _unresolved(reads: Snapshot, pod: dict, cname: str, line: str) -> list[Finding]:
    container = _container(pod, cname)
    host = _named_host(line, container, reads, pod)
    if not host or _resolves(reads, ns_of(pod), host) or _backs_a_workload(reads, ns_of(pod), host):
        return []
    for var, value, holder, field in _env_sources(reads, pod, container):
        if re.search(rf"(?<![\w.-]){re.escape(host)}(?![\w-])", value):
            kind, ns, name = _split(holder)
            evidence = [
                f"log {name_of(pod)}/{cname}: {quote(line, 200)}",
                f"{field}: {var}={quote(value, 120)}",
                f"no Service {host.split('.')[0]} in namespace {ns_of(pod)}",
            ]
            cause = f"{var} names host {host}, which does not resolve in the cluster"
            fix = _env_fix(reads, pod, cname, var, value, host) if kind != "ConfigMap" else None
            if fix:
                evidence.append(fix["rationale"])
            explains = [e for e in symptoms_of(reads, pod) if e != holder]
            return [Finding(kind, ns, name, cause, evidence, "high", field, explains=explains, fix=fix)]
    return []


def _env_fix(reads: Snapshot, pod: dict, cname: str, var: str, value: str, host: str) -> dict | None:
    """`set_env` with the host the rest of the namespace uses for the same variable, when that host is a
    Service that exists and only one such host is in use."""
    ns = ns_of(pod)
    seen: set[str] = set()
    for other in reads.of("Pod", ns):
        for c in (other.get("spec") or {}).get("containers") or []:
            for name, other_value, _holder, _field in _env_sources(reads, other, c):
                if name == var and other_value != value:
                    seen.add(other_value)
    good = {v for v in seen if _resolves(reads, ns, _host_of(v))}
    if len(good) != 1:
        return None
    right = _host_of(next(iter(good)))
    kind, holder = _template_holder(reads, pod)
    new_value = re.sub(rf"(?<![\w.-]){re.escape(host)}(?![\w-])", right, value)
    args = {"kind": kind, "name": name_of(holder), "namespace": ns, "container": cname, "env_name": var}
    return {
        "action": "set_env",
        "args": {**args, "value": new_value},
        "rationale": f"the other workloads of {ns} set {var} to {right}, a Service that exists",
    }


def _host_of(value: str) -> str:
    """The host in an env value: a bare name, host:port, or a URL."""
    text = value.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rsplit("@", 1)[-1]
    return text.split(":", 1)[0]


def _certificate(reads: Snapshot, pod: dict, cname: str, line: str) -> list[Finding]:
    if not EXPIRED_CERT.search(line):
        return []
    ns = ns_of(pod)
    container = _container(pod, cname)
    mounted = {m.get("name"): m.get("mountPath", "") for m in container.get("volumeMounts") or []}
    holders: dict[tuple[str, str], tuple[str, str, str, list[str]]] = {}  # one per object, however mounted
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        if vol.get("name") not in mounted:
            continue
        for kind, key, name_key in (("ConfigMap", "configMap", "name"), ("Secret", "secret", "secretName")):
            src = vol.get(key)
            if not src:
                continue
            obj = reads.find(kind, ns, src.get(name_key, ""))
            keys = sorted(((obj or {}).get("data") or {}).keys())
            if obj is not None and any(CERT_KEY.search(k) for k in keys):
                holders.setdefault(
                    (kind, src.get(name_key, "")), (kind, src.get(name_key, ""), mounted[vol.get("name")], keys)
                )
    if len(holders) != 1:
        return []  # none, or several: the log does not say which
    kind, name, path, keys = next(iter(holders.values()))
    evidence = [
        f"log {name_of(pod)}/{cname}: {quote(line, 200)}",
        f"{kind} {name} mounted at {path} holds {', '.join(keys)}",
    ]
    cause = f"the certificate in {kind} {name} (mounted at {path}) is expired or invalid; it needs a renewed one"
    return [Finding(kind, ns, name, cause, evidence, "high", "data", explains=symptoms_of(reads, pod))]


def _split(entity: str) -> tuple[str, str | None, str]:
    ns, kind, name = entity.split("/", 2)
    return kind, ns or None, name
