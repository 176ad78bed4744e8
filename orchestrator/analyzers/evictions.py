"""Memory evictions: the workload whose pods the kubelet evicts for using the most memory above their
requests, which starves its neighbours on the same node.

Under memory pressure the kubelet evicts, among the pods using more memory than they request, the one with
the lowest priority and the largest excess first, and says so in the pod's status: "Container C was using
U, request is R, has larger consumption of memory". The workload with the largest total excess over its
evicted pods is the likely cause; the node's pressure and the other evicted workloads are what it explains.
"""

from __future__ import annotations

import re
from collections import defaultdict

from .common import condition, name_of, ns_of, owner_ref, quote
from .finding import Finding, ref
from .registry import analyzer
from .snapshot import Scope, Snapshot

USING = re.compile(r"Container (\S+) was using (\d+)(Ki|Mi|Gi)?, request is (\d+)(Ki|Mi|Gi)?")
UNITS = {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
MIN_EVICTIONS = 2  # one eviction is the kubelet doing its job; repeated ones are a workload that returns


def _excess(message: str) -> tuple[str, int, int] | None:
    m = USING.search(message)
    if m is None:
        return None
    used = int(m[2]) * UNITS[m[3]]
    request = int(m[4]) * UNITS[m[5]]
    return m[1], used, request


@analyzer("Deployment", name="memory_evictions", reads={"Pod", "Node", "ReplicaSet", "StatefulSet", "DaemonSet"})
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
    return [
        Finding(
            kind, ns, name, cause, evidence, "high", "spec.template.spec.containers[*].resources", explains=explains
        )
    ]
