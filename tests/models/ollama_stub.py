"""A local Ollama server for tests: `POST /api/chat` answered from a script, as Ollama answers it.

A model without tool support makes Ollama refuse a request that carries `tools` (HTTP 400, "... does not
support tools"); `tools_supported=False` does the same, so the client's switch to tools-as-text is tested
against the real refusal. The script gets the request body and returns {"content": str}.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Script = Callable[[dict[str, Any]], dict[str, Any]]


class OllamaStub:
    def __init__(self, script: Script, *, tools_supported: bool = False) -> None:
        self.script = script
        self.tools_supported = tools_supported
        self.requests: list[dict[str, Any]] = []
        self.refused = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> OllamaStub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if body.get("tools") and not self.tools_supported:
                self.refused += 1
                return 400, {"error": f"registry.ollama.ai/library/{body.get('model')} does not support tools"}
            self.requests.append(body)
            reply = self.script(body)
        text = str(reply.get("content") or "")
        prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages") or []) // 4 + 1
        return 200, {
            "model": body.get("model"),
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": text},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": prompt,
            "eval_count": len(text) // 4 + 1,
        }


def _handler(stub: OllamaStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.rstrip("/") != "/api/chat":
                self._send(404, {"error": f"ollama stub: no route {self.path}"})
                return
            self._send(*stub.answer(json.loads(raw or b"{}")))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
