"""A local Ollama server for tests: `POST /api/chat` answered from a script, as Ollama answers it.

A model without tool support makes Ollama refuse a request that carries `tools` (HTTP 400, "... does not
support tools"); `tools_supported=False` does the same, so the client's switch to tools-as-text is tested
against the real refusal. The script gets the request body and returns {"content": str}.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .json_server import JsonServer

Script = Callable[[dict[str, Any]], dict[str, Any]]


class OllamaStub(JsonServer):
    route = "/api/chat"

    def __init__(self, script: Script, *, tools_supported: bool = False) -> None:
        super().__init__()
        self.script = script
        self.tools_supported = tools_supported
        self.requests: list[dict[str, Any]] = []
        self.refused = 0
        self._lock = threading.Lock()

    def not_found(self, path: str) -> dict[str, Any]:
        return {"error": f"ollama stub: no route {path}"}

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
