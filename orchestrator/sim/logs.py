"""Container logs: kept per pod, container and restart, served by `pods/{name}/log`.

Kubelet writes start-up and crash lines, the traffic model writes request and error lines; both go
through `ContainerLogs.append`, so `kubectl logs --previous` shows the crashed instance's last words.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from .clock import rfc3339_micro
from .errors import ApiError

if TYPE_CHECKING:
    from .cluster import Cluster

MAX_LINES = 2000


class ContainerLogs:
    def __init__(self) -> None:
        # (pod uid, container) -> restart count -> lines as (timestamp, text)
        self._lines: dict[tuple[str, str], dict[int, deque[tuple[float, str]]]] = {}

    def append(self, pod_uid: str, container: str, restart: int, ts: float, line: str) -> None:
        self.start(pod_uid, container, restart).append((ts, line))

    def start(self, pod_uid: str, container: str, restart: int) -> deque[tuple[float, str]]:
        """The instance's log, created when it starts: one that printed nothing still has a log."""
        per = self._lines.setdefault((pod_uid, container), {})
        lines = per.get(restart)
        if lines is None:
            lines = per[restart] = deque(maxlen=MAX_LINES)
            # Keep the current and previous instance only, as the kubelet does.
            for old in [r for r in per if r < restart - 1]:
                del per[old]
        return lines

    def lines(self, pod_uid: str, container: str, restart: int) -> list[tuple[float, str]]:
        return list(self._lines.get((pod_uid, container), {}).get(restart, ()))

    def has_instance(self, pod_uid: str, container: str, restart: int) -> bool:
        return restart in self._lines.get((pod_uid, container), {})

    def forget(self, pod_uid: str) -> None:
        for key in [k for k in self._lines if k[0] == pod_uid]:
            del self._lines[key]


def render_log(
    cluster: Cluster,
    pod: dict,
    container: str | None = None,
    previous: bool = False,
    tail: int | None = None,
    timestamps: bool = False,
    since_seconds: int | None = None,
    limit_bytes: int | None = None,
) -> str:
    """The text `kubectl logs` prints, with the API server's errors for the usual mistakes."""
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers", [])]
    init_names = [c["name"] for c in spec.get("initContainers", []) or []]
    if container is None:
        if len(names) != 1:
            raise ApiError(
                400,
                f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
                + (f" or one of the init containers: [{' '.join(init_names)}]" if init_names else ""),
            )
        container = names[0]
    if container not in names and container not in init_names:
        raise ApiError(400, f"container {container} is not valid for pod {name}")
    status = pod.get("status") or {}
    statuses = {
        s["name"]: s for s in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
    }
    cs = statuses.get(container)
    if cs is None or ("waiting" in (cs.get("state") or {}) and cs.get("restartCount", 0) == 0 and not previous):
        reason = ((cs or {}).get("state") or {}).get("waiting", {}).get("reason", "ContainerCreating")
        raise ApiError(400, f'container "{container}" in pod "{name}" is waiting to start: {_waiting_text(reason)}')
    restart = cs.get("restartCount", 0)
    logs: ContainerLogs = cluster.logs
    uid = pod["metadata"]["uid"]
    if previous:
        if restart == 0 or not logs.has_instance(uid, container, restart - 1):
            raise ApiError(400, f'previous terminated container "{container}" in pod "{name}" not found')
        restart -= 1
    lines = logs.lines(uid, container, restart)
    if since_seconds is not None:
        cutoff = cluster.now() - since_seconds
        lines = [entry for entry in lines if entry[0] >= cutoff]
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    text = "".join((f"{rfc3339_micro(ts)} {line}\n" if timestamps else f"{line}\n") for ts, line in lines)
    if limit_bytes is not None:
        text = text[:limit_bytes]
    return text


def _waiting_text(reason: str) -> str:
    return {
        "ContainerCreating": "ContainerCreating",
        "PodInitializing": "PodInitializing",
        "ErrImagePull": "trying and failing to pull image",
        "ImagePullBackOff": "trying and failing to pull image",
        "CreateContainerConfigError": "CreateContainerConfigError",
    }.get(reason, reason)
