"""A pass-through HTTP proxy in front of a served simulator that records every request it forwards, so a
test can count what the toolbox sent (e.g. its server-side dry runs) without touching the code under test.

    with RecordingProxy(cluster.url) as proxy:
        api = client.ApiClient(proxy.configuration())
        ...
        proxy.requests  # [(method, path, {query parameter: [values]})], in order
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubernetes import client

Request = tuple[str, str, dict[str, list[str]]]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class RecordingProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def configuration(self) -> Any:
        cfg = client.Configuration()
        cfg.host = self.url
        cfg.retries = 1
        return cfg

    def dry_runs(self, method: str, path_end: str) -> int:
        """How many `method` requests to a path ending in `path_end` asked for a server-side dry run."""
        return sum(
            1
            for m, path, query in self.requests
            if m == method and path.endswith(path_end) and "All" in query.get("dryRun", [])
        )

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                parts = urlsplit(self.path)
                with proxy._lock:
                    proxy.requests.append((self.command, parts.path, parse_qs(parts.query)))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=30)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    self.send_response_only(answer.status, answer.reason)
                    for key, value in answer.getheaders():
                        if key.lower() not in HOP_BY_HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                return

        return Handler
