"""Application traffic: request, error and latency rates derived from the live Kubernetes objects.

Every update walks each installed application the way packets would: the load generator (if it has a
ready pod) sends `requestsPerSecond` to the entry Service; each pod that receives requests makes its
model `calls`, resolved exactly as the cluster would resolve them *now*:

* the address is the caller pod's own env var (`addressEnv`, `host:port` with an optional scheme),
  so a Deployment template change matters once its pods have rolled;
* DNS follows the pod's dnsPolicy/dnsConfig, search domains and ndots (`name`, `name.ns`,
  `name.ns.svc.cluster.local`); a missing Service is `no such host`, a resolver that is not the
  cluster DNS times out;
* the port must be one of the Service's ports, the Endpoints (or, if absent, the selector) must hold
  a ready address whose pod really listens on the target port, else `connection refused`;
* NetworkPolicies (ingress at the callee, egress at the caller, including DNS egress) that do not
  allow the connection make it time out (TIMEOUT_SECONDS);
* `auth` calls present the caller's env var (Secrets read at their current data) and the callee
  checks it against the credential its container instance started with.

Errors propagate to callers in proportion to `perRequest`; latency adds up along the call chain plus
timeouts and the kubelet's CPU throttle factor. `consumes` services receive the messages their
broker accepted; a consumer with no ready pod shows as failed deliveries on the broker.

Resolution results are cached per application and rebuilt only when an object it depends on (Pods,
Services, Endpoints, NetworkPolicies, Secrets, ConfigMaps, Namespaces) changed, so a steady cluster
of 1,000 pods costs a linear pass over the cached graph per update.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .apps import Application, Call
from .apps import Service as AppService
from .controllers.kubelet import throttle_factor
from .objects import config_data, container_env, decode_value, pod_ready
from .selectors import LabelSelector, SelectorError, selector_from_spec

if TYPE_CHECKING:
    from .cluster import Cluster
    from .resources import ResourceType

TIMEOUT_SECONDS = 10.0  # client deadline of the demo services: a blocked connection costs this much
CLUSTER_DNS_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
UPSTREAM_DNS_IP = "172.18.0.1"  # the node's resolver (kind network gateway): knows no cluster names
P95_FACTOR = 1.8  # p95 of a request relative to its mean service time
ERROR_LOG_INTERVAL = 10.0
SUCCESS_LOG_INTERVAL = 30.0
ANY_NAMESPACE = "*"  # a graph dependency on every namespace (addresses given as IPs)
RELEVANT_KINDS = frozenset({"Pod", "Service", "Endpoints", "NetworkPolicy", "Secret", "ConfigMap", "Namespace"})

# Request paths the bundled applications use, so HTTP error lines name the URL a real client would.
KNOWN_PATHS = {
    "quote": "/getquote",
    "email": "/send_order_confirmation",
    "productpage": "/productpage",
    "frontend": "/api/products",
    "image-provider": "/images/products/NationalParkFoundationExplorascope.jpg",
    "details": "/details/0",
    "ratings": "/ratings/0",
}


# ---------------------------------------------------------------------------------------------- results
@dataclass
class CalleeStats:
    rps: float = 0.0
    error_rps: float = 0.0
    error: str | None = None


@dataclass
class ServiceStats:
    rps: float = 0.0
    error_rps: float = 0.0
    p95_seconds: float = 0.0
    last_error: str | None = None
    by_callee: dict[str, CalleeStats] = field(default_factory=dict)

    @property
    def error_ratio(self) -> float:
        return self.error_rps / self.rps if self.rps > 0 else 0.0


# ---------------------------------------------------------------------------------------------- graph
@dataclass(eq=False)
class Failure:
    kind: str  # dns | dns-timeout | refused | timeout | auth | address
    share: float  # fraction of this destination's calls that fail this way
    timeout: bool  # the caller waits TIMEOUT_SECONDS
    line: str  # what the caller logs


@dataclass(eq=False)
class PodNode:
    pod: dict
    uid: str
    name: str
    namespace: str
    ip: str
    labels: dict[str, str]
    ready: bool
    service: AppService | None = None  # the model service this pod runs, if any
    container: str | None = None
    restart: int = 0
    listen: frozenset[int] = frozenset()
    own_latency: float = 0.0  # seconds of its own work per request
    cpu_limited: bool = False  # only a CPU limit can throttle it
    edges: list[Edge] = field(default_factory=list)
    # per update
    err: float = 0.0
    tout: float = 0.0
    lat: float = 0.0
    rate: float = 0.0
    inflow: float = 0.0
    rejected: float = 0.0  # requests that reached this pod and were refused (bad credentials)
    overload: float = 0.0  # share of its requests a CPU-throttled pod cannot serve before the deadline


@dataclass(eq=False)
class Group:
    """Where one resolved address leads: pods with the share of calls each gets, and failures.

    Callers that resolve identically share a Group, so fan-in/fan-out costs O(groups x targets)."""

    targets: list[tuple[PodNode, float]]
    failures: list[Failure]
    callee: str
    rejected: list[tuple[PodNode, float]] = field(default_factory=list)  # reached the pod, then refused
    fail_share: float = 0.0
    timeout_share: float = 0.0
    err: float = 0.0
    tout: float = 0.0
    lat: float = 0.0
    inflow: float = 0.0
    success_inflow: float = 0.0

    def __post_init__(self) -> None:
        self.fail_share = min(1.0, sum(f.share for f in self.failures))
        self.timeout_share = min(1.0, sum(f.share for f in self.failures if f.timeout))


@dataclass(eq=False)
class Edge:
    call: Call
    group: Group
    address: str = ""  # the caller's configured address, as written


@dataclass
class Graph:
    app: Application
    nodes: list[PodNode]  # pods of the application's namespace
    order: list[PodNode | Group]  # callees before callers
    sources: list[PodNode]  # ready load-generator pods
    deps: set[str]  # namespaces whose objects were consulted


# ---------------------------------------------------------------------------------------------- helpers
def _same_to_the_graph(old: dict, new: dict) -> bool:
    """Whether two versions of a pod read the same to a graph build (`_Builder`: its node, the env its
    containers see, its DNS settings, its endpoints' readiness and its listening ports). The fields
    that change most come first."""
    old_status, new_status = old.get("status") or {}, new.get("status") or {}
    if (
        old_status.get("phase") != new_status.get("phase")
        or old_status.get("podIP") != new_status.get("podIP")
        or pod_ready(old) != pod_ready(new)
        or _restarts(old_status) != _restarts(new_status)
    ):
        return False
    old_meta, new_meta = old["metadata"], new["metadata"]
    for key in ("uid", "name", "namespace", "deletionTimestamp", "labels", "annotations", "ownerReferences"):
        if old_meta.get(key) != new_meta.get(key):
            return False
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    return all(
        old_spec.get(key) == new_spec.get(key)
        for key in ("nodeName", "hostNetwork", "dnsPolicy", "dnsConfig", "containers")
    )


def _restarts(status: dict) -> list[tuple[Any, Any]]:
    return [(cs.get("name"), cs.get("restartCount")) for cs in status.get("containerStatuses") or ()]


def pod_workload(pod: dict) -> tuple[str, str] | None:
    """(kind, name) of the workload controlling a pod: Deployment via its ReplicaSet's name."""
    meta = pod["metadata"]
    for ref in meta.get("ownerReferences") or ():
        if not ref.get("controller", True):
            continue
        kind, name = ref.get("kind", ""), ref.get("name", "")
        if kind == "ReplicaSet":
            h = (meta.get("labels") or {}).get("pod-template-hash")
            if h and name.endswith("-" + h):
                return "Deployment", name[: -len(h) - 1]
            return "ReplicaSet", name
        return kind, name
    return None


def secret_value(secret: dict | None, key: str) -> str | None:
    data = config_data(secret or {})
    return decode_value("Secret", data[key]) if key in data else None


def _parse_address(raw: str, default_scheme: str) -> tuple[str, str, str | None, str]:
    """`http://host:port/path` or `host:port` -> (scheme, host, port text or None, url for logs)."""
    scheme = ""
    rest = raw.strip()
    if "://" in rest:
        scheme, rest = rest.split("://", 1)
    hostport = rest.split("/", 1)[0]
    if hostport.startswith("["):  # [v6]:port
        host, _, port = hostport[1:].partition("]")
        port_text = port[1:] if port.startswith(":") else None
    elif ":" in hostport:
        host, port_text = hostport.rsplit(":", 1)
    else:
        host, port_text = hostport, None
    if port_text is None and scheme in ("http", "https"):
        port_text = "80" if scheme == "http" else "443"
    url = f"{scheme or default_scheme}://{hostport}"
    return scheme, host, port_text, url


# ---------------------------------------------------------------------------------------------- policies
@dataclass
class _Peer:
    pods: LabelSelector | None
    namespaces: LabelSelector | None
    cidr: Any = None
    excepts: tuple[Any, ...] = ()


@dataclass
class _Rule:
    peers: list[_Peer] | None  # None: every source/destination
    ports: list[dict] | None  # None: every port


@dataclass
class _Policy:
    namespace: str
    selector: LabelSelector
    ingress: list[_Rule] | None  # None: the policy does not restrict ingress
    egress: list[_Rule] | None


def _parse_rules(raw: list | None, peer_key: str) -> list[_Rule]:
    rules = []
    for r in raw or []:
        peers = None
        if r.get(peer_key):
            peers = []
            for p in r[peer_key]:
                block = p.get("ipBlock")
                peers.append(
                    _Peer(
                        pods=selector_from_spec(p["podSelector"]) if p.get("podSelector") is not None else None,
                        namespaces=selector_from_spec(p["namespaceSelector"])
                        if p.get("namespaceSelector") is not None
                        else None,
                        cidr=ipaddress.ip_network(block["cidr"], strict=False) if block else None,
                        excepts=tuple(ipaddress.ip_network(e, strict=False) for e in (block or {}).get("except") or ()),
                    )
                )
        rules.append(_Rule(peers, list(r["ports"]) if r.get("ports") else None))
    return rules


def _parse_policy(np: dict) -> _Policy | None:
    spec = np.get("spec") or {}
    try:
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))
        return _Policy(
            namespace=np["metadata"]["namespace"],
            selector=selector_from_spec(spec.get("podSelector") or {}),
            ingress=_parse_rules(spec.get("ingress"), "from") if "Ingress" in types else None,
            egress=_parse_rules(spec.get("egress"), "to") if "Egress" in types else None,
        )
    except (SelectorError, ValueError, KeyError, TypeError):
        return None  # admission rejects these; a bad one in the store simply selects nothing


# ---------------------------------------------------------------------------------------------- builder
class _Builder:
    """One graph build: per-build indexes of the store and memoised resolutions."""

    def __init__(self, traffic: Traffic, app: Application) -> None:
        self.t = traffic
        self.cluster = traffic.cluster
        self.store = traffic.cluster.store
        self.app = app
        self.deps: set[str] = {app.namespace, "kube-system"}
        self.nodes: dict[str, PodNode] = {}
        self._rt: dict[str, ResourceType] = {k: self.cluster.rt(k) for k in RELEVANT_KINDS}
        self._pods_by_ns: dict[str, list[dict]] = {}
        self._pods_by_ip: dict[str, dict] | None = None
        self._svc_by_ip: dict[str, dict] | None = None
        self._policies: dict[str, list[_Policy]] = {}
        self._any_policy = any(True for _ in self.store.entries(self._rt["NetworkPolicy"]))
        self._groups: dict[tuple, Group] = {}
        self._targets: dict[tuple, tuple[list[tuple[PodNode, int]], str]] = {}
        self._dns_broken: dict[tuple, str | None] = {}
        self._ns_labels: dict[str, dict[str, str]] = {}
        self._pod_index: dict[str, tuple[dict[str, dict], dict[str | None, dict]]] = {}
        self._env: dict[tuple, dict[str, str]] = {}
        self._model = {s.name: s for s in app.services}

    # ----------------------------------------------------------------- store lookups
    def find(self, kind: str, ns: str, name: str) -> dict | None:
        self.deps.add(ns)
        return self.store.find(self._rt[kind], ns, name)

    def pods(self, ns: str) -> list[dict]:
        if ns not in self._pods_by_ns:
            self.deps.add(ns)
            self._pods_by_ns[ns] = self.store.list(self._rt["Pod"], ns)
        return self._pods_by_ns[ns]

    def pod_by_ip(self, ip: str) -> dict | None:
        if self._pods_by_ip is None:
            self.deps.add(ANY_NAMESPACE)  # an IP can belong to any namespace
            self._pods_by_ip = {}
            for p in self.store.list(self._rt["Pod"]):
                pip = (p.get("status") or {}).get("podIP")
                if pip and not (p.get("spec") or {}).get("hostNetwork"):
                    self._pods_by_ip[pip] = p
        return self._pods_by_ip.get(ip)

    def svc_by_ip(self, ip: str) -> dict | None:
        if self._svc_by_ip is None:
            self.deps.add(ANY_NAMESPACE)
            self._svc_by_ip = {}
            for s in self.store.list(self._rt["Service"]):
                cip = (s.get("spec") or {}).get("clusterIP")
                if cip and cip != "None":
                    self._svc_by_ip[cip] = s
        return self._svc_by_ip.get(ip)

    def ns_labels(self, ns: str) -> dict[str, str]:
        if ns not in self._ns_labels:
            obj = self.store.find(self._rt["Namespace"], "", ns)
            self._ns_labels[ns] = dict(((obj or {}).get("metadata") or {}).get("labels") or {})
        return self._ns_labels[ns]

    def policies(self, ns: str) -> list[_Policy]:
        if not self._any_policy:
            return []
        if ns not in self._policies:
            self.deps.add(ns)
            parsed = (_parse_policy(np) for np in self.store.list(self._rt["NetworkPolicy"], ns))
            self._policies[ns] = [p for p in parsed if p is not None]
        return self._policies[ns]

    # ----------------------------------------------------------------- pods
    def node(self, pod: dict) -> PodNode:
        uid = pod["metadata"]["uid"]
        n = self.nodes.get(uid)
        if n is None:
            n = self._make_node(pod)
            self.nodes[uid] = n
        return n

    def _make_node(self, pod: dict) -> PodNode:
        meta = pod["metadata"]
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        node = PodNode(
            pod=pod,
            uid=meta["uid"],
            name=meta["name"],
            namespace=meta["namespace"],
            ip=status.get("podIP") or "",
            labels=dict(meta.get("labels") or {}),
            ready=pod_ready(pod) and not meta.get("deletionTimestamp"),
        )
        containers = spec.get("containers") or []
        app = self.t.cluster.applications.get(node.namespace)
        wl = pod_workload(pod)
        if app is not None and wl is not None:
            node.service = (self._model if app is self.app else {s.name: s for s in app.services}).get(wl[1])
        main = next((c for c in containers if node.service and c.get("name") == node.service.name), None)
        main = main or (containers[0] if containers else None)
        if main is not None:
            node.container = main.get("name")
            for cs in status.get("containerStatuses") or ():
                if cs.get("name") == node.container:
                    node.restart = int(cs.get("restartCount", 0))
        node.listen = frozenset(self._listen_ports(node, main, containers))
        node.own_latency = (node.service.latency_ms if node.service else 0.0) / 1000.0
        node.cpu_limited = bool(((main or {}).get("resources") or {}).get("limits", {}).get("cpu"))
        return node

    def _listen_ports(self, node: PodNode, main: dict | None, containers: list[dict]) -> set[int]:
        """Ports the pod's processes bind: the model port (or its `<NAME>_PORT` override), else the
        declared containerPorts of a pod the model does not know."""
        svc = node.service
        if svc is None:
            return {int(p["containerPort"]) for c in containers for p in c.get("ports") or () if p.get("containerPort")}
        if svc.port is None:
            return set()
        port_var = re.sub(r"[^A-Z0-9]", "_", svc.name.upper()) + "_PORT"
        if main is not None and port_var in svc.env:
            value = self.env(node, main).get(port_var)
            if value is not None:
                try:
                    return {int(value)}
                except ValueError:
                    return set()  # the process fails to bind; the kubelet shows the crash
        return {int(svc.port)}

    def env(self, node: PodNode, container: dict) -> dict[str, str]:
        """The container's environment with Secret and ConfigMap values at their current data.

        Pods of one ReplicaSet/StatefulSet revision share their (immutable) container spec, so the
        result is shared too unless the env reads per-pod fields."""
        labels = node.labels
        rev = labels.get("pod-template-hash") or labels.get("controller-revision-hash")
        per_pod = any("fieldRef" in (e.get("valueFrom") or {}) for e in container.get("env") or ())
        key = (node.namespace, rev, container.get("name")) if rev and not per_pod else (node.uid, container.get("name"))
        cached = self._env.get(key)
        if cached is None:
            cached = self._env[key] = container_env(node.pod, container, self.find)
        return cached

    def main_container(self, node: PodNode) -> dict | None:
        for c in (node.pod.get("spec") or {}).get("containers") or ():
            if c.get("name") == node.container:
                return c
        return None

    # ----------------------------------------------------------------- build
    def build(self) -> Graph:
        app = self.app
        for pod in self.pods(app.namespace):
            self.node(pod)
        own = [n for n in self.nodes.values() if n.namespace == app.namespace]
        for n in own:
            if n.service is not None and n.service.credentials:
                self.t.snapshot_credential(self, n)
        for n in own:
            if n.service is None or not n.ready or (n.pod.get("status") or {}).get("phase") != "Running":
                continue
            container = self.main_container(n)
            env = self.env(n, container) if container is not None else {}
            calls = list(n.service.calls)
            if n.service.name == app.generator and app.entry:
                calls = [self._entry_call(n.service)]
            for call in calls:
                callee = self._model.get(call.service) or app.service(call.service)
                raw = env.get(call.address_env) if call.address_env else self._default_address(callee)
                presented = env.get(call.auth) if call.auth else None
                n.edges.append(Edge(call, self.resolve(n, raw, callee, call, presented), raw or ""))
        sources = [n for n in own if n.service is not None and n.service.name == app.generator and n.ready]
        return Graph(app, own, _topological(self.nodes.values()), sources, self.deps)

    def _entry_call(self, generator: AppService) -> Call:
        """The generator calls the entry Service through the env var that names it, if it has one."""
        entry = self.app.service(self.app.entry or "")
        var = None
        if entry is not None:
            for k, v in generator.env.items():
                if _parse_address(v, "http")[1].split(".")[0] == entry.svc:
                    var = k
                    break
        return Call(service=self.app.entry or "", address_env=var, per_request=1.0)

    @staticmethod
    def _default_address(callee: AppService | None) -> str | None:
        if callee is None or callee.port is None:
            return None
        return f"{callee.svc}:{callee.port}"

    # ----------------------------------------------------------------- resolution
    def resolve(
        self, caller: PodNode, raw: str | None, callee: AppService | None, call: Call, presented: str | None
    ) -> Group:
        spec = caller.pod.get("spec") or {}
        dns_cfg = spec.get("dnsConfig") or {}
        dns_sig = (
            spec.get("dnsPolicy", "ClusterFirst"),
            bool(spec.get("hostNetwork")),
            tuple(dns_cfg.get("nameservers") or ()),
            tuple(dns_cfg.get("searches") or ()),
            tuple((o.get("name"), o.get("value")) for o in dns_cfg.get("options") or ()),
        )
        policy_key = (frozenset(caller.labels.items()), caller.ip) if self._any_policy else None
        key = (
            caller.namespace,
            dns_sig,
            raw,
            call.service,
            call.auth and presented,
            policy_key,
            runtime_of(caller.service),
        )
        group = self._groups.get(key)
        if group is None:
            group = self._resolve(caller, raw, callee, call, presented)
            self._groups[key] = group
        return group

    def _resolve(
        self, caller: PodNode, raw: str | None, callee: AppService | None, call: Call, presented: str | None
    ) -> Group:
        protocol = callee.protocol if callee else "tcp"
        name = call.service
        fmt = _Formatter(runtime_of(caller.service), protocol, name, raw or "", KNOWN_PATHS.get(name, "/"))

        def fail(kind: str, detail: str, timeout: bool = False, where: str = "") -> Group:
            return Group([], [Failure(kind, 1.0, timeout, fmt.line(kind, detail, where))], name)

        if not raw:
            return fail("address", "dial tcp: missing address")
        scheme, host, port_text, _url = _parse_address(raw, "http")
        if port_text is None:
            return fail("address", f"dial tcp: address {host}: missing port in address")
        if not port_text.isdigit():
            return fail("address", f"dial tcp: lookup tcp/{port_text}: unknown port")
        port = int(port_text)
        # ---- name -> Service (or pod) IP
        svc: dict | None = None
        direct: dict | None = None
        if _is_ip(host):
            svc = self.svc_by_ip(host)
            direct = None if svc else self.pod_by_ip(host)
            if svc is None and direct is None:
                return fail("timeout", f"dial tcp {host}:{port}: i/o timeout", timeout=True, where=f"{host}:{port}")
        else:
            svc, failure = self.lookup(caller, host, fmt)
            if failure is not None:
                return Group([], [failure], name)
        # ---- Service -> endpoints
        if svc is not None and (svc.get("spec") or {}).get("clusterIP") != "None":
            cip = (svc.get("spec") or {}).get("clusterIP", host)
            sports = [p for p in (svc.get("spec") or {}).get("ports") or () if int(p.get("port", -1)) == port]
            if not sports:
                return fail("refused", f"dial tcp {cip}:{port}: connect: connection refused", where=f"{cip}:{port}")
            candidates, err_ip = self.service_targets(svc, sports[0]), f"{cip}:{port}"
        elif svc is not None:  # headless: DNS returned the ready pods themselves
            candidates, err_ip = [(self.node(p), port) for p in self._ready_selected(svc)], ""
        else:
            assert direct is not None
            candidates, err_ip = [(self.node(direct), port)], ""
        if not candidates:
            where = err_ip or f"{host}:{port}"
            return fail("refused", f"dial tcp {where}: connect: connection refused", where=where)
        return self._split(caller, candidates, err_ip, fmt, callee, presented if call.auth else None, bool(call.auth))

    def _split(
        self,
        caller: PodNode,
        candidates: list[tuple[PodNode, int]],
        err_ip: str,
        fmt: _Formatter,
        callee: AppService | None,
        presented: str | None,
        auth: bool,
    ) -> Group:
        """Spread calls evenly over the endpoints (kube-proxy's random choice) and judge each."""
        share = 1.0 / len(candidates)
        targets: list[tuple[PodNode, float]] = []
        rejected: list[tuple[PodNode, float]] = []
        failures: dict[str, Failure] = {}

        def add(kind: str, detail: str, timeout: bool = False, where: str = "") -> None:
            f = failures.get(kind)
            if f is None:
                failures[kind] = Failure(kind, share, timeout, fmt.line(kind, detail, where))
            else:
                f.share += share

        for target, tport in candidates:
            where = err_ip or f"{target.ip}:{tport}"
            if not self.allowed(caller, target, tport):
                add("timeout", f"dial tcp {where}: i/o timeout", timeout=True, where=where)
            elif tport not in target.listen or not target.ready:
                add("refused", f"dial tcp {where}: connect: connection refused", where=where)
            elif auth and target.service is not None and target.service.credentials:
                expected = self.t.credential(target)
                # Pooled clients reconnect until the request's deadline: a refused login is slow too.
                if presented is None and expected is not None:
                    add("auth", "NOAUTH Authentication required.", timeout=True)
                    rejected.append((target, share))
                elif expected is not None and presented != expected:
                    add("auth", "WRONGPASS invalid username-password pair or user is disabled.", timeout=True)
                    rejected.append((target, share))
                else:
                    targets.append((target, share))
            else:
                targets.append((target, share))
        return Group(targets, list(failures.values()), fmt.callee, rejected)

    def service_targets(self, svc: dict, sport: dict) -> list[tuple[PodNode, int]]:
        """Ready (pod, port) pairs behind one Service port: the Endpoints object, else the selector."""
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        key = (ns, name, sport.get("name"), sport.get("port"))
        cached = self._targets.get(key)
        if cached is not None:
            return cached[0]
        out: list[tuple[PodNode, int]] = []
        ep = self.find("Endpoints", ns, name)
        if ep is not None:
            if ns not in self._pod_index:
                pods = self.pods(ns)
                self._pod_index[ns] = (
                    {p["metadata"]["uid"]: p for p in pods},
                    {(p.get("status") or {}).get("podIP"): p for p in pods},
                )
            by_uid, by_ip = self._pod_index[ns]
            for subset in ep.get("subsets") or ():
                port = next((p for p in subset.get("ports") or () if p.get("name") == sport.get("name")), None)
                if port is None:
                    continue
                for addr in subset.get("addresses") or ():
                    ref = addr.get("targetRef") or {}
                    pod = by_uid.get(ref.get("uid", "")) or by_ip.get(addr.get("ip"))
                    if pod is None and ref.get("namespace") and ref.get("namespace") != ns:
                        pod = next(
                            (p for p in self.pods(ref["namespace"]) if p["metadata"]["name"] == ref.get("name")), None
                        )
                    if pod is not None:
                        out.append((self.node(pod), int(port.get("port", 0))))
        else:
            from .controllers.endpoints import resolve_target_port

            for pod in self._ready_selected(svc):
                tp = resolve_target_port(pod, sport)
                if tp is not None:
                    out.append((self.node(pod), tp))
        self._targets[key] = (out, name)
        return out

    def _ready_selected(self, svc: dict) -> list[dict]:
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            return []
        sel = selector_from_spec(selector)
        return [
            p
            for p in self.pods(svc["metadata"]["namespace"])
            if sel.matches(p["metadata"].get("labels") or {})
            and pod_ready(p)
            and not p["metadata"].get("deletionTimestamp")
        ]

    # ----------------------------------------------------------------- DNS
    def lookup(self, caller: PodNode, host: str, fmt: _Formatter) -> tuple[dict | None, Failure | None]:
        """Resolve a name as the pod's resolver would: nameserver reachability, search list, ndots."""
        spec = caller.pod.get("spec") or {}
        policy = spec.get("dnsPolicy") or "ClusterFirst"
        cfg = spec.get("dnsConfig") or {}
        ns = caller.namespace
        cluster_search = [f"{ns}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]
        if policy == "None":
            nameservers = list(cfg.get("nameservers") or [])
            searches = list(cfg.get("searches") or [])
        elif policy == "Default" or (policy == "ClusterFirst" and spec.get("hostNetwork")):
            nameservers, searches = [UPSTREAM_DNS_IP], []
        else:
            nameservers = [CLUSTER_DNS_IP, *(cfg.get("nameservers") or [])]
            searches = cluster_search + list(cfg.get("searches") or [])
        ndots = 5
        for opt in cfg.get("options") or ():
            if opt.get("name") == "ndots" and str(opt.get("value", "")).isdigit():
                ndots = int(opt["value"])
        if not nameservers:
            return None, self._dns_fail("dns", fmt, f"dial tcp: lookup {host} on {CLUSTER_DNS_IP}:53: no such host")
        server = nameservers[0]
        if server == CLUSTER_DNS_IP:
            broken = self._cluster_dns_broken(caller)
            if broken:
                return None, self._dns_fail(
                    "dns-timeout", fmt, f"dial tcp: lookup {host} on {server}:53: {broken}", True
                )
        elif server != UPSTREAM_DNS_IP:
            detail = f"dial tcp: lookup {host} on {server}:53: read udp {caller.ip or '10.244.0.1'}:{_ephemeral(host)}->{server}:53: i/o timeout"
            return None, self._dns_fail("dns-timeout", fmt, detail, True)
        name = host.rstrip(".")
        if host.endswith("."):
            candidates = [name]
        elif name.count(".") >= ndots:
            candidates = [name] + [f"{name}.{s}" for s in searches]
        else:
            candidates = [f"{name}.{s}" for s in searches] + [name]
        if server == CLUSTER_DNS_IP:
            for fqdn in candidates:
                svc = self._service_for_fqdn(fqdn)
                if svc is not None:
                    return svc, None
        return None, self._dns_fail("dns", fmt, f"dial tcp: lookup {host} on {server}:53: no such host")

    @staticmethod
    def _dns_fail(kind: str, fmt: _Formatter, detail: str, timeout: bool = False) -> Failure:
        return Failure(kind, 1.0, timeout, fmt.line(kind, detail))

    def _service_for_fqdn(self, fqdn: str, depth: int = 0) -> dict | None:
        suffix = f".svc.{CLUSTER_DOMAIN}"
        if not fqdn.endswith(suffix):
            return None
        parts = fqdn[: -len(suffix)].split(".")
        if len(parts) != 2:
            return None
        svc = self.find("Service", parts[1], parts[0])
        if svc is None:
            return None
        spec = svc.get("spec") or {}
        if spec.get("type") == "ExternalName":  # a CNAME: follow it once, inside the cluster only
            return (
                self._service_for_fqdn(str(spec.get("externalName", "")).rstrip("."), depth + 1) if depth < 1 else None
            )
        if spec.get("clusterIP") == "None" and not self._ready_selected(svc):
            return None  # a headless Service without ready pods has no A records
        return svc

    def _cluster_dns_broken(self, caller: PodNode) -> str | None:
        """Why the cluster DNS cannot answer this pod, if it cannot (no CoreDNS, egress blocked)."""
        key = (caller.namespace, frozenset(caller.labels.items()) if self._any_policy else None)
        if key in self._dns_broken:
            return self._dns_broken[key]
        reason = None
        kube_dns = self.find("Service", "kube-system", "kube-dns")
        if kube_dns is not None:
            port = next(
                (p for p in (kube_dns.get("spec") or {}).get("ports") or () if int(p.get("port", 0)) == 53), None
            )
            if port is None or not self.service_targets(kube_dns, port):
                reason = (
                    f"read udp {caller.ip or '10.244.0.1'}:{_ephemeral(caller.name)}->{CLUSTER_DNS_IP}:53: i/o timeout"
                )
        if reason is None and not self._egress_allows_dns(caller):
            reason = f"read udp {caller.ip or '10.244.0.1'}:{_ephemeral(caller.name)}->{CLUSTER_DNS_IP}:53: i/o timeout"
        self._dns_broken[key] = reason
        return reason

    # ----------------------------------------------------------------- network policies
    def allowed(self, src: PodNode, dst: PodNode, port: int) -> bool:
        if not self._any_policy:
            return True
        ingress = [p for p in self.policies(dst.namespace) if p.ingress is not None and p.selector.matches(dst.labels)]
        if ingress and not any(
            self._rule_allows(r, p.namespace, src, port, dst) for p in ingress for r in p.ingress or ()
        ):
            return False
        egress = [p for p in self.policies(src.namespace) if p.egress is not None and p.selector.matches(src.labels)]
        return not egress or any(
            self._rule_allows(r, p.namespace, dst, port, dst) for p in egress for r in p.egress or ()
        )

    def _egress_allows_dns(self, src: PodNode) -> bool:
        egress = [p for p in self.policies(src.namespace) if p.egress is not None and p.selector.matches(src.labels)]
        if not egress:
            return True
        dns = PodNode(
            pod={},
            uid="",
            name="coredns",
            namespace="kube-system",
            ip=CLUSTER_DNS_IP,
            labels={"k8s-app": "kube-dns"},
            ready=True,
        )
        return any(
            self._rule_allows(r, p.namespace, dns, 53, None, protocols=("UDP", "TCP"))
            for p in egress
            for r in p.egress or ()
        )

    def _rule_allows(
        self,
        rule: _Rule,
        policy_ns: str,
        peer: PodNode,
        port: int,
        dst: PodNode | None,
        protocols: tuple[str, ...] = ("TCP",),
    ) -> bool:
        if rule.ports is not None and not any(self._port_matches(p, port, dst, protocols) for p in rule.ports):
            return False
        if rule.peers is None:
            return True
        return any(self._peer_matches(p, policy_ns, peer) for p in rule.peers)

    def _peer_matches(self, peer: _Peer, policy_ns: str, pod: PodNode) -> bool:
        if peer.cidr is not None:
            try:
                ip = ipaddress.ip_address(pod.ip)
            except ValueError:
                return False
            return ip in peer.cidr and not any(ip in e for e in peer.excepts)
        if peer.pods is None and peer.namespaces is None:
            return False
        ns_ok = (
            pod.namespace == policy_ns
            if peer.namespaces is None
            else peer.namespaces.matches(self.ns_labels(pod.namespace))
        )
        return ns_ok and (peer.pods is None or peer.pods.matches(pod.labels))

    @staticmethod
    def _port_matches(p: dict, port: int, dst: PodNode | None, protocols: tuple[str, ...]) -> bool:
        if (p.get("protocol") or "TCP") not in protocols:
            return False
        want = p.get("port")
        if want is None:
            return True
        if isinstance(want, str) and not want.isdigit():
            if dst is None:
                return False
            named = [
                int(cp["containerPort"])
                for c in (dst.pod.get("spec") or {}).get("containers") or ()
                for cp in c.get("ports") or ()
                if cp.get("name") == want
            ]
            return port in named
        lo = int(want)
        return lo <= port <= int(p.get("endPort") or lo)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _ephemeral(seed: str) -> int:
    return 32768 + sum(map(ord, seed)) * 131 % 28000  # stable "random" source port for log lines


def _topological(nodes: Any) -> list[PodNode | Group]:
    """Callees before callers (post-order DFS over pods and groups); cycles are cut at back edges."""
    order: list[PodNode | Group] = []
    seen: set[int] = set()

    def visit(item: PodNode | Group) -> None:
        stack: list[tuple[PodNode | Group, bool]] = [(item, False)]
        while stack:
            cur, done = stack.pop()
            if done:
                order.append(cur)
                continue
            if id(cur) in seen:
                continue
            seen.add(id(cur))
            stack.append((cur, True))
            children = [e.group for e in cur.edges] if isinstance(cur, PodNode) else [t for t, _ in cur.targets]
            for child in children:
                if id(child) not in seen:
                    stack.append((child, False))

    for n in list(nodes):
        visit(n)
    return order


# ---------------------------------------------------------------------------------------------- log lines
def runtime_of(svc: AppService | None) -> str:
    """The caller's client runtime, which decides how its errors read (envoy, node, else go/rust)."""
    if svc is None:
        return "go"
    words = " ".join([*svc.command, svc.image])
    if "envoy" in words:
        return "envoy"
    if "dotnet" in words or any(k.startswith(("ASPNETCORE_", "DOTNET_")) for k in svc.env):
        return "dotnet"
    if re.search(r"(^|[\s/])(node|npm)(\s|$)", words):
        return "node"
    return "go"


_ENVOY = {
    "refused": (
        "503 UF",
        "upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_Connection_refused}",
        152,
        0,
    ),
    "timeout": (
        "503 UF",
        "upstream_reset_before_response_started{connection_timeout}",
        91,
        int(TIMEOUT_SECONDS * 1000),
    ),
    "deadline": ("504 UT", "response_timeout", 24, int(TIMEOUT_SECONDS * 1000)),
    "dns": ("503 UH", "no_healthy_upstream", 19, 0),
    "dns-timeout": ("503 UH", "no_healthy_upstream", 19, 0),
    "address": ("503 UH", "no_healthy_upstream", 19, 0),
}


class _Formatter:
    """Error lines in the client's words: Go gRPC, Rust/HTTP (reqwest), Node (grpc-js, fetch), Envoy
    access logs and raw TCP clients."""

    def __init__(self, style: str, protocol: str, callee: str, address: str, path: str) -> None:
        self.style = style
        self.protocol = protocol
        self.callee = callee
        self.address = address
        _scheme, self.host, _port, url = _parse_address(address or callee, "http")
        self.path = path
        self.url = url + path

    def line(self, kind: str, detail: str, where: str = "") -> str:
        if kind == "auth":
            if self.style == "dotnet":  # StackExchange.Redis
                return (
                    "StackExchange.Redis.RedisConnectionException: It was not possible to connect to the redis server(s)."
                    " There was an authentication failure; check that passwords (or client certificates) are configured"
                    f" correctly: (RedisServerException) {detail} ({self.address})"
                )
            return f"{self.callee}: {detail}"
        if self.style == "envoy":
            code, details, size, ms = _ENVOY.get(kind, _ENVOY["refused"])
            return f'"GET {self.path} HTTP/1.1" {code} {details} - "-" 0 {size} {ms} - "-" "python-requests/2.32.3" "{self.address}"'
        if self.style == "node":
            return self._node(kind, where)
        if self.protocol == "grpc":
            if kind in ("timeout", "dns-timeout", "deadline"):
                return (
                    f"failed to get {self.callee}: rpc error: code = DeadlineExceeded desc = context deadline exceeded"
                )
            return f'failed to get {self.callee}: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: {detail}"'
        if self.protocol == "http":
            why = {
                "refused": "error trying to connect: tcp connect error: Connection refused (os error 111)",
                "dns": "error trying to connect: dns error: failed to lookup address information: Name or service not known",
                "dns-timeout": "error trying to connect: dns error: failed to lookup address information: Temporary failure in name resolution",
                "timeout": "operation timed out",
                "deadline": "operation timed out",
                "address": "builder error: invalid URL",
            }.get(kind, detail)
            return f"failed to get {self.callee}: error sending request for url ({self.url}): {why}"
        if kind == "deadline":
            return f"{self.callee} ({self.address}): read tcp: i/o timeout (context deadline exceeded)"
        if kind == "timeout":
            return f"failed to connect to {self.callee} ({self.address}): {detail} (context deadline exceeded)"
        return f"failed to connect to {self.callee} ({self.address}): {detail}"

    def _node(self, kind: str, where: str) -> str:
        if self.protocol == "grpc":
            return {
                "refused": f"Error: 14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED {where}",
                "timeout": f"Error: 4 DEADLINE_EXCEEDED: Deadline exceeded after {TIMEOUT_SECONDS:.3f}s",
                "dns-timeout": f"Error: 4 DEADLINE_EXCEEDED: Deadline exceeded after {TIMEOUT_SECONDS:.3f}s",
                "deadline": f"Error: 4 DEADLINE_EXCEEDED: Deadline exceeded after {TIMEOUT_SECONDS:.3f}s",
            }.get(kind, f"Error: 14 UNAVAILABLE: Name resolution failed for target dns:{self.address}")
        cause = {
            "refused": f"connect ECONNREFUSED {where}",
            "timeout": f"connect ETIMEDOUT {where}",
            "deadline": "The operation was aborted due to timeout",
            "dns": f"getaddrinfo ENOTFOUND {self.host}",
            "dns-timeout": f"getaddrinfo EAI_AGAIN {self.host}",
        }.get(kind, f"Invalid URL: {self.address}")
        return f"TypeError: fetch failed ({self.url}) [cause]: Error: {cause}"

    def upstream(self, error: str | None) -> str:
        """What a caller logs when the callee answered with an error."""
        if self.style == "envoy":
            return f'"GET {self.path} HTTP/1.1" 500 - via_upstream - "-" 0 42 25 24 "-" "python-requests/2.32.3" "{self.address}"'
        if self.style == "node":
            if self.protocol == "grpc":
                return f"Error: 2 UNKNOWN: {error or 'internal error'}"
            return f"Error: Request failed with status code 500 ({self.url})"
        if self.protocol == "grpc":
            return f"failed to get {self.callee}: rpc error: code = Unknown desc = {error or 'internal error'}"
        if self.protocol == "http":
            return f"failed to get {self.callee}: HTTP status server error (500 Internal Server Error) for url ({self.url})"
        return f"{self.callee} returned an error: {error or 'internal error'}"


# ---------------------------------------------------------------------------------------------- traffic
@dataclass(eq=False)
class _Evaluation:
    """A graph's rates, the inputs that move with the time they were evaluated from, and the log lines
    its nodes write while they stand (worked out at their first reuse)."""

    graph: Graph
    inputs: tuple
    stats: dict[tuple[str, str], ServiceStats]
    lines: list[tuple[PodNode, list[tuple[tuple[str, str], str]], list[str]]] | None = None


class Traffic:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.services: dict[tuple[str, str], ServiceStats] = {}
        self.expected: dict[tuple[str, str], float] = {}  # healthy-state rps from the model's call graph
        self._graphs: dict[str, Graph] = {}
        self._dirty: set[str] = set()
        self._all_dirty = True
        self._rv = -1
        self._creds: dict[tuple[str, int], str | None] = {}
        self._last_log: dict[tuple[str, str], float] = {}
        self._success_cursor: dict[str, int] = {}
        self._expected_for: dict[str, Application] = {}
        # namespace -> the graph's last evaluation
        self._evaluated: dict[str, _Evaluation] = {}
        cluster.store.on_change(self._on_change)

    # ----------------------------------------------------------------- cache invalidation
    def _on_change(self, etype: str, rt: Any, obj: dict, old: dict | None) -> None:
        if rt.kind not in RELEVANT_KINDS:
            return
        ns = obj["metadata"].get("namespace")
        if not ns:
            self._all_dirty = True
        elif ns not in self._dirty:
            # A pod written with nothing a graph reads changed (e.g. a back-off's waiting reason) would
            # build the graph again as it is.
            if rt.kind == "Pod" and etype == "MODIFIED" and old is not None and _same_to_the_graph(old, obj):
                return
            self._dirty.add(ns)

    def graph(self, app: Application) -> Graph:
        g = self._graphs.get(app.namespace)
        if g is None or g.app is not app or self._stale(g):
            g = _Builder(self, app).build()
            self._graphs[app.namespace] = g
        return g

    def _stale(self, g: Graph) -> bool:
        """Whether an object the graph was built from has changed since."""
        if self._all_dirty:
            return True
        if ANY_NAMESPACE in g.deps:
            return bool(self._dirty)
        return bool(g.deps & self._dirty)

    # ----------------------------------------------------------------- credentials
    def snapshot_credential(self, builder: _Builder, node: PodNode) -> None:
        """A server reads its credential when its container starts: remember it per instance."""
        key = (node.uid, node.restart)
        if key in self._creds or node.service is None or not node.service.credentials:
            return
        cred = node.service.credentials
        secret = builder.find("Secret", node.namespace, cred.get("secret", ""))
        self._creds[key] = secret_value(secret, cred.get("key", ""))

    def credential(self, node: PodNode) -> str | None:
        return self._creds.get((node.uid, node.restart))

    # ----------------------------------------------------------------- update
    def update(self) -> None:
        rv = self.cluster.store.resource_version
        if rv != self._rv:
            graphs = [self.graph(app) for app in self.cluster.applications.values()]
            self._dirty.clear()
            self._all_dirty = False
            self._rv = rv
            self._forget_gone(graphs)
        else:
            graphs = [
                self._graphs[a.namespace] for a in self.cluster.applications.values() if a.namespace in self._graphs
            ]
        self._graphs = {g.app.namespace: g for g in graphs}
        services: dict[tuple[str, str], ServiceStats] = {}
        for g in graphs:
            ns = g.app.namespace
            if self._expected_for.get(ns) is not g.app:
                self._expected_for[ns] = g.app
                self.expected.update(expected_rates(g.app))
            throttles = self._throttles(g)
            inputs = (g.app.requests_per_second, throttles)
            last = self._evaluated.get(ns)
            if last is not None and last.graph is g and last.inputs == inputs:
                # Same graph, same load, same throttling: the rates are those of the last update; only
                # the logs move with the clock.
                stats = last.stats
                self._logs(last)
            else:
                stats = self._evaluate(g, throttles)
                self._evaluated[ns] = _Evaluation(g, inputs, stats)
            services.update(stats)
        for ns in [n for n in self._evaluated if n not in self._graphs]:
            del self._evaluated[ns]
        self.services = services

    def _throttles(self, g: Graph) -> tuple[float, ...]:
        """The throttle factor of each pod of the graph a CPU limit can throttle, in graph order (the one
        input of an evaluation that moves with the time: a container's CPU demand)."""
        out = []
        for item in g.order:
            # (a pod node without a container name matches no running container: no throttle)
            if isinstance(item, PodNode) and item.cpu_limited and item.ready and item.own_latency > 0:
                factor = 1.0
                if item.container is not None:
                    with contextlib.suppress(KeyError, TypeError, ValueError):  # a half-started pod: no usage yet
                        factor = max(1.0, float(throttle_factor(self.cluster, item.pod, item.container)))
                out.append(factor)
        return tuple(out)

    def _logs(self, evaluation: _Evaluation) -> None:
        """The log lines of an update whose rates are unchanged: those `_aggregate` writes (`_log` of each
        node with a rate). Which lines a node writes and their text follow from the rates alone, so
        they are worked out once per evaluation; only whether each is due moves with the clock."""
        if evaluation.lines is None:
            evaluation.lines = [
                self._log_plan(n)
                for n in evaluation.graph.nodes
                if n.service is not None and n.rate > 0 and n.ready and n.container is not None
            ]
        now = self.cluster.now()
        for n, lines, requests in evaluation.lines:
            self._write_logs(n, lines, requests, now)

    def _forget_gone(self, graphs: list[Graph]) -> None:
        live = {n.uid for g in graphs for n in g.nodes}
        for key in [k for k in self._creds if k[0] not in live]:
            del self._creds[key]
        for lkey in [k for k in self._last_log if k[0] not in live]:
            del self._last_log[lkey]
        for uid in [u for u in self._success_cursor if u not in live]:
            del self._success_cursor[uid]

    def _evaluate(self, g: Graph, throttles: tuple[float, ...]) -> dict[tuple[str, str], ServiceStats]:
        _errors_and_latency(g, throttles)
        for item in g.order:
            if isinstance(item, Group):
                item.success_inflow = 0.0
            else:
                item.rate = item.rejected = 0.0
        sources = {id(n): g.app.requests_per_second / len(g.sources) for n in g.sources} if g.sources else {}
        _propagate(g, sources)
        deliveries = self._deliver(g)
        return self._aggregate(g, deliveries)

    def _deliver(self, g: Graph) -> dict[str, tuple[float, float, str | None]]:
        """Send brokered messages to consumer groups; returns broker -> (deliveries, failed, error)."""
        app = g.app
        consumers: dict[str, list[AppService]] = {}
        for s in app.services:
            for broker in s.consumes:
                consumers.setdefault(broker, []).append(s)
        if not consumers:
            return {}
        produced: dict[str, float] = {}
        for item in g.order:
            if isinstance(item, Group) and item.success_inflow > 0:
                for target, share in item.targets:
                    if target.service is not None and target.service.name in consumers:
                        name = target.service.name
                        produced[name] = produced.get(name, 0.0) + item.success_inflow * share
        sources: dict[int, float] = {}
        out: dict[str, tuple[float, float, str | None]] = {}
        for broker, groups in consumers.items():
            msgs = produced.get(broker, 0.0)
            sent = failed = 0.0
            error = None
            for consumer in groups:
                ready = [n for n in g.nodes if n.service is consumer and n.ready]
                sent += msgs
                if not ready:
                    failed += msgs
                    error = f"consumer group {consumer.name}: no active members; {msgs:.1f} messages/s undelivered"
                    continue
                for n in ready:
                    sources[id(n)] = sources.get(id(n), 0.0) + msgs / len(ready)
            out[broker] = (sent, failed, error)
        if sources:
            _propagate(g, sources)
        return out

    def _aggregate(
        self, g: Graph, deliveries: dict[str, tuple[float, float, str | None]]
    ) -> dict[tuple[str, str], ServiceStats]:
        ns = g.app.namespace
        stats: dict[tuple[str, str], ServiceStats] = {(ns, s.name): ServiceStats() for s in g.app.services}
        lat_w: dict[str, tuple[float, float]] = {}
        worst: dict[str, tuple[float, str]] = {}
        now = self.cluster.now()
        for n in g.nodes:
            if n.service is not None and n.rejected > 0:
                st = stats[(ns, n.service.name)]
                st.rps += n.rejected
                st.error_rps += n.rejected
                worst.setdefault(
                    n.service.name, (0.0, "client authentication failed: WRONGPASS invalid username-password pair")
                )
            if n.service is None or n.rate <= 0:
                continue
            st = stats[(ns, n.service.name)]
            if n.overload > 0:
                weight = n.rate * n.overload
                if weight > worst.get(n.service.name, (0.0, ""))[0]:
                    worst[n.service.name] = (
                        weight,
                        "CPU throttled: demand above the container's CPU limit, requests queue past their deadline",
                    )
            is_generator = n.service.name == g.app.generator
            if not is_generator:
                st.rps += n.rate
                st.error_rps += n.rate * n.err
                b, t = lat_w.get(n.service.name, (0.0, 0.0))
                lat_w[n.service.name] = (b + n.rate * n.lat, t + n.rate * n.tout)
            for e in n.edges:
                calls = n.rate * e.call.per_request
                cs = st.by_callee.setdefault(e.call.service, CalleeStats())
                cs.rps += calls
                cs.error_rps += calls * e.group.err
                line = self._edge_error(e.group)
                if line and e.group.err > 0:
                    cs.error = line
                    weight = calls * e.group.err
                    if weight > worst.get(n.service.name, (0.0, ""))[0]:
                        worst[n.service.name] = (weight, line)
            self._log(n, now)
        for name, (sent, failed, error) in deliveries.items():
            st = stats[(ns, name)]
            st.rps += sent
            st.error_rps += failed
            if error and failed > 0:
                worst[name] = (failed, error)
        for (_, name), st in stats.items():
            if st.rps > 0 and name in lat_w:
                b, t = lat_w[name]
                mean, tout = b / st.rps, t / st.rps
                st.p95_seconds = mean * P95_FACTOR + (TIMEOUT_SECONDS if tout >= 0.05 else 0.0)
            if name in worst:
                st.last_error = worst[name][1]
        return stats

    @staticmethod
    def _edge_error(group: Group) -> str | None:
        if group.failures:
            return max(group.failures, key=lambda f: f.share).line
        if group.err > 0:
            fmt_errors = [t.service.name for t, _ in group.targets if t.err > 0 and t.service is not None]
            return f"failed to get {group.callee}: upstream {', '.join(sorted(set(fmt_errors))) or group.callee} returned errors"
        return None

    # ----------------------------------------------------------------- logs
    def _log(self, n: PodNode, now: float) -> None:
        if not n.ready or n.container is None or n.service is None:
            return
        self._write_logs(*self._log_plan(n), now)

    def _log_plan(self, n: PodNode) -> tuple[PodNode, list[tuple[tuple[str, str], str]], list[str]]:
        """What a ready node with a container and a service logs at its rates: its error lines (by their
        `_last_log` key) and the request lines its successes cycle through."""
        assert n.service is not None
        lines: list[tuple[tuple[str, str], str]] = []
        for e in n.edges:
            g = e.group
            for f in g.failures:
                lines.append(((n.uid, f"{f.kind}:{g.callee}"), f.line))
            if g.err > g.fail_share + 1e-9:
                fmt = _Formatter(
                    runtime_of(n.service), _protocol_of(n, g), g.callee, e.address, KNOWN_PATHS.get(g.callee, "/")
                )
                if any(t.overload > 0 for t, _ in g.targets):
                    lines.append(((n.uid, f"deadline:{g.callee}"), fmt.line("deadline", "context deadline exceeded")))
                cause = next((t for t, _ in g.targets if t.err > t.overload), None)
                if cause is not None:
                    lines.append(((n.uid, f"upstream:{g.callee}"), fmt.upstream(_first_failure_line(cause))))
        request_lines = n.service.logs.get("request") or []
        return n, lines, request_lines if n.err < 1.0 else []

    def _write_logs(
        self, n: PodNode, lines: list[tuple[tuple[str, str], str]], request_lines: list[str], now: float
    ) -> None:
        """The planned lines that are due: each error line every ERROR_LOG_INTERVAL, the next request
        line every SUCCESS_LOG_INTERVAL."""
        last, logs = self._last_log, self.cluster.logs
        for key, line in lines:
            if now - last.get(key, -1e18) >= ERROR_LOG_INTERVAL:
                last[key] = now
                logs.append(n.uid, n.container or "", n.restart, now, line)
        if request_lines:
            key = (n.uid, "success")
            if now - last.get(key, -1e18) >= SUCCESS_LOG_INTERVAL:
                last[key] = now
                i = self._success_cursor.get(n.uid, 0)
                self._success_cursor[n.uid] = i + 1
                logs.append(n.uid, n.container or "", n.restart, now, request_lines[i % len(request_lines)])

    # ----------------------------------------------------------------- queries
    def stats(self, namespace: str, service: str) -> ServiceStats:
        return self.services.get((namespace, service)) or ServiceStats()


def _protocol_of(n: PodNode, g: Group) -> str:
    for t, _ in g.targets:
        if t.service is not None:
            return t.service.protocol
    return "tcp"


def _first_failure_line(node: PodNode | None, depth: int = 0) -> str | None:
    """The root cause a callee reports when it fails because of its own callees."""
    if node is None or depth > 16:
        return None
    for e in node.edges:
        if e.group.failures:
            return e.group.failures[0].line
        for t, _ in e.group.targets:
            if t.overload > 0:
                return f"failed to get {e.group.callee}: context deadline exceeded"
            if t.err > 0:
                return _first_failure_line(t, depth + 1)
    return None


def _errors_and_latency(g: Graph, throttles: tuple[float, ...]) -> None:
    """Error fraction, timeout fraction and mean latency of every pod and group, callees first;
    `throttles`: see Traffic._throttles."""
    factors = iter(throttles)
    for item in g.order:
        if isinstance(item, Group):
            reach = sum(s for _, s in item.targets)
            item.err = min(1.0, item.fail_share + sum(s * t.err for t, s in item.targets))
            item.tout = min(1.0, item.timeout_share + sum(s * t.tout for t, s in item.targets))
            item.lat = sum(s * t.lat for t, s in item.targets) / reach if reach > 0 else 0.0
            continue
        own = item.own_latency
        factor = next(factors) if item.cpu_limited and item.ready and own > 0 else 1.0
        # A CPU limit below the process's demand saturates it: it serves 1/factor of the load, each
        # request `factor` times slower, and the rest queue until the client's deadline.
        item.overload = 1.0 - 1.0 / factor
        ok = tok = 1.0 - item.overload
        lat = own * factor
        for e in item.edges:
            pr = e.call.per_request
            ok *= 1.0 - min(1.0, pr * e.group.err)
            tok *= 1.0 - min(1.0, pr * e.group.tout)
            lat += pr * e.group.lat
        item.err, item.tout, item.lat = 1.0 - ok, 1.0 - tok, lat


def _propagate(g: Graph, sources: dict[int, float]) -> None:
    """Push request rates from the sources down the call graph (callers before callees)."""
    for item in g.order:
        item.inflow = 0.0
    for item in reversed(g.order):
        if isinstance(item, PodNode):
            add = sources.get(id(item), 0.0) + item.inflow
            if add <= 0:
                continue
            item.rate += add
            for e in item.edges:
                calls = add * e.call.per_request
                e.group.inflow += calls
                e.group.success_inflow += calls * (1.0 - item.err)
        elif item.inflow > 0:
            for t, s in item.targets:
                t.inflow += item.inflow * s
            for t, s in item.rejected:
                t.rejected += item.inflow * s


def expected_rates(app: Application) -> dict[tuple[str, str], float]:
    """Requests per second each service receives in a healthy cluster, from the model alone.

    A service with a positive rate is part of the application's call graph (alerts on missing
    traffic apply to it); the load generator itself is never part of it."""
    rates: dict[str, float] = {s.name: 0.0 for s in app.services}
    by_name = {s.name: s for s in app.services}

    def push(name: str, rate: float, depth: int = 0) -> None:
        svc = by_name.get(name)
        if svc is None or depth > 32:
            return
        rates[name] += rate
        for c in svc.calls:
            push(c.service, rate * c.per_request, depth + 1)

    if app.entry and app.requests_per_second > 0:
        push(app.entry, app.requests_per_second)
    produced = dict(rates)
    for s in app.services:
        for broker in s.consumes:
            msgs = sum(
                produced.get(p.name, 0.0) * c.per_request for p in app.services for c in p.calls if c.service == broker
            )
            push(s.name, msgs)
    if app.generator in rates:
        rates[app.generator] = 0.0
    return {(app.namespace, k): v for k, v in rates.items()}
