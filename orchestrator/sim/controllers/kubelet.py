"""Kubelet: runs every pod bound to a node on the virtual clock and reports its status.

Each container is a small state machine (pull, create, run, crash, back off) whose transitions fall
due at virtual times. A pass fires the transitions that came due, then writes the pod status shaped as
the real kubelet shapes it. Outcomes follow the application model: an image the registry lacks fails
to pull, a command the image lacks fails to start, a working set above the memory limit is OOM-killed,
a probe aimed at a port nobody listens on fails. Scripts run through a tiny shell model (sleep, echo,
exit, loops, dd, valkey-cli DEBUG POPULATE, exec) so init containers and fault scripts behave as they
would on a node; what images contain and do, load generators, files, exec probes and network clients
come from `sim/runtime/`.

A pod whose state is settled is skipped until its next transition is due or its resourceVersion
changes, which keeps a cluster of 1,000 pods cheap to reconcile many times per step.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import math
import posixpath
import re
import shlex
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..clock import rfc3339
from ..objects import config_data, container_env, decode_value, quantity
from ..runtime.catalogue import catalogue_for, status_at
from ..runtime.commands import COMMANDS as RUNTIME_COMMANDS
from ..runtime.files import standard_file
from ..runtime.netclient import Reach
from ..runtime.pull import auth_error, missing_pull_secrets
from .feed import ChangeFeed
from .quota import container_amount

if TYPE_CHECKING:
    from ..apps import Service
    from ..cluster import Cluster
    from ..resources import ResourceType
    from ..store import WatchEvent

INF = math.inf
# Compiled once: every container start runs its command through the shell model.
_SHELL_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+|\?)")
_SEQ = re.compile(r"\$\(seq (\d+) (\d+)\)")
_BRACE_RANGE = re.compile(r"\{(\d+)\.\.(\d+)\}")
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=.*")
MiB = 2**20
PULL_SECONDS = 2.0
CACHED_PULL_SECONDS = 0.5  # imagePullPolicy Always on an image the node has: only the manifest moves
SHOW_SECONDS = 1.0  # ErrImagePull / Error stay visible this long before the back-off state
OOM_SECONDS = 5.0  # an app over its limit is killed this long after it starts
SCRIPT_OOM_SECONDS = 1.0  # a script allocation over the limit is killed this fast
BACKOFF_START, BACKOFF_CAP, BACKOFF_RESET = 10.0, 300.0, 600.0
RETRY_SECONDS = 2.0  # volume mounts and container config are retried this often
EVENT_REPEAT = 60.0  # a repeated warning bumps its event's count at most this often
EVENT_BURST = 25  # client-go's spam filter: this many posts of one event, then one per EVENT_REPEAT
BUSY_STEPS = 200  # shell statements without a sleep before the script counts as a busy loop
MAX_LINES_PER_RESUME = 50
SCRIPT_MEMORY, SCRIPT_CPU = 1 * MiB, 0.001
SERVER_MEMORY, SERVER_CPU = 16 * MiB, 0.002
START_ERROR_STARTED_AT = "1970-01-01T00:00:00Z"  # what the runtime reports for a process that never ran

SHELLS = {"sh", "bash", "ash", "dash", "zsh"}
SHELL_IMAGES = {"busybox", "alpine", "ubuntu", "debian", "centos", "fedora", "bash", "amazonlinux", "rockylinux"}
# Public images accepted in an application's namespace even though the model does not list them.
COMMON_IMAGES = {
    "docker.io/library/" + n for n in ("busybox", "alpine", "nginx", "ubuntu", "debian", "python", "curl", "bash")
} | {"docker.io/curlimages/curl", "docker.io/nicolaka/netshoot", "docker.io/library/redis"}
ANY_PLATFORM = ["linux/amd64", "linux/arm64"]
# Docker Hub's per-architecture organisations (docker.io/arm64v8/nginx) publish one platform each.
ARCH_ORGS = {
    "amd64": "linux/amd64", "arm64v8": "linux/arm64", "arm32v7": "linux/arm/v7", "arm32v6": "linux/arm/v6",
    "i386": "linux/386", "ppc64le": "linux/ppc64le", "s390x": "linux/s390x", "riscv64": "linux/riscv64",
}  # fmt: skip
RUNC_PREFIX = (
    "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
    "runc create failed: unable to start container process: "
)


# ============================================================================================ images
@functools.lru_cache(maxsize=4096)  # a pure function of the text, asked for the same few images again and again
def split_image(image: str) -> tuple[str, str, str]:
    """'nginx:1.25@sha256:..' -> ('nginx', '1.25', 'sha256:..'); empty tag/digest when absent."""
    ref, _, digest = image.partition("@")
    head, _, last = ref.rpartition("/")
    name, _, tag = last.partition(":")
    return (f"{head}/{name}" if head else name), tag, digest


@functools.lru_cache(maxsize=4096)
def normalize_image(image: str) -> str:
    """containerd's fully qualified reference: 'nginx' -> 'docker.io/library/nginx:latest'."""
    repo, tag, digest = split_image(image.strip())
    first = repo.split("/", 1)[0]
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    elif not ("." in first or ":" in first or first == "localhost"):
        repo = f"docker.io/{repo}"
    if not tag and not digest:
        tag = "latest"
    return repo + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def image_repository(image: str) -> str:
    return split_image(normalize_image(image))[0]


_IMAGE_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+|__)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


def invalid_image(image: str) -> str | None:
    """The InvalidImageName message, or None for a well-formed reference."""
    repo, tag, digest = split_image(image)
    host, _, rest = repo.partition("/")
    name_ok = bool(repo) and all(
        _IMAGE_NAME.match(part) for part in ([rest] if rest and ("." in host or ":" in host) else [repo])
    )
    if name_ok and (not tag or _TAG.match(tag)) and (not digest or digest.startswith("sha256:")):
        return None
    return (
        f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": invalid reference format'
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def image_id(image: str) -> str:
    return f"{image_repository(image)}@sha256:{_digest(normalize_image(image))}"


def image_size(image: str) -> int:
    return 8 * MiB + int(_digest(image)[:8], 16) % (180 * MiB)


def image_platforms(cluster: Cluster, namespace: str, image: str) -> list[str] | None:
    """Platforms the registry has for the image, or None when it does not exist."""
    ref = normalize_image(image)
    app = cluster.application_for(namespace)
    if app is not None:
        known = {normalize_image(i): p for i, p in app.known_images().items()}
        if ref in known:
            return known[ref]
    all_known: dict[str, list[str]] = {}
    for other in cluster.applications.values():
        all_known.update({normalize_image(i): p for i, p in other.known_images().items()})
    if ref in all_known:
        return all_known[ref]
    repo = split_image(ref)[0]
    org = repo.split("/")[1] if repo.startswith("docker.io/") and repo.count("/") == 2 else ""
    if org in ARCH_ORGS:
        return [ARCH_ORGS[org]]
    if any(split_image(k)[0] == repo for k in all_known):
        return None  # a tag the application's registry never published
    found = catalogue_for(cluster).lookup(ref)
    if found.status != "unknown":
        return found.platforms if found.status in ("found", "unauthorized") else None
    if app is not None and repo not in COMMON_IMAGES:
        return None
    return list(ANY_PLATFORM)


def pull_error(cluster: Cluster, namespace: str, image: str, arch: str, pod: dict | None = None) -> str | None:
    """The container runtime's pull error for this image on a node of this architecture."""
    ref = normalize_image(image)
    denied = auth_error(cluster, pod, image, ref) if pod is not None else None
    if denied:
        return denied
    platforms = image_platforms(cluster, namespace, image)
    prefix = f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
    if platforms is None:
        return f'{prefix}failed to resolve reference "{ref}": {ref}: not found'
    if f"linux/{arch}" not in platforms:
        return f"{prefix}no matching manifest for linux/{arch} in the manifest list entries"
    return None


# ============================================================================================ config lookups
def _lookup(cluster: Cluster, kind: str, namespace: str, name: str) -> dict | None:
    return cluster.store.find(cluster.rt(kind), namespace, name)


def _source_problem(cluster: Cluster, ns: str, kind: str, ref: dict) -> str | None:
    """Why a configMap/secret volume source cannot be set up (None when it can)."""
    name = ref.get("name") or ref.get("secretName") or ""
    obj = _lookup(cluster, kind, ns, name)
    if obj is None:
        return None if ref.get("optional") else f'{kind.lower()} "{name}" not found'
    data = config_data(obj)
    for item in ref.get("items") or []:
        if item.get("key") not in data and not ref.get("optional"):
            what = "config" if kind == "ConfigMap" else "secret"
            return f"{kind.lower()} references non-existent {what} key: {item.get('key')}"
    return None


def volume_problem(cluster: Cluster, pod: dict) -> tuple[str, str] | None:
    """(volume, FailedMount message) for the first volume the kubelet cannot mount."""
    ns = pod["metadata"].get("namespace", "default")
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        vname = vol.get("name", "")
        sources: list[tuple[str, dict]] = []
        if "configMap" in vol:
            sources.append(("ConfigMap", vol["configMap"] or {}))
        if "secret" in vol:
            sources.append(("Secret", vol["secret"] or {}))
        for src in (vol.get("projected") or {}).get("sources") or []:
            if "configMap" in src:
                sources.append(("ConfigMap", src["configMap"] or {}))
            if "secret" in src:
                sources.append(("Secret", src["secret"] or {}))
        for kind, ref in sources:
            problem = _source_problem(cluster, ns, kind, ref)
            if problem:
                return vname, f'MountVolume.SetUp failed for volume "{vname}" : {problem}'
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            pvc = _lookup(cluster, "PersistentVolumeClaim", ns, claim)
            if pvc is None:
                return (
                    vname,
                    f'MountVolume.SetUp failed for volume "{vname}" : persistentvolumeclaim "{claim}" not found',
                )
            if (pvc.get("status") or {}).get("phase") != "Bound":
                return vname, (
                    f"Unable to attach or mount volumes: unmounted volumes=[{vname}], unattached volumes=[{vname}]: "
                    "timed out waiting for the condition"
                )
    return None


def env_problem(cluster: Cluster, namespace: str, container: dict) -> str | None:
    """The CreateContainerConfigError message for env/envFrom references that do not resolve."""
    for e in container.get("env") or []:
        vf = e.get("valueFrom") or {}
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            ref = vf.get(key)
            if not ref:
                continue
            obj = _lookup(cluster, kind, namespace, ref.get("name", ""))
            if obj is None:
                if not ref.get("optional"):
                    return f'{kind.lower()} "{ref.get("name", "")}" not found'
            elif ref.get("key") not in config_data(obj) and not ref.get("optional"):
                return f"couldn't find key {ref.get('key')} in {kind} {namespace}/{ref.get('name', '')}"
    for src in container.get("envFrom") or []:
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = src.get(key)
            if ref and not ref.get("optional") and _lookup(cluster, kind, namespace, ref.get("name", "")) is None:
                return f'{kind.lower()} "{ref.get("name", "")}" not found'
    return None


def mounted_file(cluster: Cluster, pod: dict, container: dict, path: str) -> tuple[str, int] | None:
    """(content, mode) of a file the container sees through a ConfigMap or Secret volume."""
    ns = pod["metadata"].get("namespace", "default")
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    for m in container.get("volumeMounts") or []:
        mount, vol = m.get("mountPath", "").rstrip("/"), volumes.get(m.get("name"))
        if vol is None:
            continue
        if m.get("subPath"):
            if path != mount:
                continue
            rel = m["subPath"]
        elif path.startswith(mount + "/"):
            rel = path[len(mount) + 1 :]
        else:
            continue
        for kind, key in (("ConfigMap", "configMap"), ("Secret", "secret")):
            ref = vol.get(key)
            if ref is None:
                continue
            obj = _lookup(cluster, kind, ns, ref.get("name") or ref.get("secretName") or "")
            if obj is None:
                return None
            mode, data_key = ref.get("defaultMode", 0o644), rel
            for item in ref.get("items") or []:
                if item.get("path") == rel:
                    data_key, mode = item.get("key"), item.get("mode", mode)
            value = config_data(obj).get(data_key)
            return None if value is None else (decode_value(kind, value), int(mode))
    return None


# ============================================================================================ shell model
class ShellExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class ShellSyntaxError(ValueError):
    pass


@dataclass
class Cmd:
    words: list[str]
    background: bool = False


@dataclass
class AndOr:
    first: Node
    rest: list[tuple[str, Node]]


@dataclass
class Pipe:
    parts: list[Node]


@dataclass
class Loop:
    until: bool
    cond: list[Node]
    body: list[Node]


@dataclass
class ForIn:
    var: str
    items: list[str]
    body: list[Node]


@dataclass
class IfThen:
    branches: list[tuple[list[Node], list[Node]]]
    orelse: list[Node]


@dataclass
class Group:
    body: list[Node]


Node = Cmd | AndOr | Pipe | Loop | ForIn | IfThen | Group
ShellGen = Generator[tuple[str, float], None, int]
_FD_DUP = re.compile(r"\d*>&\d+|&>\s*\S+")
_OPERATORS = {";", "&", "&&", "||", "|"}
_CLOSERS = {"fi", "then", "else", "elif", "do", "done", "esac", "}"}  # reserved words that only close


def _separate_lines(script: str) -> str:
    """Newlines outside quotes separate statements (';'); inside quotes they belong to the word, as in a
    multi-line `echo '...'` or `python -c "..."`. Comments (an unquoted `#` starting a word) are dropped."""
    out: list[str] = []
    quote, escaped, comment = "", False, False
    for ch in script:
        if comment:
            comment = ch != "\n"
            if comment:
                continue
        elif escaped:
            escaped = False
        elif quote:
            if ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch == "\\":
            escaped = True
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (not out or out[-1][-1] in " \t;&|("):
            comment = True
            continue
        if ch == "\n" and not quote:
            out.append(" ; ")
            continue
        out.append(ch)
    return "".join(out)


def tokenize(script: str) -> list[str]:
    """Words and operators, with ';' wherever an unquoted newline ends a statement."""
    text = _FD_DUP.sub(" ", script.replace("\\\n", " "))  # `>&2`, `2>&1`: output still reaches the log
    lex = shlex.shlex(_separate_lines(text), posix=True, punctuation_chars=";&|")
    lex.whitespace_split = True
    lex.commenters = ""  # comments are gone already; a '#' left is part of a word (`echo a#b`, `$#`)
    try:
        return [*lex, ";"]
    except ValueError:  # an unterminated quote: a real shell fails to parse it too
        raise ShellSyntaxError("unterminated quoted string") from None


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ShellSyntaxError("unexpected end of file")
        self.i += 1
        return tok

    def expect(self, word: str) -> None:
        if self.take() != word:
            raise ShellSyntaxError(f"expected '{word}'")

    def skip_separators(self) -> None:
        while self.peek() == ";":
            self.i += 1

    def statements(self, stops: set[str]) -> list[Node]:
        nodes: list[Node] = []
        while True:
            self.skip_separators()
            tok = self.peek()
            if tok is None or tok in stops:
                if tok is None and stops:
                    raise ShellSyntaxError("unexpected end of file")
                return nodes
            node = self.and_or()
            if self.peek() == "&":
                self.i += 1
                if isinstance(node, Cmd):
                    node.background = True
            nodes.append(node)

    def and_or(self) -> Node:
        first = self.pipeline()
        rest = []
        while self.peek() in ("&&", "||"):
            op = self.take()
            self.skip_separators()
            rest.append((op, self.pipeline()))
        return AndOr(first, rest) if rest else first

    def pipeline(self) -> Node:
        parts = [self.command()]
        while self.peek() == "|":
            self.i += 1
            parts.append(self.command())
        return Pipe(parts) if len(parts) > 1 else parts[0]

    def command(self) -> Node:
        tok = self.peek()
        if tok in ("while", "until"):
            self.i += 1
            cond = self.statements({"do"})
            self.expect("do")
            body = self.statements({"done"})
            self.expect("done")
            return Loop(tok == "until", cond, body)
        if tok == "for":
            self.i += 1
            var, items = self.take(), []
            if self.peek() == "in":
                self.i += 1
                while self.peek() not in (";", None):
                    items.append(self.take())
            self.skip_separators()
            self.expect("do")
            body = self.statements({"done"})
            self.expect("done")
            return ForIn(var, items, body)
        if tok == "if":
            return self.if_then()
        if tok == "{":
            self.i += 1
            body = self.statements({"}"})
            self.expect("}")
            return Group(body)
        if tok in _CLOSERS:  # `fi` with no `if`: the shell rejects the whole script before running any of it
            raise ShellSyntaxError(f'unexpected "{tok}"')
        words = []
        while self.peek() is not None and self.peek() not in _OPERATORS:
            words.append(self.take())
        if not words:
            raise ShellSyntaxError(f"unexpected '{self.take()}'")
        return Cmd(words)

    def if_then(self) -> Node:
        self.i += 1
        branches, orelse = [], []
        while True:
            cond = self.statements({"then"})
            self.expect("then")
            body = self.statements({"elif", "else", "fi"})
            branches.append((cond, body))
            tok = self.take()
            if tok == "elif":
                continue
            if tok == "else":
                orelse = self.statements({"fi"})
                self.expect("fi")
            return IfThen(branches, orelse)


def parse_script(script: str) -> list[Node]:
    return _Parser(tokenize(script)).statements(set())


def parse_duration(args: list[str]) -> float:
    """`sleep` arguments: 10, 1.5, 5s, 2m, 1h, 1d, infinity (summed, as GNU sleep does)."""
    total = 0.0
    for a in args:
        if a.lower() in ("inf", "infinity"):
            return INF
        m = re.fullmatch(r"([0-9.]+)([smhd]?)", a)
        if m:
            total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return total


def parse_size(text: str) -> int:
    """dd/stress sizes: 1M = MiB (dd's convention), 1MB = 10^6, plain bytes."""
    m = re.fullmatch(r"([0-9]+)([a-zA-Z]*)", text.strip())
    if not m:
        return 0
    units = {"": 1, "c": 1, "w": 2, "b": 512, "k": 2**10, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    units |= {"kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
    return int(m.group(1)) * units.get(m.group(2), 1)


class ShellHost:
    """What a script can touch: the container's log, memory and network (set by the kubelet)."""

    env: dict[str, str]

    def log(self, line: str) -> None: ...

    def allocate(self, nbytes: int) -> None: ...

    def populate_remote(self, host: str, nbytes: int) -> None: ...

    def resolves(self, host: str) -> bool:
        return True

    def is_app(self, argv: list[str]) -> bool:
        return False

    def app_background(self) -> None: ...

    def app_running(self) -> bool:
        return False

    # The container's own files (written by its scripts, or mounted), CPU and node memory.
    def read_file(self, path: str) -> str | None:
        return None

    def write_file(self, path: str, text: str) -> None: ...

    def remove_file(self, path: str) -> bool:
        return False

    def set_cores(self, cores: float) -> None: ...

    def free(self, nbytes: int) -> None: ...

    def memory_total(self) -> float:
        return float(32 * 2**30)

    def flavour(self) -> str:
        return "busybox"

    def workdir(self) -> str:
        return "/"

    def reach(self, host: str, port: int) -> Reach:
        return Reach("ok" if self.resolves(host) else "dns")


class Shell:
    """Runs a parsed script as a generator that yields ('sleep', s), ('busy', s), ('forever', 0) or
    ('exec', 0) (the app replaces the shell) and returns the exit status."""

    def __init__(self, host: ShellHost, name: str = "sh") -> None:
        self.host, self.name = host, name
        self.vars = dict(host.env)
        self.status = 0
        self.steps = 0

    def run(self, script: str) -> ShellGen:
        try:
            nodes = parse_script(script)
        except ShellSyntaxError as err:
            self.host.log(f"{self.name}: syntax error: {err}")
            return 2
        try:
            return (yield from self.block(nodes))
        except ShellExit as done:
            return done.code

    def run_argv(self, argv: list[str]) -> ShellGen:
        """One program run directly as the container's process (no shell parses its arguments)."""
        try:
            return (yield from self.simple(argv, False))
        except ShellExit as done:
            return done.code

    def block(self, nodes: list[Node]) -> ShellGen:
        status = 0
        for n in nodes:
            status = yield from self.node(n)
        return status

    def node(self, n: Node) -> ShellGen:
        self.steps += 1
        if self.steps >= BUSY_STEPS:
            self.steps = 0
            yield ("busy", 1.0)  # no sleep for a while: a spinning loop burns a core
        if isinstance(n, Cmd):
            status = yield from self.command(n)
        elif isinstance(n, AndOr):
            status = yield from self.node(n.first)
            for op, part in n.rest:
                if (op == "&&") == (status == 0):
                    status = yield from self.node(part)
        elif isinstance(n, Pipe):
            status = 0
            for part in n.parts:
                status = yield from self.node(part)
        elif isinstance(n, Loop):
            status = yield from self.loop(n)
        elif isinstance(n, ForIn):
            status = 0
            for item in self.expand_items(n.items):
                self.vars[n.var] = item
                status = yield from self.block(n.body)
        elif isinstance(n, IfThen):
            status = yield from self.if_then(n)
        else:
            status = yield from self.block(n.body)
        self.status = status
        return status

    def loop(self, n: Loop) -> ShellGen:
        status = 0
        while True:
            cond = yield from self.block(n.cond)
            if (cond == 0) == n.until:
                return status
            status = yield from self.block(n.body)

    def if_then(self, n: IfThen) -> ShellGen:
        for cond, body in n.branches:
            if (yield from self.block(cond)) == 0:
                return (yield from self.block(body))
        return (yield from self.block(n.orelse))

    def expand(self, word: str) -> str:
        def sub(m: re.Match) -> str:
            name = m.group(1) or m.group(2)
            return str(self.status) if name == "?" else self.vars.get(name, "")

        return _SHELL_VARIABLE.sub(sub, word)

    def expand_items(self, items: list[str]) -> list[str]:
        text = " ".join(items)
        m = _SEQ.fullmatch(text) or _BRACE_RANGE.fullmatch(text)
        if m:
            return [str(i) for i in range(int(m.group(1)), int(m.group(2)) + 1)]
        return [self.expand(i) for i in items]

    def command(self, n: Cmd) -> ShellGen:
        words = [self.expand(w) for w in n.words]
        while words and _ASSIGNMENT.fullmatch(words[0]):
            key, _, value = words.pop(0).partition("=")
            self.vars[key] = value
        target = _output_file(words)
        words, quiet = _strip_redirects(words)
        if target is not None:
            self.host.write_file(target, " ".join(words[1:]) if words[:1] == ["echo"] else "")
        if not words:
            return 0
        if n.background:
            if self.host.is_app(words):
                self.host.app_background()
            return 0
        return (yield from self.simple(words, quiet))

    def simple(self, words: list[str], quiet: bool) -> ShellGen:
        cmd, args = posixpath.basename(words[0]), words[1:]
        handler = RUNTIME_COMMANDS.get(cmd)
        if handler is not None:
            return (yield from handler(self, cmd, args, quiet))
        if cmd == "exit":
            raise ShellExit(int(args[0]) % 256 if args and args[0].lstrip("-").isdigit() else self.status)
        if cmd == "sleep":
            seconds = parse_duration(args)
            self.steps = 0
            yield ("forever", 0.0) if seconds == INF else ("sleep", seconds)
            return 0
        if cmd in ("echo", "printf"):
            text = " ".join(a for a in args if a not in ("-n", "-e")).replace("\\n", " ").strip()
            if not quiet:
                self.host.log(text)
            return 0
        if cmd in ("true", ":", "[", "test"):
            return 0
        if cmd == "false":
            return 1
        if cmd == "dd":
            return self.dd(args, quiet)
        if cmd in ("valkey-cli", "redis-cli"):
            return self.valkey_cli(args, quiet)
        if cmd in ("stress", "stress-ng"):
            return (yield from self.stress(args))
        if cmd == "exec":
            return (yield from self.exec(args, quiet))
        if cmd in SHELLS and "-c" in args:
            return (yield from self.nested(args))
        if cmd == "wait":
            if self.host.app_running():
                yield ("forever", 0.0)
            return 0
        if cmd == "tail" and ("-f" in args or "-F" in args):
            yield ("forever", 0.0)
        if cmd == "yes":
            yield ("busy", INF)
        if cmd in ("nslookup", "host", "getent", "dig", "ping", "nc", "telnet", "wget", "curl"):
            return self.probe_network(cmd, args, quiet)
        if self.host.is_app(words):
            yield ("exec", 0.0)  # a foreground server: the shell waits on it for ever
        return 0  # other utilities are assumed present and successful

    def exec(self, args: list[str], quiet: bool) -> ShellGen:
        if not args:
            return 0
        if self.host.is_app(args):
            yield ("exec", 0.0)
            return 0
        cmd = posixpath.basename(args[0])
        if cmd in _BUILTINS:
            status = yield from self.simple(args, quiet)
            raise ShellExit(status)
        self.host.log(f"{self.name}: exec: line 1: {args[0]}: not found")
        raise ShellExit(127)

    def nested(self, args: list[str]) -> ShellGen:
        idx = args.index("-c")
        script = args[idx + 1] if idx + 1 < len(args) else ""
        try:
            return (yield from self.block(parse_script(script)))
        except ShellSyntaxError:
            return 2
        except ShellExit as done:
            return done.code

    def dd(self, args: list[str], quiet: bool) -> int:
        opts = dict(a.split("=", 1) for a in args if "=" in a)
        bs, count = parse_size(opts.get("bs", "512")), int(opts.get("count", "0") or 0)
        total = bs * count
        # Writing to a memory-backed file keeps it all; to /dev/null only the buffer is held.
        self.host.allocate(bs if opts.get("of") == "/dev/null" else total)
        if not quiet:
            self.host.log(f"{count}+0 records in")
            self.host.log(f"{count}+0 records out")
            self.host.log(
                f"{total} bytes ({total / 1e6:.1f} MB, {total / MiB:.1f} MiB) copied, 0.5 s, {total / 5e5:.0f} MB/s"
            )
        return 0

    def valkey_cli(self, args: list[str], quiet: bool) -> int:
        host, port, rest, i = "127.0.0.1", "6379", [], 0
        while i < len(args):
            a = args[i]
            if a in ("-h", "-p", "-a", "-n", "--user", "--pass", "-u") and i + 1 < len(args):
                host = args[i + 1] if a == "-h" else host
                port = args[i + 1] if a == "-p" else port
                i += 2
                continue
            if not a.startswith("-"):
                rest.append(a)
            i += 1
        local = host in ("127.0.0.1", "localhost", "::1")
        if (local and not self.host.app_running()) or (not local and not self.host.resolves(host)):
            why = "Connection refused" if local else "Name or service not known"
            self.host.log(f"Could not connect to Valkey at {host}:{port}: {why}")
            return 1
        upper = [w.upper() for w in rest]
        if upper[:2] == ["DEBUG", "POPULATE"] and len(rest) >= 3 and rest[2].isdigit():
            size = int(rest[4]) if len(rest) >= 5 and rest[4].isdigit() else 16
            nbytes = int(rest[2]) * size
            if local:
                self.host.allocate(nbytes)
            else:
                self.host.populate_remote(host, nbytes)
        if not quiet:
            self.host.log("PONG" if upper[:1] == ["PING"] else "OK")
        return 0

    def stress(self, args: list[str]) -> ShellGen:
        for i, a in enumerate(args[:-1]):
            if a == "--vm-bytes":
                self.host.allocate(parse_size(args[i + 1].upper().replace("B", "")))
        timeout = next(
            (parse_duration([args[i + 1]]) for i, a in enumerate(args[:-1]) if a in ("--timeout", "-t")), INF
        )
        yield ("busy", timeout)
        return 0

    def probe_network(self, cmd: str, args: list[str], quiet: bool) -> int:
        targets = [a for a in args if not a.startswith("-")]
        if not targets:
            return 0
        target = targets[0] if cmd not in ("nslookup", "host", "dig", "getent") else targets[-1]
        host = re.sub(r"^[a-z]+://", "", target).split("/", 1)[0].split(":", 1)[0]
        if self.host.resolves(host):
            return 0
        if not quiet:
            self.host.log(
                f"** server can't find {host}: NXDOMAIN" if cmd == "nslookup" else f"{cmd}: bad address '{host}'"
            )
        return 1


_BUILTINS = {
    "sleep",
    "echo",
    "printf",
    "true",
    "false",
    ":",
    "dd",
    "valkey-cli",
    "redis-cli",
    "tail",
    "yes",
    "wait",
    "exit",
}
_BUILTINS |= {"stress", "stress-ng", "cat", "ls", "env", "nslookup", "nc", "wget", "curl", "ping", "test", "["}


def _output_file(words: list[str]) -> str | None:
    """The regular file stdout is redirected to (`> /tmp/healthy`), if any."""
    for i, w in enumerate(words):
        m = re.fullmatch(r"1?>>?(.*)", w)
        if m:
            target = m.group(1) or (words[i + 1] if i + 1 < len(words) else "")
            return target if target and not target.startswith("/dev/") else None
    return None


def _strip_redirects(words: list[str]) -> tuple[list[str], bool]:
    """Drop redirections; report whether stdout went somewhere other than the log."""
    out, quiet, skip = [], False, False
    for w in words:
        if skip:
            skip = False
            continue
        m = re.fullmatch(r"(\d*)(>>?|<)(.*)", w)
        if m:
            target = m.group(3)
            if not target:
                skip = True
            if m.group(2) != "<" and m.group(1) in ("", "1"):
                quiet = True
            continue
        out.append(w)
    return out, quiet


# ============================================================================================ programs
@dataclass
class Program:
    kind: str  # app | server | script | error
    script: str = ""
    shell: str = "sh"
    error: str = ""
    ports: frozenset[int] | None = None  # a catalogued server: the ports it binds
    argv: tuple[str, ...] = ()  # a program run without a shell (its arguments may hold newlines)
    http_status: tuple[tuple[float, int], ...] = ((0.0, 200),)  # from so many seconds after start
    logs: tuple[str, ...] = ()
    memory: int = 0
    cpu: float = 0.0
    request_logs: tuple[str, ...] = ()  # a server's lines for every request it answers


def app_programs(svc: Service) -> set[str]:
    """Executable names that start the modelled process (its command's words, a -c script's commands)."""
    names = {svc.name, svc.svc}
    cmd = list(svc.command)
    if cmd and posixpath.basename(cmd[0]) in SHELLS and "-c" in cmd:
        idx = cmd.index("-c")
        script = cmd[idx + 1] if idx + 1 < len(cmd) else ""
        toks = tokenize(script)
        # The first word of every statement, and what `exec` replaces the shell with.
        cmd = [
            w
            for i, w in enumerate(toks)
            if w not in _OPERATORS and (i == 0 or toks[i - 1] in _OPERATORS or toks[i - 1] == "exec")
        ]
    for w in cmd:
        if not w.startswith("-") and "=" not in w and not w.startswith("$"):
            names.add(posixpath.basename(w))
    names.discard("exec")
    return names


def _image_base(image: str) -> str:
    return image_repository(image).rsplit("/", 1)[-1]


def _argv_is_app(argv: list[str], svc: Service | None, image: str) -> bool:
    if not argv:
        return False
    base = posixpath.basename(argv[0])
    if svc is None:
        img = _image_base(image)
        return img not in SHELL_IMAGES and (base.startswith(img) or img.startswith(base))
    if svc.command and argv[: len(svc.command)] == svc.command:
        return True
    return base in app_programs(svc)


def mounted_program(cluster: Cluster, pod: dict, container: dict, exe: str) -> Program | None:
    """An executable path that a volume mounts (a script from a ConfigMap): run it, or the runtime's
    error when it lacks the exec bit; None when nothing is mounted there."""
    found = mounted_file(cluster, pod, container, exe) if "/" in exe else None
    if found is None:
        return None
    if not found[1] & 0o111:
        return Program("error", error=f'{RUNC_PREFIX}exec: "{exe}": permission denied: unknown')
    return Program("script", found[0])


def start_error(exe: str) -> str:
    if "/" in exe:
        return f'{RUNC_PREFIX}exec: "{exe}": stat {exe}: no such file or directory: unknown'
    return f'{RUNC_PREFIX}exec: "{exe}": executable file not found in $PATH: unknown'


def _shell_program(cluster: Cluster, pod: dict, container: dict, argv: list[str]) -> Program:
    shell = posixpath.basename(argv[0])
    rest = argv[1:]
    if "-c" in rest:
        idx = rest.index("-c")
        return Program("script", rest[idx + 1] if idx + 1 < len(rest) else "", shell)
    files = [a for a in rest if not a.startswith("-")]
    if not files:
        return Program("script", "", shell)  # no script and no terminal: the shell exits at once
    found = mounted_file(cluster, pod, container, files[0])
    if found is None:
        missing = (
            f"{shell}: can't open '{files[0]}': No such file or directory"
            if shell != "bash"
            else f"bash: {files[0]}: No such file or directory"
        )
        return Program("script", f"echo {shlex.quote(missing)}; exit {127 if shell == 'bash' else 2}", shell)
    return Program("script", found[0], shell)


def resolve_program(cluster: Cluster, pod: dict, container: dict, svc: Service | None) -> Program:
    """What the container's process is: the modelled app, a generic server, a script, or a start error."""
    command, args = list(container.get("command") or []), list(container.get("args") or [])
    image = container.get("image", "")
    if svc is not None and (not command or command == svc.command):
        return Program("app")
    if svc is None:
        from ..runtime.entrypoint import catalogue_program

        catalogued = catalogue_program(cluster, pod, container)
        if catalogued is not None:
            return catalogued
    if not command:
        if svc is None and _image_base(image) not in SHELL_IMAGES:
            return Program("server")  # the image's own entrypoint
        argv = args or ([] if svc is None else list(svc.command)) or ["sh"]
    else:
        argv = command + args
    exe = argv[0]
    if posixpath.basename(exe) in SHELLS:
        return _shell_program(cluster, pod, container, argv)
    if svc is None and posixpath.basename(exe) in _BUILTINS:
        # A tool the shell model runs (stress, curl, sleep...) does what its arguments say, whatever the
        # image is called (a stress image running `stress --cpu 4` is not a server).
        return Program("script", shlex.join(argv))
    if _argv_is_app(argv, svc, image):
        return Program("app" if svc is not None else "server")
    if posixpath.basename(exe) in _BUILTINS:
        return Program("script", shlex.join(argv))
    mounted = mounted_program(cluster, pod, container, exe)
    if mounted is not None:
        return mounted
    if svc is None and _image_base(image) not in SHELL_IMAGES:
        return Program("server")  # an image we know nothing about: trust its author
    return Program("error", error=start_error(exe))


def service_for(cluster: Cluster, pod: dict, container: dict) -> Service | None:
    """The application model's service a container runs: by name (same repository), else by image."""
    app = cluster.application_for(pod["metadata"].get("namespace", "default"))
    if app is None:
        return None
    image = container.get("image", "")
    repo = image_repository(image) if image else ""
    svc = app.service(container.get("name", ""))
    if svc is not None and svc.image and image_repository(svc.image) == repo:
        return svc
    ref = normalize_image(image) if image else ""
    return next((s for s in app.services if s.image and normalize_image(s.image) == ref), None)


# ============================================================================================ probes
def _probe_port(value: object, container: dict) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    for p in container.get("ports") or []:
        if p.get("name") == value:
            return int(p.get("containerPort", 0))
    return None


def probe_failure(probe: dict, container: dict, ip: str, ports: set[int] | None, http_path: str | None) -> str | None:
    """The kubelet's failure text for one probe run, None when it passes.

    `ports` is what the process listens on (None: anything), `http_path` the path that answers 200
    (None: every path)."""
    for kind in ("tcpSocket", "httpGet", "grpc"):
        handler = probe.get(kind)
        if handler is None:
            continue
        port = _probe_port(handler.get("port"), container)
        if port is None:
            return f'unable to find port "{handler.get("port")}"'
        host = handler.get("host") or ip
        listening = ports is None or port in ports
        if kind == "tcpSocket":
            return None if listening else f"dial tcp {host}:{port}: connect: connection refused"
        if kind == "grpc":
            return (
                None
                if listening
                else f'timeout: failed to connect service "{host}:{port}" within 1s: context deadline exceeded'
            )
        path = handler.get("path") or "/"
        url = f"{(handler.get('scheme') or 'HTTP').lower()}://{host}:{port}{path}"
        if not listening:
            return f'Get "{url}": dial tcp {host}:{port}: connect: connection refused'
        if http_path is not None and path.split("?", 1)[0] != http_path:
            return "HTTP probe failed with statuscode: 404"
        return None
    command = (probe.get("exec") or {}).get("command") or []
    if command and (posixpath.basename(command[0]) == "false" or re.search(r"\bexit [1-9]", " ".join(command))):
        return f"command {shlex.join(command)!r} exited with 1"
    return None


# ============================================================================================ state
@dataclass
class ContainerRun:
    name: str
    spec: dict
    init: bool
    phase: str = "idle"  # idle pulling pull_failed pull_backoff blocked config_error running crashed backoff done
    timers: dict[str, float] = field(default_factory=dict)
    restarts: int = 0
    waiting: tuple[str, str] | None = None
    running_since: float | None = None
    terminated: dict | None = None
    last_state: dict | None = None
    exit_code: int | None = None
    image_ref: str = ""
    image_id: str = ""
    container_id: str = ""
    pull_delay: float = 0.0
    crash_delay: float = 0.0
    ready: bool = False
    started: bool = False
    svc: Service | None = None
    kind: str = ""  # app | server | script
    program: ShellGen | None = None
    host: _Host | None = None
    app_bg: bool = False
    base_memory: int = 0
    extra_memory: int = 0
    cpu: float = 0.0
    probe_failures: dict[str, int] = field(default_factory=dict)
    ports: set[int] | None = None  # what the process binds when the catalogue says (None: unknown)
    files: dict[str, str] = field(default_factory=dict)  # written by this instance's scripts
    cores: float = 1.0  # cores a busy script spins (stress --cpu N)
    http_status: tuple[tuple[float, int], ...] = ((0.0, 200),)  # what its server answers, over time
    request_logs: tuple[str, ...] = ()  # what its server logs for each request
    _limits_of: dict | None = field(default=None, repr=False, compare=False)  # the spec `_limits` was parsed from
    _limits: tuple[float | None, float | None] = field(default=(None, None), repr=False, compare=False)

    @property
    def sidecar(self) -> bool:
        return self.init and self.spec.get("restartPolicy") == "Always"

    def complete(self) -> bool:
        """An init container that lets the next one start."""
        return (self.phase == "done" and self.exit_code == 0) or (self.sidecar and self.started)

    def memory(self) -> int:
        return self.base_memory + self.extra_memory

    def limits(self) -> tuple[float | None, float | None]:
        """The spec's (memory, cpu) limits, parsed once per spec object: a new spec is a new object
        (every reader of usage asks, for every container, at every step)."""
        if self._limits_of is not self.spec:
            self._limits_of = self.spec
            self._limits = (
                container_amount(self.spec, "limits", "memory"),
                container_amount(self.spec, "limits", "cpu"),
            )
        return self._limits

    def usage(self) -> tuple[int, float]:
        """(working-set bytes, cpu cores) as the kubelet reports them: zero unless running, capped at the
        limits (above its memory limit it is being OOM-killed; the CFS quota caps its CPU)."""
        if self.phase != "running":
            return 0, 0.0
        memory, cpu = self.memory(), self.cpu
        mem_limit, cpu_limit = self.limits()
        if mem_limit:
            memory = min(memory, int(mem_limit))
        if cpu_limit:
            cpu = min(cpu, cpu_limit)
        return int(memory), cpu


@dataclass
class PodRun:
    uid: str
    name: str
    namespace: str
    node: str
    start: float
    containers: list[ContainerRun]
    rv: str = ""
    _wake: float = 0.0
    clock: float = 0.0
    sandbox: bool = False
    pod_ip: str = ""
    host_ip: str = ""
    mount_error: tuple[str, str] | None = None
    timers: dict[str, float] = field(default_factory=dict)
    terminal: str | None = None
    reason: tuple[str, str] | None = None
    posted: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)  # event -> (posts, last)
    cond_times: dict[str, tuple[str, float]] = field(default_factory=dict)
    extra_conditions: list[dict] = field(default_factory=list)  # set by whoever ends the pod (DisruptionTarget)
    wakes: list[tuple[float, str]] | None = field(default=None, repr=False)  # the kubelet's wake-up heap

    @property
    def wake(self) -> float:
        """When the pod next needs the kubelet (INF: only when its object changes)."""
        return self._wake

    @wake.setter
    def wake(self, value: float) -> None:
        # Whoever sets it (the kubelet, an eviction, a script's memory), the kubelet hears of it.
        self._wake = value
        if self.wakes is not None and value < INF:
            heapq.heappush(self.wakes, (value, self.uid))

    def container(self, name: str) -> ContainerRun | None:
        return next((c for c in self.containers if c.name == name), None)


@dataclass
class Ctx:
    cluster: Cluster
    pod: dict
    node: dict
    run: PodRun

    @property
    def arch(self) -> str:
        return (self.node["metadata"].get("labels") or {}).get("kubernetes.io/arch", "amd64")

    def pod_ref(self) -> str:
        return f"{self.run.name}_{self.run.namespace}({self.run.uid})"


class _Host(ShellHost):
    """The shell's view of one container instance."""

    def __init__(self, kubelet: Kubelet, ctx: Ctx, c: ContainerRun) -> None:
        self.kubelet, self.ctx, self.c = kubelet, ctx, c
        self.env = container_env(ctx.pod, c.spec, lambda kind, ns, name: _lookup(ctx.cluster, kind, ns, name))
        self.now = ctx.run.clock
        self.lines = 0

    def log(self, line: str) -> None:
        if self.lines < MAX_LINES_PER_RESUME:
            self.lines += 1
            self.ctx.cluster.logs.append(self.ctx.run.uid, self.c.name, self.c.restarts, self.now, line)

    def allocate(self, nbytes: int) -> None:
        self.c.extra_memory += max(0, nbytes)

    def populate_remote(self, host: str, nbytes: int) -> None:
        self.kubelet.populate_service(self.ctx, host, nbytes, self.now)

    def resolves(self, host: str) -> bool:
        return resolves(self.ctx.cluster, self.ctx.run.namespace, host)

    def is_app(self, argv: list[str]) -> bool:
        return _argv_is_app(argv, self.c.svc, self.c.spec.get("image", ""))

    def app_background(self) -> None:
        self.kubelet.app_background(self.ctx, self.c, self.now)

    def app_running(self) -> bool:
        return self.c.app_bg or self.c.kind in ("app", "server")

    def read_file(self, path: str) -> str | None:
        if path in self.c.files:
            return self.c.files[path]
        found = mounted_file(self.ctx.cluster, self.ctx.pod, self.c.spec, path)
        if found is not None:
            return found[0]
        return standard_file(self.ctx.pod, self.c.spec, self.ctx.run.pod_ip, self.flavour(), path)

    def write_file(self, path: str, text: str) -> None:
        self.c.files[path] = text

    def remove_file(self, path: str) -> bool:
        return self.c.files.pop(path, None) is not None

    def set_cores(self, cores: float) -> None:
        self.c.cores = cores

    def free(self, nbytes: int) -> None:
        self.c.extra_memory = max(0, self.c.extra_memory - nbytes)

    def memory_total(self) -> float:
        return quantity((self.ctx.node.get("status") or {}).get("capacity", {}).get("memory", "0"))

    def flavour(self) -> str:
        entry = catalogue_for(self.ctx.cluster).lookup(self.c.spec.get("image", "")).entry
        return entry.flavour if entry is not None else "busybox"

    def workdir(self) -> str:
        return str(self.c.spec.get("workingDir") or "/")

    def reach(self, host: str, port: int) -> Reach:
        from ..runtime.netclient import reach

        return reach(self.ctx.cluster, self.ctx.pod, host, port)


def resolves(cluster: Cluster, namespace: str, host: str) -> bool:
    """Cluster DNS: a Service name (short, namespaced or FQDN) resolves; outside names are assumed to."""
    host = host.strip().rstrip(".")
    if not host or host in ("localhost",) or re.fullmatch(r"[0-9.:]+", host):
        return True
    parts = host.split(".")
    if len(parts) >= 3 and parts[2] != "svc":
        return True  # not a cluster name: the upstream resolver answers
    ns = parts[1] if len(parts) >= 2 else namespace
    return cluster.store.find(cluster.rt("Service"), ns, parts[0]) is not None


# ============================================================================================ kubelet
class Kubelet:
    def __init__(self) -> None:
        self.runs: dict[str, PodRun] = {}
        self.images: dict[str, set[str]] = {}  # node -> references pulled there
        self._feed = ChangeFeed(clocked=False)  # time reaches pods through their wake-ups
        self._wakes: list[tuple[float, str]] = []  # (wake, pod uid), a heap; superseded entries stay
        self._unplaced: dict[str, tuple[str, str]] = {}  # pods bound to a missing node: uid -> (ns, name)

    def reconcile(self, cluster: Cluster) -> None:
        changes = self._feed.take(cluster)
        if changes is None:
            self._full(cluster)
        else:
            self._incremental(cluster, changes)
        if len(self._wakes) > 4 * len(self.runs) + 1000:  # drop superseded wake-ups
            self._wakes[:] = [(r.wake, u) for u, r in self.runs.items() if r.wake < INF]
            heapq.heapify(self._wakes)

    def _full(self, cluster: Cluster) -> None:
        now = cluster.now()
        node_rt = cluster.rt("Node")
        seen: set[str] = set()
        self._unplaced.clear()
        for pod in cluster.store.list(cluster.rt("Pod")):
            uid = pod["metadata"]["uid"]
            seen.add(uid)
            self._visit(cluster, pod, node_rt, now)
        for uid in [u for u in self.runs if u not in seen]:
            self.forget(cluster, uid)

    def _incremental(self, cluster: Cluster, changes: list[WatchEvent]) -> None:
        """The pods the full walk would sync: written since the last pass, due by their wake-up, or bound
        to a node that was missing; visited in store order, as the full walk would."""
        now = cluster.now()
        store = cluster.store
        pod_rt, node_rt = cluster.rt("Pod"), cluster.rt("Node")
        wanted: dict[str, tuple[str, str]] = dict(self._unplaced)  # uid -> (namespace, name)
        gone: list[str] = []
        for event in changes:
            if event.rtype.key != pod_rt.key:
                continue
            meta = event.obj["metadata"]
            if event.type == "DELETED":
                gone.append(meta["uid"])
            else:
                wanted[meta["uid"]] = (meta.get("namespace", ""), meta["name"])
        wakes = self._wakes
        while wakes and wakes[0][0] <= now:
            _, uid = heapq.heappop(wakes)
            run = self.runs.get(uid)
            if run is not None:
                wanted[uid] = (run.namespace, run.name)
        entries = []
        for uid, (ns, name) in wanted.items():
            entry = store.entry(pod_rt, ns, name)
            if entry is not None and entry.obj["metadata"]["uid"] == uid:
                entries.append(entry)
        self._unplaced.clear()  # visiting puts back those whose node is still missing
        for entry in sorted(entries, key=lambda e: e.seq):
            self._visit(cluster, entry.obj, node_rt, now)
        for uid in gone:
            if uid in self.runs:
                self.forget(cluster, uid)

    def _visit(self, cluster: Cluster, pod: dict, node_rt: ResourceType, now: float) -> None:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            return
        uid = pod["metadata"]["uid"]
        run = self.runs.get(uid)
        if run is not None and run.rv == pod["metadata"]["resourceVersion"] and now < run.wake:
            return
        node = cluster.store.find(node_rt, "", node_name)
        if node is None:
            # Bound to a node that does not exist: nobody runs it, it stays Pending (until the node comes).
            self._unplaced[uid] = (pod["metadata"].get("namespace", ""), pod["metadata"]["name"])
            return
        self._sync(cluster, pod, node, run, now)

    def forget(self, cluster: Cluster, uid: str) -> None:
        self.runs.pop(uid, None)
        cluster.logs.forget(uid)

    # ------------------------------------------------------------------ one pod
    def _sync(self, cluster: Cluster, pod: dict, node: dict, run: PodRun | None, now: float) -> None:
        if run is None:
            run = self._new_run(pod, node, now)
        ctx = Ctx(cluster, pod, node, run)
        if pod["metadata"].get("deletionTimestamp"):
            self._stop_all(ctx, now)
        elif run.terminal is None:
            self._apply_spec_changes(ctx, now)
            if not run.sandbox:
                self._try_sandbox(ctx, now)
            if run.sandbox:
                self._advance(ctx, now)
        self._write_status(ctx, now)
        run.wake = self._next_wake(run)

    def _new_run(self, pod: dict, node: dict, now: float) -> PodRun:
        spec = pod.get("spec") or {}
        containers = [ContainerRun(c["name"], c, True) for c in spec.get("initContainers") or []]
        containers += [ContainerRun(c["name"], c, False) for c in spec.get("containers") or []]
        meta = pod["metadata"]
        addresses = (node.get("status") or {}).get("addresses") or []
        host_ip = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")
        run = PodRun(
            meta["uid"], meta["name"], meta.get("namespace", "default"), node["metadata"]["name"], now, containers
        )
        run.host_ip, run.clock = host_ip, now
        run.wakes = self._wakes
        self.runs[run.uid] = run
        return run

    def _try_sandbox(self, ctx: Ctx, now: float) -> None:
        """Mount volumes and create the sandbox (pod IP); a failed mount is retried."""
        run = ctx.run
        problem = volume_problem(ctx.cluster, ctx.pod)
        if problem is not None:
            run.mount_error = problem
            self._event(ctx, "Warning", "FailedMount", problem[1], repeat=EVENT_REPEAT)
            run.timers["mount"] = now + RETRY_SECONDS
            return
        run.mount_error, run.sandbox, run.clock = None, True, now
        run.timers.pop("mount", None)
        host_network = (ctx.pod.get("spec") or {}).get("hostNetwork")
        run.pod_ip = run.host_ip if host_network else ctx.cluster.allocate_ip("pod")
        deadline = (ctx.pod.get("spec") or {}).get("activeDeadlineSeconds")
        if deadline is not None:
            run.timers["deadline"] = run.start + float(deadline)

    def _apply_spec_changes(self, ctx: Ctx, now: float) -> None:
        """An image edited on a live pod: kill the container and start the new image at once."""
        spec = ctx.pod.get("spec") or {}
        current = {c["name"]: c for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])}
        for c in ctx.run.containers:
            new = current.get(c.name)
            if new is None or new.get("image") == c.spec.get("image"):
                continue
            was_running = c.phase == "running"
            c.spec = new
            if c.phase == "idle":
                continue
            if was_running:
                self._event(ctx, "Normal", "Killing", f"Container {c.name} definition changed, will be restarted")
                self._terminate(ctx, c, now, "Error", 137, restart=False)
                c.last_state, c.terminated = c.terminated, None
            c.restarts += 1 if was_running else 0
            c.pull_delay = c.crash_delay = 0.0
            c.phase, c.timers, c.waiting = "idle", {}, None
            ctx.run.clock = max(ctx.run.clock, now)

    # ------------------------------------------------------------------ time
    def _advance(self, ctx: Ctx, now: float) -> None:
        run = ctx.run
        for _ in range(10_000):
            if run.terminal is not None:
                return
            # A container can finish as it starts (`sh -c true`), making the next ones eligible at once.
            while self._begin_eligible(ctx, run.clock) and run.terminal is None:
                pass
            due = self._earliest(run)
            if due is None or due[0] > now:
                return
            when, owner, action = due
            run.clock = max(run.clock, when)
            if owner is None:
                run.timers.pop(action, None)
                self._fire_pod(ctx, action, run.clock)
            else:
                owner.timers.pop(action, None)
                self._fire(ctx, owner, action, run.clock)

    def _earliest(self, run: PodRun) -> tuple[float, ContainerRun | None, str] | None:
        best: tuple[float, ContainerRun | None, str] | None = None
        for action, when in run.timers.items():
            if best is None or when < best[0]:
                best = (when, None, action)
        for c in run.containers:
            for action, when in c.timers.items():
                if best is None or when < best[0]:
                    best = (when, c, action)
        return best

    def _next_wake(self, run: PodRun) -> float:
        due = self._earliest(run)
        return due[0] if due is not None else INF

    def _begin_eligible(self, ctx: Ctx, t: float) -> bool:
        """Init containers one at a time, in order; app containers together once all are done.
        Returns whether any container was started."""
        for c in ctx.run.containers:
            if not c.init:
                break
            if c.complete():
                continue
            if c.phase == "done":
                self._finish_pod(ctx, t)  # a failed init container that will not be restarted
            elif c.phase == "idle":
                self._begin(ctx, c, t)
                return True
            return False
        started = False
        for c in ctx.run.containers:
            if not c.init and c.phase == "idle":
                self._begin(ctx, c, t)
                started = True
        if all(c.phase == "done" for c in ctx.run.containers if not c.init):
            self._finish_pod(ctx, t)
        return started

    def _fire_pod(self, ctx: Ctx, action: str, t: float) -> None:
        if action == "deadline":
            for c in ctx.run.containers:
                if c.phase == "running":
                    self._event(ctx, "Normal", "Killing", f"Stopping container {c.name}")
                    self._terminate(ctx, c, t, "Error", 137, restart=False)
            ctx.run.reason = ("DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
            self._event(ctx, "Normal", "DeadlineExceeded", ctx.run.reason[1])
            ctx.run.terminal = "Failed"

    def _fire(self, ctx: Ctx, c: ContainerRun, action: str, t: float) -> None:
        handlers = {
            "pull": self._pull_done,
            "show_pull_error": self._show_pull_backoff,
            "pull_retry": self._pull_again,
            "config_retry": self._create,
            "program": self._resume,
            "oom": self._oom,
            "show_crash": self._show_crash,
            "restart": self._restart,
            "startup": self._startup_probe,
            "readiness": self._readiness_probe,
            "liveness": self._liveness_probe,
        }
        handlers[action](ctx, c, t)

    # ------------------------------------------------------------------ image
    def _begin(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        image = c.spec.get("image", "")
        bad = invalid_image(image)
        if bad:
            c.phase, c.waiting = "blocked", ("InvalidImageName", bad)
            self._event(ctx, "Warning", "InspectFailed", bad, repeat=EVENT_REPEAT)
            self._event(ctx, "Warning", "Failed", "Error: InvalidImageName", repeat=EVENT_REPEAT)
            return
        c.image_ref = normalize_image(image)
        present = c.image_ref in self.images.get(ctx.run.node, set())
        policy = c.spec.get("imagePullPolicy") or ("Always" if c.image_ref.endswith(":latest") else "IfNotPresent")
        if policy == "Never" and not present:
            message = f'Container image "{image}" is not present with pull policy of Never'
            c.phase, c.waiting = "blocked", ("ErrImageNeverPull", message)
            self._event(ctx, "Warning", "ErrImageNeverPull", message, repeat=EVENT_REPEAT)
            return
        if present and policy != "Always":
            self._event(ctx, "Normal", "Pulled", f'Container image "{image}" already present on machine')
            self._create(ctx, c, t)
            return
        missing = missing_pull_secrets(ctx.cluster, ctx.pod)
        if missing:
            self._event(
                ctx,
                "Warning",
                "FailedToRetrieveImagePullSecret",
                f"Unable to retrieve some image pull secrets ({', '.join(missing)}); "
                "attempting to pull the image may not succeed.",
            )
        self._event(ctx, "Normal", "Pulling", f'Pulling image "{image}"')
        c.phase = "pulling"
        c.timers = {"pull": t + (CACHED_PULL_SECONDS if present else PULL_SECONDS)}

    def _pull_done(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        image = c.spec.get("image", "")
        err = pull_error(ctx.cluster, ctx.run.namespace, image, ctx.arch, ctx.pod)
        if err:
            self._event(ctx, "Warning", "Failed", f'Failed to pull image "{image}": {err}')
            self._event(ctx, "Warning", "Failed", "Error: ErrImagePull")
            c.phase, c.waiting = "pull_failed", ("ErrImagePull", err)
            c.timers = {"show_pull_error": t + SHOW_SECONDS}
            return
        self.images.setdefault(ctx.run.node, set()).add(c.image_ref)
        c.pull_delay = 0.0
        took = f"{PULL_SECONDS:g}s"
        message = f'Successfully pulled image "{image}" in {took} ({took} including waiting). Image size: {image_size(c.image_ref)} bytes.'
        self._event(ctx, "Normal", "Pulled", message)
        self._create(ctx, c, t)

    def _show_pull_backoff(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        image = c.spec.get("image", "")
        c.pull_delay = BACKOFF_START if c.pull_delay == 0 else min(2 * c.pull_delay, BACKOFF_CAP)
        c.phase, c.waiting = "pull_backoff", ("ImagePullBackOff", f'Back-off pulling image "{image}"')
        self._event(ctx, "Normal", "BackOff", f'Back-off pulling image "{image}"')
        self._event(ctx, "Warning", "Failed", "Error: ImagePullBackOff")
        c.timers = {"pull_retry": t - SHOW_SECONDS + c.pull_delay}

    def _pull_again(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        self._event(ctx, "Normal", "Pulling", f'Pulling image "{c.spec.get("image", "")}"')
        c.phase, c.timers = "pulling", {"pull": t + PULL_SECONDS}

    # ------------------------------------------------------------------ create and start
    def _create(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        err = env_problem(ctx.cluster, ctx.run.namespace, c.spec)
        if err:
            c.phase, c.waiting = "config_error", ("CreateContainerConfigError", err)
            self._event(ctx, "Warning", "Failed", f"Error: {err}", repeat=EVENT_REPEAT)
            c.timers = {"config_retry": t + RETRY_SECONDS}
            return
        c.svc = service_for(ctx.cluster, ctx.pod, c.spec)
        program = resolve_program(ctx.cluster, ctx.pod, c.spec, c.svc)
        c.container_id = "containerd://" + _digest(f"{ctx.run.uid}/{c.name}/{c.restarts}")
        c.image_id = image_id(c.spec.get("image", ""))
        self._event(ctx, "Normal", "Created", f"Created container: {c.name}")
        if program.kind == "error":
            self._event(ctx, "Warning", "Failed", f"Error: {program.error}")
            c.running_since = None
            self._terminate(ctx, c, t, "StartError", 128, message=program.error)
            return
        self._event(ctx, "Normal", "Started", f"Started container {c.name}")
        ctx.cluster.logs.start(ctx.run.uid, c.name, c.restarts)
        c.phase, c.waiting, c.terminated, c.running_since = "running", None, None, t
        c.extra_memory, c.app_bg, c.probe_failures, c.program, c.host = 0, False, {}, None, None
        c.started, c.files, c.cores = False, {}, 1.0
        c.ports = set(program.ports) if program.ports is not None else None
        c.http_status, c.request_logs = program.http_status, program.request_logs
        if program.kind == "app":
            self._start_app(ctx, c, t)
        elif program.kind == "server":
            c.kind, c.base_memory, c.cpu = "server", program.memory or SERVER_MEMORY, program.cpu or SERVER_CPU
            for line in program.logs or (f"{c.name}: started {c.spec.get('image', '')}",):
                ctx.cluster.logs.append(ctx.run.uid, c.name, c.restarts, t, line)
        else:
            c.kind, c.base_memory, c.cpu = "script", SCRIPT_MEMORY, SCRIPT_CPU
            for line in program.logs:
                ctx.cluster.logs.append(ctx.run.uid, c.name, c.restarts, t, line)
            c.host = _Host(self, ctx, c)
            shell = Shell(c.host, program.shell)
            c.program = shell.run_argv(list(program.argv)) if program.argv else shell.run(program.script)
            self._resume(ctx, c, t)
        if c.phase == "running":
            self._schedule_probes(ctx, c, t)
            self._check_memory(ctx, c, t, OOM_SECONDS)

    def _start_app(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        """The modelled process is up: its working set, CPU and start-up log lines."""
        svc = c.svc
        c.kind = "app" if svc is not None else "server"
        c.base_memory = svc.usage_memory if svc else SERVER_MEMORY
        c.cpu = svc.usage_cpu if svc else SERVER_CPU
        c.program = None
        c.timers.pop("program", None)
        lines = (svc.logs.get("ready") if svc else None) or [f"{svc.name if svc else c.name} started"]
        for line in lines:
            ctx.cluster.logs.append(ctx.run.uid, c.name, c.restarts, t, line)
        self._check_memory(ctx, c, t, OOM_SECONDS)

    def app_background(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        """`server &` in a script: the app runs beside the shell."""
        if c.app_bg or c.svc is None:
            c.app_bg = True
            return
        c.app_bg = True
        c.base_memory += c.svc.usage_memory
        c.cpu += c.svc.usage_cpu
        for line in c.svc.logs.get("ready") or [f"{c.svc.name} started"]:
            ctx.cluster.logs.append(ctx.run.uid, c.name, c.restarts, t, line)

    def _resume(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        """Run the script until it blocks, exits or execs the app."""
        if c.program is None or c.host is None:
            return
        c.host.now, c.host.lines = t, 0
        try:
            kind, seconds = next(c.program)
        except StopIteration as stop:
            code = stop.value if isinstance(stop.value, int) else 0
            limit = container_amount(c.spec, "limits", "memory")
            if limit and c.memory() > limit:
                self._oom(ctx, c, t)  # the allocation itself met the cgroup limit before the exit
                return
            self._terminate(ctx, c, t, "Completed" if code == 0 else "Error", code)
            return
        base_cpu = (c.svc.usage_cpu if c.app_bg and c.svc else 0.0) + SCRIPT_CPU
        c.cpu = base_cpu + (c.cores if kind == "busy" else 0.0)
        if kind in ("sleep", "busy") and seconds != INF:
            c.timers["program"] = t + max(seconds, 0.0)
        elif kind == "exec":
            self._start_app(ctx, c, t)
        self._check_memory(ctx, c, t, SCRIPT_OOM_SECONDS)

    def _check_memory(self, ctx: Ctx, c: ContainerRun, t: float, delay: float) -> None:
        limit = container_amount(c.spec, "limits", "memory")
        if c.phase == "running" and limit and c.memory() > limit and "oom" not in c.timers:
            c.timers["oom"] = t + delay

    def populate_service(self, ctx: Ctx, host: str, nbytes: int, t: float) -> None:
        """valkey-cli -h <service> DEBUG POPULATE: the keys land in the server pods behind it."""
        name, _, rest = host.partition(".")
        ns = rest.split(".", 1)[0] if rest else ctx.run.namespace
        svc = ctx.cluster.store.find(ctx.cluster.rt("Service"), ns, name)
        selector = (svc or {}).get("spec", {}).get("selector") or {}
        if not selector:
            return
        for pod in ctx.cluster.store.list(ctx.cluster.rt("Pod"), ns):
            labels = pod["metadata"].get("labels") or {}
            run = self.runs.get(pod["metadata"]["uid"])
            if run is None or any(labels.get(k) != v for k, v in selector.items()):
                continue
            for c in run.containers:
                if c.phase == "running" and (c.kind == "app" or c.app_bg):
                    c.extra_memory += nbytes
                    limit = container_amount(c.spec, "limits", "memory")
                    if limit and c.memory() > limit and "oom" not in c.timers:
                        c.timers["oom"] = t + SCRIPT_OOM_SECONDS
                        run.wake = min(run.wake, t + SCRIPT_OOM_SECONDS)

    # ------------------------------------------------------------------ probes
    def _schedule_probes(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        if c.init and not c.sidecar:
            return
        startup = c.spec.get("startupProbe")
        if startup:
            c.timers["startup"] = t + float(startup.get("initialDelaySeconds", 0))
        else:
            self._probes_after_start(ctx, c, t)

    def _probes_after_start(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        c.started = True
        readiness, liveness = c.spec.get("readinessProbe"), c.spec.get("livenessProbe")
        if readiness:
            c.timers["readiness"] = max(t, c.running_since or t) + float(readiness.get("initialDelaySeconds", 0))
        elif not c.init:
            c.ready = True
        if c.sidecar and not readiness:
            c.ready = True
        if liveness:
            c.timers["liveness"] = max(t, c.running_since or t) + float(liveness.get("initialDelaySeconds", 0))

    def _probe(self, ctx: Ctx, c: ContainerRun, which: str) -> str | None:
        probe = c.spec.get(which) or {}
        if "exec" in probe:
            from ..runtime.probes import exec_probe_failure

            return exec_probe_failure(self, ctx, c, probe)
        failure = probe_failure(probe, c.spec, ctx.run.pod_ip, self._listening(c), self._http_path(c))
        if failure is None and "httpGet" in probe:
            code = status_at(c.http_status, ctx.run.clock - (c.running_since or ctx.run.clock))
            if code >= 400:
                return f"HTTP probe failed with statuscode: {code}"
        return failure

    def _listening(self, c: ContainerRun) -> set[int] | None:
        """Ports the container's process binds (None: whatever the probe asks)."""
        if c.kind == "script" and not c.app_bg:
            return set()
        if c.ports is not None:
            return c.ports
        svc = c.svc
        if svc is None:
            declared = {int(p["containerPort"]) for p in c.spec.get("ports") or [] if p.get("containerPort")}
            return declared or None
        if svc.port is None:
            return set()
        port_var = re.sub(r"[^A-Z0-9]", "_", svc.name.upper()) + "_PORT"
        if port_var in svc.env:
            value = next((e.get("value") for e in c.spec.get("env") or [] if e.get("name") == port_var), None)
            if value is not None:
                return {int(value)} if str(value).isdigit() else set()
        return {int(svc.port)}

    def _http_path(self, c: ContainerRun) -> str | None:
        if c.svc is None:
            return None
        http = (c.svc.readiness or {}).get("httpGet") or {}
        return http.get("path") or "/"

    def _probe_timing(self, c: ContainerRun, which: str) -> tuple[float, int]:
        probe = c.spec.get(which) or {}
        return float(probe.get("periodSeconds", 10)), int(probe.get("failureThreshold", 3))

    def _startup_probe(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        failure = self._probe(ctx, c, "startupProbe")
        if failure is None:
            self._probes_after_start(ctx, c, t)
            return
        if self._probe_failed(ctx, c, "startupProbe", "Startup", failure, t):
            self._event(ctx, "Normal", "Killing", f"Container {c.name} failed startup probe, will be restarted")
            self._terminate(ctx, c, t, "Error", 137)

    def _readiness_probe(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        failure = self._probe(ctx, c, "readinessProbe")
        if failure is None:
            c.ready = True
            self._probe_again(c, "readinessProbe", t)
            return
        c.ready = False
        self._probe_failed(ctx, c, "readinessProbe", "Readiness", failure, t)

    def _liveness_probe(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        failure = self._probe(ctx, c, "livenessProbe")
        if failure is None:
            c.probe_failures.pop("livenessProbe", None)
            self._probe_again(c, "livenessProbe", t)
            return
        if self._probe_failed(ctx, c, "livenessProbe", "Liveness", failure, t):
            self._event(ctx, "Normal", "Killing", f"Container {c.name} failed liveness probe, will be restarted")
            self._terminate(ctx, c, t, "Error", 137)

    def _probe_again(self, c: ContainerRun, which: str, t: float) -> None:
        """An exec probe depends on what the process does over time (files, peers), as does an HTTP
        probe of a server whose answers change: keep probing. Other probes of a running process give
        the same answer until it restarts."""
        probe = c.spec.get(which) or {}
        if "exec" in probe or ("httpGet" in probe and len(c.http_status) > 1):
            c.timers[which.replace("Probe", "")] = t + self._probe_timing(c, which)[0]

    def _probe_failed(self, ctx: Ctx, c: ContainerRun, which: str, label: str, failure: str, t: float) -> bool:
        """Record a failed run: Unhealthy event, next probe; True once the failure threshold is reached."""
        self._event(ctx, "Warning", "Unhealthy", f"{label} probe failed: {failure}")
        period, threshold = self._probe_timing(c, which)
        c.probe_failures[which] = c.probe_failures.get(which, 0) + 1
        if which != "readinessProbe" and c.probe_failures[which] >= threshold:
            return True
        c.timers[which.replace("Probe", "")] = t + period
        return False

    # ------------------------------------------------------------------ exits
    def _oom(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        for line in (c.svc.logs.get("oom") if c.svc else None) or []:
            ctx.cluster.logs.append(ctx.run.uid, c.name, c.restarts, t, line)
        self._terminate(ctx, c, t, "OOMKilled", 137)

    def _terminate(
        self,
        ctx: Ctx,
        c: ContainerRun,
        t: float,
        reason: str,
        code: int,
        message: str | None = None,
        restart: bool = True,
    ) -> None:
        """The process ended: record the terminated state and plan the restart the policy asks for."""
        started = rfc3339(c.running_since) if c.running_since is not None else START_ERROR_STARTED_AT
        c.terminated = {
            "exitCode": code,
            "reason": reason,
            "startedAt": started,
            "finishedAt": rfc3339(t),
            "containerID": c.container_id,
        }
        if message:
            c.terminated["message"] = message
        ran = t - c.running_since if c.running_since is not None else 0.0
        c.ready = c.started = False
        c.program, c.host, c.timers, c.waiting, c.app_bg = None, None, {}, None, False
        c.base_memory = c.extra_memory = 0
        c.cpu = 0.0
        policy = (ctx.pod.get("spec") or {}).get("restartPolicy", "Always")
        if c.init:
            again = c.sidecar or (code != 0 and policy != "Never")
        else:
            again = policy == "Always" or (policy == "OnFailure" and code != 0)
        if not (restart and again):
            c.phase, c.exit_code = "done", code
            return
        if ran >= BACKOFF_RESET:
            c.crash_delay = 0.0  # the kubelet forgets the back-off of a container that ran long enough
        c.phase = "crashed"
        if c.crash_delay == 0:
            c.crash_delay = BACKOFF_START  # the first restart is immediate; the next ones back off
            c.timers = {"restart": t + SHOW_SECONDS}
        else:
            c.timers = {"show_crash": t + SHOW_SECONDS, "restart": t + c.crash_delay}

    def _show_crash(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        delay = int(c.crash_delay)
        c.last_state, c.terminated, c.phase = c.terminated, None, "backoff"
        c.waiting = ("CrashLoopBackOff", f"back-off {delay}s restarting failed container={c.name} pod={ctx.pod_ref()}")
        self._event(ctx, "Warning", "BackOff", f"Back-off restarting failed container {c.name} in pod {ctx.pod_ref()}")

    def _restart(self, ctx: Ctx, c: ContainerRun, t: float) -> None:
        if c.phase == "backoff":
            c.crash_delay = min(2 * c.crash_delay, BACKOFF_CAP)
        if c.terminated is not None:
            c.last_state = c.terminated
        c.terminated, c.restarts, c.phase = None, c.restarts + 1, "idle"
        c.timers = {}
        self._begin(ctx, c, t)

    def _finish_pod(self, ctx: Ctx, t: float) -> None:
        """Every container is done for good (restartPolicy Never/OnFailure): the pod is terminal."""
        codes = [c.exit_code for c in ctx.run.containers if c.phase == "done" and not c.sidecar]
        ctx.run.terminal = "Succeeded" if all(code == 0 for code in codes) else "Failed"
        for c in ctx.run.containers:
            if c.sidecar and c.phase == "running":
                self._terminate(ctx, c, t, "Completed", 0, restart=False)

    def _stop_all(self, ctx: Ctx, now: float) -> None:
        """The pod is being deleted (kept by finalizers): stop every container once."""
        ctx.run.clock = max(ctx.run.clock, now)
        for c in ctx.run.containers:
            if c.phase == "running":
                self._event(ctx, "Normal", "Killing", f"Stopping container {c.name}")
                self._terminate(ctx, c, now, "Completed", 0, restart=False)
            c.timers, c.ready = {}, False
        ctx.run.timers = {}

    # ------------------------------------------------------------------ status
    def _write_status(self, ctx: Ctx, now: float) -> None:
        status = self._status(ctx, now)
        if status == (ctx.pod.get("status") or {}):
            ctx.run.rv = ctx.pod["metadata"]["resourceVersion"]
            return
        meta = ctx.pod["metadata"]
        # Built afresh by _status (what it takes from the run is copied there), so stored without a copy.
        new = ctx.cluster.store.write_status(ctx.cluster.rt("Pod"), meta["namespace"], meta["name"], status, owned=True)
        ctx.run.rv = new["metadata"]["resourceVersion"]

    def _status(self, ctx: Ctx, now: float) -> dict:
        run, pod = ctx.run, ctx.pod
        old = pod.get("status") or {}
        inits = [c for c in run.containers if c.init]
        apps = [c for c in run.containers if not c.init]
        phase = self._phase(ctx, inits, apps)
        if phase in ("Succeeded", "Failed"):
            run.terminal = phase
        status = {k: v for k, v in old.items() if k not in _OWNED_STATUS}
        status["phase"] = phase
        status["conditions"] = self._conditions(ctx, inits, apps, phase, now) + [dict(c) for c in run.extra_conditions]
        if run.reason:
            status["reason"], status["message"] = run.reason
        status["hostIP"], status["hostIPs"] = run.host_ip, [{"ip": run.host_ip}]
        if run.sandbox:
            status["podIP"], status["podIPs"] = run.pod_ip, [{"ip": run.pod_ip}]
        status["startTime"] = rfc3339(run.start)
        if inits:
            status["initContainerStatuses"] = [self._container_status(ctx, c, inits) for c in inits]
        status["containerStatuses"] = [self._container_status(ctx, c, inits) for c in apps]
        status["qosClass"] = qos_class(pod)
        return status

    def _phase(self, ctx: Ctx, inits: list[ContainerRun], apps: list[ContainerRun]) -> str:
        """The kubelet's getPhase: Pending until started, Running while anything runs or restarts."""
        if ctx.run.terminal:
            return ctx.run.terminal
        policy = (ctx.pod.get("spec") or {}).get("restartPolicy", "Always")
        deleting = bool(ctx.pod["metadata"].get("deletionTimestamp"))
        if not all(c.complete() for c in inits) and not deleting:
            return "Pending"
        running = waiting = stopped = succeeded = 0
        for c in apps:
            if c.phase == "running":
                running += 1
            elif c.terminated is not None or c.phase == "done":
                stopped += 1
                succeeded += 1 if (c.terminated or {}).get("exitCode", c.exit_code) == 0 else 0
            elif c.last_state is not None:
                stopped += 1
            else:
                waiting += 1
        if waiting:
            return "Pending"
        if running:
            return "Running"
        if stopped == succeeded and (policy != "Always" or deleting):
            return "Succeeded"
        if policy == "Never" or deleting:
            return "Failed"
        return "Running"

    def _conditions(
        self, ctx: Ctx, inits: list[ContainerRun], apps: list[ContainerRun], phase: str, now: float
    ) -> list[dict]:
        run = ctx.run
        terminal = phase in ("Succeeded", "Failed")
        pending_init = [c.name for c in inits if not c.complete()]
        unready = [c.name for c in apps if not c.ready]
        conds = [("PodReadyToStartContainers", run.sandbox and not terminal, "", "")]
        if terminal:
            conds.append(("Initialized", True, "PodCompleted", ""))
            conds += [(t, False, "PodCompleted", "") for t in ("Ready", "ContainersReady")]
        else:
            init_msg = f"containers with incomplete status: [{' '.join(pending_init)}]"
            conds.append(
                (
                    "Initialized",
                    not pending_init,
                    "ContainersNotInitialized" if pending_init else "",
                    init_msg if pending_init else "",
                )
            )
            ready = not unready and phase == "Running"
            msg = f"containers with unready status: [{' '.join(unready)}]" if not ready else ""
            for t in ("Ready", "ContainersReady"):
                conds.append((t, ready, "" if ready else "ContainersNotReady", msg))
        out = []
        for ctype, ok, reason, message in conds:
            value = "True" if ok else "False"
            previous = run.cond_times.get(ctype)
            if previous is None or previous[0] != value:
                # Stamp the transition that caused it, not the pass that noticed it.
                run.cond_times[ctype] = previous = (value, min(now, max(run.clock, run.start)))
            cond: dict = {
                "type": ctype,
                "status": value,
                "lastProbeTime": None,
                "lastTransitionTime": rfc3339(previous[1]),
            }
            if reason:
                cond["reason"] = reason
            if message:
                cond["message"] = message
            out.append(cond)
        scheduled = next(
            (c for c in (ctx.pod.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"), None
        )
        when = (scheduled or {}).get("lastTransitionTime") or rfc3339(run.start)
        out.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": when})
        return out

    def _container_status(self, ctx: Ctx, c: ContainerRun, inits: list[ContainerRun]) -> dict:
        status: dict = {
            "name": c.name,
            "image": c.image_ref if c.container_id else c.spec.get("image", ""),
            "imageID": c.image_id if c.container_id else "",
            "ready": c.ready or (c.init and c.complete() and not c.sidecar),
            "restartCount": c.restarts,
            "started": c.started and c.phase == "running",
            "state": self._state(ctx, c, inits),
            "lastState": {"terminated": dict(c.last_state)} if c.last_state else {},
        }
        if c.container_id:
            status["containerID"] = c.container_id
        return status

    def _state(self, ctx: Ctx, c: ContainerRun, inits: list[ContainerRun]) -> dict:
        if c.phase == "running":
            return {"running": {"startedAt": rfc3339(c.running_since or ctx.run.clock)}}
        if c.terminated is not None:
            return {"terminated": dict(c.terminated)}  # a copy: the status is stored as built
        if c.waiting is not None:
            reason, message = c.waiting
            return {"waiting": {"reason": reason, "message": message} if message else {"reason": reason}}
        initializing = c.init or not all(i.complete() for i in inits)
        return {"waiting": {"reason": "PodInitializing" if initializing and inits else "ContainerCreating"}}

    # ------------------------------------------------------------------ events and metrics
    def _event(self, ctx: Ctx, etype: str, reason: str, message: str, repeat: float = 0.0) -> None:
        """Post an event from this node. A recurring one is rate-limited like client-go's spam filter
        (a burst, then one per EVENT_REPEAT); `repeat` limits it from the first repetition."""
        now = ctx.cluster.now()
        key = (reason, message)
        posts, last = ctx.run.posted.get(key, (0, -INF))
        limited = bool(repeat) or posts >= EVENT_BURST
        if limited and now - last < (repeat or EVENT_REPEAT):
            return
        ctx.run.posted[key] = (posts + 1, now)
        ctx.cluster.record_event(ctx.pod, etype, reason, message, "kubelet", ctx.run.node)


_OWNED_STATUS = {
    "phase", "conditions", "hostIP", "hostIPs", "podIP", "podIPs", "startTime", "initContainerStatuses",
    "containerStatuses", "qosClass", "nominatedNodeName", "reason", "message",
}  # fmt: skip


# ============================================================================================ helpers for others
def qos_class(pod: dict) -> str:
    spec = pod.get("spec") or {}
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    requests = [(c.get("resources") or {}).get("requests") or {} for c in containers]
    limits = [(c.get("resources") or {}).get("limits") or {} for c in containers]
    if not any(requests) and not any(limits):
        return "BestEffort"
    for req, lim in zip(requests, limits, strict=True):
        for r in ("cpu", "memory"):
            if r not in lim or quantity(req.get(r, lim[r])) != quantity(lim[r]):
                return "Burstable"
    return "Guaranteed"


def _kubelet_of(cluster: Cluster) -> Kubelet | None:
    return next((c for c in getattr(cluster, "controllers", []) if isinstance(c, Kubelet)), None)


def container_usage(cluster: Cluster, pod: dict, container_name: str) -> tuple[int, float]:
    """(working-set bytes, CPU cores) of a running container, as metrics-server would report them."""
    return kubelet_container_usage(_kubelet_of(cluster), pod, container_name)


def kubelet_container_usage(kubelet: Kubelet | None, pod: dict, container_name: str) -> tuple[int, float]:
    """`container_usage` with the kubelet already found (a scrape reads thousands of containers)."""
    run = kubelet.runs.get(pod["metadata"]["uid"]) if kubelet else None
    c = run.container(container_name) if run else None
    return (0, 0.0) if c is None else c.usage()


def throttle_factor(cluster: Cluster, pod: dict, container: str) -> float:
    """How much slower the container runs because its CPU limit is below its demand (>= 1.0)."""
    kubelet = _kubelet_of(cluster)
    run = kubelet.runs.get(pod["metadata"]["uid"]) if kubelet else None
    c = run.container(container) if run else None
    limit = c.limits()[1] if c is not None else None
    if c is None or c.phase != "running" or not c.cpu or not limit:
        return 1.0
    demand = c.cpu
    return max(1.0, demand / limit)
