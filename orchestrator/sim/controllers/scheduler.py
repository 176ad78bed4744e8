"""The default scheduler: binds pending pods to nodes, with the real filters, messages and preemption.

Each pass takes a snapshot of the nodes and the pods bound to them, then places pending pods in
priority order. A node is rejected by the first filter that fails, in the upstream plugin order, so
the FailedScheduling message counts the same reasons `kubectl describe pod` shows on a real cluster.
A pod that fits nowhere may preempt lower-priority pods; one that does not fit waits, and its event
is re-posted (bumping the count) at most once a minute while nothing relevant changes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..clock import rfc3339
from ..objects import quantity
from ..selectors import SelectorError, selector_from_spec
from .feed import ChangeFeed
from .quota import is_terminal, pod_amount
from .volumes import SELECTED_NODE, waits_for_consumer

if TYPE_CHECKING:
    from ..cluster import Cluster

SCHEDULER_NAME = "default-scheduler"
REPOST_SECONDS = 60.0  # a FailedScheduling event is re-posted (count bump) at most this often
UNSCHEDULABLE_FLUSH = 300.0  # with nothing changed, upstream retries unschedulable pods this often
# The scheduler scores pods without requests as if they asked for this much (upstream's defaults).
DEFAULT_SCORE_CPU = 0.1
DEFAULT_SCORE_MEMORY = 200 * 2**20

UNSCHEDULABLE = "node(s) were unschedulable"
NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
HOST_PORTS = "node(s) didn't have free ports for the requested pod ports"
VOLUME_AFFINITY = "node(s) had volume node affinity conflict"
SPREAD = "node(s) didn't match pod topology spread constraints"
EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules"
AFFINITY = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
RESOURCE_REASONS = {"Too many pods", "Insufficient cpu", "Insufficient memory"}
# Failures removing pods could cure (upstream's plain Unschedulable); the others are unresolvable.
RESOLVABLE = RESOURCE_REASONS | {HOST_PORTS, SPREAD, EXISTING_ANTI, ANTI_AFFINITY}


def _is_resource_reason(reason: str) -> bool:
    # Extended resources (nvidia.com/gpu) read "Insufficient <name>" like cpu and memory.
    return reason in RESOURCE_REASONS or reason.startswith("Insufficient ")


def _resolvable(reason: str) -> bool:
    return reason in RESOLVABLE or _is_resource_reason(reason)


def extended_resources(source: dict) -> dict[str, float]:
    """The extended resources (a domain-prefixed name such as nvidia.com/gpu) in a requests or capacity map."""
    return {k: quantity(v) for k, v in source.items() if "/" in k and not k.startswith("kubernetes.io/")}


def pod_extended(pod: dict) -> dict[str, float]:
    """Extended-resource requests of a pod (limits stand in for requests; they must be equal)."""
    spec = pod.get("spec") or {}
    out: dict[str, float] = {}
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        for k, v in extended_resources({**(res.get("limits") or {}), **(res.get("requests") or {})}).items():
            out[k] = out.get(k, 0.0) + v
    for c in spec.get("initContainers") or []:
        res = c.get("resources") or {}
        for k, v in extended_resources({**(res.get("limits") or {}), **(res.get("requests") or {})}).items():
            out[k] = max(out.get(k, 0.0), v)
    return out


NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


# ---------------------------------------------------------------------------------------- snapshot
@dataclass
class NodeInfo:
    node: dict
    name: str
    labels: dict[str, str]
    cpu: float
    memory: float
    max_pods: int
    pods: list[dict] = field(default_factory=list)
    used_cpu: float = 0.0
    used_memory: float = 0.0
    score_cpu: float = 0.0
    score_memory: float = 0.0
    ports: set[tuple[str, int]] = field(default_factory=set)
    extended: dict[str, float] = field(default_factory=dict)  # allocatable extended resources
    used_extended: dict[str, float] = field(default_factory=dict)
    # controller uid -> its pods here: the spread score reads a count, not every pod on the node
    by_controller: Counter[str] = field(default_factory=Counter)

    def add(
        self, pod: dict, cpu: float | None = None, mem: float | None = None, ext: dict[str, float] | None = None
    ) -> None:
        self.pods.append(pod)
        owner = controller_uid(pod)
        if owner:
            self.by_controller[owner] += 1
        cpu = pod_amount(pod, "requests", "cpu") if cpu is None else cpu
        mem = pod_amount(pod, "requests", "memory") if mem is None else mem
        ext = pod_extended(pod) if ext is None else ext
        self.used_cpu += cpu
        self.used_memory += mem
        for k, v in ext.items():
            self.used_extended[k] = self.used_extended.get(k, 0.0) + v
        self.score_cpu += cpu or DEFAULT_SCORE_CPU
        self.score_memory += mem or DEFAULT_SCORE_MEMORY
        self.ports |= host_ports(pod)

    def remove(self, uid: str) -> None:
        kept = [p for p in self.pods if p["metadata"]["uid"] != uid]
        self.pods, self.used_cpu, self.used_memory, self.score_cpu, self.score_memory = [], 0.0, 0.0, 0.0, 0.0
        self.ports, self.used_extended, self.by_controller = set(), {}, Counter()
        for p in kept:
            self.add(p)


@dataclass
class Snapshot:
    nodes: list[NodeInfo]
    nominated: dict[str, list[tuple[int, dict]]]  # node -> (priority, pod) reserved there
    signature: int
    priorities: dict[str, int]  # PriorityClass name -> value, for pods without spec.priority
    namespace_labels: dict[str, dict[str, str]]
    anti_pods: list[tuple[dict, NodeInfo]] = field(default_factory=list)  # bound pods with required anti-affinity

    def node(self, name: str) -> NodeInfo | None:
        return next((n for n in self.nodes if n.name == name), None)

    def bound(self) -> list[tuple[dict, NodeInfo]]:
        return [(p, n) for n in self.nodes for p in n.pods]


@dataclass
class Needs:
    """What the pod being scheduled asks of a node, computed once per attempt."""

    cpu: float
    memory: float
    ports: set[tuple[str, int]]
    priority: int
    extended: dict[str, float] = field(default_factory=dict)
    volume_node: str | None = None
    existing_anti: list[tuple[str, set[str]]] = field(default_factory=list)
    affinity: list[tuple[str, set[str] | None]] = field(default_factory=list)  # None: first of its group
    anti: list[tuple[str, set[str]]] = field(default_factory=list)
    # key, pods per domain, fewest in a domain, maxSkew, 1 if the pod matches its own selector
    spread: list[tuple[str, dict[str, int], int, int, int]] = field(default_factory=list)


@dataclass
class Attempt:
    key: tuple[str, int]
    message: str
    posted: float


# ---------------------------------------------------------------------------------------- helpers
def host_ports(pod: dict) -> set[tuple[str, int]]:
    out = set()
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.add((p.get("protocol", "TCP"), int(p["hostPort"])))
    return out


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for t in tolerations:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _requirement_ok(expr: dict, labels: dict[str, str]) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
    present, value = key in labels, labels.get(key)
    if op == "In":
        return present and value in values
    if op == "NotIn":
        return not present or value not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and values:
        try:
            actual, bound = int(value or ""), int(values[0])
        except ValueError:
            return False
        return actual > bound if op == "Gt" else actual < bound
    return False


def _node_term_ok(term: dict, node: dict) -> bool:
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False  # an empty term selects no node
    labels = node["metadata"].get("labels") or {}
    node_fields = {"metadata.name": node["metadata"]["name"]}
    return all(_requirement_ok(e, labels) for e in exprs) and all(_requirement_ok(f, node_fields) for f in fields)


def node_affinity_ok(pod: dict, node: dict) -> bool:
    """nodeSelector and required node affinity, as the NodeAffinity filter checks them."""
    spec = pod.get("spec") or {}
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if required is None:
        return True
    return any(_node_term_ok(t, node) for t in required.get("nodeSelectorTerms") or [])


def _selects(selector: dict | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False  # a nil selector matches nothing in affinity terms
    try:
        return selector_from_spec(selector).matches(labels)
    except SelectorError:
        return False


def _term_selects(term: dict, owner_ns: str, pod: dict, snap: Snapshot) -> bool:
    """Whether an affinity term written in namespace owner_ns selects pod."""
    meta = pod["metadata"]
    ns = meta.get("namespace", "default")
    namespaces, ns_selector = term.get("namespaces") or [], term.get("namespaceSelector")
    if namespaces or ns_selector is not None:
        in_scope = ns in namespaces or (
            ns_selector is not None and _selects(ns_selector, snap.namespace_labels.get(ns, {}))
        )
        if not in_scope:
            return False
    elif ns != owner_ns:
        return False
    return _selects(term.get("labelSelector"), meta.get("labels") or {})


def _required_terms(pod: dict, kind: str) -> list[dict]:
    aff = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    return list(aff.get("requiredDuringSchedulingIgnoredDuringExecution") or [])


def controller_uid(pod: dict) -> str | None:
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def resolve_priority(cluster: Cluster, pod: dict) -> tuple[int, str | None]:
    """(priority, error): the PriorityClass value, or the admission error for an unknown class."""
    spec = pod.get("spec") or {}
    name = spec.get("priorityClassName")
    if name:
        pc = cluster.store.find(cluster.rt("PriorityClass"), "", name)
        if pc is None:
            return 0, f"no PriorityClass with name {name} was found"
        return int(spec.get("priority", pc.get("value", 0))), None
    if spec.get("priority") is not None:
        return int(spec["priority"]), None
    for pc in cluster.store.list(cluster.rt("PriorityClass")):
        if pc.get("globalDefault"):
            return int(pc.get("value", 0)), None
    return 0, None


def volume_claim_problem(cluster: Cluster, pod: dict) -> str | None:
    """Why the pod's PersistentVolumeClaims keep it from any node (the VolumeBinding plugin's text)."""
    ns = pod["metadata"].get("namespace", "default")
    rt = cluster.rt("PersistentVolumeClaim")
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim:
            continue
        pvc = cluster.store.find(rt, ns, claim)
        if pvc is None:
            return f'persistentvolumeclaim "{claim}" not found'
        if pvc["metadata"].get("deletionTimestamp"):
            return f'persistentvolumeclaim "{claim}" is being deleted'
        if (pvc.get("status") or {}).get("phase") == "Bound":
            continue
        if not waits_for_consumer(cluster, pvc):
            return "pod has unbound immediate PersistentVolumeClaims"
    return None


def _claims(cluster: Cluster, pod: dict) -> list[dict]:
    ns = pod["metadata"].get("namespace", "default")
    rt = cluster.rt("PersistentVolumeClaim")
    out = []
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        pvc = cluster.store.find(rt, ns, claim) if claim else None
        if pvc is not None:
            out.append(pvc)
    return out


def _set_condition(status: dict, cond: dict, now: float) -> None:
    """Upsert a pod condition, keeping lastTransitionTime when the status did not flip."""
    conds = status.setdefault("conditions", [])
    for i, old in enumerate(conds):
        if old.get("type") == cond["type"]:
            same = old.get("status") == cond["status"]
            when = old.get("lastTransitionTime") if same else rfc3339(now)
            conds[i] = {**cond, "lastProbeTime": None, "lastTransitionTime": when}
            return
    conds.append({**cond, "lastProbeTime": None, "lastTransitionTime": rfc3339(now)})


def _summary(counts: Counter[str]) -> str:
    return ", ".join(sorted(f"{n} {reason}" for reason, n in counts.items()))


def unschedulable_message(total: int, reasons: Counter[str], preemption: str | None = None) -> str:
    """'0/4 nodes are available: 1 node(s) ..., 3 ... . preemption: ...' as the scheduler words it."""
    if total == 0:
        return "no nodes available to schedule pods"
    msg = f"0/{total} nodes are available: {_summary(reasons)}."
    return f"{msg} {preemption}" if preemption else msg


def _not_helpful(total: int) -> str:
    return f"preemption: 0/{total} nodes are available: {total} {NOT_HELPFUL}."


# ---------------------------------------------------------------------------------------- scheduler
class Scheduler:
    def __init__(self) -> None:
        self._attempts: dict[str, Attempt] = {}  # pod uid -> last failed attempt
        # pod uid -> (cpu, memory, extended); pod resources are immutable
        self._requests: dict[str, tuple[float, float, dict[str, float]]] = {}
        self._feed = ChangeFeed(clocked=False)  # which pods wait does not depend on the time
        self._waiting: dict[str, tuple[str, str]] = {}  # pod uid -> (namespace, name), maybe stale

    def reconcile(self, cluster: Cluster) -> None:
        store, pod_rt = cluster.store, cluster.rt("Pod")
        pending = self._pending_pods(cluster)
        live = {p["metadata"]["uid"] for p in pending}
        for uid in [u for u in self._attempts if u not in live]:
            del self._attempts[uid]
        if len(self._requests) > 2 * store.count(pod_rt) + 100:
            present = {p["metadata"]["uid"] for p in store.list(pod_rt)}
            self._requests = {u: r for u, r in self._requests.items() if u in present}
        if not pending:
            return
        pods = store.list(pod_rt)
        snap = self._snapshot(cluster, pods)
        ranked = []
        for pod in pending:
            prio, err = resolve_priority(cluster, pod)
            ranked.append(
                (-prio, pod["metadata"].get("creationTimestamp", ""), pod["metadata"]["name"], prio, err, pod)
            )
        ranked.sort(key=lambda r: r[:3])
        for _, _, _, prio, err, pod in ranked:
            self._schedule(cluster, pod, prio, err, snap)

    def _pending_pods(self, cluster: Cluster) -> list[dict]:
        """Pods waiting for a node, in store order: kept from the writes since the last pass rather than
        found by walking every pod."""
        store, pod_rt = cluster.store, cluster.rt("Pod")
        changes = self._feed.take(cluster)
        if changes is None:
            self._waiting = {
                e.obj["metadata"]["uid"]: (e.obj["metadata"]["namespace"], e.obj["metadata"]["name"])
                for e in store.entries(pod_rt)
                if _wants_scheduling(e.obj)
            }
        else:
            for event in changes:
                if event.rtype.key != pod_rt.key:
                    continue
                meta = event.obj["metadata"]
                if event.type != "DELETED" and _wants_scheduling(event.obj):
                    self._waiting[meta["uid"]] = (meta["namespace"], meta["name"])
                else:
                    self._waiting.pop(meta["uid"], None)
        entries = []
        for uid, (ns, name) in self._waiting.items():
            entry = store.entry(pod_rt, ns, name)
            if entry is not None and entry.obj["metadata"]["uid"] == uid and _wants_scheduling(entry.obj):
                entries.append(entry)
        return [e.obj for e in sorted(entries, key=lambda e: e.seq)]

    # ------------------------------------------------------------------ snapshot
    def _snapshot(self, cluster: Cluster, pods: list[dict]) -> Snapshot:
        nodes = sorted(cluster.store.list(cluster.rt("Node")), key=lambda n: n["metadata"]["name"])
        infos = [_node_info(n) for n in nodes]
        by_name = {i.name: i for i in infos}
        nominated: dict[str, list[tuple[int, dict]]] = {}
        priorities = {
            pc["metadata"]["name"]: int(pc.get("value", 0)) for pc in cluster.store.list(cluster.rt("PriorityClass"))
        }
        bound_key = []
        for p in pods:
            if is_terminal(p):
                continue
            node = (p.get("spec") or {}).get("nodeName")
            if node:
                if node in by_name:
                    by_name[node].add(p, *self._pod_requests(p))
                bound_key.append((p["metadata"]["uid"], node))
                continue
            target = (p.get("status") or {}).get("nominatedNodeName")
            if target:
                nominated.setdefault(target, []).append((_priority_of(p, priorities), p))
                bound_key.append((p["metadata"]["uid"], "?" + target))
        claims = [
            (c["metadata"]["uid"], c["metadata"]["resourceVersion"])
            for c in cluster.store.list(cluster.rt("PersistentVolumeClaim"))
        ]
        ns_labels = {
            n["metadata"]["name"]: n["metadata"].get("labels") or {}
            for n in cluster.store.list(cluster.rt("Namespace"))
        }
        signature = hash(
            (
                tuple((n["metadata"]["name"], n["metadata"].get("resourceVersion")) for n in nodes),
                frozenset(bound_key),
                frozenset(claims),
                frozenset(priorities.items()),
            )
        )
        snap = Snapshot(infos, nominated, signature, priorities, ns_labels)
        snap.anti_pods = [(p, n) for p, n in snap.bound() if _required_terms(p, "podAntiAffinity")]
        return snap

    def _pod_requests(self, pod: dict) -> tuple[float, float, dict[str, float]]:
        uid = pod["metadata"]["uid"]
        found = self._requests.get(uid)
        if found is None:
            found = self._requests[uid] = (
                pod_amount(pod, "requests", "cpu"),
                pod_amount(pod, "requests", "memory"),
                pod_extended(pod),
            )
        return found

    # ------------------------------------------------------------------ one pod
    def _schedule(self, cluster: Cluster, pod: dict, prio: int, prio_error: str | None, snap: Snapshot) -> None:
        uid = pod["metadata"]["uid"]
        key = (pod["metadata"]["resourceVersion"], snap.signature)
        attempt = self._attempts.get(uid)
        if attempt is not None and attempt.key == key:
            self._maybe_repost(cluster, pod, attempt, UNSCHEDULABLE_FLUSH)
            return
        total = len(snap.nodes)
        if prio_error:
            self._fail(cluster, pod, prio_error, snap, None)
            return
        problem = volume_claim_problem(cluster, pod)
        if problem:
            self._fail(cluster, pod, f"0/{total} nodes are available: {problem}. {_not_helpful(total)}", snap, None)
            return
        needs = self._needs(cluster, pod, prio, snap)
        reasons = {info.name: self._filter(pod, needs, info, snap) for info in snap.nodes}
        feasible = [info for info in snap.nodes if not reasons[info.name]]
        if feasible:
            self._bind(cluster, pod, prio, self._pick(pod, needs, feasible), snap)
            return
        counts: Counter[str] = Counter(r for rs in reasons.values() for r in rs)
        node, preemption = self._preempt(cluster, pod, needs, reasons, snap)
        if node:
            snap.nominated.setdefault(node, []).append((prio, pod))  # later pods this pass keep off
        self._fail(cluster, pod, unschedulable_message(total, counts, preemption), snap, node)

    def _needs(self, cluster: Cluster, pod: dict, prio: int, snap: Snapshot) -> Needs:
        needs = Needs(
            cpu=pod_amount(pod, "requests", "cpu"),
            memory=pod_amount(pod, "requests", "memory"),
            ports=host_ports(pod),
            priority=prio,
            extended=pod_extended(pod),
        )
        for pvc in _claims(cluster, pod):
            selected = (pvc["metadata"].get("annotations") or {}).get("volume.kubernetes.io/selected-node")
            if selected and (pvc.get("status") or {}).get("phase") == "Bound":
                needs.volume_node = selected
        self._affinity_needs(pod, needs, snap)
        self._spread_needs(pod, needs, snap)
        return needs

    def _affinity_needs(self, pod: dict, needs: Needs, snap: Snapshot) -> None:
        """Topology domains each required (anti-)affinity term allows or forbids, over bound pods."""
        ns = pod["metadata"].get("namespace", "default")
        for other, node in snap.anti_pods:
            other_ns = other["metadata"].get("namespace", "default")
            for term in _required_terms(other, "podAntiAffinity"):
                key = term.get("topologyKey", "")
                if key in node.labels and _term_selects(term, other_ns, pod, snap):
                    needs.existing_anti.append((key, {node.labels[key]}))
        own_affinity, own_anti = _required_terms(pod, "podAffinity"), _required_terms(pod, "podAntiAffinity")
        bound = snap.bound() if own_affinity or own_anti else []
        for term in own_affinity:
            key = term.get("topologyKey", "")
            domains = {n.labels[key] for o, n in bound if key in n.labels and _term_selects(term, ns, o, snap)}
            matched_anywhere = any(_term_selects(term, ns, o, snap) for o, _ in bound)
            if not matched_anywhere and _term_selects(term, ns, pod, snap):
                needs.affinity.append((key, None))  # the first pod of a co-located group may go anywhere
            else:
                needs.affinity.append((key, domains))
        for term in own_anti:
            key = term.get("topologyKey", "")
            domains = {n.labels[key] for o, n in bound if key in n.labels and _term_selects(term, ns, o, snap)}
            needs.anti.append((key, domains))

    def _spread_needs(self, pod: dict, needs: Needs, snap: Snapshot) -> None:
        ns = pod["metadata"].get("namespace", "default")
        labels = pod["metadata"].get("labels") or {}
        for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []:
            if c.get("whenUnsatisfiable", "DoNotSchedule") != "DoNotSchedule":
                continue
            key, selector = c.get("topologyKey", ""), c.get("labelSelector")
            eligible = [n for n in snap.nodes if key in n.labels and node_affinity_ok(pod, n.node)]
            counts = {n.labels[key]: 0 for n in eligible}
            for n in eligible:
                counts[n.labels[key]] += sum(
                    1
                    for p in n.pods
                    if p["metadata"].get("namespace", "default") == ns
                    and _selects(selector, p["metadata"].get("labels") or {})
                )
            self_match = 1 if _selects(selector, labels) else 0
            lowest = min(counts.values(), default=0)
            needs.spread.append((key, counts, lowest, int(c.get("maxSkew", 1)), self_match))

    def _filter(self, pod: dict, needs: Needs, info: NodeInfo, snap: Snapshot) -> list[str]:
        """The reasons this node is rejected: the first failing plugin's, in upstream order."""
        spec = pod.get("spec") or {}
        tolerations = spec.get("tolerations") or []
        node_spec = info.node.get("spec") or {}
        unschedulable_taint = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        if node_spec.get("unschedulable") and not tolerates(tolerations, unschedulable_taint):
            return [UNSCHEDULABLE]
        for taint in node_spec.get("taints") or []:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
                return [f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"]
        if not node_affinity_ok(pod, info.node):
            return [NODE_AFFINITY]
        if needs.ports & info.ports:
            return [HOST_PORTS]
        fit = self._resource_reasons(needs, info, snap, pod["metadata"]["uid"])
        if fit:
            return fit
        if needs.volume_node and needs.volume_node != info.name:
            return [VOLUME_AFFINITY]
        for key, counts, lowest, skew, self_match in needs.spread:
            if key not in info.labels or counts.get(info.labels[key], 0) + self_match - lowest > skew:
                return [SPREAD]
        return self._inter_pod_reasons(needs, info)

    def _resource_reasons(self, needs: Needs, info: NodeInfo, snap: Snapshot, uid: str) -> list[str]:
        # Pods nominated to this node with at least our priority keep their reserved room.
        reserved = [
            p for prio, p in snap.nominated.get(info.name, []) if prio >= needs.priority and p["metadata"]["uid"] != uid
        ]
        cpu = info.used_cpu + sum(pod_amount(p, "requests", "cpu") for p in reserved)
        mem = info.used_memory + sum(pod_amount(p, "requests", "memory") for p in reserved)
        ext = dict(info.used_extended)
        for p in reserved:
            for k, v in pod_extended(p).items():
                ext[k] = ext.get(k, 0.0) + v
        return _fit_reasons(needs, info, len(info.pods) + len(reserved), cpu, mem, ext)

    def _inter_pod_reasons(self, needs: Needs, info: NodeInfo) -> list[str]:
        for key, domains in needs.existing_anti:
            if info.labels.get(key) in domains:
                return [EXISTING_ANTI]
        for key, allowed in needs.affinity:
            if key not in info.labels or (allowed is not None and info.labels[key] not in allowed):
                return [AFFINITY]
        for key, domains in needs.anti:
            if key in info.labels and info.labels[key] in domains:
                return [ANTI_AFFINITY]
        return []

    def _pick(self, pod: dict, needs: Needs, feasible: list[NodeInfo]) -> NodeInfo:
        """Nominated node first; else fewest siblings, then least requested, then name (deterministic)."""
        nominated = (pod.get("status") or {}).get("nominatedNodeName")
        for info in feasible:
            if info.name == nominated:
                return info
        owner = controller_uid(pod)

        def score(info: NodeInfo) -> tuple[int, float, str]:
            siblings = info.by_controller[owner] if owner else 0
            cpu_free = 1 - (info.score_cpu + (needs.cpu or DEFAULT_SCORE_CPU)) / max(info.cpu, 1e-9)
            mem_free = 1 - (info.score_memory + (needs.memory or DEFAULT_SCORE_MEMORY)) / max(info.memory, 1.0)
            return (siblings, -round((cpu_free + mem_free) / 2, 6), info.name)

        return min(feasible, key=score)

    # ------------------------------------------------------------------ preemption
    def _preempt(
        self, cluster: Cluster, pod: dict, needs: Needs, reasons: dict[str, list[str]], snap: Snapshot
    ) -> tuple[str | None, str | None]:
        """Evict lower-priority pods from the best node if that makes room: (node, preemption message)."""
        total = len(snap.nodes)
        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return None, "preemption: not eligible due to preemptionPolicy=Never."
        options = []
        outcome: Counter[str] = Counter()
        for info in snap.nodes:
            if not reasons[info.name] or not all(_resolvable(r) for r in reasons[info.name]):
                outcome[NOT_HELPFUL] += 1
                continue
            # Only resource shortages are solved by evicting here; other curable reasons find no victims.
            resources_only = all(_is_resource_reason(r) for r in reasons[info.name])
            victims = self._victims(needs, info, snap) if resources_only else None
            if victims is None:
                outcome[NO_VICTIMS] += 1
                continue
            prios = [_priority_of(v, snap.priorities) for v in victims]
            options.append((max(prios), sum(prios), len(victims), info.name, info, victims))
        if not options:
            return None, f"preemption: 0/{total} nodes are available: {_summary(outcome)}."
        *_, info, victims = min(options, key=lambda o: o[:4])
        self._evict(cluster, pod, info, victims, snap)
        return info.name, None

    def _victims(self, needs: Needs, info: NodeInfo, snap: Snapshot) -> list[dict] | None:
        """Fewest lower-priority pods to remove so the pod fits, reprieving the most important first."""
        lower = [p for p in info.pods if _priority_of(p, snap.priorities) < needs.priority]
        if not lower:
            return None
        keep_cpu = info.used_cpu - sum(pod_amount(p, "requests", "cpu") for p in lower)
        keep_mem = info.used_memory - sum(pod_amount(p, "requests", "memory") for p in lower)
        keep_ext = dict(info.used_extended)
        for p in lower:
            for k, v in pod_extended(p).items():
                keep_ext[k] = keep_ext.get(k, 0.0) - v
        count = len(info.pods) - len(lower)
        if _fit_reasons(needs, info, count, keep_cpu, keep_mem, keep_ext):
            return None
        lower.sort(key=lambda p: (-_priority_of(p, snap.priorities), p["metadata"].get("creationTimestamp", "")))
        victims = []
        for p in lower:
            cpu, mem, ext = pod_amount(p, "requests", "cpu"), pod_amount(p, "requests", "memory"), pod_extended(p)
            with_p = {k: keep_ext.get(k, 0.0) + ext.get(k, 0.0) for k in keep_ext.keys() | ext.keys()}
            if _fit_reasons(needs, info, count + 1, keep_cpu + cpu, keep_mem + mem, with_p):
                victims.append(p)
            else:
                keep_cpu, keep_mem, keep_ext, count = keep_cpu + cpu, keep_mem + mem, with_p, count + 1
        return victims

    def _evict(self, cluster: Cluster, pod: dict, info: NodeInfo, victims: list[dict], snap: Snapshot) -> None:
        rt = cluster.rt("Pod")
        for v in victims:
            meta = v["metadata"]
            message = f"Preempted by pod {pod['metadata']['uid']} on node {info.name}"
            cluster.record_event(v, "Normal", "Preempted", message, SCHEDULER_NAME)
            if cluster.store.find(rt, meta["namespace"], meta["name"]) is not None:
                cluster.store.delete(rt, meta["namespace"], meta["name"])
            info.remove(meta["uid"])
        gone = {v["metadata"]["uid"] for v in victims}
        snap.anti_pods = [(p, n) for p, n in snap.anti_pods if p["metadata"]["uid"] not in gone]

    # ------------------------------------------------------------------ outcomes
    def _bind(self, cluster: Cluster, pod: dict, prio: int, info: NodeInfo, snap: Snapshot) -> None:
        """The Binding: set spec.nodeName and PodScheduled=True, provision claims on that node."""
        self._provision_claims(cluster, pod, info.name)
        now = cluster.now()
        meta = pod["metadata"]

        def bind(p: dict) -> None:
            p["spec"]["nodeName"] = info.name
            _record_priority(p, prio)
            status = p.setdefault("status", {})
            status.setdefault("phase", "Pending")
            status.pop("nominatedNodeName", None)
            _set_condition(status, {"type": "PodScheduled", "status": "True"}, now)

        bound = cluster.store.mutate(
            cluster.rt("Pod"), meta["namespace"], meta["name"], bind, fresh=True, copy=_scheduling_copy
        )
        info.add(bound)
        if _required_terms(bound, "podAntiAffinity"):
            snap.anti_pods.append((bound, info))
        for entries in snap.nominated.values():
            entries[:] = [e for e in entries if e[1]["metadata"]["uid"] != meta["uid"]]
        self._attempts.pop(meta["uid"], None)
        message = f"Successfully assigned {meta['namespace']}/{meta['name']} to {info.name}"
        cluster.record_event(bound, "Normal", "Scheduled", message, SCHEDULER_NAME)

    def _provision_claims(self, cluster: Cluster, pod: dict, node: str) -> None:
        """WaitForFirstConsumer: name the chosen node on the pod's unbound claims; the provisioner binds them."""
        rt = cluster.rt("PersistentVolumeClaim")
        for pvc in _claims(cluster, pod):
            ann = pvc["metadata"].get("annotations") or {}
            if (pvc.get("status") or {}).get("phase") == "Bound" or ann.get(SELECTED_NODE) == node:
                continue

            def select(c: dict) -> None:
                c["metadata"].setdefault("annotations", {})[SELECTED_NODE] = node

            cluster.store.mutate(rt, pvc["metadata"]["namespace"], pvc["metadata"]["name"], select)

    def _fail(self, cluster: Cluster, pod: dict, message: str, snap: Snapshot, nominated: str | None) -> None:
        """PodScheduled=False with the message, plus a FailedScheduling event (not more than once a minute)."""
        now = cluster.now()
        meta = pod["metadata"]
        prio, err = resolve_priority(cluster, pod)
        cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}

        def mark(p: dict) -> None:
            if not err:
                _record_priority(p, prio)
            status = p.setdefault("status", {})
            status.setdefault("phase", "Pending")
            if nominated:
                status["nominatedNodeName"] = nominated
            _set_condition(status, cond, now)

        current = cluster.store.mutate(
            cluster.rt("Pod"), meta["namespace"], meta["name"], mark, fresh=True, copy=_scheduling_copy
        )
        previous = self._attempts.get(meta["uid"])
        key = (current["metadata"]["resourceVersion"], snap.signature)
        if previous is None or previous.message != message:
            cluster.record_event(current, "Warning", "FailedScheduling", message, SCHEDULER_NAME)
            self._attempts[meta["uid"]] = Attempt(key, message, now)
        else:
            previous.key = key
            self._maybe_repost(cluster, current, previous, REPOST_SECONDS)

    def _maybe_repost(self, cluster: Cluster, pod: dict, attempt: Attempt, interval: float) -> None:
        """Bump the event's count: a minute after a retry the cluster gave cause for, else at the flush."""
        now = cluster.now()
        if now - attempt.posted >= interval:
            cluster.record_event(pod, "Warning", "FailedScheduling", attempt.message, SCHEDULER_NAME)
            attempt.posted = now


# ---------------------------------------------------------------------------------------- module helpers
def _wants_scheduling(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and not pod["metadata"].get("deletionTimestamp")
        and not is_terminal(pod)
        and spec.get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME
    )


def _node_info(node: dict) -> NodeInfo:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    return NodeInfo(
        node=node,
        name=node["metadata"]["name"],
        labels=node["metadata"].get("labels") or {},
        cpu=quantity(alloc.get("cpu", "0")),
        memory=quantity(alloc.get("memory", "0")),
        max_pods=int(quantity(alloc.get("pods", "110"))),
        extended=extended_resources(alloc),
    )


def _fit_reasons(
    needs: Needs, info: NodeInfo, pods: int, cpu: float, memory: float, extended: dict[str, float] | None = None
) -> list[str]:
    reasons = []
    if pods + 1 > info.max_pods:
        reasons.append("Too many pods")
    if needs.cpu > 0 and cpu + needs.cpu > info.cpu + 1e-9:
        reasons.append("Insufficient cpu")
    if needs.memory > 0 and memory + needs.memory > info.memory + 0.5:
        reasons.append("Insufficient memory")
    used = info.used_extended if extended is None else extended
    for name, amount in sorted(needs.extended.items()):
        if amount > 0 and used.get(name, 0.0) + amount > info.extended.get(name, 0.0) + 1e-9:
            reasons.append(f"Insufficient {name}")
    return reasons


def _priority_of(pod: dict, priorities: dict[str, int]) -> int:
    spec = pod.get("spec") or {}
    if spec.get("priority") is not None:
        return int(spec["priority"])
    return priorities.get(spec.get("priorityClassName") or "", 0)


def _scheduling_copy(pod: dict) -> dict:
    """A stored pod for the scheduler's writes to change: what they change in place (metadata, spec,
    status and its list of conditions) is copied, the rest shared with the stored version."""
    new = dict(pod)
    new["metadata"] = dict(pod["metadata"])
    if isinstance(pod.get("spec"), dict):
        new["spec"] = dict(pod["spec"])
    status = pod.get("status")
    if isinstance(status, dict):
        status = new["status"] = dict(status)
        if isinstance(status.get("conditions"), list):
            status["conditions"] = list(status["conditions"])
    return new


def _record_priority(pod: dict, prio: int) -> None:
    # Admission normally resolves spec.priority; fill it in if nobody did.
    spec = pod.setdefault("spec", {})
    if spec.get("priority") is None and (spec.get("priorityClassName") or prio):
        spec["priority"] = prio
