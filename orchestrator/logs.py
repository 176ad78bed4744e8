"""structlog setup: JSON lines everywhere. Each run gets its own logger writing to the run directory
(engine.log.jsonl, run id bound); the process-wide logger only reports warnings on stderr, so stdout
stays clean for `-o json` (`--log-level` and `--log-format json|console` change it). Both mask secrets in
every field before rendering."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import IO, Any

import structlog

from .redaction import scrub


def redact(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Secrets masked in every field, the formatted traceback included (it quotes exception messages)."""
    return {key: scrub(value) for key, value in event.items()}


_PROCESSORS: list[Any] = [
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.format_exc_info,
    redact,
    structlog.processors.JSONRenderer(),
]


LEVEL_ENV, FORMAT_ENV = "SRE_AGENT_LOG_LEVEL", "SRE_AGENT_LOG_FORMAT"  # `--log-level` / `--log-format` set them
LEVELS, FORMATS = ("debug", "info", "warning", "error"), ("json", "console")


def configure(level: str = "warning") -> None:
    """The process-wide logger on stderr: `level` unless SRE_AGENT_LOG_LEVEL says otherwise, JSON lines
    unless SRE_AGENT_LOG_FORMAT is `console`."""
    level = os.environ.get(LEVEL_ENV, "").strip().lower() or level
    console = os.environ.get(FORMAT_ENV, "").strip().lower() == "console"
    processors = _PROCESSORS[:-1] + [structlog.dev.ConsoleRenderer(colors=False)] if console else _PROCESSORS
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.WARNING)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def run_logger(path: Path, **bound: Any) -> tuple[Any, IO[str]]:
    """A JSON logger for one run, writing to `path`; close the returned file when the run ends."""
    fh = path.open("a", encoding="utf-8")
    logger = structlog.wrap_logger(
        structlog.PrintLogger(file=fh),
        processors=_PROCESSORS,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    return logger.bind(**bound), fh
