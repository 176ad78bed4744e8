"""The kubelet's eviction manager for memory: node MemoryPressure and pod evictions.

Every monitoring interval it sums the working sets of the pods running on each node. Below the
hard threshold (memory.available<100Mi, the kubelet's default) the node reports MemoryPressure, the
node lifecycle controller taints it NoSchedule, and the kubelet evicts one pod per interval, ranked
as the kubelet ranks them: pods using more than they request first, then lower priority, then the
largest use above request. The condition clears once the node has been above the threshold for the
pressure transition period.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from ..clock import rfc3339
from ..controllers.kubelet import Ctx, Kubelet, PodRun, _kubelet_of
from ..controllers.quota import container_amount
from ..objects import quantity

if TYPE_CHECKING:
    from ..cluster import Cluster

MiB = 2**20
THRESHOLD = 100 * MiB  # --eviction-hard memory.available<100Mi
SYSTEM_MEMORY = 1024 * MiB  # the OS, containerd and the kubelet itself
MONITOR_SECONDS = 10.0  # the eviction manager's housekeeping interval
TRANSITION_SECONDS = 300.0  # --eviction-pressure-transition-period
TAINT = {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}
PRESSURE = ("True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
NO_PRESSURE = ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available")


def _ki(nbytes: float) -> str:
    return f"{int(nbytes) // 1024}Ki"


def pod_working_set(run: PodRun) -> tuple[int, dict[str, int]]:
    """Working set of a pod's running containers: total and per container (capped at each limit)."""
    per = {c.name: c.usage()[0] for c in run.containers if c.phase == "running"}
    return sum(per.values()), per


class NodeMemoryPressure:
    def __init__(self) -> None:
        self.next_check = 0.0
        self.last_pressure: dict[str, float] = {}

    def reconcile(self, cluster: Cluster) -> None:
        now = cluster.now()
        kubelet = _kubelet_of(cluster)
        if now < self.next_check or kubelet is None:
            return
        self.next_check = now + MONITOR_SECONDS
        used: dict[str, int] = defaultdict(int)
        live = [run for run in kubelet.runs.values() if run.terminal is None]
        for run in live:
            used[run.node] += pod_working_set(run)[0]
        nodes = []
        for node in cluster.store.list(cluster.rt("Node")):
            name = node["metadata"]["name"]
            capacity = quantity(((node.get("status") or {}).get("capacity") or {}).get("memory"))
            available = max(0.0, capacity - SYSTEM_MEMORY - used[name])  # the kernel reclaims before it runs dry
            nodes.append((node, name, available, available < THRESHOLD))
        # The eviction candidates of the nodes under pressure, read before anything is written
        pods: dict[str, list[tuple[PodRun, int, dict[str, int]]]] = defaultdict(list)
        pressed = {name for _, name, _, under in nodes if under}
        for run in live if pressed else ():
            if run.node in pressed:
                pods[run.node].append((run, *pod_working_set(run)))
        for node, name, available, under in nodes:
            if under:
                self.last_pressure[name] = now
            since = self.last_pressure.get(name)
            self._set_condition(cluster, node, under or (since is not None and now - since < TRANSITION_SECONDS))
            if under:
                self._evict_one(cluster, kubelet, node, pods[name], available, now)

    # ------------------------------------------------------------------ node
    def _set_condition(self, cluster: Cluster, node: dict, pressure: bool) -> None:
        name = node["metadata"]["name"]
        status, reason, message = PRESSURE if pressure else NO_PRESSURE
        current: dict = next(
            (c for c in (node.get("status") or {}).get("conditions") or () if c.get("type") == "MemoryPressure"), {}
        )
        tainted = any(t.get("key") == TAINT["key"] for t in (node.get("spec") or {}).get("taints") or ())
        if current.get("status", "False") == status and tainted == pressure:
            return
        when = rfc3339(cluster.now())
        rt = cluster.rt("Node")

        def condition(n: dict) -> None:
            for c in n.setdefault("status", {}).setdefault("conditions", []):
                if c.get("type") == "MemoryPressure":
                    c.update(status=status, reason=reason, message=message, lastTransitionTime=when)
                    c["lastHeartbeatTime"] = when

        def taint(n: dict) -> None:
            taints = [t for t in (n.setdefault("spec", {}).get("taints") or []) if t.get("key") != TAINT["key"]]
            n["spec"]["taints"] = taints + ([{**TAINT, "timeAdded": when}] if pressure else [])

        if current.get("status", "False") != status:
            node = cluster.store.mutate(rt, "", name, condition, status=True)
            event = "NodeHasInsufficientMemory" if pressure else "NodeHasSufficientMemory"
            cluster.record_event(node, "Normal", event, f"Node {name} status is now: {event}", "kubelet", name)
        if tainted != pressure:
            cluster.store.mutate(rt, "", name, taint)

    # ------------------------------------------------------------------ pods
    def _evict_one(
        self,
        cluster: Cluster,
        kubelet: Kubelet,
        node: dict,
        candidates: list[tuple[PodRun, int, dict[str, int]]],
        available: float,
        now: float,
    ) -> None:
        pod_rt = cluster.rt("Pod")
        ranked = []
        for run, total, per in candidates:
            pod = cluster.store.find(pod_rt, run.namespace, run.name)
            if pod is None or pod["metadata"].get("deletionTimestamp") or _critical(pod):
                continue
            request = sum(container_amount(c.spec, "requests", "memory") or 0.0 for c in run.containers if not c.init)
            priority = int((pod.get("spec") or {}).get("priority") or 0)
            ranked.append((total <= request, priority, -(total - request), run, pod, per))
        if not ranked:
            return
        ranked.sort(key=lambda r: r[:3])
        _, _, _, run, pod, per = ranked[0]
        cluster.record_event(
            node, "Warning", "EvictionThresholdMet", "Attempting to reclaim memory", "kubelet", node["metadata"]["name"]
        )
        message = f"The node was low on resource: memory. Threshold quantity: 100Mi, available: {_ki(available)}. "
        biggest = max(per.items(), key=lambda kv: kv[1], default=None)
        if biggest is not None:
            spec = next(c.spec for c in run.containers if c.name == biggest[0])
            request = container_amount(spec, "requests", "memory") or 0
            message += (
                f"Container {biggest[0]} was using {_ki(biggest[1])}, request is {_ki(request) if request else 0}, "
                "has larger consumption of memory. "
            )
        evict(kubelet, Ctx(cluster, pod, node, run), message, now)


def _critical(pod: dict) -> bool:
    """Static and system-node-critical pods are never evicted for memory."""
    spec = pod.get("spec") or {}
    return spec.get("priorityClassName") in ("system-node-critical",) or int(spec.get("priority") or 0) >= 2_000_001_000


def evict(kubelet: Kubelet, ctx: Ctx, message: str, now: float) -> None:
    """Kill the pod's containers at once (hard eviction: no grace period) and fail the pod."""
    run = ctx.run
    run.clock = max(run.clock, now)
    for c in run.containers:
        if c.phase == "running":
            kubelet._event(ctx, "Normal", "Killing", f"Stopping container {c.name}")
            kubelet._terminate(ctx, c, now, "Error", 137, restart=False)
        c.timers, c.ready = {}, False
    run.timers, run.terminal, run.reason = {}, "Failed", ("Evicted", message)
    run.extra_conditions = [
        {
            "type": "DisruptionTarget",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": rfc3339(now),
            "reason": "TerminationByKubelet",
            "message": message,
        }
    ]
    kubelet._event(ctx, "Warning", "Evicted", message)
    kubelet._write_status(ctx, now)
    run.wake = kubelet._next_wake(run)
