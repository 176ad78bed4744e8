"""cAdvisor's CFS counters for a container with a CPU limit, integrated scrape by scrape.

The kernel hands a limited cgroup `limit * 100 ms` of CPU per 100 ms period. A container that wants
more than its limit uses its quota early in most periods and waits for the rest of them: those
periods count as throttled, and the demand it could not run counts as throttled seconds.
"""

from __future__ import annotations

from collections.abc import Container

CFS_PERIOD_SECONDS = 0.1
# Demand 25 % above the limit already exhausts the quota in nearly every period (bursty threads).
THROTTLED_SHARE_PER_EXCESS = 4.0


class CfsCounters:
    def __init__(self) -> None:
        # (pod uid, container) -> (restart, periods, throttled periods, throttled seconds)
        self._totals: dict[tuple[str, str], tuple[int, float, float, float]] = {}

    def advance(
        self, key: tuple[str, str], restart: int, factor: float, limit: float, dt: float
    ) -> list[tuple[str, float]]:
        """Counters after `dt` more seconds at `factor` = demand / limit (>= 1)."""
        prev_restart, periods, throttled, seconds = self._totals.get(key, (restart, 0.0, 0.0, 0.0))
        if prev_restart != restart:
            periods = throttled = seconds = 0.0  # a new container instance has a new cgroup
        n = dt / CFS_PERIOD_SECONDS
        excess = max(0.0, factor - 1.0)
        periods += n
        throttled += n * min(1.0, excess * THROTTLED_SHARE_PER_EXCESS)
        seconds += excess * limit * dt
        self._totals[key] = (restart, periods, throttled, seconds)
        return [
            ("container_cpu_cfs_periods_total", periods),
            ("container_cpu_cfs_throttled_periods_total", throttled),
            ("container_cpu_cfs_throttled_seconds_total", seconds),
        ]

    def forget(self, live: Container[tuple[str, str]]) -> None:
        for key in [k for k in self._totals if k not in live]:
            del self._totals[key]
