"""Responses in the version a client asked for, when a group serves an older version of a kind.

Objects are stored in one version (resources.EXTRA_VERSIONS maps the others to it). A typed client
that asked autoscaling/v1 decodes the answer as v1, so it gets the v1 shape back, as the API server
converts on the way out.
"""

from __future__ import annotations

import copy


def hpa_v2_to_v1(obj: dict) -> dict:
    """An autoscaling/v2 HorizontalPodAutoscaler as autoscaling/v1: CPU utilisation is its one metric."""
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v1"
    spec = out.get("spec") or {}
    metrics = spec.pop("metrics", None) or []
    spec.pop("behavior", None)
    for m in metrics:
        resource = m.get("resource") or {}
        target = resource.get("target") or {}
        if m.get("type") == "Resource" and resource.get("name") == "cpu" and "averageUtilization" in target:
            spec["targetCPUUtilizationPercentage"] = target["averageUtilization"]
    status = obj.get("status") or {}
    v1_status = {k: status[k] for k in ("observedGeneration", "lastScaleTime") if k in status}
    v1_status["currentReplicas"] = status.get("currentReplicas", 0)
    v1_status["desiredReplicas"] = status.get("desiredReplicas", 0)
    for m in status.get("currentMetrics") or []:
        resource = m.get("resource") or {}
        current = resource.get("current") or {}
        if resource.get("name") == "cpu" and "averageUtilization" in current:
            v1_status["currentCPUUtilizationPercentage"] = current["averageUtilization"]
    out["status"] = v1_status
    return out


CONVERTERS = {("autoscaling", "v1", "HorizontalPodAutoscaler"): hpa_v2_to_v1}


def to_version(obj: dict, group: str, version: str) -> dict:
    convert = CONVERTERS.get((group, version, obj.get("kind", "")))
    return convert(obj) if convert else obj
