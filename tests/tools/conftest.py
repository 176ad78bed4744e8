"""Fixtures for the toolbox tests: simulated clusters served over HTTP, read with the official client.

`healthy` and `faulted` are shared by a test module (read-only tests); tests that write start their own
cluster with `start_cluster()` and inject faults through the simulator's control API.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from orchestrator.sim.runner import SimulatorServer
from orchestrator.tools import ActionPolicy, Toolbox, ToolContext

SCENARIOS = Path(__file__).resolve().parents[2] / "orchestrator" / "sim" / "scenarios"
NS = "otel-demo"


@dataclass
class Cluster:
    """A served simulator and what a test needs to drive it."""

    server: SimulatorServer
    api: client.ApiClient

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

    def advance(self, seconds: float) -> None:
        self.server.advance(seconds)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.url}/sim/v1/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def inject(self, fault: str, args: dict) -> Any:
        return self.control("POST", "inject", {"faults": [{"id": fault, "args": args}]})

    def fail_requests(self, path: str, status: int, methods: list[str] | None = None) -> None:
        self.control("POST", "reliability", {"path": path, "status": status, "methods": methods or []})

    def heal_requests(self) -> None:
        self.control("DELETE", "reliability")

    def wait_for(self, check: Callable[[], Any], timeout: float = 900, step: float = 30) -> Any:
        """Advance the virtual clock until check() is truthy; its last value (falsy on timeout)."""
        waited = 0.0
        while True:
            value = check()
            if value or waited >= timeout:
                return value
            self.advance(step)
            waited += step

    def raw(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=30) as resp:
            return json.loads(resp.read())

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)


def start_cluster(scenario: str = "healthy-otel-demo.yaml") -> Cluster:
    server = SimulatorServer.start(scenario=SCENARIOS / scenario)
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
    c = start_cluster("otel-demo-bad-image.yaml")
    c.advance(300)
    try:
        yield c
    finally:
        c.api.close()
        c.server.stop()
