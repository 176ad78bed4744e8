"""Models: the class table and profiles (classes.py), the built-in models (orchestrator/builtin) and any
litellm model.

`create_client` is the one place a model string becomes an autogen ChatCompletionClient; it imports
litellm or autogen only when asked, so the CLI stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROFILES_ENV = "SRE_AGENT_FAILURE_PROFILES"
BUILTIN_MODELS = ("builtin/playbook", "builtin/sim-frontier", "builtin/sim-mid", "builtin/sim-open")


def check_model(model: str, base_url: str | None = None) -> None:
    """Fail early, in one line, for a model that cannot work (unknown builtin, missing API key)."""
    if model.startswith("builtin/"):
        if model not in BUILTIN_MODELS:
            from .errors import ModelError

            raise ModelError(f"unknown built-in model {model!r}; built-in models: {', '.join(BUILTIN_MODELS)}")
        return
    from .litellm_client import check_credentials

    check_credentials(model, base_url)


def create_client(model: str, base_url: str | None = None, timeout: float = 60.0, seed: int = 0) -> Any:
    """`seed` drives the failure injections of the flaky models (builtin/sim-*); others ignore it."""
    check_model(model, base_url)
    if model == "builtin/playbook":
        from ..builtin.agent import PlaybookModel

        return PlaybookModel()
    if model.startswith("builtin/sim-"):
        from ..builtin.flaky import FlakyModel

        # Your own rates (say, to calibrate against your models' traces): a file shaped like failure_profiles.yaml.
        own = os.environ.get(PROFILES_ENV)
        return FlakyModel(model.removeprefix("builtin/sim-"), seed=seed, profile_path=Path(own) if own else None)
    from .litellm_client import LiteLLMClient

    return LiteLLMClient(model, base_url=base_url, timeout=timeout)
