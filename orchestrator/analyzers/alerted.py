"""Faults only the metrics show, read from the alerts that say so: a container throttled at its CPU limit
(CPUThrottlingHigh), an autoscaler pinned at its maximum (KubeHpaMaxedOut). The alert's labels name the
object; the objects read from the cluster say what to change and whether the cluster has room for it."""

from __future__ import annotations

from decimal import Decimal

from ..checks.kube import quantity
from .common import name_of, ns_of, quote
from .finding import Finding, ref
from .registry import analyzer
from .snapshot import Scope, Snapshot


def _alerts(reads: Snapshot, name: str, scope: Scope) -> list[dict]:
    return [
        a.get("labels") or {}
        for a in reads.alerts
        if (a.get("name") or (a.get("labels") or {}).get("alertname")) == name
        and (a.get("labels") or {}).get("namespace") in scope.namespaces
    ]


def _cores(value: Decimal) -> str:
    milli = int(value * 1000)
    return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"


@analyzer("Pod", name="cpu_throttled", reads={"Pod", "Node", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet"})
def cpu_throttled(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Containers CPUThrottlingHigh reports throttled at their CPU limit; the fix doubles the limit when
    the pod's node has that much allocatable CPU."""
    out: dict[tuple[str, str], Finding] = {}
    for labels in _alerts(reads, "CPUThrottlingHigh", scope):
        ns, pod_name, cname = labels.get("namespace"), labels.get("pod", ""), labels.get("container", "")
        pod = reads.find("Pod", ns, pod_name)
        if pod is None:
            continue
        container = next((c for c in (pod.get("spec") or {}).get("containers") or [] if c.get("name") == cname), None)
        limit = (
            quantity(((container or {}).get("resources") or {}).get("limits", {}).get("cpu", "")) if container else None
        )
        if not limit:
            continue
        top = reads.owner(pod)
        kind, owner_ns, owner_name = top if top else ("Pod", ns, pod_name)
        if (kind, owner_name) in out:
            continue
        evidence = [
            f"alert CPUThrottlingHigh: pod {pod_name} container {cname}",
            f"spec.containers[{cname}].resources.limits.cpu={_cores(limit)}",
        ]
        cause = f"container {cname} is throttled at its CPU limit of {_cores(limit)}: it needs more CPU than it may use"
        fix: dict | None = None
        node = reads.find("Node", None, (pod.get("spec") or {}).get("nodeName", ""))
        allocatable = (
            quantity(((node or {}).get("status") or {}).get("allocatable", {}).get("cpu", "")) if node else None
        )
        wanted = limit * 2
        if kind in ("Deployment", "StatefulSet", "DaemonSet") and allocatable and wanted <= allocatable:
            rationale = f"double the CPU limit to {_cores(wanted)}: the node has {_cores(allocatable)} allocatable CPU"
            fix = {
                "action": "set_resources",
                "args": {
                    "kind": kind,
                    "name": owner_name,
                    "namespace": owner_ns,
                    "container": cname,
                    "limits": {"cpu": _cores(wanted)},
                },
                "rationale": rationale,
            }
            evidence.append(rationale)
        owner = ref(kind, owner_ns, owner_name)
        out[(kind, owner_name)] = Finding(
            kind,
            owner_ns,
            owner_name,
            cause,
            evidence,
            "high",
            f"spec.template.spec.containers[{cname}].resources.limits.cpu",
            explains=[ref("Pod", ns, pod_name)] if owner != ref("Pod", ns, pod_name) else [],
            fix=fix,
        )
    return list(out.values())


@analyzer("HorizontalPodAutoscaler", name="hpa_maxed_out", reads={"HorizontalPodAutoscaler"})
def hpa_maxed_out(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Autoscalers KubeHpaMaxedOut reports at their maximum: demand exceeds what they may scale to."""
    out: list[Finding] = []
    for labels in _alerts(reads, "KubeHpaMaxedOut", scope):
        hpa = reads.find("HorizontalPodAutoscaler", labels.get("namespace"), labels.get("horizontalpodautoscaler", ""))
        if hpa is None:
            continue
        spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
        evidence = [
            f"alert KubeHpaMaxedOut: {name_of(hpa)}",
            f"status.currentReplicas={status.get('currentReplicas')} spec.maxReplicas={spec.get('maxReplicas')}",
        ]
        target = spec.get("scaleTargetRef") or {}
        cause = (
            f"the autoscaler has run at its maximum of {spec.get('maxReplicas')} replicas: "
            f"{quote(target.get('kind'))} {quote(target.get('name'))} needs more than it may scale to"
        )
        explains = [ref(str(target.get("kind")), ns_of(hpa), str(target.get("name")))] if target.get("name") else []
        kind = "HorizontalPodAutoscaler"
        out.append(
            Finding(kind, ns_of(hpa), name_of(hpa), cause, evidence, "high", "spec.maxReplicas", explains=explains)
        )
    return out
