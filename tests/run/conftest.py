"""Runs in this package write their run directories under one session folder, so the last test
(test_zz_budgets.py) can read every trace the suite produced."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "runs"
