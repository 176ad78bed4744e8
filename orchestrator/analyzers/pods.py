"""Pods, bare or owned: container states, the last termination, restarts, probes, scheduling, crash logs."""

from __future__ import annotations

import re
from typing import Any

from ..tools.kinds import WORKLOAD_KINDS
from .common import condition, event_lines, meta, name_of, ns_of, owner_ref, quote
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot, parse_time

# Waiting reasons the kubelet only reports when a container cannot run as specified.
BROKEN_WAITING = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "PreCreateHookError",
    "PostStartHookError",
}
SLOW_INIT_SECONDS = 60.0  # an init container still running this long holds the pod back
SLOW_READY_SECONDS = 120.0
LOG_LINES = 5


@analyzer("Pod", reads={"Event", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Node"})
def pods(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Pods that cannot run: waiting containers, crash loops, OOM kills, unschedulable, stuck init, unready."""
    out: list[Finding] = []
    now = reads.time()
    for ns in scope.namespaces:
        for pod in reads.of("Pod", ns):
            out.extend(_pod(reads, pod, now))
    return out


def _pod(reads: Snapshot, pod: dict, now: float | None) -> list[Finding]:
    status = pod.get("status") or {}
    phase = status.get("phase")
    if phase == "Succeeded":
        return []
    ns, name = ns_of(pod), name_of(pod)
    owner = owner_ref(reads, pod)
    events = event_lines(reads, "Pod", ns, name)

    def finding(cause: str, evidence: list[str], confidence: str, field: str) -> Finding:
        return Finding("Pod", ns, name, cause, evidence + events, confidence, field, owner)

    out: list[Finding] = []
    scheduled = condition(pod, "PodScheduled")
    if phase == "Pending" and scheduled and scheduled.get("status") == "False":
        message = scheduled.get("message") or ""
        evidence = [f"status.conditions[PodScheduled]: {scheduled.get('reason', '')}: {quote(message)}"]
        unschedulable = finding(_unschedulable_cause(message), evidence, "high", "status.conditions[PodScheduled]")
        unschedulable.fix = _selector_fix(reads, pod, owner)
        out.append(unschedulable)
    if status.get("reason") == "Evicted" or phase == "Failed":
        evidence = [f"status.phase={phase} reason={status.get('reason', '')}: {quote(status.get('message'))}"]
        out.append(finding("the pod was evicted or failed as a whole", evidence, "medium", "status.phase"))
    inits = {c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []}
    for field_name in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(field_name) or []:
            f = _container(reads, pod, cs, field_name, cs.get("name") in inits, now)
            if f is not None:
                out.append(finding(*f))
    return out


def _container(
    reads: Snapshot, pod: dict, cs: dict, field_name: str, is_init: bool, now: float | None
) -> tuple[str, list[str], str, str] | None:
    cname = cs.get("name", "")
    state = cs.get("state") or {}
    last = (cs.get("lastState") or {}).get("terminated") or {}
    restarts = cs.get("restartCount") or 0
    path = f"status.{field_name}[{cname}]"
    evidence: list[str] = []
    waiting = state.get("waiting") or {}
    if last:
        evidence.append(
            f"{path}.lastState.terminated: reason={last.get('reason', '')} exitCode={last.get('exitCode')}"
            + (f" message={quote(last.get('message'), 120)}" if last.get("message") else "")
        )
    if restarts:
        evidence.append(f"{path}.restartCount={restarts}")
    evidence += _log_lines(reads, pod, cname)
    if waiting.get("reason") in BROKEN_WAITING:
        head = f"{path}.state.waiting: {waiting.get('reason')}: {quote(waiting.get('message'))}".rstrip(": ")
        cause = _waiting_cause(pod, cname, waiting, last)
        return cause, [head, *evidence], "high", f"{path}.state.waiting"
    terminated = state.get("terminated") or {}
    if terminated and terminated.get("exitCode") not in (0, None) and not is_init:
        head = f"{path}.state.terminated: reason={terminated.get('reason', '')} exitCode={terminated.get('exitCode')}"
        return f"container {cname} exited with code {terminated.get('exitCode')}", [head, *evidence], "high", path
    running = state.get("running") or {}
    started = parse_time(running.get("startedAt"))
    age = (now - started) if now is not None and started is not None else None
    if running and is_init and age is not None and age > SLOW_INIT_SECONDS:
        head = f"{path}.state.running since {running.get('startedAt')}: init container still running after {int(age)} s"
        cause = f"init container {cname} never completes, so the pod's containers never start"
        return cause, [head, *evidence], "high" if age > 5 * SLOW_INIT_SECONDS else "medium", path
    if restarts and last.get("reason") in ("OOMKilled", "Error"):
        cause = _terminated_cause(pod, cname, last)
        return cause, evidence, "medium", f"{path}.lastState.terminated"
    if "running" in state and not cs.get("ready") and not is_init:
        return _probe(reads, pod, cname, path, age, evidence)
    return None


def _probe(
    reads: Snapshot, pod: dict, cname: str, path: str, age: float | None, evidence: list[str]
) -> tuple[str, list[str], str, str] | None:
    """A running container kept unready: a probe aimed at a port it does not declare, or failing probes."""
    failures = [e for e in reads.events("Pod", ns_of(pod), name_of(pod), True) if e.get("reason") == "Unhealthy"]
    failed = sum(e.get("count") or 1 for e in failures)
    spec = _spec_container(pod, cname)
    ports = spec.get("ports") or []
    declared = {p.get("containerPort") for p in ports} | {p.get("name") for p in ports if p.get("name")}
    for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = spec.get(probe_name) or {}
        for handler in ("httpGet", "tcpSocket", "grpc"):
            port = (probe.get(handler) or {}).get("port")
            # Containers need not declare ports; only a declared set can contradict a probe.
            if port is None or not ports or port in declared:
                continue
            served = ", ".join(str(p.get("containerPort")) for p in ports)
            field = f"spec.containers[{cname}].{probe_name}.{handler}.port"
            lines = [f"{field}={port}; the container declares port(s) {served}", f"{path}.ready=false", *evidence]
            cause = f"the {probe_name} of container {cname} checks port {port}, which the container does not serve"
            return cause, lines, "high" if failed else "medium", field
    if failures and (failed >= 3 or (age is not None and age > SLOW_READY_SECONDS)):
        head = f"{path}.ready=false; probe failed {failed} time(s): {quote(failures[-1].get('message'))}"
        return f"container {cname} fails its probe and is kept out of its Services", [head, *evidence], "medium", path
    return None


def _waiting_cause(pod: dict, cname: str, waiting: dict, last: dict) -> str:
    reason = waiting.get("reason", "")
    message = str(waiting.get("message") or "")
    if reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"):
        image = _spec_container(pod, cname).get("image", "")
        return f"image {image} of container {cname} cannot be pulled (wrong name or tag, or no pull access)"
    if reason == "CreateContainerConfigError":
        return f"container {cname} references configuration that does not exist: {quote(message, 160)}"
    if reason == "CrashLoopBackOff" and last:
        return _terminated_cause(pod, cname, last)
    if "executable file not found" in message or "no such file" in message:
        return f"the command of container {cname} does not exist in its image"
    return f"container {cname} cannot start: {reason}"


def _terminated_cause(pod: dict, cname: str, last: dict) -> str:
    reason, code = last.get("reason", ""), last.get("exitCode")
    message = str(last.get("message") or "")
    if reason == "OOMKilled" or code == 137:
        limit = ((_spec_container(pod, cname).get("resources") or {}).get("limits") or {}).get("memory")
        within = f" of {limit}" if limit else ""
        return f"container {cname} is killed for exceeding its memory limit{within} (OOMKilled)"
    if code in (126, 127, 128) or "executable file not found" in message:
        return f"the command of container {cname} cannot be run (exit code {code}): it is missing from the image"
    return f"container {cname} keeps exiting with code {code} ({reason or 'no reason'}) and is restarted"


# What the scheduler's per-node reasons mean, most specific first.
SCHEDULING_REASONS = (
    ("were unschedulable", "the only nodes the pod may run on are cordoned (spec.unschedulable)"),
    ("insufficient", "no node has enough free resources for the pod's requests"),
    ("persistentvolumeclaim", "the pod's PersistentVolumeClaim is missing or unbound"),
    ("volume node affinity", "the pod's volumes are bound to nodes it cannot use"),
    ("anti-affinity", "the pod's anti-affinity rules exclude every node"),
    ("didn't match pod affinity", "the pod's affinity rules match no node"),
    ("node affinity/selector", "no node matches the pod's nodeSelector or node affinity"),
    ("untolerated taint", "every node carries a taint the pod does not tolerate"),
)
NODE_COUNT = re.compile(r"(\d+) (node\(s\) [^,]+|insufficient [^,]+)", re.IGNORECASE)
TAINT_KEY = re.compile(r"untolerated taint\(?s?\)? \{([^:}]+)")
ROLE_TAINT = "node-role.kubernetes.io/"  # keeps workloads off the control plane by design


def _unschedulable_cause(message: str) -> str:
    """What keeps the pod off the nodes it would accept. The scheduler counts each node under its first
    failing filter (`0/4 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's
    node affinity/selector`); nodes excluded by the pod's own selector or by a role taint are excluded by
    design, so any other reason speaks first, then the most frequent."""
    head = message.split("preemption:", 1)[0]
    counted = [(int(n), reason) for n, reason in NODE_COUNT.findall(head)]
    counted.sort(key=lambda c: (_by_design(c[1]), -c[0]))
    for _, reason in counted:
        taint = TAINT_KEY.search(reason)
        if taint and not _by_design(reason):
            return f"the nodes the pod may run on carry the taint {taint[1]}, which it does not tolerate"
        for needle, cause in SCHEDULING_REASONS:
            if needle in reason.lower():
                return cause
    return _fallback_cause(message)


def _selector_fix(reads: Snapshot, pod: dict, owner: str | None) -> dict | None:
    """Drop the nodeSelector entries that no node of the cluster carries: such a pod can never be placed,
    whatever else changes. The change goes to the pod's workload template, or to a bare pod itself (which
    the patch tool re-creates, a Pod's spec being immutable). None when every entry matches some node, or
    when the nodes are unknown (a selector may aim at nodes an autoscaler adds: then the cluster would show
    a node group, which a snapshot cannot tell, so nothing is derived without nodes to compare with)."""
    selector = (pod.get("spec") or {}).get("nodeSelector") or {}
    nodes = reads.of("Node") if reads.fetched("Node") else []
    if not selector or not nodes:
        return None
    labels = [(n.get("metadata") or {}).get("labels") or {} for n in nodes]
    unmatched = sorted(k for k, v in selector.items() if not any(lab.get(k) == v for lab in labels))
    if not unmatched:
        return None
    drop: dict[str, Any] = {k: None for k in unmatched}
    pairs = ", ".join(f"{k}={selector[k]}" for k in unmatched)
    rationale = f"no node of the {len(nodes)} in the cluster has the label {pairs}"
    if owner is None:
        args = {"kind": "Pod", "name": name_of(pod), "namespace": ns_of(pod), "patch": {"spec": {"nodeSelector": drop}}}
    else:
        ns, kind, name = owner.split("/", 2)
        if kind not in WORKLOAD_KINDS:
            return None
        args = {
            "kind": kind,
            "name": name,
            "namespace": ns,
            "patch": {"spec": {"template": {"spec": {"nodeSelector": drop}}}},
        }
    return {"action": "patch", "args": {**args, "patch_type": "merge"}, "rationale": rationale}


def _by_design(reason: str) -> bool:
    """Nodes excluded by the pod's own selector, or by a role taint, are excluded on purpose."""
    text = reason.lower()
    return "node affinity/selector" in text or ("untolerated taint" in text and ROLE_TAINT in text)


def _fallback_cause(message: str) -> str:
    text = message.lower()
    if "were unschedulable" in text:
        return "the only nodes the pod may run on are cordoned (spec.unschedulable)"
    if "insufficient" in text:
        return "no node has enough free resources for the pod's requests"
    if "persistentvolumeclaim" in text:
        return "the pod's PersistentVolumeClaim is missing or unbound"
    if "didn't match pod's node affinity/selector" in text:
        return "no node matches the pod's nodeSelector or node affinity"
    if "untolerated taint" in text:
        return "every node carries a taint the pod does not tolerate"
    return "the scheduler cannot place the pod on any node"


def _spec_container(pod: dict, cname: str) -> dict:
    spec = pod.get("spec") or {}
    for c in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
        if c.get("name") == cname:
            return c
    return {}


def _log_lines(reads: Snapshot, pod: dict, cname: str) -> list[str]:
    text = reads.logs.get((ns_of(pod) or "", name_of(pod), cname))
    if not text:
        return []
    lines = [line for line in text.splitlines() if line.strip()][-LOG_LINES:]
    return [f"log {meta(pod).get('name')}/{cname}: {quote(line, 200)}" for line in lines]
