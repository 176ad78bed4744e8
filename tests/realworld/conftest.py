from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Replay, replayed


@pytest.fixture
def replay(request: pytest.FixtureRequest) -> Iterator[Replay]:
    with replayed(request.param) as run:
        yield run
