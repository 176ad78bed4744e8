"""Fixtures for the toolbox tests: simulated clusters served over HTTP, read with the official client.

`healthy` and `faulted` are shared by a test module (read-only tests); tests that write start their own
cluster with `start_cluster()` and inject faults through the simulator's control API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from orchestrator.sim import resolve_scenario
from orchestrator.sim.runner import SimulatorServer
from orchestrator.tools import ActionPolicy, Toolbox, ToolContext
from tests.sim.helpers import Sim

NS = "otel-demo"


class Cluster(Sim):
    """A served simulator and what a tools test needs to drive it."""

    @property
    def url(self) -> str:
        return self.server.url

    def toolbox(self, policy: ActionPolicy | None = None, namespaces: list[str] | None = None) -> Toolbox:
        ctx = ToolContext(
            self.api,
            alertmanager_url=self.url,
            prometheus_url=self.url,
            namespaces=[NS] if namespaces is None else namespaces,
            policy=policy or ActionPolicy(mode="auto"),
        )
        return Toolbox(ctx)

    def inject(self, fault: str, args: dict) -> Any:
        return self.control("POST", "inject", {"faults": [{"id": fault, "args": args}]})

    def fail_requests(self, path: str, status: int, methods: list[str] | None = None) -> None:
        self.control("POST", "reliability", {"path": path, "status": status, "methods": methods or []})

    def heal_requests(self) -> None:
        self.control("DELETE", "reliability")


def start_cluster(scenario: str = "healthy-otel-demo") -> Cluster:
    server = SimulatorServer.start(scenario=resolve_scenario(scenario))
    cfg = server.client_configuration()
    return Cluster(server, client.ApiClient(cfg))


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A fresh healthy Astronomy Shop for one test that changes things."""
    c = start_cluster()
    try:
        yield c
    finally:
        c.api.close()
        c.server.stop()


@pytest.fixture(scope="module")
def healthy() -> Iterator[Cluster]:
    c = start_cluster()
    c.advance(120)
    try:
        yield c
    finally:
        c.api.close()
        c.server.stop()


@pytest.fixture(scope="module")
def faulted() -> Iterator[Cluster]:
    """product-catalog rolled out with an image that does not exist; alerts have had time to fire."""
    c = start_cluster("otel-demo-bad-image")
    c.advance(300)
    try:
        yield c
    finally:
        c.api.close()
        c.server.stop()
