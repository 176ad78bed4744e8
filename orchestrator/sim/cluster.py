"""The simulated cluster: store, controllers, application traffic and observability on one clock.

`Cluster` is the in-process model. `advance(seconds)` moves the clock in small steps, running every
controller, the traffic model, the metrics scrape and the alert rules at each step, so symptoms
develop and heal on the same timeline a real cluster would show. Writes through the API trigger an
immediate reconcile pass (no time passes), as controllers react within milliseconds on a real cluster.
"""

from __future__ import annotations

import contextlib
import gc
import ipaddress
import itertools
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .apps import Application, builtin_applications
from .clock import Clock, rfc3339, rfc3339_micro
from .controllers import default_controllers
from .reliability import Reliability
from .resources import Registry, ResourceType
from .shape import DEFAULT_SHAPE, ClusterShape
from .store import Store, clone

if TYPE_CHECKING:
    from aiohttp import web

STEP_SECONDS = 5.0
MAX_RECONCILE_PASSES = 12

WORKER_NODES = tuple(DEFAULT_SHAPE.worker_names())
CONTROL_PLANE = "sim-control-plane"
CONTROL_PLANE_CAPACITY = DEFAULT_SHAPE.capacity()  # the control plane keeps its size whatever the workers'


class Cluster:
    """`alert_rules` names a built-in rule set (observability.RULE_SETS): "library", the compressed
    durations the scenario library and the calibrated bench were tuned with (the default, so embedded
    scenarios behave as they always have), or "kube-prometheus", the real rules and durations.
    `alert_for_scale` multiplies every rule's `for:` (0.1 shortens kube-prometheus' 15m to 90 s).
    A `shape` given here (command-line flags) wins over a scenario's `cluster:` block. `system_pods`
    adds kind's kube-system components (`system/kube-system.yaml`)."""

    def __init__(
        self,
        clock: Clock | None = None,
        seed: int = 0,
        alert_rules: str = "library",
        alert_for_scale: float = 1.0,
        shape: ClusterShape | None = None,
        system_pods: bool = False,
    ) -> None:
        self.clock = clock or Clock()
        # Set by an embedded SimulatorServer (for its lifetime): after each step the heap goes to the cycle
        # collector's permanent generation. The cluster is millions of long-lived objects; without this,
        # the collections that follow each step and a client's large reads walk them again and again.
        self.freeze_heap = False
        self.system_pods = system_pods
        self.seed = seed
        self.alert_rules = alert_rules
        self.alert_for_scale = alert_for_scale
        self.shape = shape or DEFAULT_SHAPE
        self.shape_locked = shape is not None
        self.store = Store(self.clock, Registry(), seed=seed)
        self.reliability = Reliability()
        self.applications: dict[str, Application] = {}  # by namespace
        self.catalog = builtin_applications()
        self.controllers = default_controllers()
        self._ips: dict[str, Iterator[str]] = {
            "pod": (str(ip) for ip in ipaddress.ip_network("10.244.0.0/16").hosts()),
            "svc": (str(ip) for ip in ipaddress.ip_network("10.96.0.0/16").hosts()),
        }
        next(self._ips["svc"])  # 10.96.0.1 is the kubernetes Service
        from .logs import ContainerLogs

        self.logs = ContainerLogs()
        self._event_ids = itertools.count(int(self.clock.now() * 1000))
        # (namespace, object uid, reason, message) -> Event name: a repeat bumps the count without a scan.
        self._events: dict[tuple, str] = {}
        self.injected: list[dict] = []  # faults injected, for /sim/v1/state
        self.scenario_name: str | None = None
        # Lazily built parts that need the cluster (avoid import cycles).
        from .admission import register_store_hooks
        from .observability import Observability
        from .traffic import Traffic

        self.traffic = Traffic(self)
        self.observability = Observability(self)
        register_store_hooks(self)
        self._bootstrap()

    # ------------------------------------------------------------------ helpers for everyone
    def rt(self, kind: str) -> ResourceType:
        return self.store.rtype(kind)

    def now(self) -> float:
        return self.clock.now()

    def allocate_ip(self, pool: str) -> str:
        return next(self._ips[pool])

    def record_event(
        self, obj: dict, etype: str, reason: str, message: str, component: str = "kubelet", host: str | None = None
    ) -> None:
        """Post an Event; a repeat of the same reason and message on the same object bumps its count."""
        meta = obj["metadata"]
        ns = meta.get("namespace") or "default"
        ev_rt = self.rt("Event")
        now = self.now()
        key = (ns, meta.get("uid"), reason, message)
        known = self._events.get(key)
        if known is not None and self.store.find(ev_rt, ns, known) is not None:

            def bump(e: dict) -> None:
                e["count"] = e.get("count", 1) + 1
                e["lastTimestamp"] = rfc3339(now)

            self.store.mutate(ev_rt, ns, known, bump, fresh=True)
            return
        involved = {
            "kind": obj["kind"],
            "namespace": ns,
            "name": meta["name"],
            "uid": meta.get("uid"),
            "apiVersion": obj["apiVersion"],
            "resourceVersion": meta.get("resourceVersion"),
        }
        source = {"component": component}
        if host:
            source["host"] = host
        name = f"{meta['name']}.{next(self._event_ids):x}"
        self._events[key] = name
        self.store.create(
            ev_rt,
            {
                "metadata": {"name": name, "namespace": ns},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "type": etype,
                "source": source,
                "count": 1,
                "firstTimestamp": rfc3339(now),
                "lastTimestamp": rfc3339(now),
                "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": host or "",
                "action": "",
            },
            owned=True,  # built here from strings: nothing to copy
        )

    def events_for(self, obj: dict) -> list[dict]:
        uid = obj["metadata"].get("uid")
        return [
            e
            for e in self.store.list(self.rt("Event"), obj["metadata"].get("namespace"))
            if e["involvedObject"].get("uid") == uid
        ]

    # ------------------------------------------------------------------ bootstrap
    def _bootstrap(self) -> None:
        ns_rt = self.rt("Namespace")
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.create(
                ns_rt,
                {
                    "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )
        node_rt = self.rt("Node")
        self.store.create(node_rt, _node(CONTROL_PLANE, control_plane=True, ip=self.allocate_ip("pod")))
        if not self.system_pods:
            self._add_workers()
        pc_rt = self.rt("PriorityClass")
        for name, value in (("system-cluster-critical", 2000000000), ("system-node-critical", 2000001000)):
            self.store.create(
                pc_rt,
                {
                    "metadata": {"name": name},
                    "value": value,
                    "globalDefault": False,
                    "preemptionPolicy": "PreemptLowerPriority",
                    "description": "Used for system critical pods that must not be moved from their current node.",
                },
            )
        # The Prometheus Operator's CRDs, stored as a user's CRD would be (admission fills their status);
        # fixed uids draw nothing from the seeded generator, so later names do not move.
        from .admission import complete_crd
        from .operator_crds import operator_crds

        crd_rt = self.rt("CustomResourceDefinition")
        for crd in operator_crds():
            complete_crd(crd)
            crd["metadata"]["uid"] = self.store.reserve_uid(
                str(uuid.uuid5(uuid.NAMESPACE_URL, "crd/" + crd["metadata"]["name"]))
            )
            self.store.create(crd_rt, crd)
        # kind's default class: local-path volumes, bound once a pod using the claim is scheduled.
        self.store.create(
            self.rt("StorageClass"),
            {
                "metadata": {
                    "name": "standard",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                    "uid": self.store.reserve_uid(str(uuid.uuid5(uuid.NAMESPACE_URL, "storageclass/standard"))),
                },
                "provisioner": "rancher.io/local-path",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "WaitForFirstConsumer",
            },
        )
        svc_rt = self.rt("Service")
        self.store.create(
            svc_rt,
            {
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "type": "ClusterIP",
                    "clusterIP": "10.96.0.1",
                    "clusterIPs": ["10.96.0.1"],
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                    "sessionAffinity": "None",
                },
            },
        )
        from .authz import bootstrap as rbac_bootstrap

        rbac_bootstrap(self)
        if self.system_pods:
            # As on kind: kube-system starts while the control plane is alone, then the workers join.
            from .system import install_system

            install_system(self, CONTROL_PLANE)
            self.reconcile()
            self._add_workers()
        self.reconcile()

    def _add_workers(self) -> None:
        for name in self.shape.worker_names():
            self.store.create(self.rt("Node"), _worker(name, self.shape, ip=self.allocate_ip("pod")))

    def reshape(self, shape: ClusterShape) -> None:
        """Replace the workers with the shape's (a scenario's `cluster:` block), before anything runs."""
        if self.shape_locked or shape == self.shape:
            return
        node_rt, pod_rt = self.rt("Node"), self.rt("Pod")
        on_workers = [
            p for p in self.store.list(pod_rt) if (p.get("spec") or {}).get("nodeName", CONTROL_PLANE) != CONTROL_PLANE
        ]
        # A DaemonSet's pods follow the nodes (its controller makes them anew); any other pod pins the shape.
        if any(not _daemon_pod(p) for p in on_workers):
            raise RuntimeError("the cluster's shape can only change before pods are scheduled")
        for pod in on_workers:
            self.store.delete(pod_rt, pod["metadata"]["namespace"], pod["metadata"]["name"])
        for node in self.store.list(node_rt):
            if node["metadata"]["name"] != CONTROL_PLANE:
                self.store.delete(node_rt, "", node["metadata"]["name"])
        self.shape = shape
        self._add_workers()
        self.reconcile()

    # ------------------------------------------------------------------ applications
    def install_application(self, name: str, options: dict | None = None) -> Application:
        """Create an application's namespace, workloads, Services, Secrets and (optionally) HPAs."""
        from .install import install_application

        app = self.catalog.get(name)
        if app is None:
            raise KeyError(f"unknown application {name!r}; known: {', '.join(sorted(self.catalog))}")
        with collector_paused():
            install_application(self, app, options or {})
            self.applications[app.namespace] = app
            self.reconcile()
            if self.freeze_heap:
                gc.freeze()  # as after a step: the collector's next pass would otherwise walk all of it
        return app

    def application_for(self, namespace: str) -> Application | None:
        return self.applications.get(namespace)

    def apply(self, obj: dict) -> dict:
        """Create an object through admission, as `kubectl create` would (used by installers and faults)."""
        rt = self.store.rtype(obj["kind"], obj.get("apiVersion"))
        ns = obj.get("metadata", {}).get("namespace")
        admitted = self.admit("CREATE", rt, obj, None, ns)
        return self.store.create(rt, admitted, ns)

    def update(self, obj: dict) -> dict:
        """Replace an object through admission (no conflict check): a change an operator makes."""
        rt = self.store.rtype(obj["kind"], obj.get("apiVersion"))
        meta = obj["metadata"]
        old = self.store.get(rt, meta.get("namespace", ""), meta["name"])
        admitted = self.admit("UPDATE", rt, obj, old, meta.get("namespace"))
        return self.store.replace(rt, admitted, check_rv=False)

    # ------------------------------------------------------------------ reconcile and time
    def reconcile(self) -> None:
        """Run controllers until nothing changes (bounded): a burst of work after a write."""
        with collector_paused():
            for _ in range(MAX_RECONCILE_PASSES):
                before = self.store.resource_version
                for controller in self.controllers:
                    controller.reconcile(self)
                if self.store.resource_version == before:
                    break

    def after_write(self) -> None:
        self.reconcile()
        self.traffic.update()

    def step(self, seconds: float) -> None:
        self.clock.advance(seconds)
        with collector_paused():
            self.reconcile()
            self.traffic.update()
            self.observability.scrape()
            if self.freeze_heap:
                # Frozen before the collector resumes: otherwise its first pass walks every object the
                # step made (a step leaves no cycles behind, so there is nothing for it to find).
                gc.freeze()

    def tick_realtime(self, elapsed: float) -> None:
        """Reconcile after the realtime clock moved by itself (no clock change here)."""
        if elapsed > 0:
            self.reconcile()
            self.traffic.update()
            self.observability.scrape()

    def advance(self, seconds: float) -> None:
        remaining = float(seconds)
        while remaining > 1e-9:
            dt = min(STEP_SECONDS, remaining)
            self.step(dt)
            remaining -= dt

    # ------------------------------------------------------------------ admission
    def admit(self, op: str, rt: ResourceType, obj: dict, old: dict | None, namespace: str | None) -> dict:
        """Validate and default an object on its way into the store (the API server's admission chain)."""
        from .admission import admit

        # Admission rebuilds every dict and list of a written object as it drops nulls, which is the copy
        # that keeps the caller's object apart; a delete is passed through, so it is copied here.
        return admit(self, op, rt, clone(obj) if op == "DELETE" else obj, old, namespace)

    # ------------------------------------------------------------------ HTTP extras
    def add_routes(self, app: web.Application) -> None:
        from .control import add_control_routes

        self.observability.add_routes(app)
        add_control_routes(app, self)

    async def pod_log(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        from aiohttp import web

        from .logs import render_log

        pod = self.store.get(self.rt("Pod"), namespace, name)
        q = request.query
        text = render_log(
            self,
            pod,
            container=q.get("container"),
            previous=q.get("previous") in ("true", "1"),
            tail=int(q["tailLines"]) if q.get("tailLines") else None,
            timestamps=q.get("timestamps") in ("true", "1"),
            since_seconds=int(q["sinceSeconds"]) if q.get("sinceSeconds") else None,
            limit_bytes=int(q["limitBytes"]) if q.get("limitBytes") else None,
        )
        return web.Response(text=text, content_type="text/plain")

    # ------------------------------------------------------------------ summaries
    def state(self) -> dict:
        pods = self.store.list(self.rt("Pod"))
        phases: dict[str, int] = {}
        for p in pods:
            phase = (p.get("status") or {}).get("phase", "Pending")
            phases[phase] = phases.get(phase, 0) + 1
        return {
            "time": rfc3339_micro(self.now()),
            "clock": self.clock.kind,
            "scenario": self.scenario_name,
            "applications": {ns: a.name for ns, a in self.applications.items()},
            "faults": self.injected,
            "pods": {"total": len(pods), "byPhase": phases},
            "alerts": [
                {"name": a["labels"]["alertname"], "state": a["state"], "labels": a["labels"]}
                for a in self.observability.alerts.active()
            ],
            "alertRules": {"set": self.alert_rules, "forScale": self.observability.alerts.for_scale},
            "resourceVersion": self.store.resource_version,
        }


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Hold Python's cycle collector during a burst of controller work. API objects are trees (no
    cycles) and a large cluster holds millions of them, so the collector's passes over them during a
    reconcile are pure cost; whatever cycles the burst leaves are collected once it ends."""
    if not gc.isenabled():
        yield  # an outer burst holds it already
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _worker(name: str, shape: ClusterShape, ip: str) -> dict:
    node = _node(name, control_plane=False, ip=ip, capacity=shape.capacity())
    node["metadata"]["labels"].update(shape.labels)
    node["spec"]["taints"] = [dict(t) for t in shape.taints]
    return node


def _daemon_pod(pod: dict) -> bool:
    return any(ref.get("kind") == "DaemonSet" for ref in pod["metadata"].get("ownerReferences") or ())


def _node(name: str, control_plane: bool, ip: str, capacity: dict[str, str] | None = None) -> dict:
    labels = {
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
    }
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    else:
        labels["node-role.kubernetes.io/node"] = ""
    capacity = dict(capacity or CONTROL_PLANE_CAPACITY)
    return {
        "metadata": {"name": name, "labels": labels, "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {
            "podCIDR": "10.244.0.0/24",
            "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
            if control_plane
            else [],
        },
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "conditions": [
                {"type": t, "status": "False", "reason": r, "message": m}
                for t, r, m in (
                    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                )
            ]
            + [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0-sim",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": "v1.32.0",
                "kubeProxyVersion": "v1.32.0",
                "machineID": name,
                "systemUUID": name,
                "bootID": name,
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    }
