"""What a person should do about a finding that no safe change covers: ready-to-run kubectl lines for the
report's "Proposed change" section. A remedy never invents data (a certificate, a Secret's value, the
right image): where one is needed, the line says which file or value to bring."""

from __future__ import annotations

import re
from collections.abc import Callable

from .finding import Finding

Remedy = Callable[[Finding], list[str]]


def _ns(f: Finding) -> str:
    return f"-n {f.namespace} " if f.namespace else ""


def _restarts(f: Finding) -> list[str]:
    """Pods read a ConfigMap's env at start and a mounted file after a sync: restart what it explains."""
    out = []
    for entity in f.explains:
        ns, kind, name = entity.split("/", 2)
        if kind in ("Deployment", "StatefulSet", "DaemonSet"):
            out.append(f"kubectl -n {ns} rollout restart {kind.lower()}/{name}")
    return out


def _job(f: Finding) -> list[str]:
    if "deadline" in f.cause or "activeDeadlineSeconds" in f.cause:
        change = "raise spec.activeDeadlineSeconds, or make the work finish sooner"
    else:
        change = "fix the pod template (image, command, env) the logs point at"
    return [
        f"kubectl {_ns(f)}logs job/{f.name} --tail=50   # why its pods fail",
        f"kubectl {_ns(f)}get job {f.name} -o yaml > job.yaml   # then {change}",
        "kubectl replace --force -f job.yaml   # a Job's template is immutable: re-create it",
    ]


def _config_value(f: Finding) -> list[str]:
    kind = f.kind.lower()
    if "certificate" in f.cause:
        key = next(
            (m[1] for line in f.evidence if (m := re.search(r"holds ([^,\s]+\.(?:pem|crt|cert))", line))), "tls.crt"
        )
        create = "secret generic" if f.kind == "Secret" else "configmap"
        lines = [
            f"kubectl {_ns(f)}create {create} {f.name} --from-file={key}=RENEWED-CERTIFICATE-FILE "
            "--dry-run=client -o yaml | kubectl apply -f -   # bring a renewed certificate: none can be made here"
        ]
    else:
        lines = [f"kubectl {_ns(f)}edit {kind} {f.name}   # {f.field}: {f.cause}"]
    return lines + _restarts(f)


def _pod_unschedulable(f: Finding) -> list[str]:
    if f.owner:
        ns, kind, name = f.owner.split("/", 2)
        return [f"kubectl -n {ns} edit {kind.lower()} {name}   # {f.cause}"]
    return [
        f"kubectl {_ns(f)}get pod {f.name} -o yaml > pod.yaml   # then change what the cause names: {f.cause}",
        "kubectl replace --force -f pod.yaml   # a Pod's scheduling fields are immutable: re-create it",
    ]


def _crash(f: Finding) -> list[str]:
    container = m[1] if (m := re.search(r"container (\S+)", f.cause)) else ""
    lines = [f"kubectl {_ns(f)}logs {f.name}" + (f" -c {container}" if container else "") + " --previous"]
    if f.owner and f.owner.split("/")[1] == "Deployment":
        ns, _, name = f.owner.split("/", 2)
        lines.append(f"kubectl -n {ns} rollout undo deployment/{name}   # if a recent rollout introduced the crash")
    return lines


def _rule_group(f: Finding) -> list[str]:
    return [
        f"kubectl {_ns(f)}edit prometheusrule {f.name}   # {f.cause}; Prometheus' /rules page shows the error",
        f"kubectl {_ns(f)}delete prometheusrule {f.name}   # or remove it until the expression is fixed",
    ]


def _hpa_max(f: Finding) -> list[str]:
    return [
        f'kubectl {_ns(f)}patch hpa {f.name} --type merge -p \'{{"spec":{{"maxReplicas":MORE}}}}\''
        "   # if the nodes and the quota have room; else give each replica more capacity"
    ]


def _cpu_limit(f: Finding) -> list[str]:
    container = m[1] if (m := re.search(r"containers\[([^\]]+)\]", f.field)) else ""
    return [
        f"kubectl {_ns(f)}set resources {f.kind.lower()}/{f.name} -c {container} --limits=cpu=HIGHER"
        "   # the container needs more CPU than its limit allows"
    ]


def _memory_hog(f: Finding) -> list[str]:
    """Stop the evictions first, then give the workload what it uses, so the scheduler places it only where
    that fits (a scale to 0 of a workload with ready replicas is for a person to decide, not the agent)."""
    m = next((m for line in f.evidence if (m := re.search(r"largest use: container (\S+) (\d+Mi)", line))), None)
    kind = f"{f.kind.lower()}/{f.name}"
    lines = [f"kubectl {_ns(f)}scale {kind} --replicas=0   # stop the evictions: its pods are the largest memory users"]
    if m:
        lines.append(
            f"kubectl {_ns(f)}set resources {kind} -c {m[1]} --requests=memory={m[2]} --limits=memory={m[2]}"
            "   # then scale it back: each pod is placed only where its memory fits"
        )
    return lines


def _preempted(f: Finding) -> list[str]:
    return [
        "kubectl describe nodes | grep -A 8 'Allocated resources'   # no room for both pods: add a node or lower requests",
        f"kubectl {_ns(f)}get events --field-selector involvedObject.name={f.name}   # then re-create the pod from its "
        "manifest, under a Deployment or Job so it comes back after a preemption",
    ]


# (kind, a test of the finding, the remedy): the first that matches speaks.
RULES: tuple[tuple[str, Callable[[Finding], bool], Remedy], ...] = (
    ("Job", lambda f: f.field.startswith("status.conditions[Failed]"), _job),
    ("ConfigMap", lambda f: f.analyzer == "log_blame", _config_value),
    ("Secret", lambda f: f.analyzer == "log_blame", _config_value),
    ("Pod", lambda f: f.field == "status.conditions[PodScheduled]", _pod_unschedulable),
    ("PrometheusRule", lambda f: f.analyzer == "failing_rules", _rule_group),
    ("HorizontalPodAutoscaler", lambda f: f.analyzer == "hpa_maxed_out", _hpa_max),
    ("Deployment", lambda f: f.analyzer == "cpu_throttled", _cpu_limit),
    ("StatefulSet", lambda f: f.analyzer == "cpu_throttled", _cpu_limit),
    ("DaemonSet", lambda f: f.analyzer == "cpu_throttled", _cpu_limit),
    *(
        (kind, lambda f: f.analyzer == "memory_evictions", _memory_hog)
        for kind in ("Deployment", "StatefulSet", "DaemonSet")
    ),
    ("Pod", lambda f: f.analyzer == "preempted", _preempted),
    ("Pod", lambda f: "exiting with code" in f.cause or "exited with code" in f.cause, _crash),
)


def remedy(f: Finding) -> list[str]:
    """The kubectl lines for a finding, or [] when none is known."""
    for kind, test, make in RULES:
        if f.kind == kind and test(f):
            return make(f)
    if f.field.startswith("spec") and f.kind not in ("Pod", "Node"):
        # The field the analyzer found wrong, to edit by hand (a Pod's spec is mostly immutable; a Node's
        # problems are rarely its spec).
        return [f"kubectl {_ns(f)}edit {f.kind.lower()} {f.name}   # {f.field}: {f.cause}"]
    return []
