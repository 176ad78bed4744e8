"""The built-in agent: `builtin/playbook`, the offline model that investigates, mitigates and verifies from
the playbooks alone (agent.py, policy.py and the modules they use), and the flaky models `builtin/flaky-*`
that wrap it with each model class's failures (flaky.py).

It decides only from the messages it is given: it never imports the engine or the simulator.
"""

from __future__ import annotations

from .agent import MODEL_NAME, PlaybookModel
from .flaky import FlakyModel

__all__ = ["MODEL_NAME", "FlakyModel", "PlaybookModel"]
