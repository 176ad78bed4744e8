"""Tool calls as text, for models that cannot call tools natively (many local models) or that answer with a
JSON object in their reply instead of a tool call.

The protocol: a reply holding one JSON object `{"name": TOOL, "arguments": {...}}`, bare or in a ```json
fence, is that tool call. With a model known to lack native tool calling, the request carries no `tools`:
the tools are described in the system message instead, and the conversation's earlier calls and results are
sent as the text they were (a provider without tool support may reject `tool` messages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)
MAX_SCAN_CHARS = 64 * 1024  # a reply is capped well above this; the call is near its start or in a fence

PROTOCOL = (
    "You cannot call tools natively here. To call one, reply with exactly one JSON object and nothing after "
    'it: {"name": "<tool name>", "arguments": {<arguments as the tool\'s JSON schema says>}}. One call per '
    "reply; its result comes back in the next message."
)


def parse_call(text: str, offered: frozenset[str] | set[str]) -> tuple[str, dict[str, Any]] | None:
    """The tool call a reply's text holds, or None. A fenced object is preferred, else the first JSON object
    in the text; it must name an offered tool and carry its arguments as an object (absent means none)."""
    text = text[:MAX_SCAN_CHARS]
    for doc in _documents(text):
        name = doc.get("name") or doc.get("tool")
        args = doc.get("arguments", doc.get("args", doc.get("parameters", {})))
        if isinstance(args, str):  # some models send the arguments as a JSON string, as the API does
            try:
                args = json.loads(args)
            except ValueError:
                continue
        if isinstance(name, str) and name in offered and isinstance(args, dict):
            return name, args
    return None


def _documents(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of the text: those in ```json fences first, then any object starting at a `{`
    (the standard decoder reads each one; an inner object is read after the one holding it)."""
    decoder = json.JSONDecoder()
    fenced = [m.group(1) for m in FENCE.finditer(text)]
    for raw, start in [(f, 0) for f in fenced] + [(text, m.start()) for m in re.finditer(r"\{", text)]:
        try:
            doc, _ = decoder.raw_decode(raw, start)
        except ValueError:
            continue
        if isinstance(doc, dict):
            yield doc


def describe_tools(tools: list[dict[str, Any]]) -> str:
    """The system-message section that stands in for the request's `tools`."""
    lines = ["", "## Tools", PROTOCOL, ""]
    for tool in tools:
        fn = tool.get("function") or tool
        params = json.dumps(fn.get("parameters") or {}, separators=(",", ":"))
        lines.append(f"- {fn['name']}: {fn.get('description', '')} Arguments schema: {params}")
    return "\n".join(lines)


def as_text(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI chat messages for a provider without tool support: the tools described in the (first) system
    message, each earlier call as the JSON the model would have written, each result as a user message."""
    out: list[dict[str, Any]] = []
    for m in messages:
        role = m.get("role")
        if role == "assistant" and m.get("tool_calls"):
            calls = [
                json.dumps({"name": c["function"]["name"], "arguments": _loads(c["function"]["arguments"])})
                for c in m["tool_calls"]
            ]
            text = "\n".join(filter(None, [m.get("content") or "", *calls]))
            out.append({"role": "assistant", "content": text})
        elif role == "tool":
            out.append({"role": "user", "content": f"Tool result:\n{m.get('content')}"})
        else:
            out.append(dict(m))
    section = describe_tools(tools)
    system = next((m for m in out if m.get("role") == "system"), None)
    if system is None:
        out.insert(0, {"role": "system", "content": section.lstrip()})
    else:
        system["content"] = f"{system.get('content') or ''}\n{section}"
    return out


def _loads(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except (TypeError, ValueError):
        return arguments
