"""A wheel must carry every package and data folder (`pip install .` must find roles and playbooks)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from orchestrator.resources import data_dir

REPO = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "orchestrator").rglob("*")
        if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts
    }
    # a data folder below a package is carried by that package's package-data glob (e.g. "*/*.yaml")
    globbed = {
        f
        for f in folders - listed
        for pkg, patterns in config["package-data"].items()
        if f.startswith(pkg + ".") and any(pat.count("/") == f.count(".") - pkg.count(".") for pat in patterns)
    }
    assert folders - globbed <= listed, sorted(folders - globbed - listed)
    mapped = config["package-dir"]
    assert mapped == {"orchestrator.data.roles": "roles", "orchestrator.data.playbooks": "playbooks"}


def test_data_folders_are_found() -> None:
    assert (data_dir("roles") / "investigator.yaml").is_file()
    assert any(data_dir("playbooks").glob("*.yaml"))
