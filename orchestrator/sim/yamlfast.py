"""YAML for the simulator's data files, which are parsed on every simulated run.

The simulator's own copy of `orchestrator.resources.load_yaml_fast`: the simulator imports nothing from
the rest of the package.
"""

from __future__ import annotations

import yaml


def load_yaml_fast(text: str) -> object:
    """yaml.safe_load, through libyaml when PyYAML has it."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
