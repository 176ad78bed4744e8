"""Suite-wide isolation: the CLI configures structlog for the process (warnings only, on stderr); tests
that invoke it in-process must not change what later tests' loggers do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    yield
    structlog.reset_defaults()
