"""OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, a run's spans (run, states, tool and model calls)
reach an OTLP/HTTP receiver; without it nothing is exported and the SDK is not even imported."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def receiver() -> Iterator[tuple[str, list[Any]]]:
    spans: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for rs in request.resource_spans:
                    service = {a.key: a.value.string_value for a in rs.resource.attributes}.get("service.name")
                    for ss in rs.scope_spans:
                        spans.extend((service, s) for s in ss.spans)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", spans
    finally:
        server.shutdown()


def _run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable,
        "-m",
        "orchestrator",
        "run",
        "examples/incidents/demo.yaml",
        "--output",
        str(tmp_path / "run"),
        "-q",
    ]
    return subprocess.run(argv, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


def test_a_runs_spans_reach_an_otlp_receiver(tmp_path: Path) -> None:
    with receiver() as (url, spans):
        proc = _run(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SERVICE_NAME": "sre-agent-test"})
    assert proc.returncode == 0, proc.stderr
    names = [s.name for _, s in spans]
    assert {service for service, _ in spans} == {"sre-agent-test"}
    (run,) = [s for _, s in spans if s.name == "sre-agent run"]
    states = [s for _, s in spans if s.name.startswith("state ")]
    assert states and all(s.parent_span_id == run.span_id for s in states)
    assert {"state investigate", "state verify"} <= set(names)
    tools = [s for _, s in spans if s.name.startswith("tool ")]
    state_ids = {s.span_id for s in states}
    assert tools and all(t.parent_span_id in state_ids for t in tools)
    assert "model call" in names and "tool submit_diagnosis" in names
    attrs = {a.key: a.value for a in run.attributes}
    assert attrs["sre_agent.status"].string_value == "resolved" and attrs["sre_agent.exit_code"].int_value == 0


def test_no_endpoint_no_telemetry(tmp_path: Path) -> None:
    probe = "import sys, orchestrator.engine.loop; print('opentelemetry.sdk' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": ""},
    )
    assert out.stdout.strip() == "False"
