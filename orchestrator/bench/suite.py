"""A bench suite: folders in ITBench's layout, each with `scenario.yaml` and `groundtruth.yaml`.

`builtin` is the project's own suite: the scenarios named in BUILTIN_SUITE from the simulator's scenario
library, one case per simulated fault family; any other value is a directory laid out the same way, such as
ITBench's sample scenarios.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..sim import resolve_scenario, scenario_problem
from .truth import GroundTruth, TruthError, load_truth

# The builtin suite, named rather than "every library scenario with a groundtruth.yaml": the calibration
# figures (orchestrator/models/CALIBRATION.md) are measured on exactly these cases, so a scenario added to
# the library joins the suite only when listed here.
BUILTIN_SUITE = (
    "config",
    "crash",
    "deleted-service",
    "hpa",
    "image",
    "network-policy",
    "oom",
    "quota",
    "scale",
    "scheduling",
    "service-port",
    "service-selector",
    "startup",
)


class SuiteError(ValueError):
    """A suite we cannot run; one line naming the folder or file at fault."""


@dataclass(frozen=True)
class Case:
    name: str  # the folder's name (ITBench's are like scenario_20)
    scenario: Path
    truth: GroundTruth

    @property
    def incident_name(self) -> str:
        """The folder name made a valid Kubernetes-style name (scenario_20 -> scenario-20)."""
        return re.sub(r"[^a-z0-9-]+", "-", self.name.lower()).strip("-") or "case"

    @property
    def namespaces(self) -> list[str]:
        return self.truth.namespaces


def load_suite(spec: str, only: list[str] | None = None) -> list[Case]:
    """The cases of `builtin` or of a directory, sorted by name; `only` keeps the named cases."""
    if spec == "builtin":
        folders = [resolve_scenario(name).parent for name in BUILTIN_SUITE]
    else:
        root = Path(spec)
        if not root.is_dir():
            raise SuiteError(f"suite {spec}: not a directory (give builtin or a folder of scenario folders)")
        folders = [root] if (root / "scenario.yaml").is_file() else sorted(p for p in root.iterdir() if p.is_dir())
    cases = []
    for folder in folders:
        scenario = folder / "scenario.yaml"
        if not scenario.is_file():
            continue
        truth_file = folder / "groundtruth.yaml"
        if not truth_file.is_file():
            raise SuiteError(f"{folder}: no groundtruth.yaml beside scenario.yaml")
        try:
            truth = load_truth(truth_file)
        except TruthError as exc:
            raise SuiteError(str(exc)) from None
        problem = scenario_problem(scenario)
        if problem:
            raise SuiteError(f"{scenario}: {problem}")
        cases.append(Case(folder.name, scenario, truth))
    if not cases:
        raise SuiteError(f"suite {spec}: no folder with a scenario.yaml in it")
    if only:
        unknown = sorted(set(only) - {c.name for c in cases})
        if unknown:
            raise SuiteError(f"suite {spec}: no case named {', '.join(unknown)}")
        cases = [c for c in cases if c.name in only]
    return cases
