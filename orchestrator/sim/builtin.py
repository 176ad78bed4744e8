"""Scenarios shipped with the package (`orchestrator/sim/scenarios/*.yaml`), addressable by name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "orchestrator.sim.scenarios"


def builtin_scenarios() -> dict[str, Path]:
    root = resources.files(PACKAGE)
    return {
        Path(r.name).stem: Path(str(r))
        for r in sorted(root.iterdir(), key=lambda r: r.name)
        if r.name.endswith(".yaml")
    }


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
