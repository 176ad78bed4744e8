"""Programs the container shell model runs beyond its builtins: load generators and file utilities.

Each handler is a generator like the shell's own commands: it yields ('sleep', s), ('busy', s) or
('forever', 0) and returns the exit status. It reaches the container through the shell's host (log,
files, memory, CPU cores), so what it does shows up as the container's log, working set and CPU.
Network clients (curl, wget, nc) live in `netclient.py`; python -c in `python.py`.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

from .netclient import NET_COMMANDS
from .python import python

if TYPE_CHECKING:
    from ..controllers.kubelet import Shell

INF = math.inf
ShellGen = Generator[tuple[str, float], None, int]
Handler = Callable[["Shell", str, list[str], bool], ShellGen]
GROWTH_PER_SECOND = 512 * 2**20  # how fast a reader of an endless line (tail /dev/zero) grows
STRESS_DEFAULT_VM_BYTES = 256 * 2**20  # stress and stress-ng: --vm without --vm-bytes


def parse_bytes(text: str, total: float = 0.0) -> int:
    """stress/stress-ng sizes: 1M = 1 MiB (b/k/m/g/t suffixes, any case), or N% of `total`."""
    text = text.strip().lower()
    if text.endswith("%"):
        try:
            return int(total * float(text[:-1]) / 100)
        except ValueError:
            return 0
    m = re.fullmatch(r"([0-9.]+)\s*([bkmgt]?)i?b?", text)
    if not m:
        return 0
    return int(float(m.group(1)) * {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2)])


def parse_seconds(text: str) -> float:
    """stress timeouts: 10, 10s, 5m, 1h, 1d."""
    m = re.fullmatch(r"([0-9.]+)([smhdy]?)", text.strip())
    if not m:
        return INF
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "y": 31_536_000}[m.group(2)]


def _options(args: list[str], with_value: set[str]) -> dict[str, str]:
    """--opt value / --opt=value / -o value pairs (flags map to '')."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-"):
            key, eq, value = a.partition("=")
            if not eq and key in with_value and i + 1 < len(args):
                value = args[i + 1]
                i += 1
            out[key] = value
        i += 1
    return out


_STRESS_VALUES = {"--vm", "-m", "--vm-bytes", "--cpu", "-c", "--timeout", "-t", "--io", "-i", "--hdd", "-d"}
# --vm-keep is a flag (keep the pages mapped), not an option with a value.
_STRESS_VALUES |= {"--vm-hang", "--vm-stride", "--backoff", "--hdd-bytes", "--cpu-load", "--vm-method"}


def stress(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    """stress / stress-ng: --vm N workers of --vm-bytes each (held), --cpu N spinning workers."""
    opts = _options(args, _STRESS_VALUES)
    vm = _int(opts.get("--vm", opts.get("-m", "0")))
    cpu = _int(opts.get("--cpu", opts.get("-c", "0")))
    host = shell.host
    if cpu == 0 and vm == 0 and not any(k in opts for k in ("--io", "-i", "--hdd", "-d")):
        host.log(f"{cmd}: FAIL: [1] (244) no stressors specified")
        return 1
    per_worker = parse_bytes(opts.get("--vm-bytes", ""), host.memory_total()) or STRESS_DEFAULT_VM_BYTES
    load = (_int(opts.get("--cpu-load", "100")) or 100) / 100
    if not quiet:
        host.log(f"{cmd}: info: [1] dispatching hogs: {cpu} cpu, 0 io, {vm} vm, 0 hdd")
    held = vm * per_worker
    host.allocate(held)
    host.set_cores(cpu * load + vm)  # a vm worker touches its pages in a loop: it spins too
    timeout = parse_seconds(opts.get("--timeout", opts.get("-t", ""))) if ("--timeout" in opts or "-t" in opts) else INF
    yield ("busy", timeout)
    host.free(held)
    host.set_cores(1.0)
    if not quiet:
        host.log(f"{cmd}: info: [1] successful run completed in {timeout:g}s")
    return 0


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def tail(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    """`tail -f` waits for ever; `tail /dev/zero` buffers an endless line until memory runs out."""
    files = [a for a in args if not a.startswith("-") and not a.isdigit()]
    if "/dev/zero" in files:
        while True:
            shell.host.allocate(GROWTH_PER_SECOND)
            yield ("sleep", 1.0)
    if any(a in ("-f", "-F", "--follow") or a.startswith("--follow=") for a in args):
        yield ("forever", 0.0)
        return 0
    status = 0
    for path in files:
        text = shell.host.read_file(path)
        if text is None:
            shell.host.log(_missing(shell, "tail", path))
            status = 1
        elif not quiet:
            for line in text.splitlines()[-10:]:
                shell.host.log(line)
    return status


def cat(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    files = [a for a in args if not a.startswith("-") or a == "-"]
    status = 0
    for path in files:
        if path in ("/dev/zero", "/dev/urandom", "/dev/random"):
            yield ("busy", INF)  # an endless stream: the reader spins (its output goes nowhere useful)
        text = shell.host.read_file(path)
        if text is None:
            shell.host.log(_missing(shell, "cat", path))
            status = 1
        elif not quiet:
            for line in text.splitlines():
                shell.host.log(line)
    return status


def touch(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    for path in (a for a in args if not a.startswith("-")):
        if shell.host.read_file(path) is None:
            shell.host.write_file(path, "")
    return 0
    yield ("sleep", 0.0)  # a generator like the other commands


def rm(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    force = any(a.startswith("-") and "f" in a for a in args)
    status = 0
    for path in (a for a in args if not a.startswith("-")):
        if not shell.host.remove_file(path) and not force:
            verb = "can't" if _busybox(shell) else "cannot"
            shell.host.log(f"rm: {verb} remove '{path}': No such file or directory")
            status = 1
    return status
    yield ("sleep", 0.0)


def dd(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    """dd without a count from an endless device runs until killed: into memory-backed /dev/shm it
    grows the working set, anywhere else it spins a core. With a count, the shell's own model."""
    opts = dict(a.split("=", 1) for a in args if "=" in a)
    if "count" in opts or opts.get("if") not in ("/dev/zero", "/dev/urandom", "/dev/random"):
        return shell.dd(args, quiet)
    if opts.get("of", "").startswith("/dev/shm/"):
        while True:
            shell.host.allocate(GROWTH_PER_SECOND)
            yield ("sleep", 1.0)
    yield ("busy", INF)
    return 0


def node(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    """`node FILE`: a missing module fails as Node prints it; a script that exists is taken to be a
    server (what a container runs node for). `-e`/`-p` one-liners and the bare REPL exit at once."""
    files = [a for a in args if not a.startswith("-")]
    if not files or any(a in ("-e", "--eval", "-p", "--print") for a in args):
        return 0
    path = posixpath.join(shell.host.workdir(), files[0])
    if shell.host.read_file(path) is None:
        for line in (
            "node:internal/modules/cjs/loader:1228",
            "  throw err;",
            "  ^",
            "",
            f"Error: Cannot find module '{path}'",
            "    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)",
            "    at node:internal/main/run_main_module:28:49 {",
            "  code: 'MODULE_NOT_FOUND',",
            "  requireStack: []",
            "}",
            "",
            "Node.js v20.18.0",
        ):
            shell.host.log(line)
        return 1
    yield ("forever", 0.0)
    return 0


def _busybox(shell: Shell) -> bool:
    return shell.host.flavour() == "busybox"


def _missing(shell: Shell, cmd: str, path: str) -> str:
    if _busybox(shell):
        return f"{cmd}: can't open '{path}': No such file or directory"
    if cmd == "tail":
        return f"tail: cannot open '{path}' for reading: No such file or directory"
    return f"{cmd}: {path}: No such file or directory"


COMMANDS: dict[str, Handler] = {
    "stress": stress,
    "stress-ng": stress,
    "tail": tail,
    "cat": cat,
    "touch": touch,
    "rm": rm,
    "node": node,
    "dd": dd,
    "python": python,
    "python3": python,
    **NET_COMMANDS,
}


def test(shell: Shell, cmd: str, args: list[str], quiet: bool) -> ShellGen:
    """`test` / `[`: strings, integers and the container's files (directories are not modelled and
    always exist)."""
    words = args[:-1] if cmd == "[" and args[-1:] == ["]"] else list(args)
    negate = words[:1] == ["!"]
    ok = _test(shell, words[1:] if negate else words)
    return 0 if ok != negate else 1
    yield ("sleep", 0.0)


_INT_OPS = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__, "-gt": int.__gt__}
_INT_OPS |= {"-ge": int.__ge__}


def _test(shell: Shell, w: list[str]) -> bool:
    if not w:
        return False
    if len(w) == 1:
        return w[0] != ""
    if len(w) == 2:
        op, value = w
        if op == "-z":
            return value == ""
        if op == "-n":
            return value != ""
        if op == "-d":
            return True
        if op in ("-f", "-e", "-s", "-r", "-x"):
            text = shell.host.read_file(value)
            return text is not None and (op != "-s" or bool(text))
        return True
    if len(w) == 3:
        left, op, right = w
        if op in ("=", "=="):
            return left == right
        if op == "!=":
            return left != right
        if op in _INT_OPS:
            try:
                return bool(_INT_OPS[op](int(left), int(right)))
            except ValueError:
                return False
    return True  # compound expressions (-a, -o): not modelled, taken as true


COMMANDS |= {"test": test, "[": test}
