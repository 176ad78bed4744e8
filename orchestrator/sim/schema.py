"""The API types' field descriptions (`schemas.yaml`), parsed once, and strict field checking.

One description serves three readers: the OpenAPI documents (`openapi.py`), the protobuf decoder
(`protobuf.py`) and the server's field validation, which finds the fields a typed Go decoder would
not know, so the server can drop them, warn about them or reject the request as kube-apiserver does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

PRIMITIVES = frozenset({"str", "int", "long", "bool", "num", "qty", "intstr", "time", "bytes", "obj"})

API_VERSION_DESC = (
    "APIVersion defines the versioned schema of this representation of an object. Servers should convert "
    "recognized schemas to the latest internal value, and may reject unrecognized values."
)
KIND_DESC = (
    "Kind is a string value representing the REST resource this object represents. Servers may infer this from "
    "the endpoint the client submits requests to. Cannot be updated. In CamelCase."
)

# A type: ("prim", name) | ("list", item) | ("map", value) | ("ref", type name)
Type = tuple[str, Any]


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    tag: int | None = None
    required: bool = False
    merge_key: str | None = None
    strategy: str | None = None  # "merge", "retainKeys" or "merge,retainKeys"
    pointer: bool = False  # a zero value is meaningful (Go pointer): protobuf zeros are kept
    description: str = ""
    # protobuf only: the value travels as field `wrapped` of the message at `tag` (Go's embedded struct,
    # e.g. IngressRule.http inside IngressRuleValue), while JSON has it inline
    wrapped: int | None = None


@dataclass
class TypeDef:
    name: str
    package: str
    fields: dict[str, Field] = field(default_factory=dict)
    gvks: list[tuple[str, str, str]] = field(default_factory=list)  # (group, version, kind)
    description: str = ""
    published: str = ""  # the name in OpenAPI, when the key differs (another version's type of that name)

    @property
    def full_name(self) -> str:
        return f"{self.package}.{self.published or self.name}"

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.required]


def parse_type(text: str) -> Type:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return ("list", parse_type(text[1:-1]))
    if text.startswith("{") and text.endswith("}"):
        return ("map", parse_type(text[1:-1]))
    if text in PRIMITIVES:
        return ("prim", text)
    return ("ref", text)


def _parse_field(name: str, spec: str) -> Field:
    spec, _, description = str(spec).partition(" | ")
    words = spec.split()
    ftype = parse_type(words[0])
    tag = None
    required = False
    merge_key = None
    strategies: list[str] = []
    pointer = False
    wrapped = None
    for w in words[1:]:
        if w.isdigit():
            tag = int(w)
        elif w == "req":
            required = True
        elif w == "merge":
            strategies.append("merge")
        elif w.startswith("merge="):
            strategies.append("merge")
            merge_key = w.split("=", 1)[1]
        elif w == "ptr":
            pointer = True
        elif w == "retainKeys":
            strategies.append("retainKeys")
        elif w.startswith("wrapped="):
            wrapped = int(w.split("=", 1)[1])
        else:
            raise ValueError(f"schemas.yaml: unknown flag {w!r} on field {name}")
    strategy = ",".join(strategies) or None
    return Field(name, ftype, tag, required, merge_key, strategy, pointer, description.strip(), wrapped)


@dataclass
class Schemas:
    types: dict[str, TypeDef]  # by short name
    by_gvk: dict[tuple[str, str, str], TypeDef]

    def for_kind(self, group: str, version: str, kind: str) -> TypeDef | None:
        return self.by_gvk.get((group, version, kind))


@functools.cache
def load() -> Schemas:
    text = resources.files(__package__).joinpath("schemas.yaml").read_text()
    doc = yaml.safe_load(text)
    types: dict[str, TypeDef] = {}
    by_gvk: dict[tuple[str, str, str], TypeDef] = {}
    for package, defs in doc.items():
        for name, body in defs.items():
            td = TypeDef(name, package)
            for key, spec in body.items():
                if key == "_name":
                    td.published = str(spec)
                    continue
                if key == "_desc":
                    td.description = str(spec).strip()
                    continue
                if key == "_kind":
                    for gvk in str(spec).split():
                        group, version, kind = gvk.split("/")
                        td.gvks.append((group, version, kind))
                    continue
                td.fields[key] = _parse_field(key, spec)
            if td.gvks:
                # Every top-level kind carries its type meta.
                td.fields = {
                    "apiVersion": Field("apiVersion", ("prim", "str"), description=API_VERSION_DESC),
                    "kind": Field("kind", ("prim", "str"), description=KIND_DESC),
                } | (td.fields)
                for gvk_key in td.gvks:
                    by_gvk[gvk_key] = td
            types[name] = td
    for td in types.values():
        for f in td.fields.values():
            _check_refs(f.type, types, td.name)
    return Schemas(types, by_gvk)


def _check_refs(t: Type, types: dict[str, TypeDef], owner: str) -> None:
    if t[0] in ("list", "map"):
        _check_refs(t[1], types, owner)
    elif t[0] == "ref" and t[1] not in types:
        raise ValueError(f"schemas.yaml: {owner} refers to unknown type {t[1]}")


# ------------------------------------------------------------------------------------ unknown fields
def unknown_fields(obj: dict, td: TypeDef, old: Any = None, *, prune: bool = True) -> list[str]:
    """Paths of fields of `obj` its type does not declare ("spec.foo", "spec.containers[0].bar"), as a
    typed decoder would meet them. Fields also present in `old` (already stored) are not reported.
    With `prune`, the reported fields are removed from `obj` (the server never stores them)."""
    out: list[str] = []
    _walk_struct(obj, td, old, "", out, prune, load().types)
    return out


def _walk_struct(obj: dict, td: TypeDef, old: Any, path: str, out: list[str], prune: bool, types: dict) -> None:
    fields = td.fields
    old = old if isinstance(old, dict) else None
    drop = []
    for key, value in obj.items():
        f = fields.get(key)
        if f is None:
            if old is None or key not in old:
                out.append(path + key)
                drop.append(key)
            continue
        _walk(value, f.type, old.get(key) if old else None, path + key, out, prune, types)
    if prune:
        for key in drop:
            del obj[key]


def _walk(value: Any, t: Type, old: Any, path: str, out: list[str], prune: bool, types: dict) -> None:
    kind = t[0]
    if kind == "prim":
        return
    if kind == "ref":
        if isinstance(value, dict):
            _walk_struct(value, types[t[1]], old, path + ".", out, prune, types)
    elif kind == "list":
        if isinstance(value, list) and (t[1][0] != "prim"):
            olds = old if isinstance(old, list) else []
            for i, item in enumerate(value):
                _walk(item, t[1], olds[i] if i < len(olds) else None, f"{path}[{i}]", out, prune, types)
    elif kind == "map" and isinstance(value, dict) and t[1][0] != "prim":
        old_map = old if isinstance(old, dict) else {}
        for k, item in value.items():
            _walk(item, t[1], old_map.get(k), f"{path}[{k}]", out, prune, types)
