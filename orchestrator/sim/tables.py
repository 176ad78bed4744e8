"""Server-side printing: `meta.k8s.io/v1` Tables, as kube-apiserver v1.32 builds them.

`kubectl get` sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and prints whatever
columns the server returns. The real server always generates the "wide" cells and marks the
extra columns `priority: 1`; kubectl hides those unless `-o wide`. This module does the same:
every column a kube-apiserver would send is present, with the cell values kubectl users know
(`0/1`, `CrashLoopBackOff`, `5 (30s ago)`, `80:30080/TCP`, `Ready,SchedulingDisabled`, ...).

The cell rules follow the printers in kubernetes' `pkg/printers/internalversion`, reimplemented
here over plain object dicts (the JSON form of the API objects). Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["columns_for", "human_duration", "pod_status_cells", "to_table"]

TABLE_API_VERSION = "meta.k8s.io/v1"

# ---------------------------------------------------------------------------------------------
# column definitions
# ---------------------------------------------------------------------------------------------

_NAME_DESC = (
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DESC = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_CONTAINERS_DESC = "Names of each container in the template."
_IMAGES_DESC = "Images referenced by each container in the template."


def _col(
    name: str,
    type_: str = "string",
    description: str = "",
    priority: int = 0,
    format_: str = "",
) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "format": format_,
        "description": description,
        "priority": priority,
    }


def _name_col(priority: int = 0) -> dict[str, Any]:
    return _col("Name", "string", _NAME_DESC, priority, "name")


def _age_col() -> dict[str, Any]:
    return _col("Age", "string", _AGE_DESC)


def _template_cols(selector: bool = True) -> list[dict[str, Any]]:
    cols = [
        _col("Containers", "string", _CONTAINERS_DESC, 1),
        _col("Images", "string", _IMAGES_DESC, 1),
    ]
    if selector:
        cols.append(
            _col("Selector", "string", "A label query over the pods.", 1),
        )
    return cols


# ---------------------------------------------------------------------------------------------
# small helpers over object dicts
# ---------------------------------------------------------------------------------------------


def _get(obj: Any, *path: str | int, default: Any = None) -> Any:
    """Walk dict keys / list indexes; `default` when anything on the way is missing or null."""
    cur = obj
    for key in path:
        if isinstance(key, int):
            if not isinstance(cur, list) or not -len(cur) <= key < len(cur):
                return default
            cur = cur[key]
        else:
            if not isinstance(cur, dict):
                return default
            cur = cur.get(key)
        if cur is None:
            return default
    return cur


def _parse_time(value: Any) -> float | None:
    """RFC3339 (optionally with fractional seconds) to epoch seconds; None when unset/invalid."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def human_duration(seconds: float) -> str:
    """kubectl's approximate duration format (apimachinery `duration.HumanDuration`).

    `0s`, `45s`, `119s`, `5m12s`, `42m`, `3h`, `5h30m`, `30h`, `2d5h`, `15d`, `2y45d`, `9y`.
    Up to 2s in the future counts as now (clock skew); further in the future is `<invalid>`.
    """
    ns = int(seconds * 1_000_000_000)
    whole_seconds = int(ns / 1_000_000_000)  # truncation toward zero, like Go
    if whole_seconds < -1:
        return "<invalid>"
    if whole_seconds < 0:
        return "0s"
    if whole_seconds < 60 * 2:
        return f"{whole_seconds}s"
    minutes = whole_seconds // 60
    if minutes < 10:
        sec = whole_seconds % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = whole_seconds // 3600
    if hours < 8:
        mins = minutes % 60
        return f"{hours}h" if mins == 0 else f"{hours}h{mins}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rem = hours % 24
        return f"{hours // 24}d" if rem == 0 else f"{hours // 24}d{rem}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def _since(value: Any, now: float) -> str:
    ts = _parse_time(value)
    if ts is None:
        return "<unknown>"
    return human_duration(now - ts)


def _age(obj: dict, now: float) -> str:
    return _since(_get(obj, "metadata", "creationTimestamp"), now)


def _name(obj: dict) -> str:
    return _get(obj, "metadata", "name", default="")


def _int(value: Any, default: int = 0) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _quantity(value: Any) -> str:
    """A resource.Quantity as its string; an absent quantity prints as `0`."""
    if value is None or value == "":
        return "0"
    return str(value)


def _format_labels(labels: Any) -> str:
    """labels.FormatLabels: sorted `k=v` joined by commas, `<none>` when empty."""
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _selector_string(selector: Any) -> str:
    """labels.Selector.String() of a metav1.LabelSelector (empty string for nil/empty)."""
    if not isinstance(selector, dict):
        return ""
    reqs: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        reqs.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key = expr.get("key", "")
        op = expr.get("operator", "")
        values = ",".join(sorted(str(v) for v in expr.get("values") or []))
        if op == "In":
            text = f"{key} in ({values})"
        elif op == "NotIn":
            text = f"{key} notin ({values})"
        elif op == "Exists":
            text = key
        elif op == "DoesNotExist":
            text = f"!{key}"
        else:
            return "<invalid>"
        reqs.append((key, text))
    reqs.sort(key=lambda item: item[0])
    return ",".join(text for _, text in reqs)


def _format_label_selector(selector: Any) -> str:
    """metav1.FormatLabelSelector: the selector string, `<none>` when it is empty."""
    text = _selector_string(selector)
    return text or "<none>"


def _containers_cells(pod_spec: Any) -> tuple[str, str]:
    containers = _get(pod_spec, "containers", default=[]) or []
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return names, images


def _join_host_port(host: str, port: Any) -> str:
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def _list_with_more(items: list[str], count: int, limit: int, empty: str) -> str:
    if count > limit:
        return ",".join(items[:limit]) + f" + {count - limit} more..."
    return ",".join(items) or empty


_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def _access_modes(modes: Any) -> str:
    present = set(modes or [])
    return ",".join(short for full, short in _ACCESS_MODES if full in present)


# ---------------------------------------------------------------------------------------------
# printers: each returns the full (wide) cell list for one object
# ---------------------------------------------------------------------------------------------

Printer = Callable[[dict, float], list[Any]]


def _condition_true(conditions: Any, ctype: str) -> bool:
    for cond in conditions or []:
        if cond.get("type") == ctype:
            return cond.get("status") == "True"
    return False


def _is_restartable_init(container: Any) -> bool:
    return isinstance(container, dict) and container.get("restartPolicy") == "Always"


def pod_status_cells(pod: dict, now: float) -> tuple[str, str, str]:
    """READY, STATUS and RESTARTS of a pod, by kubectl's printPod rules."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    conditions = status.get("conditions") or []
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}

    total = len(spec.get("containers") or [])
    total += sum(1 for c in init_specs.values() if _is_restartable_init(c))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    def later(current: float | None, cstatus: dict) -> float | None:
        finished = _parse_time(
            _get(cstatus, "lastState", "terminated", "finishedAt"),
        )
        if _get(cstatus, "lastState", "terminated") is None or finished is None:
            return current
        if current is None or finished > current:
            return finished
        return current

    initializing = False
    init_total = len(spec.get("initContainers") or [])
    for i, cstatus in enumerate(status.get("initContainerStatuses") or []):
        count = _int(cstatus.get("restartCount"))
        restarts += count
        last_restart = later(last_restart, cstatus)
        sidecar = _is_restartable_init(init_specs.get(cstatus.get("name")))
        if sidecar:
            sidecar_restarts += count
            last_sidecar_restart = later(last_sidecar_restart, cstatus)
        state = cstatus.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and _int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and cstatus.get("started"):
            if cstatus.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif _int(terminated.get("signal")) != 0:
                reason = f"Init:Signal:{_int(terminated.get('signal'))}"
            else:
                reason = f"Init:ExitCode:{_int(terminated.get('exitCode'))}"
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{init_total}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cstatus in reversed(status.get("containerStatuses") or []):
            restarts += _int(cstatus.get("restartCount"))
            last_restart = later(last_restart, cstatus)
            state = cstatus.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if _int(terminated.get("signal")) != 0:
                    reason = f"Signal:{_int(terminated.get('signal'))}"
                else:
                    reason = f"ExitCode:{_int(terminated.get('exitCode'))}"
            elif cstatus.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        # A pod whose last container completed but another still runs is Running/NotReady.
        if reason == "Completed" and has_running:
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                reason = "Running"
            else:
                reason = "NotReady"

    deleting = _get(pod, "metadata", "deletionTimestamp") is not None
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"
    return f"{ready}/{total}", reason, restarts_cell


def _print_pod(pod: dict, now: float) -> list[Any]:
    ready, reason, restarts = pod_status_cells(pod, now)
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    pod_ip = _get(status, "podIPs", 0, "ip") or status.get("podIP") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conditions = status.get("conditions") or []
        true_count = 0
        for gate in gates:
            for cond in conditions:
                if cond.get("type") == gate.get("conditionType"):
                    if cond.get("status") == "True":
                        true_count += 1
                    break
        gates_cell = f"{true_count}/{len(gates)}"
    return [
        _name(pod),
        ready,
        reason,
        restarts,
        _age(pod, now),
        pod_ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_cell,
    ]


def _pod_row_conditions(pod: dict) -> list[dict[str, str]] | None:
    phase = _get(pod, "status", "phase")
    if phase == "Succeeded":
        message = "The pod has completed successfully."
    elif phase == "Failed":
        message = "The pod failed."
    else:
        return None
    return [{"type": "Completed", "status": "True", "reason": phase, "message": message}]


def _print_deployment(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'), 1)}",
        _int(status.get("updatedReplicas")),
        _int(status.get("availableReplicas")),
        _age(obj, now),
        names,
        images,
        _selector_string(spec.get("selector")),
    ]


def _print_replicaset(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        _int(spec.get("replicas"), 1),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        _age(obj, now),
        names,
        images,
        _format_label_selector(spec.get("selector")),
    ]


def _print_replication_controller(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        _int(spec.get("replicas"), 1),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        _age(obj, now),
        names,
        images,
        _format_labels(spec.get("selector")),
    ]


def _print_statefulset(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'), 1)}",
        _age(obj, now),
        names,
        images,
    ]


def _print_daemonset(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        _int(status.get("desiredNumberScheduled")),
        _int(status.get("currentNumberScheduled")),
        _int(status.get("numberReady")),
        _int(status.get("updatedNumberScheduled")),
        _int(status.get("numberAvailable")),
        _format_labels(_get(spec, "template", "spec", "nodeSelector")),
        _age(obj, now),
        names,
        images,
        _format_label_selector(spec.get("selector")),
    ]


def _print_job(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    succeeded = _int(status.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{_int(spec.get('completions'))}"
    elif _int(spec.get("parallelism")) > 1:
        completions = f"{succeeded}/1 of {_int(spec.get('parallelism'))}"
    else:
        completions = f"{succeeded}/1"
    start = _parse_time(status.get("startTime"))
    end = _parse_time(status.get("completionTime"))
    if start is None:
        job_duration = ""
    elif end is None:
        job_duration = human_duration(now - start)
    else:
        job_duration = human_duration(end - start)
    conditions = status.get("conditions") or []
    if _condition_true(conditions, "Complete"):
        state = "Complete"
    elif _condition_true(conditions, "Failed"):
        state = "Failed"
    elif _get(obj, "metadata", "deletionTimestamp") is not None:
        state = "Terminating"
    elif _condition_true(conditions, "Suspended"):
        state = "Suspended"
    elif _condition_true(conditions, "FailureTarget"):
        state = "FailureTarget"
    else:
        state = "Running"
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        state,
        completions,
        job_duration,
        _age(obj, now),
        names,
        images,
        _format_label_selector(spec.get("selector")),
    ]


def _print_cronjob(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    last = status.get("lastScheduleTime")
    job_spec = _get(spec, "jobTemplate", "spec", default={})
    names, images = _containers_cells(_get(job_spec, "template", "spec"))
    return [
        _name(obj),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        "True" if spec.get("suspend") else "False",
        len(status.get("active") or []),
        _since(last, now) if last else "<none>",
        _age(obj, now),
        names,
        images,
        _format_label_selector(job_spec.get("selector")),
    ]


def _lb_ingress(status: Any) -> str:
    found = set()
    for ing in _get(status, "loadBalancer", "ingress", default=[]) or []:
        if ing.get("ip"):
            found.add(ing["ip"])
        elif ing.get("hostname"):
            found.add(ing["hostname"])
    return ",".join(sorted(found))


def _service_external_ip(svc: dict) -> str:
    spec = svc.get("spec") or {}
    svc_type = spec.get("type") or "ClusterIP"
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if svc_type == "LoadBalancer":
        lb = _lb_ingress(svc.get("status"))
        if external:
            return ",".join(([*lb.split(",")] if lb else []) + external)
        return lb or "<pending>"
    if svc_type == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _service_ports(ports: Any) -> str:
    pieces = []
    for port in ports or []:
        proto = port.get("protocol") or "TCP"
        node_port = _int(port.get("nodePort"))
        if node_port > 0:
            pieces.append(f"{port.get('port')}:{node_port}/{proto}")
        else:
            pieces.append(f"{port.get('port')}/{proto}")
    return ",".join(pieces) or "<none>"


def _print_service(svc: dict, now: float) -> list[Any]:
    spec = svc.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or []
    cluster_ip = cluster_ips[0] if cluster_ips else spec.get("clusterIP") or "<none>"
    return [
        _name(svc),
        spec.get("type") or "ClusterIP",
        cluster_ip,
        _service_external_ip(svc),
        _service_ports(spec.get("ports")),
        _age(svc, now),
        _format_labels(spec.get("selector")),
    ]


def _format_endpoints(obj: dict) -> str:
    subsets = obj.get("subsets") or []
    if not subsets:
        return "<none>"
    items: list[str] = []
    count = 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:
            count += len(addresses)
            items.extend(str(a.get("ip", "")) for a in addresses)
            continue
        for port in ports:
            count += len(addresses)
            items.extend(_join_host_port(str(a.get("ip", "")), port.get("port")) for a in addresses)
    return _list_with_more(items, count, 3, "<none>")


def _print_endpoints(obj: dict, now: float) -> list[Any]:
    return [_name(obj), _format_endpoints(obj), _age(obj, now)]


def _print_endpointslice(obj: dict, now: float) -> list[Any]:
    ports = []
    for port in obj.get("ports") or []:
        if port.get("port") is not None:
            ports.append(str(port["port"]))
        elif port.get("name") is not None:
            ports.append(str(port["name"]))
        else:
            ports.append("*")
    addresses = [str(a) for ep in obj.get("endpoints") or [] for a in ep.get("addresses") or []]
    return [
        _name(obj),
        obj.get("addressType", ""),
        _list_with_more(ports, len(ports), 3, "<unset>"),
        _list_with_more(addresses, len(addresses), 3, "<unset>"),
        _age(obj, now),
    ]


def _node_roles(labels: Any) -> str:
    roles = set()
    for key, value in (labels or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/") :]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(status: dict, addr_type: str) -> str:
    for addr in status.get("addresses") or []:
        if addr.get("type") == addr_type:
            return addr.get("address", "")
    return "<none>"


def _print_node(node: dict, now: float) -> list[Any]:
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    states: list[str] = []
    ready_cond = None
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            ready_cond = cond
    if ready_cond is not None:
        states.append("Ready" if ready_cond.get("status") == "True" else "NotReady")
    else:
        states.append("Unknown")
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    return [
        _name(node),
        ",".join(states),
        _node_roles(_get(node, "metadata", "labels")),
        _age(node, now),
        info.get("kubeletVersion", ""),
        _node_address(status, "InternalIP"),
        _node_address(status, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _print_namespace(obj: dict, now: float) -> list[Any]:
    return [_name(obj), _get(obj, "status", "phase", default="Active"), _age(obj, now)]


def _print_event(ev: dict, now: float) -> list[Any]:
    first = ev.get("firstTimestamp")
    first_seen = _since(first if first else ev.get("eventTime"), now)
    last = ev.get("lastTimestamp")
    last_seen = _since(last, now) if last else first_seen
    count = _int(ev.get("count"))
    series = ev.get("series")
    if series is not None:
        last_seen = _since(series.get("lastObservedTime"), now)
        count = _int(series.get("count"))
    elif count == 0:
        count = 1
    involved = ev.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    instance = source.get("host") or ev.get("reportingInstance") or ""
    return [
        last_seen,
        ev.get("type", ""),
        ev.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {instance}" if instance else component,
        str(ev.get("message", "")).strip(),
        first_seen,
        count,
        _name(ev),
    ]


def _print_configmap(obj: dict, now: float) -> list[Any]:
    data = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [_name(obj), data, _age(obj, now)]


def _print_secret(obj: dict, now: float) -> list[Any]:
    return [
        _name(obj),
        obj.get("type") or "Opaque",
        len(obj.get("data") or {}),
        _age(obj, now),
    ]


def _print_serviceaccount(obj: dict, now: float) -> list[Any]:
    return [_name(obj), len(obj.get("secrets") or []), _age(obj, now)]


def _storage_class_of(obj: dict) -> str:
    annotated = _get(obj, "metadata", "annotations", "volume.beta.kubernetes.io/storage-class")
    if annotated is not None:
        return annotated
    return _get(obj, "spec", "storageClassName", default="")


def _print_pvc(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    phase = status.get("phase", "")
    if _get(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    capacity = ""
    modes = ""
    if spec.get("volumeName"):
        modes = _access_modes(status.get("accessModes"))
        capacity = _quantity(_get(status, "capacity", "storage"))
    return [
        _name(obj),
        phase,
        spec.get("volumeName", ""),
        capacity,
        modes,
        _storage_class_of(obj),
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(obj, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _print_pv(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    claim = spec.get("claimRef")
    claim_cell = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    phase = status.get("phase", "")
    if _get(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    return [
        _name(obj),
        _quantity(_get(spec, "capacity", "storage")),
        _access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        phase,
        claim_cell,
        _storage_class_of(obj),
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        _age(obj, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _print_resourcequota(obj: dict, now: float) -> list[Any]:
    hard = _get(obj, "status", "hard", default={}) or {}
    used = _get(obj, "status", "used", default={}) or {}
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        target = limits if resource.split(".")[0] == "limits" and "." in resource else requests
        target.append(f"{resource}: {_quantity(used.get(resource))}/{_quantity(hard[resource])}")
    return [_name(obj), ", ".join(requests), ", ".join(limits), _age(obj, now)]


def _print_networkpolicy(obj: dict, now: float) -> list[Any]:
    return [
        _name(obj),
        _format_label_selector(_get(obj, "spec", "podSelector", default={})),
        _age(obj, now),
    ]


def _hpa_metrics(obj: dict) -> str:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    specs = spec.get("metrics")
    statuses = status.get("currentMetrics") or []
    if specs is None:
        # autoscaling/v1 shape, or v2 with metrics defaulted: CPU at 80% utilisation.
        target = spec.get("targetCPUUtilizationPercentage", 80)
        specs = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": target},
                },
            }
        ]
        current = status.get("currentCPUUtilizationPercentage")
        if current is not None and not statuses:
            statuses = [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageUtilization": current},
                    },
                }
            ]
    if not specs:
        return "<none>"
    out: list[str] = []
    for i, metric in enumerate(specs):
        mtype = metric.get("type")
        mstatus = statuses[i] if i < len(statuses) else {}
        if mtype in ("External", "Object"):
            key = "external" if mtype == "External" else "object"
            target = _get(metric, key, "target", default={})
            cur = mstatus.get(key)
            if target.get("averageValue") is not None:
                current = "<unknown>"
                if cur is not None and _get(cur, "current", "averageValue") is not None:
                    current = _quantity(_get(cur, "current", "averageValue"))
                out.append(f"{current}/{_quantity(target.get('averageValue'))} (avg)")
            else:
                current = "<unknown>"
                if cur is not None:
                    current = _quantity(_get(cur, "current", "value"))
                out.append(f"{current}/{_quantity(target.get('value'))}")
        elif mtype == "Pods":
            cur = mstatus.get("pods")
            current = "<unknown>"
            if cur is not None:
                current = _quantity(_get(cur, "current", "averageValue"))
            target_value = _quantity(_get(metric, "pods", "target", "averageValue"))
            out.append(f"{current}/{target_value}")
        elif mtype in ("Resource", "ContainerResource"):
            key = "resource" if mtype == "Resource" else "containerResource"
            source = metric.get(key) or {}
            target = source.get("target") or {}
            cur = mstatus.get(key)
            rname = source.get("name", "")
            if target.get("averageValue") is not None:
                current = "<unknown>"
                if cur is not None:
                    current = _quantity(_get(cur, "current", "averageValue"))
                out.append(f"{rname}: {current}/{_quantity(target.get('averageValue'))}")
            else:
                current = "<unknown>"
                util = _get(cur, "current", "averageUtilization")
                if cur is not None and util is not None:
                    current = f"{_int(util)}%"
                goal = target.get("averageUtilization")
                goal_cell = f"{_int(goal)}%" if goal is not None else "<auto>"
                out.append(f"{rname}: {current}/{goal_cell}")
        else:
            out.append("<unknown type>")
    if len(out) > 2:
        return ", ".join(out[:2]) + f" + {len(out) - 2} more..."
    return ", ".join(out)


def _print_hpa(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    return [
        _name(obj),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _hpa_metrics(obj),
        str(_int(spec.get("minReplicas"), 1)),
        _int(spec.get("maxReplicas")),
        _int(_get(obj, "status", "currentReplicas")),
        _age(obj, now),
    ]


def _print_priorityclass(obj: dict, now: float) -> list[Any]:
    return [
        _name(obj),
        _int(obj.get("value")),
        bool(obj.get("globalDefault", False)),
        _age(obj, now),
        obj.get("preemptionPolicy") or "",
    ]


def _print_pdb(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    return [
        _name(obj),
        "N/A" if min_available is None else str(min_available),
        "N/A" if max_unavailable is None else str(max_unavailable),
        _int(_get(obj, "status", "disruptionsAllowed")),
        _age(obj, now),
    ]


def _subjects(obj: dict) -> list[str]:
    users: list[str] = []
    groups: list[str] = []
    sas: list[str] = []
    for subject in obj.get("subjects") or []:
        kind = subject.get("kind")
        if kind == "User":
            users.append(subject.get("name", ""))
        elif kind == "Group":
            groups.append(subject.get("name", ""))
        elif kind == "ServiceAccount":
            sas.append(f"{subject.get('namespace', '')}:{subject.get('name', '')}")
    return [", ".join(users), ", ".join(groups), ", ".join(sas)]


def _print_rolebinding(obj: dict, now: float) -> list[Any]:
    ref = obj.get("roleRef") or {}
    return [
        _name(obj),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _age(obj, now),
        *_subjects(obj),
    ]


def _print_lease(obj: dict, now: float) -> list[Any]:
    return [_name(obj), _get(obj, "spec", "holderIdentity", default=""), _age(obj, now)]


def _print_ingress(obj: dict, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    rules = spec.get("rules") or []
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == 3:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    hosts_cell = ",".join(hosts) if hosts else "*"
    if hosts and more:
        hosts_cell += f" + {len(rules) - 3} more..."
    return [
        _name(obj),
        spec.get("ingressClassName") or "<none>",
        hosts_cell,
        _lb_ingress(obj.get("status")),
        "80, 443" if spec.get("tls") else "80",
        _age(obj, now),
    ]


def _print_ingressclass(obj: dict, now: float) -> list[Any]:
    params = _get(obj, "spec", "parameters")
    parameters = "<none>"
    if isinstance(params, dict):
        parameters = params.get("kind", "")
        if params.get("apiGroup"):
            parameters += "." + params["apiGroup"]
        parameters += "/" + params.get("name", "")
    return [_name(obj), _get(obj, "spec", "controller", default=""), parameters, _age(obj, now)]


def _print_storageclass(obj: dict, now: float) -> list[Any]:
    annotations = _get(obj, "metadata", "annotations", default={}) or {}
    name = _name(obj)
    if (
        annotations.get("storageclass.kubernetes.io/is-default-class") == "true"
        or annotations.get("storageclass.beta.kubernetes.io/is-default-class") == "true"
    ):
        name += " (default)"
    return [
        name,
        obj.get("provisioner", ""),
        obj.get("reclaimPolicy") or "Delete",
        obj.get("volumeBindingMode") or "Immediate",
        bool(obj.get("allowVolumeExpansion", False)),
        _age(obj, now),
    ]


def _print_controllerrevision(obj: dict, now: float) -> list[Any]:
    controller = "<none>"
    for ref in _get(obj, "metadata", "ownerReferences", default=[]) or []:
        if ref.get("controller"):
            api_version = str(ref.get("apiVersion", ""))
            group = api_version.split("/")[0] if "/" in api_version else ""
            group_kind = str(ref.get("kind", ""))
            if group_kind and group:
                group_kind += "." + group
            name = str(ref.get("name", ""))
            controller = f"{group_kind.lower()}/{name}" if group_kind else name
            break
    return [_name(obj), controller, _int(obj.get("revision")), _age(obj, now)]


def _print_webhook_config(obj: dict, now: float) -> list[Any]:
    return [_name(obj), len(obj.get("webhooks") or []), _age(obj, now)]


def _print_created_at(obj: dict, now: float) -> list[Any]:
    ts = _parse_time(_get(obj, "metadata", "creationTimestamp"))
    created = ""
    if ts is not None:
        created = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        created = "0001-01-01T00:00:00Z"
    return [_name(obj), created]


def _print_name_age(obj: dict, now: float) -> list[Any]:
    return [_name(obj), _age(obj, now)]


# ---------------------------------------------------------------------------------------------
# registry: kind -> (columns, printer)
# ---------------------------------------------------------------------------------------------

_REPLICA_COLS = [
    _name_col(),
    _col("Desired", "integer", "Replicas is the number of desired pods."),
    _col("Current", "integer", "Replicas is the most recently observed number of pods."),
    _col(
        "Ready",
        "integer",
        "The number of pods targeted by this controller with a Ready Condition.",
    ),
    _age_col(),
]

_TABLES: dict[str, tuple[list[dict[str, Any]], Printer]] = {
    "Pod": (
        [
            _name_col(),
            _col(
                "Ready",
                "string",
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            _col(
                "Status",
                "string",
                "The aggregate status of the containers in this pod.",
            ),
            _col(
                "Restarts",
                "string",
                "The number of times the containers in this pod have been restarted and when "
                "the last container in this pod has restarted.",
            ),
            _age_col(),
            _col("IP", "string", "podIP address allocated to the pod.", 1),
            _col(
                "Node",
                "string",
                "NodeName indicates in which node this pod is scheduled.",
                1,
            ),
            _col(
                "Nominated Node",
                "string",
                "nominatedNodeName is set only when this pod preempts other pods on the node.",
                1,
            ),
            _col(
                "Readiness Gates",
                "string",
                "If specified, all readiness gates will be evaluated for pod readiness.",
                1,
            ),
        ],
        _print_pod,
    ),
    "Deployment": (
        [
            _name_col(),
            _col("Ready", "string", "Number of the pod with ready state"),
            _col(
                "Up-to-date",
                "string",
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            _col(
                "Available",
                "string",
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            _age_col(),
            *_template_cols(),
        ],
        _print_deployment,
    ),
    "ReplicaSet": ([*_REPLICA_COLS, *_template_cols()], _print_replicaset),
    "ReplicationController": (
        [*_REPLICA_COLS, *_template_cols()],
        _print_replication_controller,
    ),
    "StatefulSet": (
        [
            _name_col(),
            _col("Ready", "string", "Number of the pod with ready state"),
            _age_col(),
            *_template_cols(selector=False),
        ],
        _print_statefulset,
    ),
    "DaemonSet": (
        [
            _name_col(),
            _col(
                "Desired",
                "integer",
                "The total number of nodes that should be running the daemon pod.",
            ),
            _col(
                "Current",
                "integer",
                "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
            ),
            _col(
                "Ready",
                "integer",
                "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
            ),
            _col(
                "Up-to-date",
                "integer",
                "The total number of nodes that are running updated daemon pod.",
            ),
            _col(
                "Available",
                "integer",
                "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
            ),
            _col(
                "Node Selector",
                "string",
                "NodeSelector is a selector which must be true for the pod to fit on a node.",
            ),
            _age_col(),
            *_template_cols(),
        ],
        _print_daemonset,
    ),
    "Job": (
        [
            _name_col(),
            _col("Status", "string", "Status of the job."),
            _col(
                "Completions",
                "string",
                "The number of pods which reached phase Succeeded.",
            ),
            _col("Duration", "string", "Time required to complete the job."),
            _age_col(),
            *_template_cols(),
        ],
        _print_job,
    ),
    "CronJob": (
        [
            _name_col(),
            _col("Schedule", "string", "The schedule in Cron format."),
            _col("Timezone", "string", "The time zone name for the given schedule."),
            _col(
                "Suspend",
                "boolean",
                "This flag tells the controller to suspend subsequent executions.",
            ),
            _col("Active", "integer", "A list of pointers to currently running jobs."),
            _col(
                "Last Schedule",
                "string",
                "Information when was the last time the job was successfully scheduled.",
            ),
            _age_col(),
            *_template_cols(),
        ],
        _print_cronjob,
    ),
    "Service": (
        [
            _name_col(),
            _col("Type", "string", "type determines how the Service is exposed."),
            _col("Cluster-IP", "string", "clusterIP is the IP address of the service."),
            _col(
                "External-IP",
                "string",
                "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
            ),
            _col(
                "Port(s)",
                "string",
                "The list of ports that are exposed by this service.",
            ),
            _age_col(),
            _col(
                "Selector",
                "string",
                "Route service traffic to pods with label keys and values matching this selector.",
                1,
            ),
        ],
        _print_service,
    ),
    "Endpoints": (
        [
            _name_col(),
            _col(
                "Endpoints",
                "string",
                "The set of all endpoints is the union of all subsets.",
            ),
            _age_col(),
        ],
        _print_endpoints,
    ),
    "EndpointSlice": (
        [
            _name_col(),
            _col(
                "AddressType",
                "string",
                "addressType specifies the type of address carried by this EndpointSlice.",
            ),
            _col(
                "Ports",
                "string",
                "ports specifies the list of network ports exposed by each endpoint in this slice.",
            ),
            _col(
                "Endpoints",
                "string",
                "endpoints is a list of unique endpoints in this slice.",
            ),
            _age_col(),
        ],
        _print_endpointslice,
    ),
    "Node": (
        [
            _name_col(),
            _col("Status", "string", "The status of the node"),
            _col("Roles", "string", "The roles of the node"),
            _age_col(),
            _col("Version", "string", "Kubelet Version reported by the node."),
            _col("Internal-IP", "string", "List of addresses reachable to the node.", 1),
            _col("External-IP", "string", "List of addresses reachable to the node.", 1),
            _col(
                "OS-Image",
                "string",
                "OS Image reported by the node from /etc/os-release.",
                1,
            ),
            _col(
                "Kernel-Version",
                "string",
                "Kernel Version reported by the node from 'uname -r'.",
                1,
            ),
            _col(
                "Container-Runtime",
                "string",
                "ContainerRuntime Version reported by the node through runtime remote API.",
                1,
            ),
        ],
        _print_node,
    ),
    "Namespace": (
        [
            _name_col(),
            _col("Status", "string", "The status of the namespace"),
            _age_col(),
        ],
        _print_namespace,
    ),
    "Event": (
        [
            _col(
                "Last Seen",
                "string",
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            _col(
                "Type",
                "string",
                "Type of this event (Normal, Warning), new types could be added in the future",
            ),
            _col(
                "Reason",
                "string",
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            _col("Object", "string", "The object that this event is about."),
            _col(
                "Subobject",
                "string",
                "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
                1,
            ),
            _col("Source", "string", "The component reporting this event.", 1),
            _col(
                "Message",
                "string",
                "A human-readable description of the status of this operation.",
            ),
            _col(
                "First Seen",
                "string",
                "The time at which the event was first recorded.",
                1,
            ),
            _col("Count", "string", "The number of times this event has occurred.", 1),
            _name_col(priority=1),
        ],
        _print_event,
    ),
    "ConfigMap": (
        [
            _name_col(),
            _col("Data", "string", "Data contains the configuration data."),
            _age_col(),
        ],
        _print_configmap,
    ),
    "Secret": (
        [
            _name_col(),
            _col(
                "Type",
                "string",
                "Used to facilitate programmatic handling of secret data.",
            ),
            _col("Data", "string", "Data contains the secret data."),
            _age_col(),
        ],
        _print_secret,
    ),
    "ServiceAccount": (
        [
            _name_col(),
            _col(
                "Secrets",
                "string",
                "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
            ),
            _age_col(),
        ],
        _print_serviceaccount,
    ),
    "PersistentVolumeClaim": (
        [
            _name_col(),
            _col(
                "Status",
                "string",
                "phase represents the current phase of PersistentVolumeClaim.",
            ),
            _col(
                "Volume",
                "string",
                "volumeName is the binding reference to the PersistentVolume backing this claim.",
            ),
            _col(
                "Capacity",
                "string",
                "capacity represents the actual resources of the underlying volume.",
            ),
            _col(
                "Access Modes",
                "string",
                "accessModes contains the actual access modes the volume backing the PVC has.",
            ),
            _col("StorageClass", "string", "StorageClass of the pvc"),
            _col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
            _age_col(),
            _col(
                "VolumeMode",
                "string",
                "volumeMode defines what type of volume is required by the claim.",
                1,
            ),
        ],
        _print_pvc,
    ),
    "PersistentVolume": (
        [
            _name_col(),
            _col(
                "Capacity",
                "string",
                "capacity is the description of the persistent volume's resources and capacity.",
            ),
            _col(
                "Access Modes",
                "string",
                "accessModes contains all ways the volume can be mounted.",
            ),
            _col(
                "Reclaim Policy",
                "string",
                "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
            ),
            _col(
                "Status",
                "string",
                "phase indicates if a volume is available, bound to a claim, or released by a claim.",
            ),
            _col(
                "Claim",
                "string",
                "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
            ),
            _col("StorageClass", "string", "StorageClass of the pv"),
            _col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
            _col(
                "Reason",
                "string",
                "reason is a brief CamelCase string that describes any failure.",
            ),
            _age_col(),
            _col(
                "VolumeMode",
                "string",
                "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
                1,
            ),
        ],
        _print_pv,
    ),
    "ResourceQuota": (
        [
            _name_col(),
            _col(
                "Request",
                "string",
                "Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            _col(
                "Limit",
                "string",
                "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
            ),
            _age_col(),
        ],
        _print_resourcequota,
    ),
    "NetworkPolicy": (
        [
            _name_col(),
            _col(
                "Pod-Selector",
                "string",
                "Selects the pods to which this NetworkPolicy object applies.",
            ),
            _age_col(),
        ],
        _print_networkpolicy,
    ),
    "HorizontalPodAutoscaler": (
        [
            _name_col(),
            _col(
                "Reference",
                "string",
                "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.",
            ),
            _col(
                "Targets",
                "string",
                "metrics contains the specifications for which to use to calculate the desired replica count.",
            ),
            _col(
                "MinPods",
                "string",
                "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
            ),
            _col(
                "MaxPods",
                "string",
                "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
            ),
            _col(
                "Replicas",
                "string",
                "currentReplicas is current number of replicas of pods managed by this autoscaler.",
            ),
            _age_col(),
        ],
        _print_hpa,
    ),
    "PriorityClass": (
        [
            _name_col(),
            _col(
                "Value",
                "integer",
                "value represents the integer value of this priority class.",
            ),
            _col(
                "Global-Default",
                "boolean",
                "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
            ),
            _age_col(),
            _col(
                "PreemptionPolicy",
                "string",
                "preemptionPolicy is the Policy for preempting pods with lower priority.",
            ),
        ],
        _print_priorityclass,
    ),
    "PodDisruptionBudget": (
        [
            _name_col(),
            _col(
                "Min Available",
                "string",
                "The minimum number of pods that must be available.",
            ),
            _col(
                "Max Unavailable",
                "string",
                "The maximum number of pods that may be unavailable.",
            ),
            _col(
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            _age_col(),
        ],
        _print_pdb,
    ),
    "RoleBinding": (
        [
            _name_col(),
            _col(
                "Role",
                "string",
                "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
            ),
            _age_col(),
            _col("Users", "string", "Users in the roleBinding", 1),
            _col("Groups", "string", "Groups in the roleBinding", 1),
            _col("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1),
        ],
        _print_rolebinding,
    ),
    "ClusterRoleBinding": (
        [
            _name_col(),
            _col(
                "Role",
                "string",
                "RoleRef can only reference a ClusterRole in the global namespace.",
            ),
            _age_col(),
            _col("Users", "string", "Users in the clusterRoleBinding", 1),
            _col("Groups", "string", "Groups in the clusterRoleBinding", 1),
            _col(
                "ServiceAccounts",
                "string",
                "ServiceAccounts in the clusterRoleBinding",
                1,
            ),
        ],
        _print_rolebinding,
    ),
    "Lease": (
        [
            _name_col(),
            _col(
                "Holder",
                "string",
                "holderIdentity contains the identity of the holder of a current lease.",
            ),
            _age_col(),
        ],
        _print_lease,
    ),
    "Ingress": (
        [
            _name_col(),
            _col(
                "Class",
                "string",
                "The name of the IngressClass resource that should be used for additional configuration",
            ),
            _col(
                "Hosts",
                "string",
                "Hosts that incoming requests are matched against before the ingress rule",
            ),
            _col(
                "Address",
                "string",
                "Address is a list containing ingress points for the load-balancer",
            ),
            _col("Ports", "string", "Ports of TLS configurations that open"),
            _age_col(),
        ],
        _print_ingress,
    ),
    "IngressClass": (
        [
            _name_col(),
            _col(
                "Controller",
                "string",
                "Controller that is responsible for handling this class",
            ),
            _col("Parameters", "string", "A reference to a resource with additional parameters"),
            _age_col(),
        ],
        _print_ingressclass,
    ),
    "StorageClass": (
        [
            _name_col(),
            _col(
                "Provisioner",
                "string",
                "provisioner indicates the type of the provisioner.",
            ),
            _col(
                "ReclaimPolicy",
                "string",
                "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
            ),
            _col(
                "VolumeBindingMode",
                "string",
                "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
            ),
            _col(
                "AllowVolumeExpansion",
                "string",
                "allowVolumeExpansion shows whether the storage class allow volume expand.",
            ),
            _age_col(),
        ],
        _print_storageclass,
    ),
    "ControllerRevision": (
        [
            _name_col(),
            _col("Controller", "string", "Controller of the object"),
            _col(
                "Revision",
                "string",
                "Revision indicates the revision of the state represented by Data.",
            ),
            _age_col(),
        ],
        _print_controllerrevision,
    ),
    "MutatingWebhookConfiguration": (
        [
            _name_col(),
            _col(
                "Webhooks",
                "integer",
                "Webhooks indicates the number of webhooks registered in this configuration",
            ),
            _age_col(),
        ],
        _print_webhook_config,
    ),
    "ValidatingWebhookConfiguration": (
        [
            _name_col(),
            _col(
                "Webhooks",
                "integer",
                "Webhooks indicates the number of webhooks registered in this configuration",
            ),
            _age_col(),
        ],
        _print_webhook_config,
    ),
}

# Built-in kinds without a printer use the generic table convertor: NAME, CREATED AT.
_CREATED_AT_KINDS = frozenset({"CustomResourceDefinition", "Role", "ClusterRole", "LimitRange"})
_CREATED_AT_COLUMNS = [_name_col(), _col("Created At", "date", _AGE_DESC)]

# Custom resources without additionalPrinterColumns: the CRD defaulting adds an Age column.
_CUSTOM_COLUMNS = [
    _name_col(),
    _col(
        "Age",
        "date",
        "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp",
    ),
]


def columns_for(kind: str) -> list[dict[str, Any]]:
    """The column definitions kube-apiserver sends for `kind` (copies; safe to mutate)."""
    if kind in _TABLES:
        cols = _TABLES[kind][0]
    elif kind in _CREATED_AT_KINDS:
        cols = _CREATED_AT_COLUMNS
    else:
        cols = _CUSTOM_COLUMNS
    return [dict(c) for c in cols]


def _printer_for(kind: str) -> Printer:
    if kind in _TABLES:
        return _TABLES[kind][1]
    if kind in _CREATED_AT_KINDS:
        return _print_created_at
    return _print_name_age


def _row_object(obj: dict, include_object: str) -> dict | None:
    if include_object == "Object":
        return obj
    if include_object == "Metadata":
        return {
            "kind": "PartialObjectMetadata",
            "apiVersion": TABLE_API_VERSION,
            "metadata": obj.get("metadata") or {},
        }
    return None


def to_table(
    kind: str,
    objects: list[dict],
    now: float,
    include_object: str = "Metadata",
    wide: bool = False,
    *,
    resource_version: str = "",
    continue_token: str = "",
    remaining_item_count: int | None = None,
) -> dict:
    """Render `objects` (all of `kind`) as a `meta.k8s.io/v1` Table, like kube-apiserver.

    `now` is seconds since the epoch (AGE, RESTARTS "(5m ago)", LAST SEEN are relative to it).
    `include_object` is the `includeObject` query parameter: "Metadata" (kubectl's default, a
    PartialObjectMetadata per row), "Object" (the whole object) or "None" (no `object` key).

    Every column is always included, priority-1 ("-o wide") ones too: that is what the real
    server sends, and kubectl hides priority > 0 columns itself unless `-o wide` was asked for.
    `wide` is accepted for API compatibility and does not change the result.

    Rows reference the input objects (no copies); serialize before mutating them.
    """
    del wide  # the server always generates wide rows; kubectl filters by column priority
    if include_object not in ("Metadata", "Object", "None"):
        raise ValueError(
            f'unrecognized includeObject value "{include_object}" (must be one of "None", "Metadata", "Object")'
        )
    printer = _printer_for(kind)
    rows: list[dict[str, Any]] = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer(obj, now)}
        if kind == "Pod":
            conditions = _pod_row_conditions(obj)
            if conditions is not None:
                row["conditions"] = conditions
        row_object = _row_object(obj, include_object)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)

    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    if remaining_item_count is not None:
        metadata["remainingItemCount"] = remaining_item_count
    return {
        "kind": "Table",
        "apiVersion": TABLE_API_VERSION,
        "metadata": metadata,
        "columnDefinitions": columns_for(kind),
        "rows": rows,
    }
