"""Short, kind-specific summaries of objects for `list_resources` (and the shared pieces `describe` uses).

Each summary is the handful of fields that tell an SRE whether that object could be the culprit: a
Service's selector and ports and how many endpoints are ready, a NetworkPolicy's selector and rule
counts, a quota's hard limits against usage, an HPA's bounds and metrics, a Node's schedulability.
"""

from __future__ import annotations

from typing import Any

from .events import event_row
from .redact import secret_sizes
from .rows import condition


def service_ports(svc: dict) -> list[dict[str, Any]]:
    return [
        {"port": p.get("port"), "targetPort": p.get("targetPort", p.get("port")), "name": p.get("name")}
        for p in (svc.get("spec") or {}).get("ports") or []
    ]


def endpoint_addresses(endpoints: dict | None) -> dict[str, list[str]]:
    ready: list[str] = []
    not_ready: list[str] = []
    for subset in (endpoints or {}).get("subsets") or []:
        ready += [a.get("ip", "") for a in subset.get("addresses") or []]
        not_ready += [a.get("ip", "") for a in subset.get("notReadyAddresses") or []]
    return {"ready": ready, "not_ready": not_ready}


def service_summary(svc: dict, endpoints: dict | None) -> dict[str, Any]:
    spec = svc.get("spec") or {}
    return {
        "type": spec.get("type", "ClusterIP"),
        "selector": spec.get("selector") or {},
        "ports": service_ports(svc),
        "endpoints_ready": len(endpoint_addresses(endpoints)["ready"]),
    }


def endpoints_summary(ep: dict) -> dict[str, Any]:
    addresses = endpoint_addresses(ep)
    ports = sorted({p.get("port") for s in ep.get("subsets") or [] for p in s.get("ports") or []} - {None})
    return {"ready": len(addresses["ready"]), "not_ready": len(addresses["not_ready"]), "ports": ports}


def network_policy_summary(np: dict) -> dict[str, Any]:
    spec = np.get("spec") or {}
    return {
        "podSelector": selector_text(spec.get("podSelector")),
        "policyTypes": spec.get("policyTypes") or ["Ingress"],
        "ingress_rules": len(spec.get("ingress") or []),
        "egress_rules": len(spec.get("egress") or []),
    }


def quota_summary(q: dict) -> dict[str, Any]:
    return {"hard": (q.get("spec") or {}).get("hard") or {}, "used": (q.get("status") or {}).get("used") or {}}


def hpa_summary(h: dict) -> dict[str, Any]:
    spec, status = h.get("spec") or {}, h.get("status") or {}
    target = spec.get("scaleTargetRef") or {}
    return {
        "target": f"{target.get('kind')}/{target.get('name')}",
        "min": spec.get("minReplicas", 1),
        "max": spec.get("maxReplicas"),
        "current": status.get("currentReplicas"),
        "desired": status.get("desiredReplicas"),
        "metrics": hpa_metrics(h),
    }


def hpa_metrics(h: dict) -> list[dict[str, Any]]:
    """[{name, target: "80% utilization", current: "35%"}] for every metric in the spec."""
    current = {_metric_name(m): m for m in (h.get("status") or {}).get("currentMetrics") or []}
    out = []
    for m in (h.get("spec") or {}).get("metrics") or []:
        name = _metric_name(m)
        body = m.get(_metric_key(m)) or {}
        now = (current.get(name) or {}).get(_metric_key(m)) or {}
        out.append({"name": name, "target": _target_text(body.get("target") or {}), "current": _value_text(now)})
    return out


def _metric_key(m: dict) -> str:
    t = str(m.get("type", "Resource"))
    return t[:1].lower() + t[1:]


def _metric_name(m: dict) -> str:
    body = m.get(_metric_key(m)) or {}
    return str(body.get("name") or (body.get("metric") or {}).get("name") or m.get("type"))


def _target_text(t: dict) -> str:
    if "averageUtilization" in t:
        return f"{t['averageUtilization']}% utilization"
    if "averageValue" in t:
        return f"{t['averageValue']} average"
    if "value" in t:
        return str(t["value"])
    return "unset"


def _value_text(cur: dict) -> str | None:
    c = cur.get("current") or {}
    if "averageUtilization" in c:
        return f"{c['averageUtilization']}%"
    return c.get("averageValue") or c.get("value")


def node_summary(node: dict) -> dict[str, Any]:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    return {
        "unschedulable": bool(spec.get("unschedulable", False)),
        "taints": taint_texts(spec.get("taints")),
        "ready": condition(node, "Ready").get("status") == "True",
        "allocatable": {k: v for k, v in (status.get("allocatable") or {}).items() if k in ("cpu", "memory", "pods")},
    }


def taint_texts(taints: list[dict] | None) -> list[str]:
    out = []
    for t in taints or []:
        value = f"={t['value']}" if t.get("value") else ""
        out.append(f"{t.get('key')}{value}:{t.get('effect')}")
    return out


def pvc_summary(pvc: dict) -> dict[str, Any]:
    spec = pvc.get("spec") or {}
    return {
        "phase": (pvc.get("status") or {}).get("phase", "Pending"),
        "storageClassName": spec.get("storageClassName"),
        "request": ((spec.get("resources") or {}).get("requests") or {}).get("storage"),
        "volumeName": spec.get("volumeName"),
    }


def configmap_summary(cm: dict) -> dict[str, Any]:
    return {"keys": sorted((cm.get("data") or {}).keys()) + sorted((cm.get("binaryData") or {}).keys())}


def secret_summary(secret: dict) -> dict[str, Any]:
    return {"type": secret.get("type", "Opaque"), "keys": sorted(secret_sizes(secret))}


def priority_class_summary(pc: dict) -> dict[str, Any]:
    return {
        "value": pc.get("value"),
        "preemptionPolicy": pc.get("preemptionPolicy", "PreemptLowerPriority"),
        "globalDefault": bool(pc.get("globalDefault", False)),
    }


def replica_set_summary(rs: dict) -> dict[str, Any]:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    owners = [f"{r.get('kind')}/{r.get('name')}" for r in (rs["metadata"].get("ownerReferences") or [])]
    return {
        "desired": spec.get("replicas", 1),
        "ready": status.get("readyReplicas", 0),
        "owner": owners[0] if owners else None,
        "revision": (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision"),
    }


def namespace_summary(ns: dict) -> dict[str, Any]:
    return {"phase": (ns.get("status") or {}).get("phase", "Active")}


def selector_text(selector: dict | None) -> dict[str, Any]:
    """A LabelSelector as a compact dict: matchLabels, plus expressions when present."""
    selector = selector or {}
    out: dict[str, Any] = dict(selector.get("matchLabels") or {})
    for e in selector.get("matchExpressions") or []:
        out[f"{e.get('key')} {e.get('operator')}"] = e.get("values") or []
    return out


SIMPLE: dict[str, Any] = {
    "Endpoints": endpoints_summary,
    "NetworkPolicy": network_policy_summary,
    "ResourceQuota": quota_summary,
    "HorizontalPodAutoscaler": hpa_summary,
    "Node": node_summary,
    "PersistentVolumeClaim": pvc_summary,
    "ConfigMap": configmap_summary,
    "Secret": secret_summary,
    "PriorityClass": priority_class_summary,
    "ReplicaSet": replica_set_summary,
    "Namespace": namespace_summary,
    "Event": event_row,
}
