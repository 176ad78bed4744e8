"""Where the user-editable data files live: roles/, playbooks/ and machines/.

In a source checkout they are the top-level folders; an installed wheel carries them inside the
`orchestrator` package (see pyproject's package-dir), so `pip install .` finds them too.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Path of a data folder: "roles", "playbooks" or "machines"."""
    for candidate in (_PACKAGE / "data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder {name!r} not found beside the orchestrator package")


def load_yaml_fast(text: str) -> object:
    """yaml.safe_load through libyaml when PyYAML has it: data files are parsed on every simulated run."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
