"""Tool argument schemas: build them compactly, and check what a model actually sent against them.

Models send malformed calls (unknown arguments, "3" for 3, a missing namespace), so every tool validates
its arguments here before touching the cluster. The subset of JSON Schema used: an object of named
properties with type (string, integer, boolean, object, array, or a list of those), enum, minimum,
maximum and default; `additionalProperties: false` always.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import ToolError

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def prop(type_: str | list[str], description: str, **extra: Any) -> dict[str, Any]:
    """One property: prop("string", "namespace of the workload", enum=[...], default=...); several types
    become anyOf, one type each, as strict schemas want."""
    if isinstance(type_, list):
        return {"description": description, "anyOf": [{"type": t} for t in type_], **extra}
    return {"type": type_, "description": description, **extra}


def params(required: list[str] | None = None, **properties: dict[str, Any]) -> dict[str, Any]:
    """An arguments object: params(["namespace"], namespace=prop(...), selector=prop(...))."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required or []),
        "additionalProperties": False,
    }


def validate(schema: dict[str, Any], args: Any) -> dict[str, Any]:
    """Return the arguments with defaults filled and harmless coercions applied, or raise ToolError."""
    if args is None:
        args = {}
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except ValueError as err:
            raise ToolError(f"arguments must be a JSON object, got unparseable text: {err}") from err
    if not isinstance(args, dict):
        raise ToolError(f"arguments must be a JSON object, not {type(args).__name__}")
    properties: dict[str, dict] = schema.get("properties") or {}
    unknown = sorted(set(args) - set(properties))
    if unknown:
        allowed = ", ".join(properties) or "none"
        raise ToolError(f"unknown argument {unknown[0]!r} (allowed: {allowed})")
    missing = [name for name in schema.get("required") or [] if args.get(name) in (None, "")]
    if missing:
        raise ToolError(f"missing required argument {missing[0]!r}")
    out: dict[str, Any] = {}
    for name, spec in properties.items():
        if name in args and args[name] is not None:
            out[name] = _check(name, spec, args[name])
        elif "default" in spec:
            out[name] = spec["default"]
    return out


def _check(name: str, spec: dict[str, Any], value: Any) -> Any:
    types = spec.get("type")
    allowed = [types] if isinstance(types, str) else list(types or [])
    # One of several types is written as anyOf (strict schemas, OpenAI's and Gemini's, take one type each).
    allowed += [o["type"] for o in spec.get("anyOf") or [] if isinstance(o.get("type"), str)]
    if allowed:
        value = _coerce(name, allowed, value)
    if "enum" in spec and value not in spec["enum"]:
        raise ToolError(f"argument {name!r} must be one of {', '.join(map(str, spec['enum']))}; got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in spec and value < spec["minimum"]:
            raise ToolError(f"argument {name!r} must be at least {spec['minimum']}; got {value}")
        if "maximum" in spec and value > spec["maximum"]:
            raise ToolError(f"argument {name!r} must be at most {spec['maximum']}; got {value}")
    if isinstance(value, str) and not value.strip() and spec.get("minLength", 1) > 0:
        raise ToolError(f"argument {name!r} must not be empty")
    return value.strip() if isinstance(value, str) else value


def _coerce(name: str, allowed: list[str], value: Any) -> Any:
    for t in allowed:
        if t in ("integer", "number") and isinstance(value, bool):
            continue
        if t == "integer" and isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, _PY_TYPES[t]):
            return value
    # Models quote numbers and booleans; accept the unambiguous cases.
    if isinstance(value, str):
        text = value.strip()
        if "integer" in allowed and text.lstrip("-").isdigit():
            return int(text)
        if "boolean" in allowed and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if ("object" in allowed or "array" in allowed) and text[:1] in "{[":
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if (isinstance(parsed, dict) and "object" in allowed) or (isinstance(parsed, list) and "array" in allowed):
                return parsed
    if "string" in allowed and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    want = " or ".join(allowed)
    raise ToolError(f"argument {name!r} must be {_article(want)} {want}, not {json.dumps(value)[:60]}")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
