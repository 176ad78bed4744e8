"""What a run connects before its first state: the model client, the cluster session, the action policy and
toolbox, the dispatcher and the crew. The state handlers receive it as one `Wiring` beside the run's state."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from ..cluster import ClusterSession, ClusterSetupError, ClusterUnavailable, missing_namespace, open_cluster
from ..dispatch import Budget, Dispatcher
from ..machines import MachineSpec
from ..models import create_client, model_api_key
from ..models.classes import ClassProfile
from ..models.errors import ModelError
from ..tools import Toolbox, ToolContext
from ..tools.journal import WriteJournal
from ..tools.policy import ActionPolicy, Approver
from ..trace import Trace
from ..verify import Gate
from .crew import Crew
from .mitigations import LiveMitigations
from .state import EXIT_BAD_INPUT, EXIT_CLUSTER, RunFailed, RunOptions, RunState


@dataclass
class Wiring:
    incident: Any  # orchestrator.incident.Incident
    options: RunOptions
    machine: MachineSpec
    profile: ClassProfile
    trace: Trace
    session: ClusterSession
    policy: ActionPolicy
    toolbox: Toolbox
    dispatcher: Dispatcher
    crew: Crew
    live: LiveMitigations
    started: float  # time.monotonic() when the run began
    cancel: asyncio.Event | None = None  # set by the front-end: stop at the next step boundary

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    @property
    def budget(self) -> Budget:
        return self.dispatcher.budget

    def budget_reason(self) -> str | None:
        return self.budget.exhausted(self.crew.budget_used, time.monotonic() - self.started)

    def gate(self, run: RunState) -> Gate:
        """A gate over the run's scope as it is now (a clarification may have narrowed it)."""
        return gate_for(self.session, run)


def gate_for(session: ClusterSession, run: RunState) -> Gate:
    """The verifier gate over the run's scope and alerts, on the session's cluster and Alertmanager."""
    return Gate(session.api, session.alertmanager_url, run.namespaces, run.alerts)


def open_model(
    model: str, options: RunOptions, trace: Trace, reply_tokens: int | None = None, settings: Any = None
) -> Any:
    """The run's model client; `reply_tokens` (the class's) caps every reply unless the incident's model
    settings (`spec.model` as a mapping) say otherwise; a flag's base URL wins over the file's."""
    s = settings
    try:
        client = create_client(
            model,
            base_url=options.base_url or (s.base_url if s else None),
            seed=options.seed,
            max_tokens=(s.max_tokens if s else None) or reply_tokens,
            timeout=(s.timeout if s else None) or 60.0,
            api_key=model_api_key(s),
            temperature=s.temperature if s else None,
            headers=dict(s.headers) if s else None,
        )
    except ModelError as exc:
        raise RunFailed(EXIT_BAD_INPUT, str(exc)) from None
    if hasattr(client, "on_injection"):  # failure-prone built-in models: ground truth, never read by MAST
        client.on_injection = lambda record: trace.emit("injection", **record)
    return client


async def open_session(incident: Any) -> ClusterSession:
    """The incident's cluster, checked to hold the namespaces the incident names: a run over a namespace
    that is not there could only end saying it changed nothing, which is not what happened."""
    try:
        session = await asyncio.to_thread(open_cluster, incident)
    except ClusterUnavailable as exc:
        raise RunFailed(EXIT_CLUSTER, str(exc)) from None
    except ClusterSetupError as exc:
        raise RunFailed(EXIT_BAD_INPUT, str(exc)) from None
    problem = await asyncio.to_thread(missing_namespace, session, list(incident.spec.scope.namespaces))
    if problem is not None:
        session.close()
        raise RunFailed(EXIT_CLUSTER, problem)
    return session


def action_policy(
    incident: Any, namespaces: list[str], approver: Approver | None, session: ClusterSession
) -> ActionPolicy:
    """The incident's `remediation` as the policy every write of a run (or of its resume) goes through."""
    rem = incident.spec.remediation
    cluster_objects = set(rem.allowed_cluster_objects)
    if rem.allow_faulted_objects:
        cluster_objects |= set(session.faulted_objects)
    return ActionPolicy(
        mode=rem.mode,
        allowed_actions=set(rem.allowed_actions) if rem.allowed_actions else None,
        allowed_namespaces=set(rem.allowed_namespaces or namespaces) or None,
        approver=approver,
        allowed_cluster_objects=cluster_objects,
        max_objects=rem.max_objects_changed,
    )


def connect(
    incident: Any,
    options: RunOptions,
    run: RunState,
    *,
    machine: MachineSpec,
    profile: ClassProfile,
    model: str,
    client: Any,
    session: ClusterSession,
    trace: Trace,
    live: LiveMitigations,
    approver: Approver | None,
    cancel: asyncio.Event | None,
    started: float,
    journal: WriteJournal | None = None,
) -> Wiring:
    spec = incident.spec
    policy = action_policy(incident, run.namespaces, approver, session)
    # The tools share the run's namespace list until a clarification replaces it.
    toolbox = Toolbox(
        ToolContext(
            api=session.api,
            alertmanager_url=session.alertmanager_url,
            prometheus_url=session.prometheus_url,
            namespaces=run.namespaces,
            policy=policy,
            journal=journal,
        )
    )
    budget = Budget(steps=spec.budget.steps, tokens=spec.budget.tokens, seconds=float(spec.budget.seconds))
    dispatcher = Dispatcher(
        trace,
        toolbox,
        run.ledger,
        budget,
        veto=live.veto if options.mitigations else None,
        unrun_is_free=options.mitigations,
        loop_limit=machine.loop_limit,
    )
    crew = Crew(run, machine, profile, model, client, trace, toolbox, policy, budget, dispatcher.handle)
    return Wiring(
        incident=incident,
        options=options,
        machine=machine,
        profile=profile,
        trace=trace,
        session=session,
        policy=policy,
        toolbox=toolbox,
        dispatcher=dispatcher,
        crew=crew,
        live=live,
        started=started,
        cancel=cancel,
    )
