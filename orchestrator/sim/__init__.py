"""The embedded Kubernetes and observability simulator.

A room of its own: nothing here imports the rest of `orchestrator`, and the product reaches the simulator
only through the names below (where it composes the embedded cluster: the CLI, `orchestrator.cluster` and
the bench).

- `Cluster` (the in-process model) and `SimulatorServer` (serves it over HTTP on loopback, in a background
  thread or the current event loop);
- the scenario library and scenario files: `builtin_scenarios`, `resolve_scenario`, `load_scenario`,
  `scenario_problem` (what would stop one loading), `describe_scenario` (what one is about: applications,
  faults and their targets, namespaces, the summary of its symptom), `ScenarioError`;
- faults: `simulated_faults`, `NOT_SIMULATED`, `FaultError`;
- `CatalogueError`: an image catalogue file (`sim serve --images`) that does not load;
- the cluster's shape: `ClusterShape`, `shape_from_flags` (the `sim serve` node flags), `ShapeError`;
- `run_benchmark`, the simulator's own performance figures.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bench import run_benchmark
    from .builtin import builtin_scenarios, resolve_scenario
    from .cluster import Cluster
    from .faults import NOT_SIMULATED, FaultError, simulated_faults
    from .runner import SimulatorServer
    from .runtime.catalogue import CatalogueError
    from .scenario import ScenarioError, ScenarioFacts, describe_scenario, load_scenario, scenario_problem
    from .shape import ClusterShape, ShapeError, shape_from_flags

__all__ = [
    "CatalogueError",
    "Cluster",
    "ClusterShape",
    "FaultError",
    "NOT_SIMULATED",
    "ScenarioError",
    "ScenarioFacts",
    "ShapeError",
    "SimulatorServer",
    "builtin_scenarios",
    "describe_scenario",
    "load_scenario",
    "resolve_scenario",
    "run_benchmark",
    "scenario_problem",
    "shape_from_flags",
    "simulated_faults",
]

# Where each public name lives. Lazy: importing the package (e.g. for the CLI's --help) must not pull in
# aiohttp or the cluster model.
_HOME = {
    "CatalogueError": ".runtime.catalogue",
    "Cluster": ".cluster",
    "ClusterShape": ".shape",
    "ShapeError": ".shape",
    "shape_from_flags": ".shape",
    "FaultError": ".faults",
    "NOT_SIMULATED": ".faults",
    "ScenarioError": ".scenario",
    "ScenarioFacts": ".scenario",
    "SimulatorServer": ".runner",
    "builtin_scenarios": ".builtin",
    "describe_scenario": ".scenario",
    "load_scenario": ".scenario",
    "resolve_scenario": ".builtin",
    "run_benchmark": ".bench",
    "scenario_problem": ".scenario",
    "simulated_faults": ".faults",
}


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(name)
    return getattr(import_module(home, __name__), name)
