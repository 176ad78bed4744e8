"""Prometheus and Alertmanager for the simulated cluster: scrapes, PromQL queries and alert rules.

`Observability.scrape()` runs at every virtual step. It records one scrape at `cluster.now()` into a
bounded history (HISTORY_SECONDS), so range functions (`rate`, `changes`, `max_over_time`) work, then
evaluates the alert rules (one of `orchestrator/sim/rules/*.yaml`) with Prometheus semantics: an alert is
pending while `for:` has not elapsed, then firing; it resolves as soon as its expression stops
returning the series.

Series (label names as kube-state-metrics and cAdvisor use them):

* pods: kube_pod_info, kube_pod_owner{owner_kind,owner_name,owner_is_controller}, kube_pod_created,
  kube_pod_status_phase{phase}, kube_pod_status_ready{condition=true|false|unknown},
  kube_pod_status_scheduled{condition}, kube_pod_status_reason{reason}, kube_pod_deletion_timestamp,
  kube_pod_container_info{container,image}, kube_pod_container_status_{waiting,running,terminated,ready},
  kube_pod_container_status_waiting_reason{reason}, kube_pod_container_status_terminated_reason,
  kube_pod_container_status_last_terminated_reason, kube_pod_container_status_last_terminated_exitcode,
  kube_pod_container_status_restarts_total, kube_pod_init_container_status_waiting_reason,
  kube_pod_init_container_status_restarts_total,
  kube_pod_container_resource_{requests,limits}{container,node,resource,unit};
* node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate{namespace,pod,container,node}:
  kube-prometheus' record of each running container's CPU usage;
* namespace_workload_pod:kube_pod_owner:relabel{namespace,pod,workload,workload_type}: the pod ->
  Deployment/StatefulSet/DaemonSet map kube-prometheus records (bare pods: workload_type="pod");
* workloads: kube_deployment_{spec_replicas,status_replicas,status_replicas_available,
  status_replicas_unavailable,status_replicas_updated,status_replicas_ready,metadata_generation,
  status_observed_generation,spec_paused}, kube_deployment_status_condition{condition,status},
  kube_statefulset_{replicas,status_replicas,status_replicas_ready,status_replicas_current,
  status_replicas_updated,status_replicas_available,metadata_generation,status_observed_generation},
  kube_daemonset_status_{desired_number_scheduled,current_number_scheduled,number_ready,
  number_available,number_unavailable,number_misscheduled,updated_number_scheduled},
  kube_replicaset_{spec_replicas,status_replicas,status_ready_replicas,owner};
* kube_horizontalpodautoscaler_{info{scaletargetref_kind,scaletargetref_name},spec_max_replicas,
  spec_min_replicas,status_current_replicas,status_desired_replicas,status_condition{condition,status}};
* kube_node_{info,spec_unschedulable,status_condition{condition,status},status_capacity,
  status_allocatable{resource,unit},spec_taint{key,value,effect}}, kube_namespace_status_phase{phase},
  kube_resourcequota{resourcequota,resource,type=hard|used}, kube_service_info{cluster_ip,type},
  kube_endpoint_address_available, kube_endpoint_address_not_ready,
  kube_persistentvolumeclaim_status_phase{phase};
* containers (cAdvisor): container_memory_working_set_bytes, container_cpu_usage_seconds_total (a real
  counter: use rate()), container_spec_memory_limit_bytes, and for a container with a CPU limit the
  counters container_cpu_cfs_periods_total, container_cpu_cfs_throttled_periods_total and
  container_cpu_cfs_throttled_seconds_total, all {namespace,pod,container,node,image};
* applications, per {namespace,service} of each installed application (the load generator excluded):
  app_requests_per_second, app_errors_per_second, app_request_latency_p95_seconds (only while the
  service receives requests), app_expected_requests_per_second (what the model's call graph sends it
  when healthy; 0 = not part of the graph), app_requests_total and app_errors_total (counters), and per
  {namespace,service,callee}: app_calls_per_second, app_call_errors_per_second;
* scrape targets: up{job,namespace,service,instance} for the API server and kube-state-metrics (1), each
  node's kubelet (job="kubelet", node; 1 while Ready) and each endpoint address of the installed
  applications' Services (job=service, pod; 0 while not ready);
* ALERTS{alertname,alertstate,...} and ALERTS_FOR_STATE, as Prometheus writes them.

Rules: one of RULE_SETS, as the cluster's `alert_rules` says ("library" unless asked otherwise), with
every `for:` multiplied by its `alert_for_scale`. Rules may name series the simulator does not produce
(e.g. kubelet_volume_stats_*): they simply never fire.

HTTP (added by `add_routes`): Prometheus /api/v1/{query,query_range,alerts,rules,labels,
label/<name>/values,series,status/buildinfo} and Alertmanager /api/v2/{alerts,alerts/groups,status,
silences,receivers}.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources as importlib_resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .clock import parse_rfc3339
from .controllers.kubelet import Kubelet, _kubelet_of, throttle_factor
from .controllers.quota import container_amount
from .ingress_traffic import ingress_rates
from .objects import quantity
from .promql import (
    Expr,
    HistorySource,
    PromQLError,
    Sample,
    SampleIndex,
    VectorSelector,
    evaluate,
    float_sample,
    format_value,
    group_by_name,
    instant_inputs,
    parse,
    parse_duration,
    to_prometheus_json,
)
from .runtime.cfs import CfsCounters
from .traffic import pod_workload
from .yamlfast import load_yaml_fast

if TYPE_CHECKING:
    from aiohttp import web

    from .cluster import Cluster

HISTORY_SECONDS = 1800.0  # 30 virtual minutes of scrapes
LOOKBACK_SECONDS = 300.0  # Prometheus' staleness window
RULES_PACKAGE = "orchestrator.sim.rules"
# The built-in rule sets (files of RULES_PACKAGE): kube-prometheus' rules with their real `for:`, and the
# compressed set the scenario library, the ITBench scenarios and the calibrated bench were tuned with.
RULE_SETS = {"kube-prometheus": "alerts.yaml", "library": "library.yaml"}
PROMETHEUS_VERSION = "2.53.0"
ALERTMANAGER_VERSION = "0.27.0"
MAX_RANGE_POINTS = 11000
USAGE_REFRESH_SECONDS = 15.0
RESEND_SECONDS = 60.0  # Prometheus re-sends firing alerts every minute; endsAt is 4 of those ahead
EVALUATION_SECONDS = 5.0  # rules run after every scrape, i.e. every virtual step

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
POD_REASONS = ("Evicted", "NodeAffinity", "NodeLost", "Shutdown", "UnexpectedAdmissionError")


# ================================================================================== metric collection
def _unit(resource: str) -> tuple[str, str]:
    """kube-state-metrics' (resource, unit) label pair for a resource name."""
    if resource == "cpu":
        return "cpu", "core"
    if resource in ("memory", "ephemeral-storage", "storage") or resource.startswith(
        ("requests.memory", "limits.memory")
    ):
        return resource.replace("-", "_"), "byte"
    return resource.replace("-", "_").replace(".", "_").replace("/", "_"), "integer"


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


def _pod_samples(pod: dict) -> list[Sample]:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    base = {"namespace": meta["namespace"], "pod": meta["name"], "uid": meta["uid"]}
    node = spec.get("nodeName") or ""
    out: list[Sample] = []
    owners = meta.get("ownerReferences") or []
    ctrl = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    out.append(
        Sample(
            "kube_pod_info",
            {
                **base,
                "host_ip": status.get("hostIP", ""),
                "pod_ip": status.get("podIP", ""),
                "node": node,
                "created_by_kind": ctrl.get("kind", "<none>") if ctrl else "<none>",
                "created_by_name": ctrl.get("name", "<none>") if ctrl else "<none>",
                "priority_class": spec.get("priorityClassName", ""),
                "host_network": "true" if spec.get("hostNetwork") else "false",
            },
            1,
        )
    )
    for o in owners or [None]:
        labels = {**base, "owner_kind": "<none>", "owner_name": "<none>", "owner_is_controller": "<none>"}
        if o:
            labels |= {
                "owner_kind": o.get("kind", ""),
                "owner_name": o.get("name", ""),
                "owner_is_controller": str(bool(o.get("controller"))).lower(),
            }
        out.append(Sample("kube_pod_owner", labels, 1))
    wl = pod_workload(pod)
    kind, name = wl if wl else ("Pod", meta["name"])
    out.append(
        Sample(
            "namespace_workload_pod:kube_pod_owner:relabel",
            {"namespace": meta["namespace"], "pod": meta["name"], "workload": name, "workload_type": kind.lower()},
            1,
        )
    )
    created = _ts(meta.get("creationTimestamp"))
    if created is not None:
        out.append(Sample("kube_pod_created", base, created))
    deleted = _ts(meta.get("deletionTimestamp"))
    if deleted is not None:
        out.append(Sample("kube_pod_deletion_timestamp", base, deleted))
    phase = status.get("phase", "Pending")
    out.extend(Sample("kube_pod_status_phase", {**base, "phase": p}, 1 if p == phase else 0) for p in PHASES)
    conds = {c.get("type"): c.get("status") for c in status.get("conditions") or ()}
    for ctype, metric in (("Ready", "kube_pod_status_ready"), ("PodScheduled", "kube_pod_status_scheduled")):
        if ctype in conds:
            cur = str(conds[ctype]).lower()
            out.extend(
                Sample(metric, {**base, "condition": c}, 1 if c == cur else 0) for c in ("true", "false", "unknown")
            )
    if status.get("reason") in POD_REASONS:
        out.extend(
            Sample("kube_pod_status_reason", {**base, "reason": r}, 1 if r == status.get("reason") else 0)
            for r in POD_REASONS
        )
    for cont in spec.get("containers") or ():
        out.extend(_container_resources(base, node, cont))
    out.extend(_container_statuses(base, status.get("containerStatuses") or (), ""))
    out.extend(_container_statuses(base, status.get("initContainerStatuses") or (), "init_"))
    return out


def _container_resources(base: dict, node: str, cont: dict) -> list[Sample]:
    out = []
    res = cont.get("resources") or {}
    for kind in ("requests", "limits"):
        for rname, qty in (res.get(kind) or {}).items():
            v = quantity(qty, None)
            if v is None:
                continue
            resource, unit = _unit(rname)
            labels = {**base, "container": cont.get("name", ""), "node": node, "resource": resource, "unit": unit}
            out.append(Sample(f"kube_pod_container_resource_{kind}", labels, v))
    return out


def _container_statuses(base: dict, statuses: Iterable[dict], prefix: str) -> list[Sample]:
    out = []
    m = f"kube_pod_{prefix}container"
    for cs in statuses:
        labels = {**base, "container": cs.get("name", "")}
        state = cs.get("state") or {}
        last = cs.get("lastState") or {}
        if not prefix:
            out.append(
                Sample(
                    f"{m}_info",
                    {
                        **labels,
                        "image": cs.get("image", ""),
                        "image_id": cs.get("imageID", ""),
                        "container_id": cs.get("containerID", ""),
                    },
                    1,
                )
            )
            out.append(Sample(f"{m}_status_ready", labels, 1 if cs.get("ready") else 0))
            out.append(Sample(f"{m}_status_running", labels, 1 if "running" in state else 0))
            out.append(Sample(f"{m}_status_terminated", labels, 1 if "terminated" in state else 0))
        out.append(Sample(f"{m}_status_waiting", labels, 1 if "waiting" in state else 0))
        out.append(Sample(f"{m}_status_restarts_total", labels, float(cs.get("restartCount", 0))))
        if "waiting" in state and (state["waiting"] or {}).get("reason"):
            out.append(Sample(f"{m}_status_waiting_reason", {**labels, "reason": state["waiting"]["reason"]}, 1))
        if "terminated" in state and (state["terminated"] or {}).get("reason"):
            out.append(Sample(f"{m}_status_terminated_reason", {**labels, "reason": state["terminated"]["reason"]}, 1))
        term = last.get("terminated") or {}
        if term.get("reason"):
            out.append(Sample(f"{m}_status_last_terminated_reason", {**labels, "reason": term["reason"]}, 1))
            if not prefix:
                out.append(Sample(f"{m}_status_last_terminated_exitcode", labels, float(term.get("exitCode", 0))))
    return out


def _condition_samples(metric: str, base: dict, conditions: Iterable[dict]) -> list[Sample]:
    out: list[Sample] = []
    for c in conditions:
        cur = str(c.get("status", "Unknown")).lower()
        out.extend(
            Sample(metric, {**base, "condition": c.get("type", ""), "status": s}, 1 if s == cur else 0)
            for s in ("true", "false", "unknown")
        )
    return out


def _deployment_samples(obj: dict) -> list[Sample]:
    meta, spec, st = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    base = {"namespace": meta["namespace"], "deployment": meta["name"]}
    values = {
        "kube_deployment_spec_replicas": spec.get("replicas", 1),
        "kube_deployment_spec_paused": 1 if spec.get("paused") else 0,
        "kube_deployment_status_replicas": st.get("replicas", 0),
        "kube_deployment_status_replicas_available": st.get("availableReplicas", 0),
        "kube_deployment_status_replicas_unavailable": st.get("unavailableReplicas", 0),
        "kube_deployment_status_replicas_updated": st.get("updatedReplicas", 0),
        "kube_deployment_status_replicas_ready": st.get("readyReplicas", 0),
        "kube_deployment_metadata_generation": meta.get("generation", 0),
        "kube_deployment_status_observed_generation": st.get("observedGeneration", 0),
    }
    out = [Sample(k, base, float(v or 0)) for k, v in values.items()]
    return out + _condition_samples("kube_deployment_status_condition", base, st.get("conditions") or ())


def _statefulset_samples(obj: dict) -> list[Sample]:
    meta, spec, st = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    base = {"namespace": meta["namespace"], "statefulset": meta["name"]}
    values = {
        "kube_statefulset_replicas": spec.get("replicas", 1),
        "kube_statefulset_status_replicas": st.get("replicas", 0),
        "kube_statefulset_status_replicas_ready": st.get("readyReplicas", 0),
        "kube_statefulset_status_replicas_current": st.get("currentReplicas", 0),
        "kube_statefulset_status_replicas_updated": st.get("updatedReplicas", 0),
        "kube_statefulset_status_replicas_available": st.get("availableReplicas", 0),
        "kube_statefulset_metadata_generation": meta.get("generation", 0),
        "kube_statefulset_status_observed_generation": st.get("observedGeneration", 0),
    }
    out = [Sample(k, base, float(v or 0)) for k, v in values.items()]
    for key, metric in (("currentRevision", "current_revision"), ("updateRevision", "update_revision")):
        if st.get(key):
            out.append(Sample(f"kube_statefulset_status_{metric}", {**base, "revision": st[key]}, 1))
    return out


def _daemonset_samples(obj: dict) -> list[Sample]:
    meta, st = obj["metadata"], obj.get("status") or {}
    base = {"namespace": meta["namespace"], "daemonset": meta["name"]}
    fields = {
        "desired_number_scheduled": "desiredNumberScheduled",
        "current_number_scheduled": "currentNumberScheduled",
        "number_ready": "numberReady",
        "number_available": "numberAvailable",
        "number_unavailable": "numberUnavailable",
        "number_misscheduled": "numberMisscheduled",
        "updated_number_scheduled": "updatedNumberScheduled",
    }
    return [Sample(f"kube_daemonset_status_{k}", base, float(st.get(v, 0) or 0)) for k, v in fields.items()]


def _replicaset_samples(obj: dict) -> list[Sample]:
    meta, spec, st = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    base = {"namespace": meta["namespace"], "replicaset": meta["name"]}
    out = [
        Sample("kube_replicaset_spec_replicas", base, float(spec.get("replicas", 1) or 0)),
        Sample("kube_replicaset_status_replicas", base, float(st.get("replicas", 0) or 0)),
        Sample("kube_replicaset_status_ready_replicas", base, float(st.get("readyReplicas", 0) or 0)),
    ]
    for o in meta.get("ownerReferences") or ():
        labels = {
            **base,
            "owner_kind": o.get("kind", ""),
            "owner_name": o.get("name", ""),
            "owner_is_controller": str(bool(o.get("controller"))).lower(),
        }
        out.append(Sample("kube_replicaset_owner", labels, 1))
    return out


def _hpa_samples(obj: dict) -> list[Sample]:
    meta, spec, st = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    base = {"namespace": meta["namespace"], "horizontalpodautoscaler": meta["name"]}
    ref = spec.get("scaleTargetRef") or {}
    info = {
        **base,
        "scaletargetref_api_version": ref.get("apiVersion", ""),
        "scaletargetref_kind": ref.get("kind", ""),
        "scaletargetref_name": ref.get("name", ""),
    }
    out = [
        Sample("kube_horizontalpodautoscaler_info", info, 1),
        Sample("kube_horizontalpodautoscaler_spec_max_replicas", base, float(spec.get("maxReplicas", 0) or 0)),
        Sample("kube_horizontalpodautoscaler_spec_min_replicas", base, float(spec.get("minReplicas", 1) or 1)),
        Sample("kube_horizontalpodautoscaler_status_current_replicas", base, float(st.get("currentReplicas", 0) or 0)),
        Sample("kube_horizontalpodautoscaler_status_desired_replicas", base, float(st.get("desiredReplicas", 0) or 0)),
    ]
    return out + _condition_samples("kube_horizontalpodautoscaler_status_condition", base, st.get("conditions") or ())


def _node_samples(obj: dict) -> list[Sample]:
    meta, spec, st = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    base = {"node": meta["name"]}
    ni = st.get("nodeInfo") or {}
    ip = next((a.get("address", "") for a in st.get("addresses") or () if a.get("type") == "InternalIP"), "")
    info = {
        **base,
        "kernel_version": ni.get("kernelVersion", ""),
        "os_image": ni.get("osImage", ""),
        "container_runtime_version": ni.get("containerRuntimeVersion", ""),
        "kubelet_version": ni.get("kubeletVersion", ""),
        "kubeproxy_version": ni.get("kubeProxyVersion", ""),
        "internal_ip": ip,
        "pod_cidr": spec.get("podCIDR", ""),
    }
    out = [
        Sample("kube_node_info", info, 1),
        Sample("kube_node_spec_unschedulable", base, 1 if spec.get("unschedulable") else 0),
    ]
    for t in spec.get("taints") or ():
        out.append(
            Sample(
                "kube_node_spec_taint",
                {**base, "key": t.get("key", ""), "value": t.get("value", ""), "effect": t.get("effect", "")},
                1,
            )
        )
    for kind in ("capacity", "allocatable"):
        for rname, qty in (st.get(kind) or {}).items():
            v = quantity(qty, None)
            if v is not None:
                resource, unit = _unit(rname)
                out.append(Sample(f"kube_node_status_{kind}", {**base, "resource": resource, "unit": unit}, v))
    return out + _condition_samples("kube_node_status_condition", base, st.get("conditions") or ())


def _namespace_samples(obj: dict) -> list[Sample]:
    phase = (obj.get("status") or {}).get("phase", "Active")
    base = {"namespace": obj["metadata"]["name"]}
    return [
        Sample("kube_namespace_status_phase", {**base, "phase": p}, 1 if p == phase else 0)
        for p in ("Active", "Terminating")
    ]


def _quota_samples(obj: dict) -> list[Sample]:
    meta, st = obj["metadata"], obj.get("status") or {}
    hard = st.get("hard") or (obj.get("spec") or {}).get("hard") or {}
    out = []
    for typ, values in (("hard", hard), ("used", st.get("used") or {})):
        for rname, qty in values.items():
            v = quantity(qty, None)
            if v is not None:
                labels = {"namespace": meta["namespace"], "resourcequota": meta["name"], "resource": rname, "type": typ}
                out.append(Sample("kube_resourcequota", labels, v))
    return out


def _service_samples(obj: dict) -> list[Sample]:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    base = {"namespace": meta["namespace"], "service": meta["name"]}
    return [
        Sample(
            "kube_service_info",
            {**base, "cluster_ip": spec.get("clusterIP", ""), "type": spec.get("type", "ClusterIP")},
            1,
        ),
        Sample("kube_service_spec_type", {**base, "type": spec.get("type", "ClusterIP")}, 1),
    ]


def _endpoints_samples(obj: dict) -> list[Sample]:
    meta = obj["metadata"]
    base = {"namespace": meta["namespace"], "endpoint": meta["name"]}
    subsets = obj.get("subsets") or ()
    ready = sum(len(s.get("addresses") or ()) for s in subsets)
    not_ready = sum(len(s.get("notReadyAddresses") or ()) for s in subsets)
    return [
        Sample("kube_endpoint_address_available", base, ready),
        Sample("kube_endpoint_address_not_ready", base, not_ready),
    ]


def _pvc_samples(obj: dict) -> list[Sample]:
    meta = obj["metadata"]
    phase = (obj.get("status") or {}).get("phase", "Pending")
    base = {"namespace": meta["namespace"], "persistentvolumeclaim": meta["name"]}
    return [
        Sample("kube_persistentvolumeclaim_status_phase", {**base, "phase": p}, 1 if p == phase else 0)
        for p in ("Lost", "Bound", "Pending")
    ]


# ---- batch and storage kinds, as kube-state-metrics names them (alerts such as KubeJobFailed read these)
def _condition_true(st: dict, ctype: str) -> str:
    c = next((c for c in st.get("conditions") or () if c.get("type") == ctype), None)
    return str(c.get("status", "Unknown")).lower() if c else "false"


def _job_samples(obj: dict) -> list[Sample]:
    meta, spec, st = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    base = {"namespace": meta["namespace"], "job_name": meta["name"]}
    owner: dict = next((r for r in meta.get("ownerReferences") or () if r.get("controller")), {})
    out = [
        Sample("kube_job_info", base, 1),
        Sample(
            "kube_job_owner",
            {
                **base,
                "owner_kind": owner.get("kind", "<none>"),
                "owner_name": owner.get("name", "<none>"),
                "owner_is_controller": "true" if owner else "<none>",
            },
            1,
        ),
        Sample("kube_job_spec_parallelism", base, float(spec.get("parallelism", 1))),
        Sample("kube_job_status_active", base, float(st.get("active", 0) or 0)),
        Sample("kube_job_status_succeeded", base, float(st.get("succeeded", 0) or 0)),
    ]
    if spec.get("completions") is not None:
        out.append(Sample("kube_job_spec_completions", base, float(spec["completions"])))
    if spec.get("activeDeadlineSeconds") is not None:
        out.append(Sample("kube_job_spec_active_deadline_seconds", base, float(spec["activeDeadlineSeconds"])))
    failed = float(st.get("failed", 0) or 0)
    reason = next((c.get("reason") for c in st.get("conditions") or () if c.get("type") == "Failed"), None)
    if reason:
        for r in ("BackoffLimitExceeded", "DeadlineExceeded", "Evicted"):
            out.append(Sample("kube_job_status_failed", {**base, "reason": r}, failed if r == reason else 0))
    else:
        out.append(Sample("kube_job_status_failed", base, failed))
    for metric, key in (
        ("kube_job_status_start_time", "startTime"),
        ("kube_job_status_completion_time", "completionTime"),
    ):
        when = _ts(st.get(key))
        if when is not None:
            out.append(Sample(metric, base, when))
    for metric, ctype in (("kube_job_complete", "Complete"), ("kube_job_failed", "Failed")):
        cur = _condition_true(st, ctype)
        out.extend(Sample(metric, {**base, "condition": s}, 1 if s == cur else 0) for s in ("true", "false", "unknown"))
    return out


def _cronjob_samples(obj: dict) -> list[Sample]:
    meta, spec, st = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    base = {"namespace": meta["namespace"], "cronjob": meta["name"]}
    info = {**base, "schedule": spec.get("schedule", ""), "concurrency_policy": spec.get("concurrencyPolicy", "Allow")}
    out = [
        Sample("kube_cronjob_info", info, 1),
        Sample("kube_cronjob_spec_suspend", base, 1 if spec.get("suspend") else 0),
        Sample("kube_cronjob_status_active", base, float(len(st.get("active") or ()))),
    ]
    for metric, key in (
        ("kube_cronjob_status_last_schedule_time", "lastScheduleTime"),
        ("kube_cronjob_status_last_successful_time", "lastSuccessfulTime"),
    ):
        when = _ts(st.get(key))
        if when is not None:
            out.append(Sample(metric, base, when))
    return out


def _pv_samples(obj: dict) -> list[Sample]:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    phase = (obj.get("status") or {}).get("phase", "Pending")
    base = {"persistentvolume": meta["name"]}
    out = [
        Sample("kube_persistentvolume_status_phase", {**base, "phase": p}, 1 if p == phase else 0)
        for p in ("Pending", "Available", "Bound", "Released", "Failed")
    ]
    size = quantity((spec.get("capacity") or {}).get("storage"), None)
    if size is not None:
        out.append(Sample("kube_persistentvolume_capacity_bytes", base, size))
    return out


OBJECT_METRICS = {
    "Pod": _pod_samples,
    "Deployment": _deployment_samples,
    "StatefulSet": _statefulset_samples,
    "DaemonSet": _daemonset_samples,
    "ReplicaSet": _replicaset_samples,
    "HorizontalPodAutoscaler": _hpa_samples,
    "Node": _node_samples,
    "Namespace": _namespace_samples,
    "ResourceQuota": _quota_samples,
    "Service": _service_samples,
    "Endpoints": _endpoints_samples,
    "PersistentVolumeClaim": _pvc_samples,
    "Job": _job_samples,
    "CronJob": _cronjob_samples,
    "PersistentVolume": _pv_samples,
}


RECORD_CPU = "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate"
RECORD_CPU_LABELS = ("namespace", "pod", "container", "node")
CPU_COUNTER = "container_cpu_usage_seconds_total"
MEMORY = "container_memory_working_set_bytes"
MEMORY_LIMIT = "container_spec_memory_limit_bytes"


def _reuse(samples: dict[str, Sample], name: str, labels: dict[str, str], value: float) -> Sample:
    """The series' previous Sample while its value and labels are unchanged (keeps the 30-minute history
    small: an unchanged series costs a pointer per scrape), else a new one."""
    last = samples.get(name)
    if last is not None and last.value == value and (last.labels is labels or last.labels == labels):
        return last
    sample = samples[name] = Sample(name, labels, value)
    return sample


def _usage(kubelet: Kubelet | None, uid: str, series: _Series) -> tuple[float, float]:
    """(cpu cores, working-set bytes) of a container, as the kubelet reports them (zero unless running)."""
    run = kubelet.runs.get(uid) if kubelet else None
    if run is None:
        return 0.0, 0.0
    name = series.name
    for c in run.containers:  # PodRun.container, without a generator per read
        if c.name == name:
            memory, cpu = c.usage()
            return cpu, float(memory)
    return 0.0, 0.0


@dataclass(slots=True)
class _Running:
    """A running container as its pod object shows it (recomputed only when the pod object changes)."""

    spec: dict
    key: tuple[str, str]  # (pod uid, container name)
    labels: dict[str, str]
    record_labels: dict[str, str]  # the k8s.rules record's labels: without image
    memory_limit: float | None
    cpu_limit: float | None
    restart: int


@dataclass(slots=True)
class _Series:
    """One container's series between scrapes: its usage as last read, its CPU counter and the samples
    last written (reused while their value is unchanged)."""

    name: str  # the container's
    read_at: float = 0.0
    read_restart: int = -1
    usage: tuple[float, float] | None = None
    counted_restart: int | None = None  # the instance the CPU counter belongs to (None: not counted yet)
    cpu_total: float = 0.0
    counter: Sample | None = None  # the CPU counter's last sample
    samples: dict[str, Sample] = field(default_factory=dict)
    # The gauges (working set, the CPU record, the memory limit) and the reading and pod they were made of
    steady: tuple[Sample, Sample, Sample | None] | None = None
    steady_usage: tuple[float, float] | None = None
    steady_running: _Running | None = None
    scrape: int = 0  # the last scrape that saw the container running


class _Collector:
    """Builds one scrape. Samples of unchanged objects are reused from the previous scrape: per object
    (keyed by uid and resourceVersion), and per kind as one block while the store's change log shows no
    write to that kind, so a scrape costs little more than the series that move with the time."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._objects: dict[tuple[str, str], tuple[str, list[Sample]]] = {}
        # kind -> its objects' samples in list order, and the same by metric name
        self._blocks: dict[str, tuple[list[Sample], dict[str, list[Sample]]]] = {}
        self._rv: int | None = None  # the store's resourceVersion at the last scrape
        self._series: dict[tuple[str, str], _Series] = {}
        self._scrapes = 0
        self._app_totals: dict[tuple[str, str], tuple[float, float]] = {}
        self._ingress_totals: dict[tuple, float] = {}
        self._pods: dict[str, tuple[str, list[_Running]]] = {}  # uid -> (resourceVersion, running containers)
        self._planned: list[tuple[dict, _Running, _Series]] | None = None  # the running containers, in order
        # The inputs of the last `up` samples (applications), their keys and their part of the scrape
        self._last_targets: tuple[tuple, set[tuple], tuple[list[Sample], dict[str, list[Sample]]]] | None = None
        self._last: dict[tuple, Sample] = {}
        self._last_ts: float | None = None
        self._cfs = CfsCounters()

    def collect(self, now: float) -> SampleIndex:
        """The scrape at `now`, indexed: the blocks of unwritten kinds come with their grouping by name,
        so only the series that move with the time are grouped afresh."""
        dt = 0.0 if self._last_ts is None else max(0.0, now - self._last_ts)
        self._last_ts = now
        parts: list[tuple[list[Sample], dict[str, list[Sample]]]] = []
        store = self.cluster.store
        changes = None if self._rv is None else store.changes_since(self._rv)
        self._rv = store.resource_version
        written = None if changes is None else {event.rtype.kind for event in changes}
        for kind, fn in OBJECT_METRICS.items():
            block = self._blocks.get(kind)
            if block is None or written is None or kind in written:
                samples = self._object_samples(kind, fn)
                block = self._blocks[kind] = (samples, group_by_name(samples))
            parts.append(block)
        used: set[tuple] = set()
        # The series that move with the time, each source a part of its own (in the order of the scrape)
        parts.append(self._containers(dt, written is None or "Pod" in written))
        applications = self._applications(dt, used)
        parts.append((applications, group_by_name(applications)))
        parts.append(self._targets(used, written))
        ingresses = self._ingresses(dt, used)
        parts.append((ingresses, group_by_name(ingresses)))
        for key in [k for k in self._last if k not in used]:
            del self._last[key]
        return SampleIndex.of_parts(parts)

    def _object_samples(self, kind: str, fn: Callable[[dict], list[Sample]]) -> list[Sample]:
        """The samples of every object of one kind, in list order (an object's own are rebuilt only when
        its resourceVersion moved)."""
        out: list[Sample] = []
        seen: set[str] = set()
        for entry in self.cluster.store.entries(self.cluster.rt(kind)):
            meta = entry.obj["metadata"]
            key = (kind, meta["uid"])
            seen.add(meta["uid"])
            rv = meta.get("resourceVersion", "")
            cached = self._objects.get(key)
            if cached is None or cached[0] != rv:
                cached = (rv, fn(entry.obj))
                self._objects[key] = cached
            out.extend(cached[1])
        for key in [k for k in self._objects if k[0] == kind and k[1] not in seen]:
            del self._objects[key]
        return out

    def _sample(self, key: tuple, name: str, labels: dict[str, str], value: float, used: set[tuple]) -> Sample:
        """A Sample for a recurring series, reusing the previous one while it is unchanged (keeps the
        30-minute history small: unchanged series cost a pointer per scrape)."""
        used.add(key)
        last = self._last.get(key)
        if last is not None and last.value == value and last.labels == labels:
            return last
        s = Sample(name, labels, value)
        self._last[key] = s
        return s

    def _running(self, pod: dict) -> list[_Running]:
        """A pod's running containers, recomputed only when the pod object changes."""
        meta = pod["metadata"]
        rv = meta.get("resourceVersion", "")
        cached = self._pods.get(meta["uid"])
        if cached is not None and cached[0] == rv:
            return cached[1]
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        out = []
        if status.get("phase") == "Running":
            statuses = {cs.get("name"): cs for cs in status.get("containerStatuses") or ()}
            for c in spec.get("containers") or ():
                cs = statuses.get(c.get("name"))
                if cs is None or "running" not in (cs.get("state") or {}):
                    continue
                labels = {
                    "namespace": meta["namespace"],
                    "pod": meta["name"],
                    "container": c["name"],
                    "node": spec.get("nodeName", ""),
                    "image": c.get("image", ""),
                }
                out.append(
                    _Running(
                        spec=c,
                        key=(meta["uid"], c["name"]),
                        labels=labels,
                        record_labels={k: labels[k] for k in RECORD_CPU_LABELS},
                        memory_limit=quantity(((c.get("resources") or {}).get("limits") or {}).get("memory"), None),
                        cpu_limit=container_amount(c, "limits", "cpu"),
                        restart=int(cs.get("restartCount", 0)),
                    )
                )
        self._pods[meta["uid"]] = (rv, out)
        return out

    def _plan(self) -> list[tuple[dict, _Running, _Series]]:
        """Every running container in pod list order, with its series (made for a new container; those of
        containers no longer running are dropped)."""
        self._scrapes += 1
        scrape = self._scrapes
        plan = []
        pods_seen: set[str] = set()
        every = self._series
        for entry in self.cluster.store.entries(self.cluster.rt("Pod")):
            pod = entry.obj
            pods_seen.add(pod["metadata"]["uid"])
            for running in self._running(pod):
                series = every.get(running.key)
                if series is None:
                    series = every[running.key] = _Series(running.key[1])
                series.scrape = scrape
                plan.append((pod, running, series))
        for key in [key for key, series in every.items() if series.scrape != scrape]:
            del every[key]
        self._cfs.forget(every.keys())
        for uid in [u for u in self._pods if u not in pods_seen]:
            del self._pods[uid]
        return plan

    def _containers(self, dt: float, pods_written: bool) -> tuple[list[Sample], dict[str, list[Sample]]]:
        """The series of every running container, and the same grouped by metric name (made along, as
        `group_by_name` would group them). Which containers run changes only with a write to a Pod:
        without one, the previous scrape's plan stands."""
        if pods_written or self._planned is None:
            self._planned = self._plan()
        out: list[Sample] = []
        append = out.append
        memories: list[Sample] = []
        counters: list[Sample] = []
        records: list[Sample] = []
        limits: list[Sample] = []
        # Where the metrics that not every container has first appear (orders the grouping's names).
        first: dict[str, int] = {}
        cfs: dict[str, list[Sample]] = {}
        now = self.cluster.now()
        kubelet = _kubelet_of(self.cluster)
        for pod, running, series in self._planned:
            restart = running.restart
            # Usage is read every USAGE_REFRESH_SECONDS, as cAdvisor's housekeeping does (and for a new
            # container instance at once); the CPU counter still integrates every scrape.
            if series.read_restart != restart or now - series.read_at >= USAGE_REFRESH_SECONDS:
                fresh = _usage(kubelet, running.key[0], series)
                if fresh != series.usage:  # an equal reading keeps the old one: its gauges stand
                    series.usage = fresh
                series.read_at, series.read_restart = now, restart
            usage = series.usage
            if usage is None:
                continue
            cpu, mem = usage
            if series.counted_restart != restart:  # a new instance's counter starts at 0
                series.counted_restart, series.cpu_total = restart, 0.0
            total = series.cpu_total = series.cpu_total + cpu * dt
            labels = running.labels
            steady = series.steady
            if steady is None or series.steady_usage is not usage or series.steady_running is not running:
                # The gauges change only with a new reading or a new pod object.
                samples = series.samples
                steady = series.steady = (
                    _reuse(samples, MEMORY, labels, mem),
                    # kube-prometheus' k8s.rules record of the usage (irate of the counter), without image.
                    _reuse(samples, RECORD_CPU, running.record_labels, cpu),
                    _reuse(samples, MEMORY_LIMIT, labels, running.memory_limit) if running.memory_limit else None,
                )
                series.steady_usage, series.steady_running = usage, running
            memory, record, limit = steady
            counter = series.counter
            if counter is None or counter.value != total or (counter.labels is not labels and counter.labels != labels):
                counter = series.counter = float_sample(CPU_COUNTER, labels, total)
            append(memory)
            append(counter)
            append(record)
            memories.append(memory)
            counters.append(counter)
            records.append(record)
            if limit is not None:
                if not limits:
                    first[limit.name] = len(out)
                append(limit)
                limits.append(limit)
            if running.cpu_limit:
                factor = throttle_factor(self.cluster, pod, running.spec["name"])
                for name, value in self._cfs.advance(running.key, restart, factor, running.cpu_limit, dt):
                    sample = _reuse(series.samples, name, labels, value)
                    if name not in cfs:
                        first[name], cfs[name] = len(out), []
                    append(sample)
                    cfs[name].append(sample)
        groups: dict[str, list[Sample]] = {}
        if out:
            groups = {MEMORY: memories, CPU_COUNTER: counters, RECORD_CPU: records}
            for name in sorted(first, key=first.__getitem__):
                groups[name] = limits if name == MEMORY_LIMIT else cfs[name]
        return out, groups

    def _applications(self, dt: float, used: set[tuple]) -> list[Sample]:
        traffic = self.cluster.traffic
        out = []
        for ns, app in self.cluster.applications.items():
            for svc in app.services:
                if svc.name == app.generator:
                    continue
                st = traffic.services.get((ns, svc.name))
                rps, err = (st.rps, st.error_rps) if st else (0.0, 0.0)
                labels = {"namespace": ns, "service": svc.name}
                key = (ns, svc.name)
                req_total, err_total = self._app_totals.get(key, (0.0, 0.0))
                req_total, err_total = req_total + rps * dt, err_total + err * dt
                self._app_totals[key] = (req_total, err_total)
                out.append(self._sample(("rps", *key), "app_requests_per_second", labels, rps, used))
                out.append(self._sample(("eps", *key), "app_errors_per_second", dict(labels), err, used))
                out.append(
                    self._sample(
                        ("exp", *key),
                        "app_expected_requests_per_second",
                        dict(labels),
                        traffic.expected.get(key, 0.0),
                        used,
                    )
                )
                out.append(self._sample(("rtot", *key), "app_requests_total", dict(labels), req_total, used))
                out.append(self._sample(("etot", *key), "app_errors_total", dict(labels), err_total, used))
                if st is not None and st.rps > 0:
                    out.append(
                        self._sample(
                            ("p95", *key), "app_request_latency_p95_seconds", dict(labels), st.p95_seconds, used
                        )
                    )
                for callee, cs in (st.by_callee if st else {}).items():
                    cl = {**labels, "callee": callee}
                    out.append(self._sample(("cps", *key, callee), "app_calls_per_second", cl, cs.rps, used))
                    out.append(
                        self._sample(("ceps", *key, callee), "app_call_errors_per_second", dict(cl), cs.error_rps, used)
                    )
        return out

    def _targets(self, used: set[tuple], written: set[str] | None) -> tuple[list[Sample], dict[str, list[Sample]]]:
        """`up` of the scrape targets kube-prometheus would have: the control plane and kube-state-metrics
        (always answer), each node's kubelet (answers while the node is Ready) and every endpoint of the
        installed applications' Services (a not-ready address counts as a failed scrape: the simulator
        does not tell a container that serves /metrics but fails readiness from one that is down).
        Without a write to a Node or an Endpoints and with the same applications, the previous scrape's
        samples stand (with their keys and grouping)."""
        apps = tuple(
            (ns, app, app.generator, tuple(svc.name for svc in app.services))
            for ns, app in self.cluster.applications.items()
        )
        last = self._last_targets
        unwritten = written is not None and "Node" not in written and "Endpoints" not in written
        if last is not None and unwritten and last[0] == apps:
            used.update(last[1])
            return last[2]
        mine: set[tuple] = set()
        out = self._target_samples(mine)
        used.update(mine)
        part = (out, group_by_name(out))
        self._last_targets = (apps, mine, part)
        return part

    def _target_samples(self, used: set[tuple]) -> list[Sample]:
        out = []
        static = (
            ("apiserver", "default", "kubernetes", "10.96.0.1:443"),
            ("kube-state-metrics", "monitoring", "kube-state-metrics", "kube-state-metrics:8443"),
        )
        for job, namespace, service, instance in static:
            labels = {"job": job, "namespace": namespace, "service": service, "instance": instance}
            out.append(self._sample(("up", job, instance), "up", labels, 1.0, used))
        store = self.cluster.store
        for node in store.list(self.cluster.rt("Node")):
            name = node["metadata"]["name"]
            conditions = (node.get("status") or {}).get("conditions") or ()
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            labels = {"job": "kubelet", "namespace": "kube-system", "service": "kubelet", "node": name}
            labels["instance"] = f"{name}:10250"
            out.append(self._sample(("up", "kubelet", name), "up", labels, 1.0 if ready else 0.0, used))
        ep_rt = self.cluster.rt("Endpoints")
        for ns, app in self.cluster.applications.items():
            for svc in app.services:
                ep = store.find(ep_rt, ns, svc.name) if svc.name != app.generator else None
                for subset in (ep or {}).get("subsets") or ():
                    port = next((p.get("port") for p in subset.get("ports") or ()), 0)
                    for value, key in ((1.0, "addresses"), (0.0, "notReadyAddresses")):
                        for addr in subset.get(key) or ():
                            pod = (addr.get("targetRef") or {}).get("name", "")
                            instance = f"{addr.get('ip', '')}:{port}"
                            labels = {"job": svc.name, "namespace": ns, "service": svc.name, "pod": pod}
                            labels["instance"] = instance
                            out.append(self._sample(("up", ns, svc.name, instance), "up", labels, value, used))
        return out

    def _ingresses(self, dt: float, used: set[tuple]) -> list[Sample]:
        """nginx_ingress_controller_requests: counters by status for each served Ingress path."""
        out = []
        for rate in ingress_rates(self.cluster):
            for status, rps in (("200", rate.ok), (rate.status, rate.errors)):
                labels = {**rate.labels, "status": status}
                key = ("ing", *sorted(labels.items()))
                total = self._ingress_totals.get(key, 0.0) + rps * dt
                self._ingress_totals[key] = total
                out.append(self._sample(key, "nginx_ingress_controller_requests", labels, total, used))
        return out


# ================================================================================== alerting
def go_float(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'e', -1, 64), which Prometheus uses for alert values."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0e+00"
    sign, digits, exp = Decimal(repr(value)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exponent = int(exp) + len(digits) - 1
    mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
    return f"{'-' if sign else ''}{mant}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"


def _humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return f"{v:.4g}"
    if abs(v) >= 1:
        for prefix in ("", "k", "M", "G", "T", "P", "E"):
            if abs(v) < 1000:
                return f"{v:.4g}{prefix}"
            v /= 1000
        return f"{v:.4g}Z"
    for prefix in ("", "m", "u", "n", "p", "f", "a"):
        if abs(v) >= 1:
            return f"{v:.4g}{prefix}"
        v *= 1000
    return f"{v:.4g}y"


def _humanize_duration(v: float) -> str:
    if abs(v) < 1:
        return _humanize(v) + "s"
    s = int(round(v))
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    parts = [f"{n}{u}" for n, u in ((d, "d"), (h, "h"), (m, "m")) if n]
    return " ".join([*parts, f"{s}s"])


def _printf(fmt: str, v: Any) -> str:
    try:
        return fmt.replace("%v", "%s") % v
    except (TypeError, ValueError):
        return str(v)


_TEMPLATE = re.compile(r"{{-?\s*(.*?)\s*-?}}")
_PRINTF = re.compile(r'^printf\s+"((?:[^"\\]|\\.)*)"\s+(.+)$')


def render_template(text: str, labels: dict[str, str], value: float) -> str:
    """Go-template subset used in alert annotations: `$labels.x`, `$value`, `printf` and the
    humanize* functions, combined with pipes (`{{ $value | humanizePercentage }}`)."""

    def operand(tok: str) -> Any:
        tok = tok.strip()
        if tok in ("$value", ".Value"):
            return value
        if tok.startswith(("$labels.", ".Labels.")):
            return labels.get(tok.split(".", 2)[-1] if tok.startswith(".") else tok[len("$labels.") :], "")
        if tok.startswith("$externalLabels."):
            return ""
        if tok.startswith('"') and tok.endswith('"'):
            return tok[1:-1]
        raise ValueError(tok)

    def apply(fn: str, v: Any) -> Any:
        fn = fn.strip()
        fv = float(v) if isinstance(v, int | float) or _is_number(v) else None
        if fn == "humanize" and fv is not None:
            return _humanize(fv)
        if fn == "humanizePercentage" and fv is not None:
            return f"{fv * 100:.4g}%"
        if fn == "humanizeDuration" and fv is not None:
            return _humanize_duration(fv)
        if fn in ("toUpper", "toLower", "title"):
            return {"toUpper": str.upper, "toLower": str.lower, "title": str.title}[fn](str(v))
        m = re.match(r'^printf\s+"((?:[^"\\]|\\.)*)"$', fn)
        if m:
            return _printf(m.group(1), fv if fv is not None else v)
        raise ValueError(fn)

    def one(m: re.Match[str]) -> str:
        stages = m.group(1).split("|")
        try:
            head = stages[0].strip()
            pm = _PRINTF.match(head)
            cur = _printf(pm.group(1), operand(pm.group(2))) if pm else operand(head)
            for fn in stages[1:]:
                cur = apply(fn, cur)
        except (ValueError, IndexError):
            return m.group(0)
        return format_value(cur) if isinstance(cur, float) else str(cur)

    return _TEMPLATE.sub(one, text)


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


@dataclass
class Rule:
    name: str
    expr: str
    parsed: Expr
    for_seconds: float
    labels: dict[str, str]
    annotations: dict[str, str]
    group: str
    keep_firing_for: float = 0.0
    written_for: float = -1.0  # `for:` as the rule file says it; for_seconds is it times the cluster's scale
    health: str = "unknown"
    last_error: str = ""
    last_evaluation: float | None = None
    evaluation_seconds: float = 0.0
    # (expression, the selectors it reads, the sample lists they read last, the value they gave)
    memo: tuple[Expr, tuple[VectorSelector, ...] | None, tuple, list[Sample] | float] | None = field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.written_for < 0:
            self.written_for = self.for_seconds


@dataclass
class RuleGroup:
    name: str
    file: str
    interval: float
    rules: list[Rule] = field(default_factory=list)
    last_evaluation: float | None = None
    evaluation_seconds: float = 0.0


@dataclass
class Alert:
    rule: Rule
    labels: dict[str, str]
    annotations: dict[str, str]
    active_at: float
    value: float
    state: str = "pending"
    fired_at: float | None = None
    updated_at: float = 0.0


def load_rules(text: str, file: str = "alerts.yaml") -> list[RuleGroup]:
    """Parse a Prometheus rule file; raises ValueError naming the group and rule on a bad entry."""
    doc: Any = load_yaml_fast(text) or {}  # a rule file: checked field by field below
    groups = []
    for g in doc.get("groups") or []:
        gname = g.get("name") or "default"
        group = RuleGroup(gname, file, parse_duration(str(g["interval"])) if g.get("interval") else 0.0)
        for r in g.get("rules") or []:
            if "alert" not in r:
                continue  # recording rules: the collector records the ones we need directly
            where = f"{file}: group {gname}: alert {r.get('alert')}"
            try:
                parsed = parse(str(r["expr"]))
                group.rules.append(
                    Rule(
                        name=str(r["alert"]),
                        expr=str(r["expr"]).strip(),
                        parsed=parsed,
                        for_seconds=parse_duration(str(r["for"])) if r.get("for") else 0.0,
                        keep_firing_for=parse_duration(str(r["keep_firing_for"])) if r.get("keep_firing_for") else 0.0,
                        labels={k: str(v) for k, v in (r.get("labels") or {}).items()},
                        annotations={k: str(v) for k, v in (r.get("annotations") or {}).items()},
                        group=gname,
                    )
                )
            except (PromQLError, KeyError, ValueError) as err:
                raise ValueError(f"{where}: {err}") from err
        groups.append(group)
    return groups


PROMETHEUS_TARGET = {
    "job": "prometheus-k8s",
    "namespace": "monitoring",
    "service": "prometheus-k8s",
    "pod": "prometheus-k8s-0",
    "container": "prometheus",
}
USER_RULES_DIR = "/etc/prometheus/rules/prometheus-k8s-rulefiles-0"


def user_rule_groups(objects: list[dict]) -> list[RuleGroup]:
    """The alerting rules of PrometheusRule objects, one rule file per object as the operator writes them.
    An object whose file Prometheus could not load (a rule that does not parse) contributes nothing."""
    groups: list[RuleGroup] = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        file = f"{USER_RULES_DIR}/{meta.get('namespace')}-{meta.get('name')}-{meta.get('uid')}.yaml"
        try:
            groups.extend(load_rules(json.dumps({"groups": (obj.get("spec") or {}).get("groups") or []}), file))
        except (ValueError, TypeError, AttributeError):
            continue
    return groups


def builtin_rules(rule_set: str = "kube-prometheus") -> list[RuleGroup]:
    """One of RULE_SETS, as Prometheus would load it from /etc/prometheus/rules."""
    if rule_set not in RULE_SETS:
        raise ValueError(f"unknown alert rule set {rule_set!r} (known: {', '.join(RULE_SETS)})")
    name = RULE_SETS[rule_set]
    return load_rules(
        importlib_resources.files(RULES_PACKAGE).joinpath(name).read_text(), f"/etc/prometheus/rules/{name}"
    )


class AlertManager:
    """Rule evaluation and alert state, as Prometheus' rule manager keeps it."""

    def __init__(self, groups: list[RuleGroup], for_scale: float = 1.0) -> None:
        if for_scale < 0:
            raise ValueError("the alert `for:` scale cannot be negative")
        self.for_scale = for_scale
        self.groups = groups
        # Rule groups from PrometheusRule objects (the operator writes them to Prometheus' rule files).
        self.user_groups: list[RuleGroup] = []
        # prometheus_rule_evaluation_failures_total by rule_group ("file;group"), as Prometheus counts them.
        self.failures: dict[str, int] = {}
        self._alerts: dict[str, dict[frozenset, Alert]] = {}
        self._last_eval: dict[str, float] = {}
        self._scale(groups)

    def _scale(self, groups: list[RuleGroup]) -> None:
        for g in groups:
            for r in g.rules:
                r.for_seconds = r.written_for * self.for_scale

    def set_for_scale(self, scale: float) -> None:
        """Multiply every rule's written `for:` by `scale` (0.1: demos and tests; 1: as written).
        Alerts already pending keep their activeAt, so they fire on the new duration."""
        if scale < 0:
            raise ValueError("the alert `for:` scale cannot be negative")
        self.for_scale = scale
        self._scale(self.groups)

    @property
    def rules(self) -> list[Rule]:
        return [r for g in self.all_groups for r in g.rules]

    @property
    def all_groups(self) -> list[RuleGroup]:
        return self.groups + self.user_groups

    def set_groups(self, groups: list[RuleGroup]) -> None:
        self._scale(groups)
        self.groups = groups
        self._forget_removed()

    def set_user_groups(self, groups: list[RuleGroup]) -> None:
        self._scale(groups)
        self.user_groups = groups
        self._forget_removed()

    def _forget_removed(self) -> None:
        names = {r.name for r in self.rules}
        self._alerts = {k: v for k, v in self._alerts.items() if k in names}

    def evaluate(self, source: HistorySource, now: float) -> None:
        for g in self.all_groups:
            if g.interval and g.last_evaluation is not None and now - g.last_evaluation < g.interval - 1e-9:
                continue
            t0 = time.perf_counter()
            for rule in g.rules:
                if not self._evaluate_rule(rule, source, now):
                    key = f"{g.file};{g.name}"
                    self.failures[key] = self.failures.get(key, 0) + 1
            g.last_evaluation = now
            g.evaluation_seconds = time.perf_counter() - t0

    def _evaluate_rule(self, rule: Rule, source: HistorySource, now: float) -> bool:
        """False when the evaluation failed (Prometheus counts it and keeps the rule)."""
        t0 = time.perf_counter()
        ok = True
        try:
            result = self._value(rule, source, now)
            rule.health, rule.last_error = "ok", ""
        except PromQLError as err:
            rule.health, rule.last_error = "err", str(err)
            result = []
            ok = False
        rule.last_evaluation = now
        rule.evaluation_seconds = time.perf_counter() - t0
        samples = [Sample("", {}, result)] if isinstance(result, float) else result
        current = self._alerts.setdefault(rule.name, {})
        seen: set[frozenset] = set()
        for s in samples:
            labels = dict(s.labels)
            for k, v in rule.labels.items():
                labels[k] = render_template(v, dict(s.labels), s.value)
            labels["alertname"] = rule.name
            key = frozenset(labels.items())
            seen.add(key)
            alert = current.get(key)
            if alert is None:
                alert = current[key] = Alert(rule, labels, {}, active_at=now, value=s.value)
            alert.value = s.value
            alert.updated_at = now
            alert.annotations = {k: render_template(v, labels, s.value) for k, v in rule.annotations.items()}
            if alert.state == "pending" and now - alert.active_at >= rule.for_seconds - 1e-9:
                alert.state, alert.fired_at = "firing", now
        for key in [k for k in current if k not in seen]:
            alert = current[key]
            if alert.state == "firing" and rule.keep_firing_for and now - alert.updated_at < rule.keep_firing_for:
                continue
            del current[key]  # resolved (or a pending alert that never fired)
        return ok

    @staticmethod
    def _value(rule: Rule, source: HistorySource, now: float) -> list[Sample] | float:
        """The rule's expression at `now`. An expression of instant selectors only gives the value it gave
        last while each selector's metric is the same list of samples: a scrape keeps the lists of the
        kinds nobody wrote, and never changes a list it has handed out."""
        memo = rule.memo
        known = memo is not None and memo[0] is rule.parsed
        if memo is None or not known:
            memo = (rule.parsed, instant_inputs(rule.parsed), (), [])
        parsed, selectors, seen, value = memo
        if selectors is None:
            return evaluate(parsed, source, now)
        read = tuple(source.index_at(now - s.offset).by_name.get(s.name or "") for s in selectors)
        if not known or any(a is not b for a, b in zip(seen, read, strict=True)):
            value = evaluate(parsed, source, now)
            rule.memo = (parsed, selectors, read, value)
        return list(value) if isinstance(value, list) else value

    def _all(self) -> list[Alert]:
        return [a for r in self.rules for a in self._alerts.get(r.name, {}).values()]

    def active(self) -> list[dict]:
        """Pending and firing alerts in the Prometheus alerts API's shape (activeAt as a timestamp)."""
        return [
            {
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "state": a.state,
                "activeAt": a.active_at,
                "value": go_float(a.value),
            }
            for a in self._all()
        ]

    def firing(self) -> list[Alert]:
        return [a for a in self._all() if a.state == "firing"]

    def series(self, now: float) -> list[Sample]:
        """ALERTS and ALERTS_FOR_STATE as Prometheus writes them after an evaluation."""
        out = []
        for a in self._all():
            out.append(Sample("ALERTS", {**a.labels, "alertstate": a.state}, 1))
            out.append(Sample("ALERTS_FOR_STATE", a.labels, a.active_at))
        # Prometheus' own counter, scraped by kube-prometheus as job prometheus-k8s. Written only once a
        # user rule group exists or a rule failed, so clusters without either keep the same series.
        if self.user_groups or self.failures:
            for g in self.all_groups:
                key = f"{g.file};{g.name}"
                labels = {**PROMETHEUS_TARGET, "rule_group": key}
                out.append(Sample("prometheus_rule_evaluation_failures_total", labels, self.failures.get(key, 0)))
        return out

    # ----------------------------------------------------------------- API shapes
    def prometheus_alerts(self) -> list[dict]:
        return [_prom_alert(a) for a in self._all()]

    def rule_groups(
        self, rule_type: str | None = None, names: set[str] | None = None, groups: set[str] | None = None
    ) -> list[dict]:
        out = []
        for g in self.all_groups:
            if groups and g.name not in groups:
                continue
            rules = []
            if rule_type in (None, "", "alert"):
                for r in g.rules:
                    if names and r.name not in names:
                        continue
                    alerts = list(self._alerts.get(r.name, {}).values())
                    state = (
                        "firing" if any(a.state == "firing" for a in alerts) else "pending" if alerts else "inactive"
                    )
                    rules.append(
                        {
                            "state": state,
                            "name": r.name,
                            "query": r.expr,
                            "duration": r.for_seconds,
                            "keepFiringFor": r.keep_firing_for,
                            "labels": dict(r.labels),
                            "annotations": dict(r.annotations),
                            "alerts": [_prom_alert(a) for a in alerts],
                            "health": r.health,
                            "lastError": r.last_error,
                            "evaluationTime": r.evaluation_seconds,
                            "lastEvaluation": _rfc3339_nano(r.last_evaluation),
                            "type": "alerting",
                        }
                    )
            if rules or not (names or rule_type):
                out.append(
                    {
                        "name": g.name,
                        "file": g.file,
                        "rules": rules,
                        "interval": g.interval or EVALUATION_SECONDS,
                        "limit": 0,
                        "evaluationTime": g.evaluation_seconds,
                        "lastEvaluation": _rfc3339_nano(g.last_evaluation),
                    }
                )
        return out


def _rfc3339_nano(ts: float | None) -> str:
    if ts is None:
        return "0001-01-01T00:00:00Z"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def _rfc3339_milli(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _prom_alert(a: Alert) -> dict:
    return {
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "state": a.state,
        "activeAt": _rfc3339_nano(a.active_at),
        "value": go_float(a.value),
    }


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's label-set fingerprint: FNV-1a 64 over sorted name/value pairs, 0xff-separated."""
    h = 14695981039346656037
    for name in sorted(labels):
        for part in (name, labels[name]):
            for b in part.encode():
                h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
            h = ((h ^ 0xFF) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


def parse_matchers(text: str) -> list[tuple[str, str, str]]:
    """Alertmanager filter matchers: `name="v"`, `name=~"re"`, `{a="x",b!="y"}`."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    out = []
    for part in filter(None, (p.strip() for p in _split_matchers(body))):
        m = _MATCHER.fullmatch(part)
        if m is None:
            bare = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*([^\"]*?)\s*", part)
            if bare is None:
                raise ValueError(f"bad matcher format: {part}")
            out.append((bare.group(1), bare.group(2), bare.group(3)))
            continue
        out.append((m.group(1), m.group(2), m.group(3).replace('\\"', '"')))
    return out


def _split_matchers(body: str) -> list[str]:
    parts, cur, quoted, esc = [], "", False, False
    for ch in body:
        if ch == "," and not quoted:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
        if esc:
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == '"':
            quoted = not quoted
    parts.append(cur)
    return parts


def _matches(labels: dict[str, str], matchers: list[tuple[str, str, str]]) -> bool:
    for name, op, value in matchers:
        v = labels.get(name, "")
        if op == "=" and v != value or op == "!=" and v == value:
            return False
        if op in ("=~", "!~") and (re.fullmatch(value, v) is not None) != (op == "=~"):
            return False
    return True


# ================================================================================== observability
class Observability:
    def __init__(self, cluster: Cluster, rules: list[RuleGroup] | None = None) -> None:
        self.cluster = cluster
        self.history = HistorySource(retention=HISTORY_SECONDS, lookback=LOOKBACK_SECONDS, now=cluster.now())
        if rules is None:
            rules = builtin_rules(cluster.alert_rules)
        self.alerts = AlertManager(rules, for_scale=cluster.alert_for_scale)
        self._collector = _Collector(cluster)
        self.started = cluster.now()
        self._user_rules_key: tuple = ()

    def load_rules(self, path: str | Path) -> None:
        """Replace the alert rules with a rule file (Prometheus format)."""
        p = Path(path)
        self.alerts.set_groups(load_rules(p.read_text(), str(p)))

    def scrape(self) -> None:
        now = self.cluster.now()
        samples = self._collector.collect(now)
        self.history.add(now, samples)
        self._sync_user_rules()
        self.alerts.evaluate(self.history, now)
        extra = self.alerts.series(now)
        if extra:  # Prometheus writes ALERTS at evaluation time: part of this instant's data
            self._append(now, extra)

    def _sync_user_rules(self) -> None:
        """Reload the PrometheusRule objects' groups when they change (the operator's config reload)."""
        rt = self.cluster.store.registry.by_key("monitoring.coreos.com", "prometheusrules")
        objects = self.cluster.store.list(rt) if rt is not None else []
        key = tuple((o["metadata"].get("uid"), o["metadata"].get("resourceVersion")) for o in objects)
        if key == self._user_rules_key:
            return
        self._user_rules_key = key
        self.alerts.set_user_groups(user_rule_groups(objects))

    def _append(self, ts: float, samples: list[Sample]) -> None:
        """Add samples to the scrape at `ts` without re-indexing the whole scrape."""
        index = self.history.index_at(ts)
        if not isinstance(index, SampleIndex) or not index.by_name:  # no scrape there (or the shared empty one)
            self.history.add(ts, list(index.samples) + samples)
            return
        index.extend(samples)

    def query(self, expr: str, ts: float | None = None) -> list[Sample] | float:
        return evaluate(expr, self.history, self.cluster.now() if ts is None else ts)

    # ----------------------------------------------------------------- HTTP
    def add_routes(self, app: web.Application) -> None:
        r = app.router
        for path, handler in (
            ("/api/v1/query", self._h_query),
            ("/api/v1/query_range", self._h_query_range),
            ("/api/v1/series", self._h_series),
            ("/api/v1/labels", self._h_labels),
        ):
            r.add_get(path, handler)
            r.add_post(path, handler)
        r.add_get("/api/v1/label/{name}/values", self._h_label_values)
        r.add_get("/api/v1/alerts", self._h_alerts)
        r.add_get("/api/v1/rules", self._h_rules)
        r.add_get("/api/v1/status/buildinfo", self._h_buildinfo)
        r.add_get("/api/v2/alerts", self._h_am_alerts)
        r.add_get("/api/v2/alerts/groups", self._h_am_groups)
        r.add_get("/api/v2/status", self._h_am_status)
        r.add_get("/api/v2/silences", self._h_am_empty)
        r.add_get("/api/v2/receivers", self._h_am_receivers)

    @staticmethod
    def _ok(data: Any) -> web.Response:
        from aiohttp import web

        return web.json_response({"status": "success", "data": data})

    @staticmethod
    def _bad(message: str, status: int = 400, error_type: str = "bad_data") -> web.Response:
        from aiohttp import web

        return web.json_response({"status": "error", "errorType": error_type, "error": message}, status=status)

    async def _params(self, request: web.Request) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for k, v in request.query.items():
            out.setdefault(k, []).append(v)
        if request.method == "POST":
            for k, value in (await request.post()).items():
                out.setdefault(k, []).append(str(value))
        return out

    def _time(self, text: str | None, default: float) -> float:
        if text is None or text == "":
            return default
        try:
            return float(text)
        except ValueError:
            pass
        try:
            return parse_rfc3339(text)
        except ValueError as err:
            raise ValueError(f'cannot parse "{text}" to a valid timestamp') from err

    async def _h_query(self, request: web.Request) -> web.Response:
        p = await self._params(request)
        expr = (p.get("query") or [""])[0]
        try:
            ts = self._time(next(iter(p.get("time") or []), None), self.cluster.now())
        except ValueError as err:
            return self._bad(f'invalid parameter "time": {err}')
        if not expr:
            return self._bad('invalid parameter "query": unknown position: parse error: no expression found in input')
        try:
            result = evaluate(expr, self.history, ts)
        except PromQLError as err:
            return self._bad(f'invalid parameter "query": {err}')
        return self._ok(to_prometheus_json(result, ts))

    async def _h_query_range(self, request: web.Request) -> web.Response:
        p = await self._params(request)
        expr = (p.get("query") or [""])[0]
        try:
            start = self._time((p.get("start") or [""])[0], math.nan)
            end = self._time((p.get("end") or [""])[0], math.nan)
            step_text = (p.get("step") or [""])[0]
            step = float(step_text) if _is_number(step_text) else parse_duration(step_text)
        except (ValueError, PromQLError) as err:
            return self._bad(f"invalid parameter: {err}")
        if math.isnan(start) or math.isnan(end):
            return self._bad('invalid parameter "start" or "end": missing')
        if end < start:
            return self._bad('invalid parameter "end": end timestamp must not be before start time')
        if step <= 0:
            return self._bad(
                'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'
            )
        if (end - start) / step > MAX_RANGE_POINTS:
            return self._bad(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
            )
        try:
            node = parse(expr)
            series: dict[frozenset, tuple[dict, list]] = {}
            start_ms, end_ms, step_ms = round(start * 1000), round(end * 1000), max(1, round(step * 1000))
            for t_ms in range(start_ms, end_ms + 1, step_ms):  # integer milliseconds, as Prometheus steps
                t = t_ms / 1000
                res = evaluate(node, self.history, t)
                points = [Sample("", {}, res)] if isinstance(res, float) else res
                for s in points:
                    metric = s.metric
                    key = frozenset(metric.items())
                    series.setdefault(key, (metric, []))[1].append([t, format_value(s.value)])
        except PromQLError as err:
            return self._bad(f'invalid parameter "query": {err}')
        return self._ok({"resultType": "matrix", "result": [{"metric": m, "values": v} for m, v in series.values()]})

    def _indexes(self, p: dict[str, list[str]]) -> list[SampleIndex]:
        """Scrapes in [start, end] (default: the latest one)."""
        ts = self.history.timestamps()
        if not ts:
            return []
        start = self._time((p.get("start") or [""])[0], math.nan)
        end = self._time((p.get("end") or [""])[0], ts[-1])
        if math.isnan(start):
            return [self.history.index_at(end)]
        lo, hi = bisect.bisect_left(ts, start), bisect.bisect_right(ts, end)
        return [self.history.index_at(t) for t in ts[lo:hi]]

    def _selected(self, p: dict[str, list[str]]) -> list[Sample]:
        selectors = []
        for m in p.get("match[]") or []:
            node = parse(m)
            if not isinstance(node, VectorSelector):
                raise PromQLError(f'invalid parameter "match[]": expected a vector selector, got {m}')
            selectors.append(node)
        out: dict[frozenset, Sample] = {}
        for index in self._indexes(p):
            chosen = [s for sel in selectors for s in index.select(sel)] if selectors else index.samples
            for s in chosen:
                out.setdefault(frozenset(s.metric.items()), s)
        return list(out.values())

    async def _h_series(self, request: web.Request) -> web.Response:
        p = await self._params(request)
        if not p.get("match[]"):
            return self._bad("no match[] parameter provided")
        try:
            samples = self._selected(p)
        except (PromQLError, ValueError) as err:
            return self._bad(str(err))
        return self._ok([s.metric for s in samples])

    async def _h_labels(self, request: web.Request) -> web.Response:
        p = await self._params(request)
        try:
            samples = self._selected(p)
        except (PromQLError, ValueError) as err:
            return self._bad(str(err))
        names = {k for s in samples for k in s.labels} | ({"__name__"} if samples else set())
        return self._ok(sorted(names))

    async def _h_label_values(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        p = await self._params(request)
        try:
            samples = self._selected(p)
        except (PromQLError, ValueError) as err:
            return self._bad(str(err))
        if name == "__name__":
            values = {s.name for s in samples if s.name}
        else:
            values = {s.labels[name] for s in samples if s.labels.get(name)}
        return self._ok(sorted(values))

    async def _h_alerts(self, request: web.Request) -> web.Response:
        return self._ok({"alerts": self.alerts.prometheus_alerts()})

    async def _h_rules(self, request: web.Request) -> web.Response:
        q = request.query
        names = set(q.getall("rule_name[]", []))
        groups = set(q.getall("rule_group[]", []))
        return self._ok({"groups": self.alerts.rule_groups(q.get("type"), names or None, groups or None)})

    async def _h_buildinfo(self, request: web.Request) -> web.Response:
        return self._ok(
            {
                "version": PROMETHEUS_VERSION,
                "revision": "sre-agent-sim",
                "branch": "HEAD",
                "buildUser": "sim",
                "buildDate": "20260101-00:00:00",
                "goVersion": "go1.22.5",
            }
        )

    # ----------------------------------------------------------------- Alertmanager v2
    def _am_alerts(self, request: web.Request) -> list[dict]:
        q = request.query
        flag = {k: q.get(k, "true").lower() != "false" for k in ("active", "silenced", "inhibited", "unprocessed")}
        matchers = [m for f in q.getall("filter", []) for m in parse_matchers(f)]
        receiver = q.get("receiver")
        if not flag["active"] or (receiver and not re.fullmatch(receiver, "default")):
            return []
        now = self.cluster.now()
        base = f"{request.scheme}://{request.host}"
        out = []
        for a in self.alerts.firing():
            if not _matches(a.labels, matchers):
                continue
            out.append(
                {
                    "labels": dict(a.labels),
                    "annotations": dict(a.annotations),
                    "startsAt": _rfc3339_milli(a.fired_at or a.active_at),
                    "endsAt": _rfc3339_milli(now + 4 * RESEND_SECONDS),
                    "updatedAt": _rfc3339_milli(a.updated_at),
                    "generatorURL": f"{base}/graph?g0.expr={quote(a.rule.expr, safe='')}&g0.tab=1",
                    "fingerprint": fingerprint(a.labels),
                    "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
                    "receivers": [{"name": "default"}],
                }
            )
        return out

    async def _h_am_alerts(self, request: web.Request) -> web.Response:
        from aiohttp import web

        try:
            alerts = self._am_alerts(request)
        except (ValueError, re.error) as err:
            return web.json_response(str(err), status=400)
        return web.json_response(alerts)

    async def _h_am_groups(self, request: web.Request) -> web.Response:
        from aiohttp import web

        try:
            alerts = self._am_alerts(request)
        except (ValueError, re.error) as err:
            return web.json_response(str(err), status=400)
        groups: dict[str, list[dict]] = {}
        for a in alerts:
            groups.setdefault(a["labels"]["alertname"], []).append(a)
        return web.json_response(
            [{"labels": {"alertname": k}, "receiver": {"name": "default"}, "alerts": v} for k, v in groups.items()]
        )

    async def _h_am_status(self, request: web.Request) -> web.Response:
        from aiohttp import web

        config = "route:\n  receiver: default\n  group_by: [alertname, namespace]\nreceivers:\n  - name: default\n"
        return web.json_response(
            {
                "cluster": {"name": "sim-alertmanager", "status": "ready", "peers": []},
                "versionInfo": {
                    "version": ALERTMANAGER_VERSION,
                    "revision": "sre-agent-sim",
                    "branch": "HEAD",
                    "buildUser": "sim",
                    "buildDate": "20260101-00:00:00",
                    "goVersion": "go1.22.5",
                },
                "config": {"original": config},
                "uptime": _rfc3339_milli(self.started),
            }
        )

    async def _h_am_empty(self, request: web.Request) -> web.Response:
        from aiohttp import web

        return web.json_response([])

    async def _h_am_receivers(self, request: web.Request) -> web.Response:
        from aiohttp import web

        return web.json_response([{"name": "default"}])
