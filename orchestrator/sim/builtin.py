"""Scenarios shipped with the package, addressable by name (`builtin:NAME`).

Two places hold them: `orchestrator/sim/scenarios/*.yaml` (the simulator's own) and the builtin bench
suite `orchestrator.bench.scenarios/NAME/scenario.yaml` (one per simulated fault family, with ground truth).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "orchestrator.sim.scenarios"
SUITE_PACKAGE = "orchestrator.bench.scenarios"


def suite_root() -> Path:
    return Path(str(resources.files(SUITE_PACKAGE)))


def builtin_scenarios() -> dict[str, Path]:
    root = resources.files(PACKAGE)
    found = {Path(r.name).stem: Path(str(r)) for r in root.iterdir() if r.name.endswith(".yaml")}
    for case in suite_root().iterdir():
        if (case / "scenario.yaml").is_file():
            found.setdefault(case.name, case / "scenario.yaml")
    return dict(sorted(found.items()))


def resolve_scenario(name_or_path: str) -> Path:
    """A path to an existing file, or the name of a built-in scenario."""
    p = Path(name_or_path)
    if p.exists():
        return p
    found = builtin_scenarios().get(name_or_path)
    if found is None:
        known = ", ".join(builtin_scenarios())
        raise FileNotFoundError(
            f"scenario {name_or_path!r}: no such file and no built-in scenario of that name (built-in: {known})"
        )
    return found
