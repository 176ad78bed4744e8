"""What a catalogued image runs: ENTRYPOINT/CMD merged with the container's command/args.

Kubernetes semantics: `command` replaces ENTRYPOINT and drops CMD; `args` replaces CMD. The
resulting argv[0] is then one of the image's programs (a server, an exit), a shell, a command the
shell model knows (stress, python -c, curl...), a script mounted from a ConfigMap, or missing.
"""

from __future__ import annotations

import posixpath
import shlex
from typing import TYPE_CHECKING

from ..objects import container_env
from .catalogue import ImageEntry, ProgramSpec, catalogue_for
from .commands import COMMANDS

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..controllers.kubelet import Program

# Commands whose arguments choose what runs (python app.py): an image's program entry for them only
# describes the bare invocation.
ARGUMENT_DRIVEN = {"python", "python3", "node"}
MAX_EXEC_DEPTH = 4  # entrypoint scripts that exec another: enough for any real image


def image_argv(entry: ImageEntry, container: dict) -> list[str]:
    command, args = list(container.get("command") or []), list(container.get("args") or [])
    if command:
        return command + args
    return list(entry.entrypoint) + (args if args else list(entry.cmd))


def catalogue_program(cluster: Cluster, pod: dict, container: dict) -> Program | None:
    """The process of a container whose image the catalogue lists; None for other images."""
    from ..controllers.kubelet import _BUILTINS, SHELLS, Program, _lookup, _shell_program, mounted_program, start_error

    entry = catalogue_for(cluster).lookup(container.get("image", "")).entry
    if entry is None:
        return None
    argv = image_argv(entry, container)
    if not argv:
        return Program("error", error="failed to generate container spec: no command specified")
    env: dict[str, str] | None = None
    logs: tuple[str, ...] = ()
    for _ in range(MAX_EXEC_DEPTH):
        spec = entry.program(argv[0], argv[1] if len(argv) > 1 else "")
        # `python app.py` listed as such describes that script; bare `python` only the REPL.
        named = len(argv) > 1 and f"{posixpath.basename(argv[0])} {argv[1]}" in entry.programs
        if spec is None or (posixpath.basename(argv[0]) in ARGUMENT_DRIVEN and len(argv) > 1 and not named):
            break
        if env is None:
            env = {**entry.env, **container_env(pod, container, lambda k, n, name: _lookup(cluster, k, n, name))}
        if spec.execs is None:
            return from_spec(spec, env, logs, unresolved=_unresolved(cluster, pod, spec, env))
        # An entrypoint script: its own lines, then `exec "$@"` (options go to the default program).
        logs += spec.logs
        argv = argv[1:]
        if not argv or argv[0].startswith("-"):
            argv = list(spec.execs) + argv
    exe = argv[0]
    base = posixpath.basename(exe)
    if base in SHELLS and entry.shell:
        return _shell_program(cluster, pod, container, argv)
    if base in COMMANDS or base in _BUILTINS:
        return Program("script", shlex.join(argv), argv=tuple(argv))
    return mounted_program(cluster, pod, container, exe) or Program("error", error=start_error(exe))


def _unresolved(cluster: Cluster, pod: dict, spec: ProgramSpec, env: dict[str, str]) -> tuple[str, int] | None:
    """The (host, port) of the program's start-up dependency when its name does not resolve."""
    from .netclient import reach, split_url

    dep = spec.connects
    if dep is None or not env.get(dep.env):
        return None
    host = env[dep.env]
    try:
        port = int(env.get(dep.port_env, "") or dep.port)
    except ValueError:
        port = dep.port
    if "://" in host:  # a URL: its host and port
        _scheme, host, url_port, _path = split_url(host)
        port = port or url_port
    # Only a name that does not resolve is fatal: a dependency that is still starting is retried by
    # the app until it answers, so a not-yet-ready Service is not a failure here.
    return (host, port) if reach(cluster, pod, host, port).kind == "dns" else None


def from_spec(
    spec: ProgramSpec, env: dict[str, str], before: tuple[str, ...], unresolved: tuple[str, int] | None = None
) -> Program:
    """`before`: what the entrypoint scripts that exec'd it printed; `unresolved`: the start-up
    dependency whose name did not resolve."""
    from ..controllers.kubelet import Program

    if spec.requires_env and not any(env.get(name) for name in spec.requires_env):
        return Program("script", _exit_after(1, 0.0), logs=before + spec.missing_env_logs)
    if spec.connects is not None and unresolved is not None:
        host, port = unresolved
        lines = tuple(line.replace("{host}", host).replace("{port}", str(port)) for line in spec.connects.logs)
        if spec.connects.per_request and spec.serves:
            return Program(
                "server",
                ports=frozenset({spec.port} if spec.port else ()),
                logs=before + spec.logs,
                memory=spec.memory,
                cpu=spec.cpu,
                http_status=((0.0, spec.connects.status),),
                request_logs=lines,
            )
        return Program("script", _exit_after(1, spec.connects.after), logs=before + spec.logs + lines)
    if spec.serves:
        ports = frozenset({spec.port} if spec.port else ())
        return Program(
            "server",
            ports=ports,
            logs=before + spec.logs,
            memory=spec.memory,
            cpu=spec.cpu,
            http_status=spec.http_status,
        )
    return Program("script", _exit_after(spec.exit_code or 0, spec.after), logs=before + spec.logs)


def _exit_after(code: int, after: float) -> str:
    """The process's life after its start-up lines (which the kubelet logs verbatim)."""
    return (f"sleep {after:g}\n" if after else "") + f"exit {code}"
