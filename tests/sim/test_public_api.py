"""The simulator is a room of its own: it imports nothing from the rest of `orchestrator`, and the product
reaches it only through `orchestrator.sim`'s exported names, where the embedded cluster is composed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import orchestrator.sim as sim

PACKAGE = Path(sim.__file__).resolve().parent.parent  # orchestrator/
COMPOSERS = {"cli", "cluster.py", "bench"}  # where the product may import the simulator


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, names) of every import in a module of the orchestrator package."""
    here = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def test_the_simulator_imports_nothing_from_the_rest_of_the_package() -> None:
    outside = [
        (str(path.relative_to(PACKAGE)), module)
        for path in (PACKAGE / "sim").rglob("*.py")
        for module, _ in _imports(path)
        if module.split(".")[0] == "orchestrator" and not module.startswith("orchestrator.sim")
    ]
    assert outside == []


def test_the_product_uses_only_the_exported_names_where_it_composes_the_cluster() -> None:
    uses = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "sim":
            continue
        for module, names in _imports(path):
            if module == "orchestrator" and "sim" in names or module.startswith("orchestrator.sim"):
                uses.append((str(rel), module, names))
    assert {rel.split("/")[0] for rel, _, _ in uses} <= COMPOSERS, uses
    assert all(module == "orchestrator.sim" and set(names) <= set(sim.__all__) for _, module, names in uses), uses


def test_the_exported_names_are_sorted_and_each_resolves() -> None:
    assert sim.__all__ == sorted(sim.__all__)
    for name in sim.__all__:
        assert getattr(sim, name) is not None


def test_importing_the_package_stays_light() -> None:
    code = "import sys, orchestrator.sim; print('aiohttp' in sys.modules, 'orchestrator.sim.cluster' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
