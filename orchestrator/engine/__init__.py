"""The run engine: `run_incident` walks one incident through its model class's machine, for every front-end
(the CLI and the bench today; the same call serves any other front-end).

    result = await run_incident(incident, RunOptions(output_dir=path), events=sink, approver=ask, cancel=stop)

Inside: `loop` (the walk), `state` (the run's one record), `handlers` (one per state kind), `mitigations`
(live MAST findings turned into actions), `crew` (agents and their contexts), `wiring` (model, cluster,
toolbox, dispatcher, gate), `events` (the typed progress stream front-ends render) and `outputs` (the run
directory's files). Imports are lazy so a front-end's --help does not load the model stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..tools.policy import ActionRequest, Approver
    from .events import EventSink, RunEvent
    from .loop import run_incident
    from .state import OutputDirError, RunOptions, RunResult

__all__ = [
    "ActionRequest",
    "Approver",
    "EventSink",
    "OutputDirError",
    "RunEvent",
    "RunOptions",
    "RunResult",
    "run_incident",
]

_HOMES = {
    "ActionRequest": "..tools.policy",
    "Approver": "..tools.policy",
    "EventSink": ".events",
    "OutputDirError": ".state",
    "RunEvent": ".events",
    "RunOptions": ".state",
    "RunResult": ".state",
    "run_incident": ".loop",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(home, __name__), name)
