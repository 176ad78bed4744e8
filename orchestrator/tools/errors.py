"""The one exception tools raise internally; the tool wrapper turns it into ok=False and a one-line error."""

from __future__ import annotations

from ..redaction import mask_text


class ToolError(Exception):
    """A cluster or user problem the model can read and act on (`deployment otel-demo/foo not found`)."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))

    @property
    def message(self) -> str:
        return str(self)


def one_line(text: str, limit: int = 400) -> str:
    """Collapse whitespace so an error never spans lines, and cap its length (secrets are masked first: a
    secret cut in two would no longer be recognised)."""
    flat = " ".join(mask_text(str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
