"""OpenTelemetry spans of a run, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

One span for the run, one per machine state inside it, and inside those one per tool call (from the call to
its answer) and one per model call (with its tokens). They are made from the run's typed events, like any
front-end's view, so the spans say what the trace says; the SDK and exporter are imported only when the
variable is set. OTEL_SERVICE_NAME names the service (default sre-agent).
"""

from __future__ import annotations

import os
from typing import Any

from .events import ModelCalled, RunEnded, RunEvent, RunStarted, StateEntered, ToolAnswered, ToolCalled

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
_PROVIDER: Any = None  # one tracer provider per process, shared by its runs


def enabled() -> bool:
    return bool(os.environ.get(ENDPOINT_ENV, "").strip())


def _tracer() -> Any:
    global _PROVIDER
    if _PROVIDER is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "sre-agent")})
        _PROVIDER = TracerProvider(resource=resource)
        _PROVIDER.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return _PROVIDER.get_tracer("sre-agent")


class RunSpans:
    """An event sink that turns one run's events into spans."""

    def __init__(self) -> None:
        self.tracer = _tracer()
        self.run: Any = None
        self.state: Any = None
        self.tools: list[Any] = []  # open tool spans, answered in order

    def __call__(self, ev: RunEvent) -> None:
        from opentelemetry import trace

        if isinstance(ev, RunStarted):
            self.run = self.tracer.start_span(
                "sre-agent run",
                attributes={"sre_agent.run_id": ev.run_id, "sre_agent.incident": ev.incident, "sre_agent.model": ev.model,
                            "sre_agent.model_class": ev.model_class, "sre_agent.mode": ev.mode},
            )  # fmt: skip
            return
        if self.run is None:
            return
        parent = trace.set_span_in_context(self.state or self.run)
        if isinstance(ev, StateEntered):
            self._end_state()
            self.state = self.tracer.start_span(
                f"state {ev.state}",
                context=trace.set_span_in_context(self.run),
                attributes={"sre_agent.state": ev.state or "", "sre_agent.trigger": ev.trigger},
            )
        elif isinstance(ev, ToolCalled):
            span = self.tracer.start_span(f"tool {ev.tool}", context=parent, attributes={"sre_agent.tool": ev.tool})
            if ev.target:
                span.set_attribute("sre_agent.target", ev.target)
            self.tools.append(span)
        elif isinstance(ev, ToolAnswered) and self.tools:
            span = self.tools.pop(0)
            span.set_attribute("sre_agent.status", ev.status)
            span.end()
        elif isinstance(ev, ModelCalled):
            span = self.tracer.start_span(
                "model call",
                context=parent,
                attributes={"sre_agent.role": ev.role or "", "sre_agent.tokens": ev.tokens},
            )
            span.end()
        elif isinstance(ev, RunEnded):
            for span in self.tools:
                span.end()
            self.tools = []
            self._end_state()
            for key, value in (
                ("status", ev.status),
                ("exit_code", ev.exit_code),
                ("tokens", ev.tokens),
                ("steps", ev.steps),
            ):
                self.run.set_attribute(f"sre_agent.{key}", value)
            self.run.end()
            self.run = None
            _PROVIDER.force_flush()

    def _end_state(self) -> None:
        if self.state is not None:
            self.state.end()
            self.state = None
