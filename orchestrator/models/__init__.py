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
FLAKY_PREFIX = "builtin/flaky-"
BUILTIN_MODELS = ("builtin/playbook", "builtin/flaky-frontier", "builtin/flaky-mid", "builtin/flaky-open")
# Earlier names of the flaky models, still accepted: "sim" is the simulator's word.
ALIASES = {f"builtin/sim-{c}": f"{FLAKY_PREFIX}{c}" for c in ("frontier", "mid", "open")}


def canonical_model(model: str) -> str:
    """The model's current name (an alias becomes the name it stands for); every other string as given."""
    return ALIASES.get(model, model)


# OpenAI's own SDK variables for a server of your own; litellm reads them too, so no key is needed with one.
OPENAI_BASE_URL_ENV = ("OPENAI_BASE_URL", "OPENAI_API_BASE")


def default_base_url(model: str, base_url: str | None) -> str | None:
    """The base URL given, else for an openai/ model the one OPENAI_BASE_URL (or OPENAI_API_BASE) names."""
    if base_url or not canonical_model(model).startswith("openai/"):
        return base_url
    return next((os.environ[k].strip() for k in OPENAI_BASE_URL_ENV if os.environ.get(k, "").strip()), None)


def check_model(model: str, base_url: str | None = None, api_key: str | None = None) -> None:
    """Fail early, in one line, for a model that cannot work (unknown builtin, unknown provider, a base URL
    that is not one, missing API key)."""
    base_url = default_base_url(model, base_url)
    if base_url is not None:
        check_base_url(base_url)
    model = canonical_model(model)
    check_model_name(model)
    if model.startswith("builtin/"):
        return
    from .litellm_client import check_credentials

    check_credentials(model, base_url, api_key)


def check_model_choice(
    spec: Any = None, model: str | None = None, model_class: str | None = None, base_url: str | None = None
) -> None:
    """What a run would refuse about its model before contacting it (ModelError or ValueError, one line): the
    name, the class, the base URL, a missing key. `spec` is the incident's (None: no incident yet); `model`,
    `model_class` and `base_url` are what overrides it, as RunOptions does."""
    from .classes import resolve_class

    chosen = model or (spec.model_name if spec is not None else None) or "builtin/playbook"
    settings = spec.model_settings if spec is not None and not model else None  # the file's go with its model
    resolve_class(chosen, model_class or (spec.model_class if spec is not None else None))
    check_model(chosen, base_url or (settings.base_url if settings else None), model_api_key(settings))


def check_model_name(model: str) -> None:
    """ModelError when `model` names no built-in model, or (for any other) no provider litellm knows."""
    from .errors import ModelError

    model = canonical_model(model)
    if model.startswith("builtin/"):
        if model not in BUILTIN_MODELS:
            raise ModelError(f"unknown built-in model {model!r}; built-in models: {', '.join(BUILTIN_MODELS)}")
        return
    from .litellm_client import check_provider

    check_provider(model)


def check_base_url(url: str) -> None:
    """ModelError unless `url` is an http(s) URL with a host (and a valid port, if any)."""
    from urllib.parse import urlsplit

    from .errors import ModelError

    example = "e.g. http://127.0.0.1:8000/v1"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as err:
        raise ModelError(f"base URL {url!r} is not a valid URL ({err}); {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ModelError(f"base URL {url!r} must be an http:// or https:// URL with a host, {example}")


def model_api_key(settings: Any) -> str | None:
    """The API key `spec.model.apiKeyEnv` names, or None when it names none; ModelError when it is unset."""
    from .errors import ModelError

    name = getattr(settings, "api_key_env", None)
    if not name:
        return None
    key = os.environ.get(name, "").strip()
    if not key:
        raise ModelError(f"spec.model.apiKeyEnv: the environment variable {name} is not set")
    return key


def create_client(
    model: str,
    base_url: str | None = None,
    timeout: float = 60.0,
    seed: int = 0,
    max_tokens: int | None = None,
    api_key: str | None = None,
    temperature: float | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """`seed` drives the failure injections of the flaky models (builtin/flaky-*); others ignore it.
    `max_tokens` is sent with every request to a provider (without it some ask for the model's maximum)."""
    model = canonical_model(model)
    base_url = default_base_url(model, base_url)
    check_model(model, base_url, api_key)
    if model == "builtin/playbook":
        from ..builtin.agent import PlaybookModel

        return PlaybookModel()
    if model.startswith(FLAKY_PREFIX):
        from ..builtin.flaky import FlakyModel

        # Your own rates (say, to calibrate against your models' traces): a file shaped like failure_profiles.yaml.
        own = os.environ.get(PROFILES_ENV)
        return FlakyModel(model.removeprefix(FLAKY_PREFIX), seed=seed, profile_path=Path(own) if own else None)
    from .litellm_client import LiteLLMClient

    return LiteLLMClient(
        model,
        base_url=base_url,
        api_key=api_key,
        timeout=timeout,
        max_tokens=max_tokens,
        temperature=0.0 if temperature is None else temperature,
        extra={"extra_headers": headers} if headers else None,
    )
