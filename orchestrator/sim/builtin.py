"""The scenario library shipped with the package, addressable by name (`builtin:NAME`).

One folder per scenario in ITBench's layout, `orchestrator/sim/scenarios/NAME/scenario.yaml`, with
`groundtruth.yaml` beside it where the ground truth is known. The simulator, incidents, the bench and the
tests all read scenarios from here by name.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "orchestrator.sim.scenarios"
SCENARIO_FILE = "scenario.yaml"


def library_root() -> Path:
    return Path(str(resources.files(PACKAGE)))


def builtin_scenarios() -> dict[str, Path]:
    """Every built-in scenario's name and scenario file, sorted by name."""
    root = library_root()
    return {d.name: d / SCENARIO_FILE for d in sorted(root.iterdir()) if (d / SCENARIO_FILE).is_file()}


def resolve_scenario(name_or_path: str) -> Path:
    """A path to an existing file, or the name of a built-in scenario (`NAME` or `builtin:NAME`)."""
    p = Path(name_or_path)
    if p.exists():
        return p
    found = builtin_scenarios().get(name_or_path.removeprefix("builtin:"))
    if found is None:
        known = ", ".join(builtin_scenarios())
        raise FileNotFoundError(
            f"scenario {name_or_path!r}: no such file and no built-in scenario of that name (built-in: {known})"
        )
    return found
