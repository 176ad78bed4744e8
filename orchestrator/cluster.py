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
import json
import os
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
from .userfiles import MIB, UserFileError, read_user_file
from .yamlsource import YamlSyntaxError, load_yaml

# How long the simulator lets a scenario's fault develop before the on-call engineer is "paged":
# until an alert fires, at most this long (ITBench alerts fire within 10 minutes).
PAGE_WITHIN_SECONDS = 600
PAGE_STEP_SECONDS = 30
NAMESPACE_HINT = 20  # namespaces named when the incident's is not there
SCENARIO_FILE_LIMIT = 4 * MIB  # scenario and application model files; the largest built-in one is 30 KiB


class ClusterSetupError(Exception):
    """The cluster could not be reached or started; the message is one line."""


class ClusterUnavailable(ClusterSetupError):
    """The cluster is configured right but cannot be used now: its API server does not answer, refuses the
    credentials, or lacks a namespace the incident names."""


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
    problem = scenario_file_problem(ref)
    if problem is not None:
        return problem
    try:
        return problem_of(ref)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as err:
        # The simulator reads the fields it knows; a document of the wrong shape (a list where a mapping
        # belongs) trips it. The user's file is at fault, so they hear it in one line.
        return f"{ref}: not a scenario the simulator can read: {type(err).__name__}: {_one_line(str(err))}"


def scenario_file_problem(path: Path | str) -> str | None:
    """Whether a scenario file, and the application model files it names, can be read safely: regular
    files within SCENARIO_FILE_LIMIT whose YAML (or JSON) stays within the parser's bounds. Run before the
    simulator parses them, since its own parser has no such bounds."""
    path = Path(path)
    problem, data = _bounded_document(path)
    if problem is not None:
        return problem
    spec = data.get("spec") if isinstance(data, dict) else None
    apps = spec.get("applications") if isinstance(spec, dict) else None
    for app in apps if isinstance(apps, list) else []:
        if isinstance(app, dict) and isinstance(app.get("file"), str):
            problem, _ = _bounded_document(path.parent / app["file"])
            if problem is not None:
                return problem
    return None


def _bounded_document(path: Path) -> tuple[str | None, Any]:
    try:
        text = read_user_file(path, limit=SCENARIO_FILE_LIMIT, what="scenario files")
    except UserFileError as err:
        return str(err), None
    if path.suffix == ".json":
        try:
            return None, json.loads(text)
        except RecursionError:
            return f"{path}: not valid JSON: nested too deeply", None
        except ValueError as err:
            return f"{path}: not valid JSON: {_one_line(str(err))}", None
    try:
        return None, load_yaml(text).data
    except YamlSyntaxError as err:
        return f"{path}:{err.line}: {err.message}" if err.line else f"{path}: {err.message}", None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def load_checked_incident(path: str | Path) -> Incident:
    """An incident file, or `builtin:NAME` for a built-in scenario's example incident, with its scenario
    checked; raises IncidentError listing every problem with its field path and line."""
    if str(path).startswith(BUILTIN_PREFIX):
        return example_incident(str(path)[len(BUILTIN_PREFIX) :])
    return load_incident(path, check_scenario=scenario_problem, check_model=model_problem)


def parse_checked_incident(text: str, source: str = "<string>", base_dir: Path | None = None) -> Incident:
    """`parse_incident` with the scenario and model checks of `load_checked_incident`."""
    return parse_incident(text, source, base_dir, check_scenario=scenario_problem, check_model=model_problem)


def model_problem(model: str) -> str | None:
    """Why no run could use `model` (no such built-in model, no provider litellm knows), or None."""
    from .models import check_model_name
    from .models.errors import ModelError

    try:
        check_model_name(model)
    except ModelError as err:
        return str(err)
    return None


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


def _register_endpoints(obs: Any) -> None:
    """The observability endpoints' credentials, for every reader of this process (`endpoints.open_url`)."""
    from .endpoints import Credentials, register

    token = None
    if obs.bearer_token_env:
        token = os.environ.get(obs.bearer_token_env, "").strip()
        if not token:
            raise ClusterSetupError(
                f"spec.observability.bearerTokenEnv: the environment variable {obs.bearer_token_env} is not set"
            )
    if not (token or obs.ca_file or obs.insecure_skip_verify):
        return
    creds = Credentials(
        token=token, ca_file=str(obs.ca_file) if obs.ca_file else None, insecure=obs.insecure_skip_verify
    )
    for url in (obs.alertmanager, obs.prometheus):
        if url:
            register(str(url), creds)


def _through_proxy(api: Any, service: str) -> str:
    """The URL of a Service through the API server's proxy, registered with the kubeconfig's credentials."""
    from .endpoints import of_kubernetes, register, service_proxy_url

    url = service_proxy_url(str(api.configuration.host), service)
    register(url, of_kubernetes(api.configuration))
    return url


def open_cluster(incident: Any) -> ClusterSession:
    """Connect to (or start) the incident's cluster; raises ClusterSetupError with a one-line reason."""
    spec = incident.spec
    obs = spec.observability
    if obs is not None:
        _register_endpoints(obs)
    cluster = spec.cluster
    if cluster is not None and cluster.simulate is not None:
        session = _simulate(cluster.simulate.scenario, cluster.simulate.seed or 0)
        if obs is not None and obs.alertmanager:
            session.alertmanager_url = str(obs.alertmanager)
        if obs is not None and obs.prometheus:
            session.prometheus_url = str(obs.prometheus)
        return session
    from .kube import ClusterError, ClusterUnreachable, check_reachable, connect

    try:
        api = connect(
            kubeconfig=str(cluster.kubeconfig) if cluster and cluster.kubeconfig else None,
            context=cluster.context if cluster else None,
            in_cluster=bool(cluster and cluster.in_cluster),
        )
    except ClusterError as exc:
        raise ClusterSetupError(str(exc)) from None
    try:
        check_reachable(api)
    except ClusterUnreachable as exc:
        api.close()
        raise ClusterUnavailable(str(exc)) from None
    virtual = _served_virtual_clock(api)
    # `sre-agent sim serve` answers Alertmanager's and Prometheus' APIs on its own address too.
    served = str(api.configuration.host) if virtual else None
    alertmanager = _through_proxy(api, obs.alertmanager_service) if obs and obs.alertmanager_service else None
    prometheus = _through_proxy(api, obs.prometheus_service) if obs and obs.prometheus_service else None
    return ClusterSession(
        api=api,
        alertmanager_url=alertmanager or (str(obs.alertmanager) if obs and obs.alertmanager else served),
        prometheus_url=prometheus or (str(obs.prometheus) if obs and obs.prometheus else served),
        description=f"cluster at {api.configuration.host}",
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


def missing_namespace(session: ClusterSession, namespaces: list[str]) -> str | None:
    """The first of `namespaces` the cluster does not have, as a one-line problem; None when all exist or
    the cluster will not say (no permission to read namespaces: the run's reads will tell)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(session.api)
    for name in namespaces:
        try:
            core.read_namespace(name)
        except ApiException as err:
            if err.status != 404:
                return None
            return f"namespace {name} not found in the {session.description}{_known_namespaces(core)}"
        except Exception:  # gone since it answered: the run's reads, then its end, will say so
            return None
    return None


def _known_namespaces(core: Any) -> str:
    try:
        names = sorted(ns.metadata.name for ns in core.list_namespace(limit=NAMESPACE_HINT).items)
    except Exception:  # a hint only: no permission to list is no reason to say less about the problem
        return ""
    return f" (namespaces there: {', '.join(names)}{', ...' if len(names) >= NAMESPACE_HINT else ''})"


def unreachable(session: ClusterSession) -> str | None:
    """Why a real cluster no longer answers, or None; asked once a run has escalated, so that a cluster that
    went away mid-run is reported as such, not as whatever the run could no longer do."""
    if session.simulated:
        return None
    from .kube import ClusterUnreachable, check_reachable

    try:
        check_reachable(session.api)
    except ClusterUnreachable as err:
        return str(err)
    return None
