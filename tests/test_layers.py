"""The import-linter contracts in pyproject.toml name modules one by one; a module added to the package must
join them, or the simulator's walls would have a gap nobody sees."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def top_level_modules() -> set[str]:
    pkg = ROOT / "orchestrator"
    found = {p.stem for p in pkg.glob("*.py") if p.stem != "__init__"}
    found |= {p.name for p in pkg.iterdir() if (p / "__init__.py").is_file()}
    return {f"orchestrator.{name}" for name in found}


def contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["name"]: c for c in config["contracts"]}


def test_every_module_has_a_layer() -> None:
    (layers,) = [c for c in contracts().values() if c["type"] == "layers"]
    placed = {m.strip() for layer in layers["layers"] for m in layer.replace("|", ":").split(":")}
    # The simulator stands outside the product's layers; its own contracts below keep it apart.
    assert placed == top_level_modules() - {"orchestrator.sim"}


def test_the_simulators_walls_name_every_other_module() -> None:
    others = top_level_modules() - {"orchestrator.sim"}
    by_name = contracts()
    room = next(c for name, c in by_name.items() if name.startswith("The simulator is a room"))
    assert set(room["forbidden_modules"]) == others
    composers = {"orchestrator.cli", "orchestrator.cluster", "orchestrator.bench"}
    only = next(c for name, c in by_name.items() if name.startswith("Only the CLI"))
    assert set(only["source_modules"]) == others - composers
