"""What changed since a controller's last pass, so a pass after one API write looks at that write's
objects instead of the whole cluster.

A pass that must look at everything gets None: the first one, one after the clock moved (time-driven
decisions may change anywhere) and one after the store's change log lost entries it needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..store import WatchEvent


class ChangeFeed:
    def __init__(self, clocked: bool = True) -> None:
        self._clocked = clocked  # the controller's decisions depend on the time
        self._rv: int | None = None
        self._now: float | None = None
        self.written: list[WatchEvent] | None = None

    def take(self, cluster: Cluster) -> list[WatchEvent] | None:
        """The writes since the start of the previous pass (its own included), or None for everything.
        `written` keeps those writes even when the clock moved (None only when they are unknown)."""
        rv, now = self._rv, self._now
        self._rv, self._now = cluster.store.resource_version, cluster.now()
        self.written = None if rv is None else cluster.store.changes_since(rv)
        if self._clocked and now != self._now:
            return None
        return self.written
