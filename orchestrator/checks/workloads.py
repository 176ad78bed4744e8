"""Workload checks: the rollout is complete and available, its pods serve, and they are not restarting."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from .kube import condition, container_statuses, meta, newest, parse_time, pod_problems, spec, status
from .reads import ReadError
from .registry import Context, Outcome, check
from .relations import live, wanted, workload_pods, workloads_in
from .targets import WORKLOAD_KINDS, Target
from .text import count, listed


def _read(ctx: Context, target: Target) -> dict | None:
    obj = ctx.reads.get(target.kind or "", target.namespace, target.name or "")
    if obj is not None:
        obj.setdefault("kind", target.kind)
    return obj


def _not_found(target: Target) -> Outcome:
    return Outcome(False, {"exists": False}, f"{target} not found")


# ---------------------------------------------------------------------------------------------- available
def rollout_state(workload: dict) -> tuple[dict[str, Any], list[str]]:
    """Observed replica counts of a workload and what keeps it from being fully available."""
    st, kind = status(workload), workload.get("kind")
    counts: dict[str, Any]  # replica counts, plus the generations and Available condition as served
    if kind == "DaemonSet":
        desired = int(st.get("desiredNumberScheduled", 0))
        counts = {
            "desired": desired,
            "ready": int(st.get("numberReady", 0)),
            "available": int(st.get("numberAvailable", 0)),
            "updated": int(st.get("updatedNumberScheduled", 0)),
            "replicas": int(st.get("currentNumberScheduled", 0)),
        }
    else:
        replicas = spec(workload).get("replicas")
        desired = 1 if replicas is None else int(replicas)  # the API's default
        counts = {
            "desired": desired,
            "ready": int(st.get("readyReplicas", 0)),
            "available": int(st.get("availableReplicas", 0)),
            "updated": int(st.get("updatedReplicas", 0)),
            "replicas": int(st.get("replicas", 0)),
        }
    generation, observed = meta(workload).get("generation"), st.get("observedGeneration")
    counts.update({"generation": generation, "observed_generation": observed})
    problems = []
    if desired < 1:
        # A remediated workload at 0 replicas serves nothing, whatever its status says.
        problems.append("0 replicas desired" if kind != "DaemonSet" else "scheduled on no node")
    for key in ("ready", "available", "updated"):
        if counts[key] != desired:
            problems.append(f"{counts[key]}/{desired} {key}")
    if counts["replicas"] > desired:
        problems.append(f"{count(counts['replicas'] - desired, 'old replica')} pending termination")
    if generation is not None and (observed is None or int(observed) < int(generation)):
        problems.append(f"generation {generation} not observed yet (observed {observed})")
    if kind == "Deployment":
        available = condition(workload, "Available")
        counts["available_condition"] = available.get("status", "Unknown")
        if available.get("status") != "True":
            problems.append(f"Available={available.get('status', 'Unknown')} ({available.get('reason', 'no reason')})")
    return counts, problems


@check("workload_available", kinds=WORKLOAD_KINDS, namespace=True)
def workload_available(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """The workload exists, wants >= 1 replica, and every replica is ready, available and updated (for a
    Deployment also generation observed and Available=True). On a namespace: every workload wanting replicas."""
    assert target is not None
    if target.is_namespace:
        failing, counted = [], 0
        for w in workloads_in(ctx.reads, target.namespace or ""):
            if not wanted(w):
                continue
            counted += 1
            _, problems = rollout_state(w)
            if problems:
                failing.append(f"{w['kind']} {meta(w).get('name')}: {', '.join(problems)}")
        value = {"workloads": counted, "unavailable": failing}
        if failing:
            return Outcome(
                False, value, f"{len(failing)}/{counted} workloads in {target} unavailable: {listed(failing)}"
            )
        return Outcome(True, value, f"all {counted} workloads in {target} are available")
    workload = _read(ctx, target)
    if workload is None:
        return _not_found(target)
    counts, problems = rollout_state(workload)
    value = {"exists": True, **counts}
    if problems:
        return Outcome(False, value, f"{target}: {', '.join(problems)}")
    desired = counts["desired"]
    return Outcome(True, value, f"{target}: {desired}/{desired} ready, available and updated")


# ---------------------------------------------------------------------------------------------- pods
def _pods(ctx: Context, target: Target) -> tuple[list[dict], Outcome | None]:
    if target.is_namespace:
        return live(ctx.reads.list("Pod", target.namespace)), None
    if target.kind == "Pod":  # a bare pod, judged by itself
        pod = _read(ctx, target)
        return ([pod], None) if pod is not None else ([], _not_found(target))
    workload = _read(ctx, target)
    if workload is None:
        return [], _not_found(target)
    return workload_pods(ctx.reads, workload), None


@check("no_pending_or_crashlooping", kinds={*WORKLOAD_KINDS, "Pod"}, namespace=True)
def no_pending_or_crashlooping(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """No pod of the workload (or namespace, or the bare pod itself) is Pending, waiting (CrashLoopBackOff, ImagePullBackOff,
    CreateContainerConfigError...) or not Ready."""
    assert target is not None
    pods, missing = _pods(ctx, target)
    if missing:
        return missing
    unhealthy = {meta(p).get("name"): problems for p in pods if (problems := pod_problems(p))}
    value = {"pods": len(pods), "unhealthy": unhealthy}
    if unhealthy:
        lines = [f"{name}: {', '.join(problems)}" for name, problems in unhealthy.items()]
        return Outcome(False, value, f"{target}: {len(unhealthy)}/{len(pods)} pods unhealthy: {listed(lines)}")
    return Outcome(True, value, f"{target}: {count(len(pods), 'pod')}, none pending, waiting or unready")


# ---------------------------------------------------------------------------------------------- restarts
def server_now(ctx: Context, namespace: str | None) -> float | None:
    """The cluster's clock: the API server's Date header; without one (a proxy may drop it), the newest
    timestamp the namespace's pods and events show. Never this machine's: a simulated or skewed cluster
    runs ahead of it."""
    if ctx.reads.server_time is not None:
        return ctx.reads.server_time  # a namespace's events can be tens of megabytes: read them only for want of it
    seen = ctx.reads.list("Pod", namespace)
    with contextlib.suppress(ReadError):  # events only sharpen the clock: optional
        seen = seen + ctx.reads.list("Event", namespace)
    return newest(seen, ctx.reads.server_time)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@check("no_recent_restarts", kinds=WORKLOAD_KINDS, namespace=True)
def no_recent_restarts(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """No container of the workload's pods terminated (lastState.terminated.finishedAt) within the restart
    window before the cluster's current time."""
    assert target is not None
    pods, missing = _pods(ctx, target)
    if missing:
        return missing
    now = server_now(ctx, target.namespace)
    window = ctx.restart_window
    recent, total = [], 0
    for p in pods:
        for cs in container_statuses(p):
            total += int(cs.get("restartCount", 0))
            terminated = (cs.get("lastState") or {}).get("terminated") or {}
            finished = parse_time(terminated.get("finishedAt"))
            # A container in back-off is restarting, however long ago it last died (back-off reaches 5 min).
            backing_off = ((cs.get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
            if finished is None or now is None or (now - finished > window and not backing_off):
                continue
            recent.append(
                {
                    "pod": meta(p).get("name"),
                    "container": cs.get("name"),
                    "restarts": int(cs.get("restartCount", 0)),
                    "reason": terminated.get("reason"),
                    "exit_code": terminated.get("exitCode"),
                    "seconds_ago": round(now - finished),
                }
            )
    value = {
        "pods": len(pods),
        "restarts_total": total,
        "window_seconds": window,
        "now": _iso(now) if now else None,
        "recent": recent,
    }
    if recent:
        lines = [f"{r['pod']}/{r['container']} {r['reason'] or 'terminated'} {r['seconds_ago']}s ago" for r in recent]
        return Outcome(
            False, value, f"{target}: {count(len(recent), 'restart')} in the last {window:g}s: {listed(lines)}"
        )
    return Outcome(True, value, f"{target}: no restart in the last {window:g}s ({total} older)")
