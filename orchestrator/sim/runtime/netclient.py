"""curl, wget and nc inside a container: cluster DNS, Services, Endpoints and NetworkPolicies.

`reach` answers one connection the way the traffic model judges an application's calls (same DNS
search list, Service ports, ready endpoints, policies); the command handlers turn the outcome into
what each client prints and exits with. Names outside the cluster resolve only under a public
top-level domain (the upstream resolver knows those); anything else is NXDOMAIN.
"""

from __future__ import annotations

import math
import re
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .catalogue import status_at

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..controllers.kubelet import Shell

INF = math.inf
ShellGen = Generator[tuple[str, float], None, int]
CONNECT_TIMEOUT = 130.0  # Linux gives up a TCP connect after ~130 s of SYN retries
RESOLVER_TIMEOUT = 10.0  # resolv.conf defaults: 5 s per try, 2 tries
PUBLIC_TLDS = {"com", "org", "net", "io", "dev", "app", "co", "ai", "cloud", "info", "biz", "us", "uk", "de", "fr"}
PUBLIC_TLDS |= {"eu", "sh", "me", "tech", "xyz", "gov", "edu", "ca", "jp", "cn", "in", "au", "nl", "ru", "br"}
REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 401: "Unauthorized", 403: "Forbidden"}
REASONS |= {404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(frozen=True)
class Reach:
    kind: str  # ok | dns | refused | timeout
    ip: str = ""
    status: int = 200
    wait: float = 0.0  # seconds before the answer (a resolver that times out before giving up)


def reach(cluster: Cluster, pod: dict, host: str, port: int) -> Reach:
    """Where a TCP connection from `pod` to host:port ends up."""
    from ..apps import Application
    from ..traffic import _Builder, _Formatter, _is_ip

    ns = pod["metadata"].get("namespace", "default")
    if host in ("localhost", "127.0.0.1", "::1"):
        ports, status = served(cluster, pod)
        return Reach("ok" if ports is None or port in ports else "refused", "127.0.0.1", status)
    app = cluster.application_for(ns) or Application(name="", namespace=ns)
    b = _Builder(cluster.traffic, app)
    caller = b.node(pod)
    if _is_ip(host):
        svc = b.svc_by_ip(host)
        direct = None if svc else b.pod_by_ip(host)
        if svc is None and direct is None:
            return Reach("timeout", host)
    else:
        svc, failure = b.lookup(caller, host, _Formatter("go", "http", host, host, "/"))
        direct = None
        if failure is not None:
            if failure.kind == "dns" and _external(host):
                return Reach("ok", "93.184.215.14")  # a public name: the upstream resolver answers
            return Reach("dns", wait=RESOLVER_TIMEOUT if failure.timeout else 0.0)
    if svc is not None:
        spec = svc.get("spec") or {}
        ip = str(spec.get("clusterIP") or "")
        if ip == "None":  # headless: DNS answered the ready pods themselves
            pods = b._ready_selected(svc)
            if not pods:
                return Reach("dns")
            candidates = [(b.node(p), port) for p in pods]
            ip = candidates[0][0].ip
        else:
            sports = [p for p in spec.get("ports") or () if int(p.get("port", -1)) == port]
            if not sports:
                return Reach("timeout", ip)  # kube-proxy has no rule: the packet goes nowhere
            candidates = b.service_targets(svc, sports[0])
            if not candidates:
                return Reach("refused", ip)  # kube-proxy rejects a Service without endpoints
    else:
        assert direct is not None
        candidates = [(b.node(direct), port)]
        ip = host
    target, tport = candidates[0]
    if not b.allowed(caller, target, tport):
        return Reach("timeout", ip)
    listening, status = served(cluster, target.pod) if target.service is None else (set(target.listen), 200)
    # Readiness only decides what a Service routes to; a pod's own IP answers while it listens.
    if listening is not None and tport not in listening:
        return Reach("refused", ip)
    if target.service is None:
        _log_request(cluster, target.pod)
    if target.service is not None:
        stats = cluster.traffic.services.get((target.namespace, target.service.name))
        if stats is not None and stats.error_ratio >= 0.5:
            status = 503
    return Reach("ok", ip, status)


def served(cluster: Cluster, pod: dict) -> tuple[set[int] | None, int]:
    """Ports the pod's running processes bind, from the kubelet's view (None: any port), and the
    HTTP status its server answers."""
    from ..controllers.kubelet import _kubelet_of

    kubelet = _kubelet_of(cluster)
    run = kubelet.runs.get(pod["metadata"]["uid"]) if kubelet else None
    if run is None:
        return set(), 200
    out: set[int] | None = set()
    status = 200
    for c in run.containers:
        if c.phase != "running":
            continue
        status = max(status, status_at(c.http_status, cluster.now() - (c.running_since or 0.0)))
        if c.ports is not None:
            out = None if out is None else out | c.ports
        elif c.kind in ("server", "app") or c.app_bg:
            declared = {int(p["containerPort"]) for p in c.spec.get("ports") or () if p.get("containerPort")}
            out = None if out is None or not declared else out | declared
    return out, status


def _log_request(cluster: Cluster, pod: dict) -> None:
    """The lines a catalogued server writes for each request it answers."""
    from ..controllers.kubelet import _kubelet_of

    kubelet = _kubelet_of(cluster)
    run = kubelet.runs.get(pod["metadata"]["uid"]) if kubelet else None
    if run is None:
        return
    for c in run.containers:
        if c.phase == "running" and c.request_logs:
            for line in c.request_logs:
                cluster.logs.append(run.uid, c.name, c.restarts, cluster.now(), line)


def _external(host: str) -> bool:
    labels = host.rstrip(".").split(".")
    return len(labels) >= 2 and labels[-1].lower() in PUBLIC_TLDS and "svc" not in labels


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a curl/wget argument."""
    m = re.match(r"^(?:(\w+)://)?(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?([/?#].*)?$", url)
    if not m:
        return "http", url, 80, "/"
    scheme = (m.group(1) or "http").lower()
    port = int(m.group(3)) if m.group(3) else (443 if scheme == "https" else 80)
    return scheme, m.group(2).strip("[]"), port, m.group(4) or "/"


def _timeout(args: list[str], names: tuple[str, ...]) -> float:
    for i, a in enumerate(args):
        for n in names:
            value = (
                a[len(n) + 1 :] if a.startswith(n + "=") else (args[i + 1] if a == n and i + 1 < len(args) else None)
            )
            if value is not None:
                try:
                    return float(value)
                except ValueError:
                    pass
    return CONNECT_TIMEOUT


_CURL_VALUES = {"-X", "--request", "-H", "--header", "-d", "--data", "-o", "--output", "-m", "--max-time"}
_CURL_VALUES |= {"--connect-timeout", "-u", "--user", "-A", "--user-agent", "-w", "--write-out", "--retry"}
_WGET_VALUES = {"-O", "-T", "--timeout", "-U", "--header", "-o", "-P", "--post-data", "-t", "--tries"}


def _target(args: list[str], with_value: set[str]) -> str | None:
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in with_value:
            skip = True
        elif not a.startswith("-"):
            return a
    return None


def curl(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    url = _target(args, _CURL_VALUES)
    flags = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
    silent, show = "s" in flags or "--silent" in args, "S" in flags or "--show-error" in args
    fail = "f" in flags or "--fail" in args or "--fail-with-body" in args
    host = shell.host

    def err(code: int, text: str) -> int:
        if not silent or show:
            host.log(f"curl: ({code}) {text}")
        return code

    if url is None:
        host.log("curl: try 'curl --help' or 'curl --manual' for more information")
        return 2
    _scheme, name, port, _path = split_url(url)
    r = host.reach(name, port)
    if r.wait:
        yield ("sleep", r.wait)
    if r.kind == "dns":
        return err(6, f"Could not resolve host: {name}")
    if r.kind == "refused":
        return err(7, f"Failed to connect to {name} port {port} after 0 ms: Couldn't connect to server")
    if r.kind == "timeout":
        limit = min(_timeout(args, ("-m", "--max-time")), _timeout(args, ("--connect-timeout",)))
        yield ("sleep", limit)
        if limit < CONNECT_TIMEOUT:
            return err(28, f"Connection timed out after {int(limit * 1000) + 1} milliseconds")
        return err(
            28, f"Failed to connect to {name} port {port} after {int(limit * 1000)} ms: Couldn't connect to server"
        )
    if fail and r.status >= 400:
        return err(22, f"The requested URL returned error: {r.status}")
    if not quiet and ("-I" in args or "--head" in args or "i" in flags):
        host.log(f"HTTP/1.1 {r.status} {REASONS.get(r.status, '')}".rstrip())
    return 0


def wget(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    url = _target(args, _WGET_VALUES)
    host = shell.host
    busybox = host.flavour() == "busybox"
    if url is None:
        host.log("BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary." if busybox else "wget: missing URL")
        return 1
    _scheme, name, port, _path = split_url(url)
    r = host.reach(name, port)
    if r.wait:
        yield ("sleep", r.wait)
    loud = "-q" not in args and "--quiet" not in args
    if loud and busybox and r.kind != "dns":
        host.log(f"Connecting to {name}{'' if port in (80, 443) else f':{port}'} ({r.ip}:{port})")
    if r.kind == "dns":
        host.log(f"wget: bad address '{name}'" if busybox else f"wget: unable to resolve host address '{name}'")
        return 1 if busybox else 4
    if r.kind == "refused":
        host.log(
            f"wget: can't connect to remote host ({r.ip}): Connection refused"
            if busybox
            else "failed: Connection refused."
        )
        return 1 if busybox else 4
    if r.kind == "timeout":
        yield ("sleep", _timeout(args, ("-T", "--timeout")))
        host.log("wget: download timed out" if busybox else "failed: Connection timed out.")
        return 1 if busybox else 4
    if r.status >= 400:
        reason = REASONS.get(r.status, "")
        host.log(
            f"wget: server returned error: HTTP/1.1 {r.status} {reason}" if busybox else f"ERROR {r.status}: {reason}."
        )
        return 1 if busybox else 8
    return 0


def nc(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    words = [a for a in args if not a.startswith("-")]
    verbose = any(a.startswith("-") and "v" in a for a in args)
    if len(words) < 2 or not words[-1].isdigit():
        return 1
    name, port = words[-2], int(words[-1])
    r = shell.host.reach(name, port)
    if r.wait:
        yield ("sleep", r.wait)
    if r.kind == "dns":
        shell.host.log(f"nc: bad address '{name}'")
        return 1
    if r.kind == "timeout":
        yield ("sleep", _timeout(args, ("-w",)))
        if verbose:
            shell.host.log(f"nc: {name} ({r.ip}:{port}): Connection timed out")
        return 1
    if r.kind == "refused":
        if verbose:
            shell.host.log(f"nc: {name} ({r.ip}:{port}): Connection refused")
        return 1
    if verbose:
        shell.host.log(f"{name} ({r.ip}:{port}) open")
    return 0


NET_COMMANDS = {"curl": curl, "wget": wget, "nc": nc}
