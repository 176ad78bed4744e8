"""How objects relate, read fresh: a workload's pods and Services, a Service's pods, and which workloads a
NetworkPolicy, ResourceQuota, HPA, Node, Secret, ConfigMap, PersistentVolumeClaim or Ingress affects."""

from __future__ import annotations

from ..tools.ingresses import backends
from .kube import (
    deleting,
    meta,
    owned_by,
    selector_matches,
    service_selects,
    spec,
    status,
    template_labels,
)
from .reads import Reads
from .targets import WORKLOAD_KINDS, Target

WORKLOAD_ORDER = ("Deployment", "StatefulSet", "DaemonSet")


def live(objs: list[dict]) -> list[dict]:
    """Objects not on their way out (a terminating pod is being replaced, it no longer counts)."""
    return [o for o in objs if not deleting(o)]


def workload_target(obj: dict) -> Target:
    return Target(meta(obj).get("namespace"), obj.get("kind") or "", meta(obj).get("name"))


def workload_pods(reads: Reads, workload: dict) -> list[dict]:
    """The pods the workload's controller owns (Deployment → its ReplicaSets → pods)."""
    ns = meta(workload).get("namespace")
    uids = {meta(workload).get("uid")}
    if workload.get("kind") == "Deployment":
        uids = {meta(rs).get("uid") for rs in reads.list("ReplicaSet", ns) if owned_by(rs, uids)}
    return [p for p in live(reads.list("Pod", ns)) if owned_by(p, uids)]


def workloads_in(reads: Reads, namespace: str, kinds: tuple[str, ...] = WORKLOAD_ORDER) -> list[dict]:
    out = []
    for kind in kinds:
        for obj in reads.list(kind, namespace):
            obj.setdefault("kind", kind)  # list items may omit kind
            out.append(obj)
    return out


def services_of(reads: Reads, workload: dict) -> list[dict]:
    labels = template_labels(workload)
    ns = meta(workload).get("namespace")
    return [s for s in reads.list("Service", ns) if service_selects(spec(s).get("selector"), labels)]


def pods_of_service(reads: Reads, service: dict) -> list[dict]:
    selector = spec(service).get("selector")
    ns = meta(service).get("namespace")
    return [p for p in live(reads.list("Pod", ns)) if service_selects(selector, meta(p).get("labels"))]


def wanted(workload: dict) -> bool:
    """A workload someone wants running (replicas >= 1); DaemonSets always are."""
    return workload.get("kind") == "DaemonSet" or int(spec(workload).get("replicas", 1) or 0) >= 1


# ---------------------------------------------------------------------------------------------- affected
def affected_workloads(reads: Reads, target: Target, namespaces: list[str]) -> list[Target] | None:
    """The workloads a remediated object acts on, or None when that cannot be resolved (e.g. it was deleted)."""
    kind = target.kind
    if kind in WORKLOAD_KINDS:
        return [target]
    if kind == "Pod":
        pod = reads.get("Pod", target.namespace, target.name or "")
        return None if pod is None else _owners_of(reads, pod)
    if kind == "Service":
        svc = reads.get("Service", target.namespace, target.name or "")
        if svc is None:
            return None
        selector = spec(svc).get("selector")
        return [
            workload_target(w)
            for w in workloads_in(reads, target.namespace or "")
            if service_selects(selector, template_labels(w))
        ]
    if kind == "NetworkPolicy":
        policy = reads.get("NetworkPolicy", target.namespace, target.name or "")
        if policy is None:
            return None
        selector = spec(policy).get("podSelector")
        return [
            workload_target(w)
            for w in workloads_in(reads, target.namespace or "")
            if wanted(w) and selector_matches(selector, template_labels(w))
        ]
    if kind == "ResourceQuota":
        # A quota admits or rejects every pod of its namespace.
        return [workload_target(w) for w in workloads_in(reads, target.namespace or "") if wanted(w)]
    if kind == "HorizontalPodAutoscaler":
        hpa = reads.get("HorizontalPodAutoscaler", target.namespace, target.name or "")
        if hpa is None:
            return None
        ref = spec(hpa).get("scaleTargetRef") or {}
        return [Target(target.namespace, ref.get("kind") or "Deployment", ref.get("name"))] if ref.get("name") else []
    if kind == "Node":
        return _workloads_on_node(reads, target.name or "", namespaces)
    if kind == "PersistentVolumeClaim":
        return [
            workload_target(w)
            for w in workloads_in(reads, target.namespace or "")
            if wanted(w) and _claims(w, target.name or "")
        ]
    if kind == "Ingress":
        ing = reads.get("Ingress", target.namespace, target.name or "")
        if ing is None:
            return None
        names = {str((b.get("service") or {}).get("name")) for _, b in backends(ing) if b.get("service")}
        out: list[Target] = []
        for svc in reads.list("Service", target.namespace):
            if meta(svc).get("name") in names:
                selector = spec(svc).get("selector")
                out += [
                    workload_target(w)
                    for w in workloads_in(reads, target.namespace or "")
                    if service_selects(selector, template_labels(w))
                ]
        return list(dict.fromkeys(out))
    if kind in ("Job", "CronJob"):
        return []  # a Job's pods are not a workload's: job_complete judges them
    if kind in ("Secret", "ConfigMap"):
        return [
            workload_target(w)
            for w in workloads_in(reads, target.namespace or "")
            if wanted(w) and _references(w, kind, target.name or "")
        ]
    return None


def _owners_of(reads: Reads, pod: dict) -> list[Target]:
    ns = meta(pod).get("namespace")
    for ref in meta(pod).get("ownerReferences") or []:
        if ref.get("kind") in WORKLOAD_KINDS:
            return [Target(ns, ref["kind"], ref.get("name"))]
        if ref.get("kind") == "ReplicaSet":
            rs = reads.get("ReplicaSet", ns, ref.get("name") or "")
            for up in meta(rs or {}).get("ownerReferences") or []:
                if up.get("kind") == "Deployment":
                    return [Target(ns, "Deployment", up.get("name"))]
    return []


def _workloads_on_node(reads: Reads, node: str, namespaces: list[str]) -> list[Target]:
    """Workloads with a pod on the node, or with a pod no node took (a cordon strands those)."""
    out: list[Target] = []
    for ns in namespaces:
        for w in workloads_in(reads, ns):
            if not wanted(w):
                continue
            pods = workload_pods(reads, w)
            on_node = any(spec(p).get("nodeName") == node for p in pods)
            stranded = any(not spec(p).get("nodeName") and status(p).get("phase") == "Pending" for p in pods)
            if on_node or stranded:
                out.append(workload_target(w))
    return out


def _references(workload: dict, kind: str, name: str) -> bool:
    pod_spec = spec(spec(workload).get("template") or {})
    key = "secretRef" if kind == "Secret" else "configMapRef"
    key_ref = "secretKeyRef" if kind == "Secret" else "configMapKeyRef"
    for c in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []):
        if any((e.get(key) or {}).get("name") == name for e in c.get("envFrom") or []):
            return True
        if any(((e.get("valueFrom") or {}).get(key_ref) or {}).get("name") == name for e in c.get("env") or []):
            return True
    for v in pod_spec.get("volumes") or []:
        if kind == "Secret" and (v.get("secret") or {}).get("secretName") == name:
            return True
        if kind == "ConfigMap" and (v.get("configMap") or {}).get("name") == name:
            return True
        for source in (v.get("projected") or {}).get("sources") or []:
            if (source.get("secret" if kind == "Secret" else "configMap") or {}).get("name") == name:
                return True
    return False


def _claims(workload: dict, claim: str) -> bool:
    """The workload mounts the claim: by a volume, or (a StatefulSet) as one of its templates' claims."""
    pod_spec = spec(spec(workload).get("template") or {})
    if any((v.get("persistentVolumeClaim") or {}).get("claimName") == claim for v in pod_spec.get("volumes") or []):
        return True
    name = meta(workload).get("name")
    return any(
        claim.startswith(f"{meta(t).get('name')}-{name}-") for t in spec(workload).get("volumeClaimTemplates") or []
    )
