"""A served simulator with a fault, the Incident CRD installed, and the operator (kopf's own
`kopf.operator`, through `serve`) running against it in a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client

from orchestrator.kube import connect
from orchestrator.operator.controller import OperatorConfig, serve
from orchestrator.operator.crd import GROUP, PLURAL, VERSION, incident_crd
from orchestrator.operator.executor import ExecutorSettings
from orchestrator.operator.incidents import Target
from orchestrator.sim.builtin import resolve_scenario
from orchestrator.sim.runner import SimulatorServer


@dataclass
class Served:
    sim: SimulatorServer
    kubeconfig: Path
    api: client.ApiClient

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    def create(self, name: str, namespace: str = "otel-demo", **spec: Any) -> dict:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Incident", "metadata": {"name": name}, "spec": spec}
        return self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)  # type: ignore[no-any-return]

    def get(self, name: str, namespace: str = "otel-demo") -> dict:
        return self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)  # type: ignore[no-any-return]

    def annotate(
        self, name: str, annotations: dict[str, str], namespace: str = "otel-demo", manager: str = "test"
    ) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, {"metadata": {"annotations": annotations}}, field_manager=manager
        )

    def events(self, name: str, namespace: str = "otel-demo") -> list[Any]:
        found = client.CoreV1Api(self.api).list_namespaced_event(namespace).items
        mine = [e for e in found if e.involved_object.kind == "Incident" and e.involved_object.name == name]
        return sorted(mine, key=lambda e: int(e.metadata.resource_version))  # in the order they were posted

    def settings(self, runs_dir: Path) -> ExecutorSettings:
        target = Target(kubeconfig=self.kubeconfig, alertmanager=self.sim.url, prometheus=self.sim.url)
        return ExecutorSettings(target=target, runs_dir=runs_dir, heartbeat_seconds=1.0, approval_poll_seconds=0.2)


@contextmanager
def served(tmp: Path, scenario: str = "otel-demo-bad-image", settle: float = 300) -> Iterator[Served]:
    with SimulatorServer.start(scenario=resolve_scenario(scenario)) as sim:
        sim.advance(settle)  # the fault develops and its alert fires, as when someone is paged
        kubeconfig = sim.write_kubeconfig(tmp / "sim.kubeconfig")
        api = connect(kubeconfig=str(kubeconfig))
        client.ApiextensionsV1Api(api).create_custom_resource_definition(incident_crd())
        yield Served(sim, kubeconfig, api)


@contextmanager
def operator(config: OperatorConfig, kubeconfig: Path) -> Iterator[None]:
    """kopf's operator in a thread of its own, stopped (and joined) on exit."""
    stop, ready = threading.Event(), threading.Event()
    api = connect(kubeconfig=str(kubeconfig))
    thread = threading.Thread(target=lambda: asyncio.run(serve(config, api, stop=stop, ready=ready)), daemon=True)
    thread.start()
    assert ready.wait(30), "the operator did not start"
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


def wait_until(check: Callable[[], Any], timeout: float = 120, every: float = 0.3) -> Any:
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > end:
            return value
        time.sleep(every)
