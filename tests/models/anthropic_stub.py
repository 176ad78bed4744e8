"""A local Anthropic Messages API (`POST /v1/messages`) for tests, answering from a script written for the
OpenAI stub: the request is shown to the script in OpenAI's shape (tools, tool results as `tool` messages)
and its answer is sent back as Anthropic content blocks (`text`, `tool_use`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from .json_server import JsonServer

Script = Callable[[dict[str, Any]], dict[str, Any]]


class AnthropicStub(JsonServer):
    route = "/v1/messages"

    def __init__(self, script: Script) -> None:
        super().__init__()
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def not_found(self, path: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": "not_found_error", "message": path}}

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(body)
            n = len(self.requests)
            reply = self.script(as_openai(body))
        blocks: list[dict[str, Any]] = []
        if reply.get("content"):
            blocks.append({"type": "text", "text": reply["content"]})
        for i, call in enumerate(reply.get("tool_calls") or []):
            args = call.get("arguments", {})
            blocks.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{n}_{i}",
                    "name": call["name"],
                    "input": args if isinstance(args, dict) else json.loads(args),
                }
            )
        return 200, {
            "id": f"msg_{n}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": blocks or [{"type": "text", "text": ""}],
            "stop_reason": "tool_use" if reply.get("tool_calls") else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": len(json.dumps(body)) // 4, "output_tokens": len(json.dumps(blocks)) // 4 + 1},
        }


def as_openai(body: dict[str, Any]) -> dict[str, Any]:
    """The request in OpenAI's shape, for scripts written against the OpenAI stub."""
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        text = system if isinstance(system, str) else "\n".join(b.get("text", "") for b in system)
        messages.append({"role": "system", "content": text})
    for m in body.get("messages") or []:
        content = m.get("content")
        if isinstance(content, str):
            messages.append({"role": m["role"], "content": content})
            continue
        texts = [b.get("text", "") for b in content if b.get("type") == "text"]
        results = [b for b in content if b.get("type") == "tool_result"]
        for r in results:
            inner = r.get("content")
            text = inner if isinstance(inner, str) else "".join(x.get("text", "") for x in inner or [])
            messages.append({"role": "tool", "tool_call_id": r.get("tool_use_id"), "content": text})
        if texts or not results:
            messages.append({"role": m["role"], "content": "\n".join(texts)})
    tools = [{"type": "function", "function": {"name": t["name"]}} for t in body.get("tools") or []]
    return {"model": body.get("model"), "messages": messages, "tools": tools}
