"""Memory evictions: the workload whose pods the kubelet evicts for using the most memory above their
requests, which starves its neighbours on the same node.

Under memory pressure the kubelet evicts, among the pods using more memory than they request, the one with
the lowest priority and the largest excess first, and says so in the pod's status: "Container C was using
U, request is R, has larger consumption of memory". The workload with the largest total excess over its
evicted pods is the likely cause; the node's pressure and the other evicted workloads are what it explains.

The fix bounds it: its container requests the memory it was seen using (and may use a quarter more), so the
scheduler places each pod only where that much is free; a pin to one node that cannot hold every replica
is dropped. It is derived only when the nodes have room for every replica. Then the evicted pods, which
nothing replaces or counts and which alert as not ready until deleted, are deleted.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

from ..checks.kube import quantity
from .common import condition, name_of, ns_of, owner_ref, quote
from .finding import Finding, ref
from .registry import analyzer
from .snapshot import Scope, Snapshot

USING = re.compile(r"Container (\S+) was using (\d+)(Ki|Mi|Gi)?, request is (\d+)(Ki|Mi|Gi)?")
UNITS = {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
MIN_EVICTIONS = 2  # one eviction is the kubelet doing its job; repeated ones are a workload that returns
HEADROOM = 1.25  # the limit over the use seen: a program that used this much may briefly use a little more
PIN = "kubernetes.io/hostname"  # a nodeSelector on this label puts every replica on one node
TRANSIENT_TAINTS = {"node.kubernetes.io/memory-pressure"}  # what the culprit causes; it clears once bounded


def _excess(message: str) -> tuple[str, int, int] | None:
    m = USING.search(message)
    if m is None:
        return None
    used = int(m[2]) * UNITS[m[3]]
    request = int(m[4]) * UNITS[m[5]]
    return m[1], used, request


@analyzer(
    "Deployment", name="memory_evictions", reads={"Pod", "Node", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet"}
)
def memory_evictions(reads: Snapshot, scope: Scope) -> list[Finding]:
    """The workload whose evicted pods used the most memory above their requests (the kubelet's own
    eviction messages), named as the cause of its node's memory pressure and of its neighbours' evictions."""
    excess: dict[str, int] = defaultdict(int)
    quotes: dict[str, list[str]] = defaultdict(list)
    nodes: dict[str, set[str]] = defaultdict(set)
    evicted: dict[str, int] = defaultdict(int)
    no_request: dict[str, bool] = {}
    largest: dict[str, tuple[str, int]] = {}
    for ns in scope.namespaces:
        for pod in reads.of("Pod", ns):
            status = pod.get("status") or {}
            if status.get("reason") != "Evicted" or "memory" not in str(status.get("message")):
                continue
            owner = owner_ref(reads, pod) or ref("Pod", ns_of(pod), name_of(pod))
            evicted[owner] += 1
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                nodes[owner].add(node)
            parsed = _excess(str(status.get("message")))
            if parsed is None:
                continue
            container, used, request = parsed
            excess[owner] += max(used - request, 0)
            if used > largest.get(owner, ("", 0))[1]:
                largest[owner] = (container, used)
            no_request[owner] = no_request.get(owner, True) and request == 0
            if len(quotes[owner]) < 2:
                quotes[owner].append(f"pod {name_of(pod)} Evicted: {quote(status.get('message'), 220)}")
    if not excess:
        return []
    culprit = max(excess, key=lambda o: (excess[o], evicted[o]))
    if evicted[culprit] < MIN_EVICTIONS:
        return []
    ns, kind, name = culprit.split("/", 2)
    pressured = sorted(
        n
        for n in nodes[culprit]
        if (c := condition(reads.find("Node", None, n) or {}, "MemoryPressure")) and c.get("status") == "True"
    )
    evidence = [
        f"{evicted[culprit]} of its pods evicted for memory, {excess[culprit] // 1024**2}Mi above their requests"
    ]
    container, used = largest[culprit]
    evidence += (
        [f"largest use: container {container} {-(-used // 1024**2)}Mi"]
        + quotes[culprit]
        + [f"node {n}: MemoryPressure=True" for n in pressured]
    )
    explains = [ref("Node", None, n) for n in sorted(nodes[culprit])]
    explains += [o for o in sorted(evicted) if o != culprit]
    unbounded = "no memory request or limit" if no_request.get(culprit) else "memory requests far below its use"
    cause = f"its pods use more memory than the node can spare with {unbounded}: the kubelet evicts them and their neighbours"
    found = Finding(
        kind, ns, name, cause, evidence, "high", "spec.template.spec.containers[*].resources", explains=explains
    )
    found.fix = _bounded(reads, kind, ns, name, container, used)
    if found.fix is not None:
        evicted_workloads = [culprit] + [o for o in sorted(evicted) if o != culprit]
        found.then = [_clear_evicted(o) for o in evicted_workloads if o.split("/", 2)[1] in CLEARABLE]
        evidence.append(found.fix["rationale"])
    return [found]


CLEARABLE = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def _bounded(reads: Snapshot, kind: str, ns: str, name: str, container: str, used: int) -> dict[str, Any] | None:
    """The patch that gives `container` a memory request of `used` (a limit a quarter above), dropping a pin
    to one node that cannot hold every replica; None when the schedulable nodes have no room for them."""
    workload = reads.find(kind, ns, name) if kind in ("Deployment", "StatefulSet") else None
    if workload is None or not reads.fetched("Node"):
        return None
    template = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    replicas = int((workload.get("spec") or {}).get("replicas") or 1)
    need = -(-used // 1024**2)  # Mi, rounded up
    limit = math.ceil(need * HEADROOM)
    selector = dict(template.get("nodeSelector") or {})
    room = _room(reads, selector, need, (kind, ns, name))
    pinned = PIN in selector and sum(room.values()) < replicas
    if pinned:
        del selector[PIN]
        room = _room(reads, selector, need, (kind, ns, name))
    if sum(room.values()) < replicas:
        return None
    spec: dict[str, Any] = {
        "containers": [
            {"name": container, "resources": {"requests": {"memory": f"{need}Mi"}, "limits": {"memory": f"{limit}Mi"}}}
        ]
    }
    rationale = f"request the {need}Mi each pod was seen using (limit {limit}Mi): the nodes have room for its {replicas} replicas"
    if pinned:
        spec["nodeSelector"] = {PIN: None}
        rationale += f", once the pin to one node ({PIN}) is dropped"
    patch = {"spec": {"template": {"spec": spec}}}
    return {
        "action": "patch",
        "args": {"kind": kind, "name": name, "namespace": ns, "patch": patch},
        "rationale": rationale,
    }


def _room(reads: Snapshot, selector: dict, need_mi: int, workload: tuple[str, str, str]) -> dict[str, int]:
    """Node -> how many pods requesting `need_mi` fit in its allocatable memory beside the requests of the
    running pods read (the workload's own excepted), on the nodes `selector` admits and no taint keeps out."""
    requested: dict[str, int] = defaultdict(int)
    for pod in reads.of("Pod"):
        spec, phase = pod.get("spec") or {}, (pod.get("status") or {}).get("phase")
        if phase in ("Failed", "Succeeded") or not spec.get("nodeName") or reads.owner(pod) == workload:
            continue
        for c in spec.get("containers") or []:
            requested[spec["nodeName"]] += int(
                quantity(((c.get("resources") or {}).get("requests") or {}).get("memory", 0)) or 0
            )
    room = {}
    for node in reads.of("Node"):
        labels = (node.get("metadata") or {}).get("labels") or {}
        taints = (node.get("spec") or {}).get("taints") or []
        if any(labels.get(k) != v for k, v in selector.items()) or (node.get("spec") or {}).get("unschedulable"):
            continue
        if any(t.get("effect") in ("NoSchedule", "NoExecute") and t.get("key") not in TRANSIENT_TAINTS for t in taints):
            continue
        allocatable = quantity(((node.get("status") or {}).get("allocatable") or {}).get("memory", 0)) or 0
        free = int(allocatable) - requested[name_of(node)]
        room[name_of(node)] = max(free // (need_mi * 1024**2), 0)
    return room


def _clear_evicted(workload: str) -> dict[str, Any]:
    ns, kind, name = workload.split("/", 2)
    return {
        "action": "delete_failed_pods",
        "args": {"kind": kind, "name": name, "namespace": ns},
        "rationale": f"its evicted pods are replaced and alert as not ready until deleted ({kind}/{name})",
    }
