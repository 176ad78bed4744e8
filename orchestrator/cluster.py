"""The cluster a run talks to: a real one (kubeconfig/context or in-cluster) or the embedded simulator.

Either way the run gets the same three things — a kubernetes ApiClient, Alertmanager and Prometheus URLs —
and one way to let time pass (`wait`), which sleeps on a real cluster and moves the virtual clock on the
simulator. Nothing else in the engine knows which it is.

This is also where an incident meets the simulator: `load_checked_incident` reads an incident file (or
`builtin:NAME`, the example incident of a built-in scenario) and checks that its scenario would load, so
`validate` and `run` report a scenario's problems at the incident's field and line.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .incident import (
    API_VERSION,
    BUILTIN_PREFIX,
    KIND,
    FieldError,
    Incident,
    IncidentError,
    load_incident,
    parse_incident,
)

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
    # A `sre-agent sim serve` with a virtual clock reached through a kubeconfig: its time moves only when
    # told to, so waiting means skipping its clock (POST /sim/v1/advance), never sleeping.
    virtual_clock: bool = False
    # `Kind/name` of the cluster-scoped objects the simulated scenario's faults changed (a cordoned Node):
    # what an incident with remediation.allowFaultedObjects may change back.
    faulted_objects: tuple[str, ...] = ()

    @property
    def simulated(self) -> bool:
        return self.simulator is not None

    async def wait(self, seconds: float) -> None:
        if self.simulator is not None:
            await asyncio.to_thread(self.simulator.advance, seconds)
        elif self.virtual_clock:
            await asyncio.to_thread(_sim_request, self.api, "POST", f"/sim/v1/advance?seconds={seconds:g}")
        else:
            await asyncio.sleep(seconds)

    def close(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        close = getattr(self.api, "close", None)
        if close is not None:
            close()


def scenario_problem(ref: Path | str) -> str | None:
    """What would stop an incident's scenario ("builtin:NAME" or a file) loading, in one line."""
    from .sim import builtin_scenarios
    from .sim import scenario_problem as problem_of

    if isinstance(ref, str) and ref.startswith(BUILTIN_PREFIX):
        name = ref[len(BUILTIN_PREFIX) :]
        known = builtin_scenarios()
        if name not in known:
            return f"no built-in scenario {name!r} (built-in: {', '.join(known)})"
        return None
    return problem_of(ref)


def load_checked_incident(path: str | Path) -> Incident:
    """An incident file, or `builtin:NAME` for a built-in scenario's example incident, with its scenario
    checked; raises IncidentError listing every problem with its field path and line."""
    if str(path).startswith(BUILTIN_PREFIX):
        return example_incident(str(path)[len(BUILTIN_PREFIX) :])
    return load_incident(path, check_scenario=scenario_problem)


def parse_checked_incident(text: str, source: str = "<string>", base_dir: Path | None = None) -> Incident:
    """`parse_incident` with the scenario check of `load_checked_incident`."""
    return parse_incident(text, source, base_dir, check_scenario=scenario_problem)


def example_incident(name: str) -> Incident:
    """The incident a built-in scenario pages with: the summary of its symptom (the scenario's
    `sim.sre-agent.dev/summary` annotation) and the namespaces its faults are in; its name is the scenario's.
    Its run may change the cluster-scoped objects the faults changed (a cordoned Node), by their names."""
    from .sim import ScenarioError, builtin_scenarios, describe_scenario

    source = f"{BUILTIN_PREFIX}{name}"
    problem = scenario_problem(source)
    if problem is not None:
        raise IncidentError(source, [FieldError("", None, problem)])
    try:
        facts = describe_scenario(builtin_scenarios()[name])
    except ScenarioError as err:
        raise IncidentError(source, [FieldError("", None, str(err))]) from None
    if not facts.summary or not facts.namespaces:
        reason = "no sim.sre-agent.dev/summary annotation" if not facts.summary else "no fault in a namespace"
        raise IncidentError(source, [FieldError("", None, f"scenario {name} has no example incident: {reason}")])
    doc = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name},
        "spec": {
            "summary": facts.summary,
            "scope": {"namespaces": list(facts.namespaces)},
            "cluster": {"simulate": {"scenario": source}},
            # Made from the scenario, it may undo what the scenario's faults did outside any namespace.
            "remediation": {"allowFaultedObjects": True},
        },
    }
    return Incident.model_validate(doc, context={"check_scenario": scenario_problem})


def _simulate(scenario: str | Path, seed: int) -> ClusterSession:
    from .sim import ScenarioError, SimulatorServer, resolve_scenario

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
    faulted = sim.call(lambda: [obj for f in sim.cluster.injected for obj in f.get("clusterObjects", ())])
    return ClusterSession(
        api=client.ApiClient(config),
        alertmanager_url=sim.url,
        prometheus_url=sim.url,
        description=f"embedded simulator ({Path(str(path)).name}) at {sim.url}",
        simulator=sim,
        faulted_objects=tuple(dict.fromkeys(faulted)),
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
    virtual = _served_virtual_clock(api)
    return ClusterSession(
        api=api,
        alertmanager_url=str(obs.alertmanager) if obs and obs.alertmanager else None,
        prometheus_url=str(obs.prometheus) if obs and obs.prometheus else None,
        description=f"{'simulator with a virtual clock' if virtual else 'cluster'} at {api.configuration.host}",
        virtual_clock=virtual,
    )


def _sim_request(api: Any, method: str, path: str) -> tuple[int, bytes]:
    """A request to the simulator's control API (/sim/v1), with the kubeconfig's credentials."""
    method, url, headers, body, post = api.param_serialize(
        method, path, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
    )
    resp = api.call_api(method, url, headers, body, post, _request_timeout=10)
    resp.read()
    return resp.status, resp.data or b""


def _served_virtual_clock(api: Any) -> bool:
    """True when the API server is `sre-agent sim serve` on a virtual clock. A real API server answers
    404 (or 403) to /sim/v1/state; any failure reads as a real cluster."""
    import json

    try:
        status, data = _sim_request(api, "GET", "/sim/v1/state")
        return status == 200 and json.loads(data).get("clock") == "virtual"
    except Exception:
        return False
