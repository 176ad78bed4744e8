"""The analyzer registry: each analyzer is one function registered under the kind it inspects.

    @analyzer("Pod")
    def pods(reads: Snapshot, scope: Scope) -> list[Finding]: ...

An analyzer is pure: it reads only the already-fetched `Snapshot` (it never lists the API), so a test
hands it plain dicts. `Registry` is a class so tests can build their own; `REGISTRY` is the default that
the analyzer modules fill on import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from .finding import Finding
from .snapshot import Scope, Snapshot


class Analyzer(Protocol):
    def __call__(self, reads: Snapshot, scope: Scope) -> list[Finding]: ...


@dataclass(frozen=True)
class AnalyzerDef:
    name: str
    kind: str  # the kind it inspects; `--filter` selects by it
    run: Analyzer
    reads: frozenset[str]  # kinds it needs fetched
    summary: str
    # Reasons of the Normal events it reads. The reader fetches Warning events and only these Normal ones:
    # a large namespace holds tens of thousands of routine Normal events (Scheduled, Pulled, Started).
    normal_events: frozenset[str] = frozenset()


class UnknownKind(ValueError):
    """A filter named a kind no analyzer inspects; the message lists the ones that exist."""


class Registry:
    def __init__(self) -> None:
        self._defs: dict[str, AnalyzerDef] = {}

    def analyzer(
        self, kind: str, name: str | None = None, reads: Iterable[str] = (), normal_events: Iterable[str] = ()
    ) -> Callable[[Analyzer], Analyzer]:
        def register(fn: Analyzer) -> Analyzer:
            key = str(name or getattr(fn, "__name__", kind.lower()))
            summary = " ".join((fn.__doc__ or "").split())
            needs = frozenset(reads) | {kind} | ({"Event"} if normal_events else set())
            self._defs[key] = AnalyzerDef(key, kind, fn, needs, summary, frozenset(normal_events))
            return fn

        return register

    def all(self) -> list[AnalyzerDef]:
        return list(self._defs.values())

    def kinds(self) -> list[str]:
        return sorted({d.kind for d in self._defs.values()})

    def select(self, kinds: Iterable[str] | None = None) -> list[AnalyzerDef]:
        """The analyzers for these kinds (case-insensitive), every analyzer when none are named."""
        wanted = [k.strip() for k in kinds or () if k.strip()]
        if not wanted:
            return self.all()
        known = {k.lower(): k for k in self.kinds()}
        unknown = [k for k in wanted if k.lower() not in known]
        if unknown:
            raise UnknownKind(f"unknown analyzer kind {', '.join(unknown)}; available: {', '.join(self.kinds())}")
        chosen = {known[k.lower()] for k in wanted}
        return [d for d in self._defs.values() if d.kind in chosen]


REGISTRY = Registry()
analyzer = REGISTRY.analyzer
