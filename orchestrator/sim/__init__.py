"""The embedded Kubernetes and observability simulator.

Public entry points: `Cluster` (the in-process model), `SimulatorServer` (serves it over HTTP on
loopback, in a background thread or the current event loop) and `load_scenario`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cluster import Cluster
    from .runner import SimulatorServer
    from .scenario import load_scenario

__all__ = ["Cluster", "SimulatorServer", "load_scenario"]


def __getattr__(name: str) -> object:
    # Lazy: importing the package (e.g. for the CLI's --help) must not pull in aiohttp.
    if name == "Cluster":
        from .cluster import Cluster

        return Cluster
    if name == "SimulatorServer":
        from .runner import SimulatorServer

        return SimulatorServer
    if name == "load_scenario":
        from .scenario import load_scenario

        return load_scenario
    raise AttributeError(name)
