"""Clocks for the simulator.

The virtual clock is the default: tests and benchmarks move it explicitly, so "wait ten minutes for the
alert to clear" costs milliseconds. The realtime clock follows the wall clock for demos with kubectl.

kubectl computes some ages on the client side, against the local wall clock (`kubectl describe`'s and
`kubectl events`' event ages, "x17 over 5m"): a cluster clock that an advance has put ahead of the wall
clock makes them negative, which kubectl prints as `<invalid>`. `lead` anchors a clock that many seconds
behind the wall clock (the cluster has been up that long when it is created), so skips up to `lead`
keep "now" at or before the wall clock; client-side ages then read up to `lead` older than the
server-side ones. `sre-agent sim serve` uses a lead (its `--clock-lead`); in-process clusters do not, as
nothing there compares against the wall clock.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime


class Clock:
    """Seconds since the Unix epoch, as the cluster sees them.

    The virtual clock starts at the wall clock (whole minute), `lead` seconds earlier (see the module
    docstring), so that kubectl, which computes some ages on the client side, shows sensible ones; pass
    `start` for reproducible timestamps.
    """

    kind = "virtual"

    def __init__(self, start: float | None = None, lead: float = 0.0) -> None:
        if lead < 0:
            raise ValueError("the clock's lead cannot be negative")
        self._now = float(start if start is not None else (int(time.time()) // 60 * 60) - lead)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        self._now += seconds


class RealtimeClock(Clock):
    kind = "realtime"

    def __init__(self, lead: float = 0.0) -> None:
        if lead < 0:
            raise ValueError("the clock's lead cannot be negative")
        self._offset = -lead  # skips (advance) eat into the lead before the clock passes the wall clock
        super().__init__(time.time() - lead)

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        # Advancing a realtime clock skips ahead: useful to fast-forward a demo.
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        self._offset += seconds


@functools.lru_cache(maxsize=4096)
def rfc3339(ts: float) -> str:
    """Kubernetes timestamps: second precision, UTC, 'Z' suffix (a step stamps thousands of objects with
    the same few instants: remembered)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
