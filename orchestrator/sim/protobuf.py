"""Decoding of Kubernetes protobuf request bodies into the JSON shape of the same object.

kubectl's typed clients (`kubectl create namespace|deployment|configmap|…`, `kubectl auth can-i`)
send `application/vnd.kubernetes.protobuf` and do not retry with JSON on 415, so the server reads
them. A body is the `k8s\\0` magic and a runtime.Unknown envelope whose `raw` is the object's message;
field numbers come from `schemas.yaml`. Fields the description does not number are skipped.
"""

from __future__ import annotations

import base64
import json
import struct
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError
from .schema import Type, TypeDef, load

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) triples: varints as int, length-delimited as bytes."""
    out = []
    pos = 0
    value: Any
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value = buf[pos : pos + size]
            if len(value) != size:
                raise ProtobufError("truncated field")
            pos += size
        elif wire == 1:
            value = int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == 5:
            value = int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.append((num, wire, value))
    return out


def _signed(v: int, bits: int = 64) -> int:
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


def _scalar(name: str, wire: int, value: Any) -> Any:
    if name in ("int", "long"):
        return _signed(value)
    if name == "bool":
        return bool(value)
    if name == "num":
        return struct.unpack("<d", value.to_bytes(8, "little"))[0]
    if name == "str":
        return value.decode()
    if name == "bytes":
        return base64.b64encode(value).decode()
    if name == "qty":
        return next((v.decode() for n, _, v in fields(value) if n == 1), "0")
    if name == "intstr":
        parts = {n: v for n, _, v in fields(value)}
        return parts.get(3, b"").decode() if parts.get(1) == 1 else _signed(parts.get(2, 0))
    if name == "time":
        parts = {n: v for n, _, v in fields(value)}
        if not parts:
            return None  # a zero time is sent as an empty message: JSON null
        return datetime.fromtimestamp(_signed(parts.get(1, 0)), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if name == "obj":
        # runtime.RawExtension (raw JSON in field 1); other free-form messages cannot be read.
        raw = next((v for n, _, v in fields(value) if n == 1), b"")
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return {}
    raise ProtobufError(f"cannot decode {name}")


def _value(t: Type, wire: int, value: Any) -> Any:
    kind, arg = t
    if kind == "prim":
        return _scalar(arg, wire, value)
    if kind == "ref":
        return decode_message(value, load().types[arg])
    raise ProtobufError(f"unexpected nested collection {t}")


def decode_message(buf: bytes, td: TypeDef) -> dict:
    by_tag = {f.tag: f for f in td.fields.values() if f.tag is not None}
    out: dict[str, Any] = {}
    for num, wire, value in fields(buf):
        f = by_tag.get(num)
        if f is None:
            continue
        kind, arg = f.type
        if f.wrapped is not None:  # unwrap the embedded message's one field
            inner = [(w, v) for n, w, v in fields(value) if n == f.wrapped]
            if not inner:
                continue
            wire, value = inner[0]
        if kind == "list":
            items = out.setdefault(f.name, [])
            if wire == 2 and arg[0] == "prim" and arg[1] in ("int", "long", "bool"):
                pos = 0
                while pos < len(value):  # packed repeated scalars
                    v, pos = _varint(value, pos)
                    items.append(_scalar(arg[1], 0, v))
            else:
                items.append(_value(arg, wire, value))
        elif kind == "map":
            entry = {n: (w, v) for n, w, v in fields(value)}
            key = entry.get(1, (2, b""))[1].decode()
            if 2 in entry:
                w, v = entry[2]
                item: Any
                if arg[0] == "list":  # map of lists: the value is a message of repeated field 1
                    item = [_value(arg[1], iw, iv) for n, iw, iv in fields(v) if n == 1]
                else:
                    item = _value(arg, w, v)
            else:
                item = "" if arg == ("prim", "str") else None
            out.setdefault(f.name, {})[key] = item
        else:
            decoded = _value(f.type, wire, value)
            # Go's JSON omits empty non-pointer scalars (omitempty); proto2 sends them all.
            if kind == "prim" and decoded in ("", 0, None) and not (f.pointer or f.required):
                continue
            out[f.name] = decoded
    return out


def decode(body: bytes) -> dict:
    """The JSON form of a protobuf request body; 415 if its kind is not described."""
    if not body.startswith(MAGIC):
        raise ApiError(400, "the protobuf body does not start with the Kubernetes magic number")
    try:
        envelope = {n: v for n, _, v in fields(body[len(MAGIC) :])}
        type_meta = {n: v.decode() for n, _, v in fields(envelope.get(1, b""))}
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        group, _, version = api_version.rpartition("/")
        td = load().for_kind(group, version, kind)
        if td is None:
            raise ApiError(415, f"the server cannot decode {kind} ({api_version}) from protobuf; send JSON")
        obj = decode_message(envelope.get(2, b""), td)
    except (ProtobufError, UnicodeDecodeError, KeyError) as err:
        raise ApiError(400, f"the protobuf body cannot be decoded: {err}") from err
    return {"apiVersion": api_version, "kind": kind, **obj}
