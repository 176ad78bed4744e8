"""A local OpenAI-compatible chat server for tests: it answers `POST /v1/chat/completions` from a script.

Real model clients (litellm, the openai SDK) talk to it over HTTP exactly as they would to a provider, so
tests exercise the real request/response path with no network and no mocks of our own code.

    script = [
        {"content": "Action: get_pods otel-demo", "tool_calls": [{"name": "get_pods", "arguments": {"ns": "otel-demo"}}]},
        "all good",                                   # plain text answer
        {"status": 500},                              # an HTTP error for this request
        {"delay": 2.0, "content": "late"},            # answer after 2 s (timeouts)
    ]
    with OpenAIStub(script) as stub:
        client = LiteLLMClient("openai/test", base_url=stub.base_url, api_key="test")
        ...
        stub.requests[0]["messages"]                  # every request body, in order

A script entry (or what a callable script returns for a request body) is one of:
- a str: the assistant's text;
- a dict with any of `content` (str), `tool_calls` (list of {name, arguments: str | dict, id?}; an `id` of None
  leaves the id out), `finish_reason`, `usage` ({prompt_tokens, completion_tokens}), `delay` (seconds),
  `status` (an HTTP error status; `error` sets its message), `message` (a raw assistant message sent as is),
  `raw` (the response body as is, bytes or str, with status 200: a reply that is not JSON);
  `"usage": None` leaves the usage block out, as some local servers do.
Stub-wide `delay` and `status` apply to every request (set them on the instance at any time).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Response = str | dict[str, Any]
Script = Sequence[Response] | Callable[[dict[str, Any]], Response]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}


class OpenAIStub:
    """An OpenAI-compatible chat completions server on 127.0.0.1 (a free port), driven by a script."""

    def __init__(self, script: Script = (), *, delay: float = 0.0, status: int | None = None) -> None:
        self.script = script
        self.delay = delay
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self._next = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # releases delayed handlers at shutdown
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> OpenAIStub:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        # A short poll interval: shutdown() waits up to one interval, and tests stop many stubs.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="openai-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (ends in /v1) to give a client."""
        if self._server is None:
            raise RuntimeError("OpenAIStub is not running; use it as a context manager or call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    # -- what was asked --------------------------------------------------------------------------------

    @property
    def last_request(self) -> dict[str, Any]:
        return self.requests[-1]

    # -- answering -------------------------------------------------------------------------------------

    def _respond(self, body: dict[str, Any]) -> tuple[int, dict[str, Any] | bytes, float]:
        """Pick the scripted response for one request: (HTTP status, JSON body, delay seconds)."""
        with self._lock:
            self.requests.append(body)
            index = len(self.requests) - 1
            if callable(self.script):
                entry: Response | None = self.script(body)
            elif self._next < len(self.script):
                entry = self.script[self._next]
                self._next += 1
            else:
                entry = None
        if entry is None:
            why = "script returned nothing" if callable(self.script) else "script exhausted"
            return 500, _error_body(500, f"openai stub: {why} at request {index + 1}"), self.delay
        spec = {"content": entry} if isinstance(entry, str) else dict(entry)
        delay = float(spec.get("delay", self.delay))
        status = spec.get("status", self.status)
        if status is not None and status >= 400:
            return status, _error_body(status, spec.get("error")), delay
        if "raw" in spec:
            raw = spec["raw"]
            return 200, raw if isinstance(raw, bytes) else str(raw).encode(), delay
        return 200, _completion(body, spec, index), delay

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


def _handler_for(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the openai SDK expects

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, _error_body(404, f"openai stub: no route {self.path}"))
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(400, _error_body(400, "openai stub: request body is not JSON"))
                return
            status, payload, delay = stub._respond(body)
            stub._sleep(delay)
            self._send(status, payload)

        def _send(self, status: int, payload: dict[str, Any] | bytes) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


def _completion(request: dict[str, Any], spec: dict[str, Any], index: int) -> dict[str, Any]:
    """An OpenAI chat.completion object for one scripted answer."""
    if "message" in spec:
        message = spec["message"]
    else:
        message = {"role": "assistant", "content": spec.get("content")}
        calls = [_tool_call(call, index, n) for n, call in enumerate(spec.get("tool_calls") or [])]
        if calls:
            message["tool_calls"] = calls
    finish_reason = spec.get("finish_reason") or ("tool_calls" if message.get("tool_calls") else "stop")
    answer = {
        "id": f"chatcmpl-stub-{index + 1}",
        "object": "chat.completion",
        "created": 1_700_000_000 + index,
        "model": request.get("model", "stub"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
    }
    if "usage" in spec and spec["usage"] is None:
        return answer  # like some local servers: no usage block at all
    usage = spec.get("usage") or _estimated_usage(request, message)
    answer["usage"] = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
    return answer


def _tool_call(call: dict[str, Any], index: int, n: int) -> dict[str, Any]:
    arguments = call.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    out: dict[str, Any] = {"type": "function", "function": {"name": call.get("name"), "arguments": arguments}}
    call_id = call.get("id", f"call_{index + 1}_{n + 1}")
    if call_id is not None:
        out["id"] = call_id
    return out


def _estimated_usage(request: dict[str, Any], message: dict[str, Any]) -> dict[str, int]:
    """Deterministic token counts (about 4 characters a token) so usage accounting can be asserted."""
    prompt = len(json.dumps(request.get("messages", []))) // 4 + 1
    completion = len(json.dumps(message)) // 4 + 1
    return {"prompt_tokens": prompt, "completion_tokens": completion}


def _error_body(status: int, message: str | None) -> dict[str, Any]:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "error"
    text = message or f"openai stub: HTTP {status} {phrase}"
    kind = _ERROR_TYPES.get(status, "server_error")
    return {"error": {"message": text, "type": kind, "param": None, "code": kind}}
