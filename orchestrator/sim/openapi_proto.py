"""The OpenAPI v2 document in its protobuf encoding (gnostic's openapi_v2.Document).

kubectl fetches /openapi/v2 only as protobuf, and needs it when it validates on the client: for a
`kind: List` manifest, whose items it checks against the definitions itself. Only what that reader
uses is encoded: the definitions, with their vendor extensions (the group-version-kind) as YAML.
Field numbers are those of gnostic's OpenAPIv2.proto.
"""

from __future__ import annotations

from typing import Any

import yaml

# openapi_v2.Schema field numbers
_REF, _FORMAT, _DESCRIPTION, _REQUIRED = 1, 2, 4, 19
_ADDITIONAL, _TYPE, _ITEMS, _ALL_OF, _PROPERTIES, _VENDOR = 21, 22, 23, 24, 25, 31


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _bytes(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _str(num: int, text: str) -> bytes:
    return _bytes(num, text.encode())


def _named(name: str, value: bytes) -> bytes:
    """NamedSchema / NamedAny: name = 1, value = 2."""
    return _str(1, name) + _bytes(2, value)


def _any(value: Any) -> bytes:
    """openapi_v2.Any with its `yaml` (field 2) set."""
    return _str(2, yaml.safe_dump(value, default_flow_style=True).strip())


def schema(s: dict[str, Any]) -> bytes:
    out = bytearray()
    if "$ref" in s:
        out += _str(_REF, s["$ref"])
    if "format" in s:
        out += _str(_FORMAT, s["format"])
    if "description" in s:
        out += _str(_DESCRIPTION, s["description"])
    for name in s.get("required") or ():
        out += _str(_REQUIRED, name)
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out += _bytes(_ADDITIONAL, _bytes(1, schema(extra)))
    elif isinstance(extra, bool):
        out += _bytes(_ADDITIONAL, _varint(2 << 3) + _varint(int(extra)))
    if "type" in s:
        out += _bytes(_TYPE, _str(1, s["type"]))
    if isinstance(s.get("items"), dict):
        out += _bytes(_ITEMS, _bytes(1, schema(s["items"])))
    for sub in s.get("allOf") or ():
        out += _bytes(_ALL_OF, schema(sub))
    if "properties" in s:
        out += _bytes(_PROPERTIES, b"".join(_bytes(1, _named(k, schema(v))) for k, v in s["properties"].items()))
    for key, value in s.items():
        if key.startswith("x-"):
            out += _bytes(_VENDOR, _named(key, _any(value)))
    return bytes(out)


def document(doc: dict[str, Any]) -> bytes:
    """Document: swagger = 1, info = 2 (title = 1, version = 2), definitions = 9."""
    info = doc.get("info") or {}
    definitions = b"".join(_bytes(1, _named(k, schema(v))) for k, v in (doc.get("definitions") or {}).items())
    return (
        _str(1, doc.get("swagger", "2.0"))
        + _bytes(2, _str(1, info.get("title", "")) + _str(2, info.get("version", "")))
        + _bytes(9, definitions)
    )
