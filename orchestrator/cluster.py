"""The cluster a run talks to: a real one (kubeconfig/context or in-cluster) or the embedded simulator.

Either way the run gets the same three things — a kubernetes ApiClient, Alertmanager and Prometheus URLs —
and one way to let time pass (`wait`), which sleeps on a real cluster and moves the virtual clock on the
simulator. Nothing else in the engine knows which it is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# How long the simulator lets a scenario's fault develop before the on-call engineer is "paged":
# until an alert fires, at most this long (ITBench alerts fire within 10 minutes).
PAGE_WITHIN_SECONDS = 600
PAGE_STEP_SECONDS = 30


class ClusterSetupError(Exception):
    """The cluster could not be reached or started; the message is one line."""


@dataclass
class ClusterSession:
    api: Any
    alertmanager_url: str | None
    prometheus_url: str | None
    description: str
    simulator: Any = None  # SimulatorServer when simulating

    @property
    def simulated(self) -> bool:
        return self.simulator is not None

    async def wait(self, seconds: float) -> None:
        if self.simulator is not None:
            await asyncio.to_thread(self.simulator.advance, seconds)
        else:
            await asyncio.sleep(seconds)

    def close(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        close = getattr(self.api, "close", None)
        if close is not None:
            close()


def _simulate(scenario: str | Path, seed: int) -> ClusterSession:
    from .sim.builtin import resolve_scenario
    from .sim.runner import SimulatorServer
    from .sim.scenario import ScenarioError

    path = resolve_scenario(str(scenario)[len("builtin:") :]) if str(scenario).startswith("builtin:") else scenario
    try:
        sim = SimulatorServer.start(scenario=path, seed=seed)
    except (ScenarioError, FileNotFoundError, ValueError) as exc:
        raise ClusterSetupError(f"simulator scenario {scenario}: {exc}") from None
    waited = 0
    while waited < PAGE_WITHIN_SECONDS and not sim.call(lambda: sim.cluster.observability.alerts.firing()):
        sim.advance(PAGE_STEP_SECONDS)
        waited += PAGE_STEP_SECONDS
    from kubernetes import client

    config = sim.client_configuration()
    config.retries = 1  # loopback: a failure is real, not a blip worth waiting on
    return ClusterSession(
        api=client.ApiClient(config),
        alertmanager_url=sim.url,
        prometheus_url=sim.url,
        description=f"embedded simulator ({Path(str(path)).name}) at {sim.url}",
        simulator=sim,
    )


def open_cluster(incident: Any) -> ClusterSession:
    """Connect to (or start) the incident's cluster; raises ClusterSetupError with a one-line reason."""
    spec = incident.spec
    obs = spec.observability
    cluster = spec.cluster
    if cluster is not None and cluster.simulate is not None:
        session = _simulate(cluster.simulate.scenario, cluster.simulate.seed or 0)
        if obs is not None and obs.alertmanager:
            session.alertmanager_url = str(obs.alertmanager)
        if obs is not None and obs.prometheus:
            session.prometheus_url = str(obs.prometheus)
        return session
    from .kube import ClusterError, check_reachable, connect

    try:
        api = connect(
            kubeconfig=str(cluster.kubeconfig) if cluster and cluster.kubeconfig else None,
            context=cluster.context if cluster else None,
            in_cluster=bool(cluster and cluster.in_cluster),
        )
        check_reachable(api)
    except ClusterError as exc:
        raise ClusterSetupError(str(exc)) from None
    return ClusterSession(
        api=api,
        alertmanager_url=str(obs.alertmanager) if obs and obs.alertmanager else None,
        prometheus_url=str(obs.prometheus) if obs and obs.prometheus else None,
        description=f"cluster at {api.configuration.host}",
    )
