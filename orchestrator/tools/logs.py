"""`get_logs`: a container's recent log lines, by pod or by workload (the least healthy pod is picked).

A crash-looping container's current instance has usually printed nothing yet, so when the current log is
empty and the container has restarted, the previous instance's lines are returned (and marked so).
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..redaction import mask_text
from .context import ToolContext
from .errors import ToolError
from .kinds import KINDS, ref, split_object
from .kube_api import NotFound
from .rows import condition, parse_time
from .schema import params, prop
from .spec import ToolSpec

MAX_TAIL = 200
MAX_LINE_CHARS = 500


async def workload_pods(ctx: ToolContext, namespace: str, workload: str) -> list[dict]:
    """The pods of a `Kind/name` workload (by its selector), not terminating."""
    kind, name = split_object(workload, default_kind="Deployment")
    obj = await ctx.kube.get(kind, name, namespace)
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not labels:
        raise ToolError(f"{kind.kind.lower()} {namespace}/{name} has no matchLabels selector to find its pods by")
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = await ctx.kube.list(KINDS["Pod"], namespace, label_selector=selector)
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def least_healthy(pods: list[dict]) -> dict:
    """Prefer a pod that is not ready, then the one with most restarts, then the newest."""

    def rank(p: dict) -> tuple:
        ready = condition(p, "Ready").get("status") == "True"
        restarts = sum(int(s.get("restartCount", 0)) for s in (p.get("status") or {}).get("containerStatuses") or [])
        created = parse_time(p["metadata"].get("creationTimestamp")) or 0.0
        return (ready, -restarts, -created)

    return min(pods, key=rank)


def _pick_container(pod: dict, wanted: str | None) -> str:
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers") or []]
    init_names = [c["name"] for c in spec.get("initContainers") or []]
    if wanted:
        if wanted not in names + init_names:
            raise ToolError(
                f"container {wanted} not found in pod {pod['metadata']['name']}; containers: {', '.join(names + init_names)}"
            )
        return wanted
    # A pod stuck initialising has nothing in its main containers yet: show the failing init container.
    for s in (pod.get("status") or {}).get("initContainerStatuses") or []:
        if not s.get("ready") and (s.get("restartCount") or "running" in (s.get("state") or {})):
            return s["name"]
    return names[0]


def _status(pod: dict, container: str) -> dict:
    status = pod.get("status") or {}
    for s in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if s.get("name") == container:
            return s
    return {}


async def get_logs(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    namespace = args["namespace"]
    if args.get("pod"):
        pod = await ctx.kube.get(KINDS["Pod"], args["pod"], namespace)
    elif args.get("workload"):
        pods = await workload_pods(ctx, namespace, args["workload"])
        if not pods:
            raise ToolError(f"{args['workload']} in {namespace} has no pods (scaled to zero or not created)")
        pod = least_healthy(pods)
    else:
        raise ToolError("missing required argument 'pod' (or 'workload' as Kind/name)")
    name = pod["metadata"]["name"]
    container = _pick_container(pod, args.get("container"))
    tail = min(int(args["tail"]), MAX_TAIL)
    previous = bool(args["previous"])
    text = await _read(ctx, namespace, name, container, tail, previous)
    if not text.strip() and not previous and _status(pod, container).get("restartCount", 0) > 0:
        # No earlier instance with logs either (it never started)? Then the note below says why.
        with contextlib.suppress(ToolError):
            text, previous = await _read(ctx, namespace, name, container, tail, True), True
    lines = [_clip(mask_text(line)) for line in text.splitlines()]
    out: dict[str, Any] = {
        "object": ref("Pod", namespace, name),
        "pod": name,
        "container": container,
        "previous": previous,
        "lines": lines,
        "containers": [c["name"] for c in (pod.get("spec") or {}).get("containers") or []],
    }
    if not lines:
        out["note"] = _silence(_status(pod, container))
    return out


def _silence(status: dict) -> str:
    """Why a container has no log lines, from its last termination or current wait."""
    last = (status.get("lastState") or {}).get("terminated") or (status.get("state") or {}).get("terminated")
    if last:
        return mask_text(
            f"no log lines; last terminated: {last.get('reason')} (exit code {last.get('exitCode')})"
            + (f": {last['message']}" if last.get("message") else "")
        )
    waiting = (status.get("state") or {}).get("waiting")
    if waiting:
        return mask_text(f"no log lines; waiting: {waiting.get('reason')}: {waiting.get('message', '')}".rstrip(": "))
    return "the container has written no log lines"


async def _read(ctx: ToolContext, namespace: str, pod: str, container: str, tail: int, previous: bool) -> str:
    try:
        return await ctx.kube.pod_log(namespace, pod, container, tail, previous)
    except NotFound:
        raise
    except ToolError as err:
        # The API server explains why there are no logs (waiting to start, no previous instance).
        message = str(err).split(": ", 1)[-1] if "(400)" in str(err) else str(err)
        raise ToolError(f"no logs for pod {namespace}/{pod} container {container}: {message}") from None


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + "..."


TOOLS = [
    ToolSpec(
        "get_logs",
        "Recent log lines of a container. Give pod, or workload as Kind/name to read its least healthy pod. "
        "Falls back to the previous (crashed) instance when the current one has printed nothing.",
        params(
            ["namespace"],
            namespace=prop("string", "the namespace"),
            pod=prop("string", "pod name"),
            workload=prop("string", "instead of pod: Kind/name, e.g. Deployment/cart"),
            container=prop("string", "container name (default: the first, or a failing init container)"),
            tail=prop("integer", "number of lines (default 50, at most 200)", default=50, minimum=1),
            previous=prop("boolean", "read the previous (crashed) instance", default=False),
        ),
        "read",
        get_logs,
        order=50,
        category="logs",
    )
]
