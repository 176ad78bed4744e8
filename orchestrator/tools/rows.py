"""One-row summaries of workloads and pods: what `kubectl get` shows, plus the problems a human would
spot in it (`0/1 ready`, `ImagePullBackOff`, `Unschedulable`), as short strings a model can match."""

from __future__ import annotations

import functools
import time
from datetime import datetime
from typing import Any

from ..redaction import mask_text

REVISION = "deployment.kubernetes.io/revision"
MAX_ROWS = 50


def parse_time(text: str | None) -> float | None:
    if not text:
        return None
    return _parse_iso(str(text))


@functools.lru_cache(maxsize=8192)
def _parse_iso(text: str) -> float | None:
    """Parsed once per distinct text: a large cluster's objects repeat the same few seconds."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def cluster_now(objects: list[dict], server_time: float | None = None) -> float:
    """The cluster's "now": the API server's clock when it gave it (a simulated clock runs apart from this
    machine's), else the wall clock; later if the objects carry later times (no negative ages)."""
    newest = time.time() if server_time is None else server_time
    for obj in objects:
        meta = obj.get("metadata") or {}
        for stamp in (meta.get("creationTimestamp"), (obj.get("status") or {}).get("startTime")):
            t = parse_time(stamp)
            if t is not None and t > newest:
                newest = t
    return newest


def capped(rows: list[Any], key: str, limit: int = MAX_ROWS, **extra: Any) -> dict[str, Any]:
    """{key: rows[:limit], "truncated": n_more} (truncated only when something was cut)."""
    out: dict[str, Any] = {key: rows[:limit], **extra}
    if len(rows) > limit:
        out["truncated"] = len(rows) - limit
    return out


def condition(obj: dict, ctype: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == ctype), {})


def images(template_spec: dict) -> list[str]:
    return [c.get("image", "") for c in template_spec.get("containers") or []]


# ---------------------------------------------------------------------------------------------- workloads
def workload_row(obj: dict, revision: int | None = None) -> dict[str, Any]:
    """Deployment, StatefulSet or DaemonSet as one row with its problems."""
    kind = obj.get("kind", "Deployment")
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    if kind == "DaemonSet":
        desired = int(status.get("desiredNumberScheduled", 0))
        ready = int(status.get("numberReady", 0))
        available = int(status.get("numberAvailable", 0))
        updated = int(status.get("updatedNumberScheduled", 0))
    else:
        desired = int(spec.get("replicas", 1))
        ready = int(status.get("readyReplicas", 0))
        available = int(status.get("availableReplicas", 0))
        updated = int(status.get("updatedReplicas", 0))
    if revision is None and kind == "Deployment":
        revision = _int((meta.get("annotations") or {}).get(REVISION))
    template = (spec.get("template") or {}).get("spec") or {}
    return {
        "kind": kind,
        "name": meta["name"],
        "namespace": meta.get("namespace"),
        "desired": desired,
        "ready": ready,
        "available": available,
        "updated": updated,
        "revision": revision,
        "images": images(template),
        "paused": bool(spec.get("paused", False)),
        "problems": workload_problems(obj, desired, ready, updated),
    }


def workload_problems(obj: dict, desired: int, ready: int, updated: int) -> list[str]:
    problems = []
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if desired == 0 and obj.get("kind") != "DaemonSet":
        problems.append("scaled to zero")
    if ready < desired:
        problems.append(f"{ready}/{desired} ready")
    if updated < desired:
        problems.append(f"{updated}/{desired} updated")
    progressing = condition(obj, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        problems.append("ProgressDeadlineExceeded")
    failure = condition(obj, "ReplicaFailure")
    if failure.get("status") == "True":
        problems.append(f"ReplicaFailure: {failure.get('reason', '')}: {failure.get('message', '')}".strip(": "))
    if spec.get("paused"):
        problems.append("rollout paused")
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if generation and observed is not None and int(observed) < int(generation):
        problems.append("spec change not yet observed by the controller")
    return problems


# ---------------------------------------------------------------------------------------------- pods
def pod_row(pod: dict, owner: str | None, now: float) -> dict[str, Any]:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    containers = spec.get("containers") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    created = parse_time(meta.get("creationTimestamp"))
    reasons, message = pod_reasons(pod)
    row: dict[str, Any] = {
        "name": meta["name"],
        "phase": status.get("phase", "Unknown"),
        "ready": f"{ready}/{len(containers)}",
        "restarts": sum(int(s.get("restartCount", 0)) for s in statuses),
        "reasons": reasons,
        "node": spec.get("nodeName"),
        "owner": owner,
        "age_seconds": int(now - created) if created is not None else None,
    }
    if message:
        row["message"] = message
    return row


def pod_reasons(pod: dict) -> tuple[list[str], str | None]:
    """Why a pod is unwell, kubectl-style: waiting/terminated reasons (init containers as `Init:X`), the
    last termination (OOMKilled), Unschedulable, ContainersNotReady; plus the most telling message."""
    status = pod.get("status") or {}
    reasons: list[str] = []
    messages: list[str] = []

    def add(reason: str | None, message: str | None = None) -> None:
        if reason and reason not in reasons:
            reasons.append(reason)
        if message:
            messages.append(message)

    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        add("Terminating")
    if status.get("reason"):
        add(status["reason"], status.get("message"))
    scheduled = condition(pod, "PodScheduled")
    if scheduled.get("status") == "False":
        add(scheduled.get("reason") or "Unschedulable", scheduled.get("message"))
    for prefix, key in (("Init:", "initContainerStatuses"), ("", "containerStatuses")):
        for s in status.get(key) or []:
            state, last = s.get("state") or {}, s.get("lastState") or {}
            waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
            if waiting.get("reason"):
                add(prefix + waiting["reason"], waiting.get("message"))
            # A finished init container (exit 0) is normal; anything else that terminated is a reason.
            if terminated.get("reason") and not (prefix and terminated.get("exitCode") == 0):
                add(prefix + terminated["reason"], terminated.get("message"))
            last_term = last.get("terminated") or {}
            if last_term.get("reason") and (last_term.get("exitCode") or last_term.get("reason") == "OOMKilled"):
                add(prefix + last_term["reason"], last_term.get("message"))
            if prefix and "running" in state and status.get("phase") == "Pending":
                add("Init:Running")
    ready = condition(pod, "Ready")
    if ready.get("status") == "False" and ready.get("reason") == "ContainersNotReady":
        add("ContainersNotReady", None if messages else ready.get("message"))
    # "back-off restarting failed container" says less than why it failed (the termination message).
    telling = [m for m in messages if not m.lower().startswith("back-off")] or messages
    message = mask_text(telling[0]) if telling else None  # before the cut, which could halve a secret
    if message and len(message) > 240:
        message = message[:240] + "..."
    return reasons, message


def owner_of(obj: dict, replica_set_owners: dict[str, str]) -> str | None:
    """`Kind/name` of the controller; a ReplicaSet resolves to its Deployment when it has one."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller", True):
            if ref.get("kind") == "ReplicaSet":
                return replica_set_owners.get(ref["name"], f"ReplicaSet/{ref['name']}")
            return f"{ref.get('kind')}/{ref.get('name')}"
    return None


def replica_set_owners(replica_sets: list[dict]) -> dict[str, str]:
    """ReplicaSet name -> `Deployment/name` (or `ReplicaSet/name` for a bare one)."""
    out = {}
    for rs in replica_sets:
        name = rs["metadata"]["name"]
        out[name] = owner_of(rs, {}) or f"ReplicaSet/{name}"
    return out


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
