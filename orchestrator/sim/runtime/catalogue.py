"""The image catalogue (images.yaml): which references a registry serves and what each image runs.

`Catalogue.lookup` answers a pull: found (with its platforms), no such tag, unauthorized, or unknown
repository. The rules are documented at the top of images.yaml. A cluster starts from the shared
catalogue; `catalogue_for(cluster).add(...)` layers a scenario's or a test's own entries on top.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import yaml

from ..objects import quantity

if TYPE_CHECKING:
    from ..cluster import Cluster

CATALOGUE_FILE = Path(__file__).with_name("images.yaml")
ANY_PLATFORM = ("linux/amd64", "linux/arm64")


class CatalogueError(ValueError):
    """An entry that does not follow the documented format."""


@dataclass(frozen=True)
class Connects:
    """A dependency the program uses, named by an env var (a host, DB_HOST=db, or a URL): when the name
    does not resolve through cluster DNS it logs `logs` ({host}, {port} filled in) and exits 1 after
    `after` s, or, with `per_request`, keeps serving and answers every request with `status`, logging
    `logs` each time (an app that calls the dependency per request)."""

    env: str
    port_env: str = ""
    port: int = 0
    after: float = 0.0
    logs: tuple[str, ...] = ()
    per_request: bool = False
    status: int = 500


@dataclass(frozen=True)
class ProgramSpec:
    """What one executable of an image does as the container's process."""

    port: int | None = None  # serves on this port for ever (0: runs for ever, listens on nothing)
    # What the server answers HTTP requests with, from so many seconds after it started.
    http_status: tuple[tuple[float, int], ...] = ((0.0, 200),)
    execs: tuple[str, ...] | None = None  # an entrypoint script: runs its arguments (this default first)
    exit_code: int | None = None
    after: float = 0.0
    logs: tuple[str, ...] = ()
    memory: int = 0
    cpu: float = 0.0
    requires_env: tuple[str, ...] = ()
    missing_env_logs: tuple[str, ...] = ()
    connects: Connects | None = None

    @property
    def serves(self) -> bool:
        return self.port is not None


@dataclass
class ImageEntry:
    repository: str
    tags: tuple[str, ...] = ("*",)
    platforms: tuple[str, ...] = ANY_PLATFORM
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    shell: bool = True
    flavour: str = "gnu"
    programs: dict[str, ProgramSpec] = field(default_factory=dict)

    def has_tag(self, tag: str) -> bool:
        return any(fnmatch.fnmatchcase(tag, pattern) for pattern in self.tags)

    def program(self, exe: str, first_arg: str = "") -> ProgramSpec | None:
        base = posixpath.basename(exe)
        if first_arg and f"{base} {first_arg}" in self.programs:
            return self.programs[f"{base} {first_arg}"]
        return self.programs.get(exe) or self.programs.get(base)


@dataclass(frozen=True)
class Lookup:
    status: str  # found | no-tag | unauthorized | unknown
    entry: ImageEntry | None = None

    @property
    def platforms(self) -> list[str]:
        return list(self.entry.platforms) if self.entry else list(ANY_PLATFORM)


def repository_of(image: str) -> tuple[str, str]:
    """'nginx:1.27' -> ('docker.io/library/nginx', '1.27'); the tag is '' for a digest reference."""
    ref, _, digest = image.strip().partition("@")
    head, _, last = ref.rpartition("/")
    name, _, tag = last.partition(":")
    repo = f"{head}/{name}" if head else name
    first = repo.split("/", 1)[0]
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    elif not ("." in first or ":" in first or first == "localhost"):
        repo = f"docker.io/{repo}"
    return repo, ("" if digest and not tag else tag or "latest")


def _statuses(serve: dict) -> tuple[tuple[float, int], ...]:
    then = serve.get("then")
    first = ((0.0, int(serve.get("status", 200))),)
    return first + ((float(then.get("after", 0)), int(then.get("status", 500))),) if then else first


def status_at(schedule: tuple[tuple[float, int], ...], seconds: float) -> int:
    """The HTTP status a server answers `seconds` after it started."""
    current = 200
    for after, status in schedule:
        if seconds >= after:
            current = status
    return current


def _program(raw: Any, where: str) -> ProgramSpec:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: a program must be a mapping")
    serve = raw.get("serve")
    port = int((serve or {}).get("port", 0)) if serve is not None else None
    execs = tuple(str(a) for a in raw["execs"] or ()) if "execs" in raw else None
    if port is None and execs is None and "exit" not in raw:
        raise CatalogueError(f"{where}: a program needs `serve`, `exit` or `execs`")
    return ProgramSpec(
        port=port,
        http_status=_statuses(serve or {}),
        execs=execs,
        exit_code=int(raw["exit"]) if "exit" in raw else None,
        after=float(raw.get("after", 0)),
        logs=tuple(str(line) for line in raw.get("logs") or ()),
        memory=int(quantity(str(raw.get("memory", 0)))),
        cpu=float(raw.get("cpu", 0.0)),
        requires_env=tuple(raw.get("requires_env") or ()),
        missing_env_logs=tuple(str(line) for line in raw.get("missing_env_logs") or ()),
        connects=_connects(raw["connects"], f"{where}.connects") if raw.get("connects") is not None else None,
    )


def _connects(raw: Any, where: str) -> Connects:
    if not isinstance(raw, dict) or not raw.get("env"):
        raise CatalogueError(f"{where}: needs `env` (the variable naming the host)")
    unknown = set(raw) - {"env", "port_env", "port", "after", "logs", "per_request", "status"}
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return Connects(
        env=str(raw["env"]),
        port_env=str(raw.get("port_env", "")),
        port=int(raw.get("port", 0)),
        after=float(raw.get("after", 0)),
        logs=tuple(str(line) for line in raw.get("logs") or ()),
        per_request=bool(raw.get("per_request", False)),
        status=int(raw.get("status", 500)),
    )


def parse_entry(raw: Any) -> ImageEntry:
    """One `images:` item -> ImageEntry; CatalogueError names the field that is wrong."""
    if not isinstance(raw, dict) or not raw.get("repository"):
        raise CatalogueError("an image entry needs `repository`")
    repo = repository_of(str(raw["repository"]))[0]
    programs = {str(exe): _program(p, f"{repo}: programs.{exe}") for exe, p in (raw.get("programs") or {}).items()}
    return ImageEntry(
        repository=repo,
        tags=tuple(str(t) for t in raw.get("tags") or ("*",)),
        platforms=tuple(raw.get("platforms") or ANY_PLATFORM),
        entrypoint=tuple(str(a) for a in raw.get("entrypoint") or ()),
        cmd=tuple(str(a) for a in raw.get("cmd") or ()),
        env={str(k): str(v) for k, v in (raw.get("env") or {}).items()},
        shell=bool(raw.get("shell", True)),
        flavour=str(raw.get("flavour", "gnu")),
        programs=programs,
    )


class Catalogue:
    def __init__(
        self,
        entries: dict[str, ImageEntry],
        public: tuple[str, ...],
        private: tuple[str, ...],
        base: Catalogue | None = None,
    ) -> None:
        self.entries, self.public, self.private, self.base = entries, public, private, base

    def entry(self, repository: str) -> ImageEntry | None:
        found = self.entries.get(repository)
        if found is None and self.base is not None:
            return self.base.entry(repository)
        return found

    def add(self, raw_entries: list[Any]) -> None:
        for raw in raw_entries:
            entry = parse_entry(raw)
            self.entries[entry.repository] = entry

    def is_private(self, host: str) -> bool:
        if host in self.public:
            return False
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in self.private)

    def lookup(self, image: str) -> Lookup:
        repo, tag = repository_of(image)
        entry = self.entry(repo)
        if entry is not None:
            return Lookup("found" if not tag or entry.has_tag(tag) else "no-tag", entry)
        if self.is_private(repo.split("/", 1)[0]):
            return Lookup("unauthorized")
        return Lookup("unknown")


def read_image_file(path: str | Path) -> list[dict]:
    """A user's own catalogue file (`images:` entries as in images.yaml), checked entry by entry."""
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise CatalogueError(f"{path}: cannot read an image catalogue: {err}") from err
    entries = (doc or {}).get("images") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise CatalogueError(f"{path}: an image catalogue needs a list under `images:`")
    for i, raw in enumerate(entries):
        try:
            parse_entry(raw)
        except CatalogueError as err:
            raise CatalogueError(f"{path}: images[{i}]: {err}") from err
    return entries


@cache
def shared_catalogue() -> Catalogue:
    doc = yaml.safe_load(CATALOGUE_FILE.read_text())
    regs = doc.get("registries") or {}
    entries = {e.repository: e for e in (parse_entry(raw) for raw in doc.get("images") or ())}
    return Catalogue(entries, tuple(regs.get("public") or ()), tuple(regs.get("private") or ()))


_PER_CLUSTER: WeakKeyDictionary[Cluster, Catalogue] = WeakKeyDictionary()


def catalogue_for(cluster: Cluster) -> Catalogue:
    """The cluster's catalogue: the shared one plus whatever its scenario added."""
    found = _PER_CLUSTER.get(cluster)
    if found is None:
        base = shared_catalogue()
        found = Catalogue({}, base.public, base.private, base)
        _PER_CLUSTER[cluster] = found
    return found
