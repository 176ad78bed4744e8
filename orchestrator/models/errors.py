"""Model errors: one readable line for the user, plus the facts the engine needs to decide what to do next.

A model failing (no key, a timeout, a provider answering 401/429/5xx) is an operational problem, not a bug,
so it must reach the user as one line naming the model, the provider and the status, never as a traceback.
"""

from __future__ import annotations

_MAX_DETAIL = 200  # characters of a provider's own message kept in ours

# What a status usually means for the person running sre-agent (the provider's words follow).
_STATUS_MEANING = {
    400: "bad request",
    401: "unauthorized, check the API key",
    403: "forbidden, check the key's permissions",
    404: "model or endpoint not found",
    408: "request timeout",
    413: "request too large",
    422: "request rejected",
    429: "rate limited or out of quota",
    500: "provider error",
    502: "bad gateway",
    503: "provider unavailable",
    504: "gateway timeout",
}


def one_line(text: str, limit: int = _MAX_DETAIL) -> str:
    """Collapse whitespace (newlines included) and cut to `limit` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ModelError(Exception):
    """A model call that cannot succeed; `str(error)` is a single line fit for the terminal.

    `status` is the provider's HTTP status when there was one, `provider` the litellm provider name,
    `attempts` how many calls were made, `retryable` whether trying again later may help (429, 5xx, timeouts).
    """

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        provider: str | None = None,
        status: int | None = None,
        attempts: int = 1,
        retryable: bool = False,
    ) -> None:
        super().__init__(one_line(message, limit=2 * _MAX_DETAIL + 200))
        self.model = model
        self.provider = provider
        self.status = status
        self.attempts = attempts
        self.retryable = retryable

    @classmethod
    def missing_credentials(cls, model: str, variables: list[str], *, any_of: bool = False) -> ModelError:
        joiner = " or " if any_of else " and "
        own = " (or --base-url URL for a server of your own)" if model.startswith("openai/") else ""
        return cls(f"model {model} needs {joiner.join(variables)} in the environment{own}", model=model)

    @classmethod
    def timed_out(cls, model: str, attempts: int, timeout: float) -> ModelError:
        return cls(
            f"model {model} timed out after {_attempts(attempts)} ({timeout:g} s each)",
            model=model,
            status=408,
            attempts=attempts,
            retryable=True,
        )

    @classmethod
    def unreachable(cls, model: str, where: str, attempts: int, detail: str = "") -> ModelError:
        suffix = f": {one_line(detail)}" if detail else ""
        return cls(
            f"model {model} could not reach {where} after {_attempts(attempts)}{suffix}",
            model=model,
            attempts=attempts,
            retryable=True,
        )

    @classmethod
    def invalid_reply(cls, model: str, where: str, attempts: int, detail: str) -> ModelError:
        return cls(
            f"model {model}: invalid reply from {where} after {_attempts(attempts)}: {one_line(detail)}",
            model=model,
            attempts=attempts,
            retryable=True,
        )

    @classmethod
    def http_status(
        cls, model: str, provider: str, status: int, detail: str = "", attempts: int = 1, retryable: bool = False
    ) -> ModelError:
        meaning = _STATUS_MEANING.get(status, "server error" if status >= 500 else "request failed")
        tries = f" after {_attempts(attempts)}" if attempts > 1 else ""
        suffix = f": {one_line(detail)}" if detail else ""
        return cls(
            f"model {model}: provider {provider} answered HTTP {status} ({meaning}){tries}{suffix}",
            model=model,
            provider=provider,
            status=status,
            attempts=attempts,
            retryable=retryable,
        )


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"
