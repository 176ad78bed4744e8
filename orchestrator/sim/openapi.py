"""OpenAPI documents (/openapi/v2 and /openapi/v3) generated from the resource types being served.

kubectl reads them for three things: whether the server validates fields itself (a PATCH operation
for the kind with a `fieldValidation` query parameter, else kubectl validates client-side), the
strategic-merge patch metadata of `kubectl apply` (`x-kubernetes-patch-merge-key`), and `kubectl
explain`. Schemas come from `schemas.yaml`; a kind with no description there (and a custom resource
without a schema) gets an open object schema, so every served kind appears.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from . import openapi_proto
from .resources import Registry, ResourceType
from .schema import Type, TypeDef, load

V2_REF = "#/definitions/"
V3_REF = "#/components/schemas/"

_PRIMS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"},
    "bool": {"type": "boolean"},
    "num": {"type": "number", "format": "double"},
    "qty": {"type": "string", "format": "quantity", "x-kubernetes-int-or-string": True},
    "intstr": {"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True},
    "time": {"type": "string", "format": "date-time"},
    "bytes": {"type": "string", "format": "byte"},
    "obj": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
}

_PATCH_TYPES = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
]


def _type_schema(t: Type, ref: str, names: dict[str, str]) -> dict[str, Any]:
    kind, arg = t
    if kind == "prim":
        return dict(_PRIMS[arg])
    if kind == "list":
        return {"type": "array", "items": _type_schema(arg, ref, names)}
    if kind == "map":
        return {"type": "object", "additionalProperties": _type_schema(arg, ref, names)}
    return {"$ref": ref + names[arg]}


def _def_schema(td: TypeDef, ref: str, names: dict[str, str], v3: bool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for f in td.fields.values():
        s = _type_schema(f.type, ref, names)
        ext: dict[str, Any] = {}
        if f.strategy:
            ext["x-kubernetes-patch-strategy"] = f.strategy
        if f.merge_key:
            ext["x-kubernetes-patch-merge-key"] = f.merge_key
            ext["x-kubernetes-list-type"] = "map"
            ext["x-kubernetes-list-map-keys"] = [f.merge_key]
        if f.description:
            ext["description"] = f.description
        if ext and "$ref" in s and v3:
            s = {"allOf": [s]}  # OpenAPI 3 ignores siblings of $ref
        props[f.name] = s | ext
    out: dict[str, Any] = {"type": "object", "properties": props}
    if td.description:
        out["description"] = td.description
    if td.required:
        out["required"] = td.required
    if td.gvks:
        out["x-kubernetes-group-version-kind"] = [{"group": g, "version": v, "kind": k} for g, v, k in td.gvks]
    return out


def _open_schema(rt: ResourceType, schema: dict | None = None) -> dict[str, Any]:
    """A kind without a description: type meta and metadata declared, the rest open."""
    base: dict[str, Any] = dict(schema) if schema else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    props = dict(base.get("properties") or {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"type": "object"}
    base["properties"] = props
    base["type"] = "object"
    base["x-kubernetes-group-version-kind"] = [{"group": rt.group, "version": rt.version, "kind": rt.kind}]
    return base


def _def_name(rt: ResourceType) -> str:
    """Definition names of kinds with no description, in the style of custom resources."""
    rev = ".".join(reversed(rt.group.split("."))) if rt.group else "io.k8s.api.core"
    return f"{rev}.{rt.version}.{rt.kind}"


class OpenAPI:
    """Builds the documents for a registry; they are cached until its set of types changes."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._cache: dict[Any, Any] = {}

    def _key(self) -> tuple:
        return (self.registry.generation,)

    def _cached(self, name: Any, build: Any) -> Any:
        key = (name, self._key())
        if key not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = build()
        return self._cache[key]

    # ------------------------------------------------------------------ schema sets
    def _schemas(self, types: list[ResourceType], ref: str, v3: bool) -> tuple[dict[str, Any], dict]:
        """Definitions needed by `types`, and the definition name of each type."""
        lib = load()
        names = {name: td.full_name for name, td in lib.types.items()}
        defs: dict[str, Any] = {}
        roots: dict[tuple[str, str, str], str] = {}
        needed: list[str] = []
        for rt in types:
            td = lib.for_kind(rt.group, rt.version, rt.kind)
            if td is None:
                name = _def_name(rt)
                defs[name] = _open_schema(rt, self.registry.custom_schema(rt))
                roots[(rt.group, rt.version, rt.kind)] = name
            else:
                roots[(rt.group, rt.version, rt.kind)] = td.full_name
                needed.append(td.name)
        seen: set[str] = set()
        while needed:
            name = needed.pop()
            if name in seen:
                continue
            seen.add(name)
            td = lib.types[name]
            defs[td.full_name] = _def_schema(td, ref, names, v3)
            for f in td.fields.values():
                needed.extend(_refs(f.type))
        return defs, roots

    # ------------------------------------------------------------------ v2
    def v2(self) -> bytes:
        return self._cached("v2", self._build_v2)

    def _build_v2(self) -> bytes:
        types = list(self.registry.types)
        defs, roots = self._schemas(types, V2_REF, v3=False)
        paths: dict[str, Any] = {}
        for rt in types:
            paths |= _paths(rt, V2_REF + roots[(rt.group, rt.version, rt.kind)], v3=False)
        doc = {
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths,
            "definitions": defs,
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    def v2_protobuf(self) -> bytes:
        return self._cached("v2-pb", lambda: openapi_proto.document(json.loads(self.v2())))

    # ------------------------------------------------------------------ v3
    def v3_index(self) -> dict[str, Any]:
        return self._cached("v3-index", self._build_v3_index)

    def _build_v3_index(self) -> dict[str, Any]:
        gvs = [("", "v1")] + [(g, v) for g, versions in self.registry.groups().items() for v in versions]
        paths = {}
        for group, version in gvs:
            rel = f"api/{version}" if not group else f"apis/{group}/{version}"
            doc = self.v3(group, version)
            digest = hashlib.sha512(doc or b"").hexdigest()[:128].upper()
            paths[rel] = {"serverRelativeURL": f"/openapi/v3/{rel}?hash={digest}"}
        return {"paths": paths}

    def v3(self, group: str, version: str) -> bytes | None:
        return self._cached(("v3", group, version), lambda: self._build_v3(group, version))

    def _build_v3(self, group: str, version: str) -> bytes | None:
        types = self.registry.in_group_version(group, version)
        if not types:
            return None
        defs, roots = self._schemas(types, V3_REF, v3=True)
        paths: dict[str, Any] = {}
        for rt in types:
            paths |= _paths(rt, V3_REF + roots[(rt.group, rt.version, rt.kind)], v3=True)
        doc = {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths,
            "components": {"schemas": defs},
        }
        return json.dumps(doc, separators=(",", ":")).encode()


def _refs(t: Type) -> list[str]:
    if t[0] in ("list", "map"):
        return _refs(t[1])
    return [t[1]] if t[0] == "ref" else []


# ---------------------------------------------------------------------------------------------- paths
def _param(name: str, where: str = "query", kind: str = "string", v3: bool = True) -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": where, "uniqueItems": True}
    if where == "path":
        p["required"] = True
    if v3:
        p["schema"] = {"type": kind}
    else:
        p["type"] = kind
    return p


def _op(
    rt: ResourceType, action: str, ref: str, v3: bool, *, body: bool = False, patch: bool = False, extra: tuple = ()
) -> dict[str, Any]:
    gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
    params = [_param(p, v3=v3) for p in extra]
    op: dict[str, Any] = {
        "operationId": f"{action}{rt.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
        "parameters": params,
    }
    if body or patch:
        params += [_param(p, v3=v3) for p in ("dryRun", "fieldManager", "fieldValidation")]
    if patch:
        params.append(_param("force", kind="boolean", v3=v3))
    types = [t for t in _PATCH_TYPES if not (rt.custom and "strategic" in t)] if patch else ["application/json"]
    if v3:
        if body or patch:
            schema = {"$ref": ref} if not patch else {"type": "object"}
            op["requestBody"] = {"content": {t: {"schema": schema} for t in types}, "required": True}
        op["responses"] = {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": ref}}}}}
    else:
        if body or patch:
            params.append({"name": "body", "in": "body", "required": True, "schema": {"$ref": ref}})
            op["consumes"] = types
        op["produces"] = ["application/json", "application/yaml"]
        op["responses"] = {"200": {"description": "OK", "schema": {"$ref": ref}}}
    return op


def _paths(rt: ResourceType, ref: str, v3: bool) -> dict[str, Any]:
    base = f"/api/{rt.version}" if not rt.group else f"/apis/{rt.group}/{rt.version}"
    coll = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
    verbs = set(rt.verbs)
    list_params = ("labelSelector", "fieldSelector", "resourceVersion", "watch", "limit", "continue")
    out: dict[str, Any] = {}
    path_params = [_param("namespace", "path", v3=v3)] if rt.namespaced else []
    item: dict[str, Any] = {"parameters": [_param("name", "path", v3=v3), *path_params]}
    if "get" in verbs:
        item["get"] = _op(rt, "get", ref, v3)
    if "update" in verbs:
        item["put"] = _op(rt, "put", ref, v3, body=True)
    if "patch" in verbs:
        item["patch"] = _op(rt, "patch", ref, v3, patch=True)
    if "delete" in verbs:
        item["delete"] = _op(rt, "delete", ref, v3)
    collection: dict[str, Any] = {"parameters": list(path_params)}
    if "list" in verbs:
        collection["get"] = _op(rt, "list", ref, v3, extra=list_params)
    if "create" in verbs:
        collection["post"] = _op(rt, "post", ref, v3, body=True)
    if "deletecollection" in verbs:
        collection["delete"] = _op(rt, "deletecollection", ref, v3)
    if len(collection) > 1:
        out[coll] = collection
    if len(item) > 1:
        out[f"{coll}/{{name}}"] = item
    for sub in rt.subresources:
        if sub == "status":
            out[f"{coll}/{{name}}/status"] = {
                "parameters": item["parameters"],
                "get": _op(rt, "get", ref, v3),
                "put": _op(rt, "put", ref, v3, body=True),
                "patch": _op(rt, "patch", ref, v3, patch=True),
            }
    if rt.namespaced and "list" in verbs:
        out[f"{base}/{rt.plural}"] = {"get": _op(rt, "list", ref, v3, extra=list_params)}
    return out
