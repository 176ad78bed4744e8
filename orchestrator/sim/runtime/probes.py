"""Exec probes run through the container's shell model against its own files and network.

The kubelet reports the command's output as the failure text (or that it exited non-zero when it
printed nothing); a command still running after timeoutSeconds has timed out.
"""

from __future__ import annotations

import math
import posixpath
import shlex

from ..controllers.kubelet import SHELLS, ContainerRun, Ctx, Kubelet, Shell, _Host

MAX_STEPS = 1000  # yields a probe command may take before it counts as hanging


class _ProbeHost(_Host):
    """The container's view, except that output goes to the probe and nothing is held afterwards."""

    def __init__(self, kubelet: Kubelet, ctx: Ctx, c: ContainerRun) -> None:
        super().__init__(kubelet, ctx, c)
        self.output: list[str] = []

    def log(self, line: str) -> None:
        self.output.append(line)

    def allocate(self, nbytes: int) -> None: ...

    def free(self, nbytes: int) -> None: ...

    def set_cores(self, cores: float) -> None: ...


def exec_probe_failure(kubelet: Kubelet, ctx: Ctx, c: ContainerRun, probe: dict) -> str | None:
    command = [str(w) for w in (probe.get("exec") or {}).get("command") or []]
    if not command:
        return None
    host = _ProbeHost(kubelet, ctx, c)
    shell = Shell(host, posixpath.basename(command[0]) if posixpath.basename(command[0]) in SHELLS else "sh")
    run = shell.run(shlex.join(command))
    budget = float(probe.get("timeoutSeconds", 1))
    spent = 0.0
    try:
        for _ in range(MAX_STEPS):
            kind, seconds = next(run)
            spent += math.inf if kind in ("forever", "exec") or seconds == math.inf else seconds
            if spent > budget:
                return f"command {shlex.join(command)!r} timed out"
        return f"command {shlex.join(command)!r} timed out"
    except StopIteration as stop:
        code = stop.value if isinstance(stop.value, int) else 0
    if code == 0:
        return None
    return "\n".join(host.output) if host.output else f"command {shlex.join(command)!r} exited with {code}"
