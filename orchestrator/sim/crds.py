"""Custom resources: validation against their CRD's structural schema, and their table columns.

As apiextensions-apiserver does: fields the schema does not declare are pruned (reported, so
`fieldValidation=Strict` can reject them) unless `x-kubernetes-preserve-unknown-fields`; then
types, `required` and `enum` are checked and violations make a 422 Invalid. `kubectl get` columns
come from the version's additionalPrinterColumns (JSONPath), with Age when none are declared.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import ApiError
from .resources import Registry, ResourceType
from .tables import TABLE_API_VERSION, _parse_time, columns_for, human_duration, to_table

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}
_GO_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


def _go_type(value: Any) -> str:
    return "null" if value is None else _GO_TYPES.get(type(value), "string")


def _type_ok(value: Any, schema: dict) -> bool:
    expected = schema.get("type")
    if not expected or schema.get("x-kubernetes-int-or-string") and isinstance(value, (int, str)):
        return True
    if isinstance(value, bool) and expected != "boolean":
        return False
    return isinstance(value, _TYPES.get(expected, (object,)))


def prune(value: Any, schema: dict, old: Any, path: str, unknown: list[str]) -> None:
    """Remove fields `schema` does not declare (those in `old` too: they were stored before)."""
    if isinstance(value, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields") and not schema.get("properties"):
            return
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        olds = old if isinstance(old, dict) else {}
        for key in list(value):
            sub = props.get(key) if props else None
            if sub is None and isinstance(extra, dict):
                sub = extra
            if sub is None:
                if props is None and (extra is True or schema.get("x-kubernetes-preserve-unknown-fields")):
                    continue
                if schema.get("x-kubernetes-preserve-unknown-fields"):
                    continue
                if key not in olds:
                    unknown.append(f"{path}{key}")
                del value[key]
                continue
            prune(value[key], sub, olds.get(key), f"{path}{key}.", unknown)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        old_items = old if isinstance(old, list) else []
        for i, item in enumerate(value):
            prune(
                item,
                schema["items"],
                old_items[i] if i < len(old_items) else None,
                f"{path.rstrip('.')}[{i}].",
                unknown,
            )


def validate(value: Any, schema: dict, path: str, errors: list[tuple[str, str]]) -> None:
    """(field path, message) for each violation of type, required, enum, bounds."""
    if value is None:
        return  # nulls are dropped before storing (admission), as the API server prunes them
    if not _type_ok(value, schema):
        shown = value if isinstance(value, (str, int, float)) else _go_type(value)
        errors.append(
            (
                path,
                f'Invalid value: "{shown}": {path} in body must be of type {schema.get("type")}: "{_go_type(value)}"',
            )
        )
        return
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        allowed = ", ".join(f'"{e}"' if isinstance(e, str) else str(e) for e in enum)
        errors.append((path, f'Unsupported value: "{value}": supported values: {allowed}'))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(
                (path, f"Invalid value: {value}: {path} in body should be greater than or equal to {schema['minimum']}")
            )
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(
                (path, f"Invalid value: {value}: {path} in body should be less than or equal to {schema['maximum']}")
            )
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append((path, f"Invalid value: \"{value}\": {path} in body should match '{schema['pattern']}'"))
    if isinstance(value, dict):
        prefix = f"{path}." if path else ""
        for req in schema.get("required") or []:
            if req not in value:
                errors.append((f"{prefix}{req}", "Required value"))
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key) if key in props else (extra if isinstance(extra, dict) else None)
            if sub is not None and not (path == "" and key in ("apiVersion", "kind", "metadata")):
                validate(item, sub, f"{prefix}{key}", errors)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{i}]", errors)


def check(
    registry: Registry, rt: ResourceType, obj: dict, old: dict | None, subresource: str | None, strict: bool = False
) -> list[str]:
    """Prune and validate a custom resource in place; the unknown fields found (for Strict/Warn).
    Under `strict`, unknown fields are returned before validation: decoding fails first."""
    version = registry.crd_versions.get((rt.group, rt.version, rt.plural)) or {}
    if "status" in (version.get("subresources") or {}) and old is None:
        obj.pop("status", None)  # with the status subresource, status is written only through /status
    schema = (version.get("schema") or {}).get("openAPIV3Schema")
    if not schema:
        return []
    root = dict(schema)
    root["properties"] = {
        **(schema.get("properties") or {}),
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    }
    unknown: list[str] = []
    prune(obj, root, old, "", unknown)
    if unknown and strict:
        return unknown
    errors: list[tuple[str, str]] = []
    validate(obj, root, "", errors)
    if errors:
        name = obj.get("metadata", {}).get("name", "")
        what = f"{rt.kind}.{rt.group}"
        if len(errors) == 1:
            message = f'{what} "{name}" is invalid: {errors[0][0]}: {errors[0][1]}'
        else:
            message = f'{what} "{name}" is invalid: [' + ", ".join(f"{p}: {m}" for p, m in errors) + "]"
        causes = [{"reason": "FieldValueInvalid", "message": m, "field": p} for p, m in errors]
        raise ApiError(422, message, "Invalid", {"name": name, "group": rt.group, "kind": rt.kind, "causes": causes})
    return unknown


# ------------------------------------------------------------------------------------------ tables
_STEP = re.compile(r"""\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.]+)\s*==\s*["']([^"']*)["']\)\]""")


def jsonpath(obj: Any, path: str) -> Any:
    """The value at a simple JSONPath (.a.b, [0], [?(@.type=="Ready")]), or None."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    path = path.lstrip("$")
    value = obj
    for m in _STEP.finditer(path):
        key, index, fkey, fval = m.groups()
        if key is not None:
            value = value.get(key) if isinstance(value, dict) else None
        elif index is not None:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
        else:
            matches = [v for v in (value or []) if isinstance(v, dict) and str(jsonpath(v, "." + fkey)) == fval]
            value = matches[0] if matches else None
        if value is None:
            return None
    return value


def _cell(value: Any, ctype: str, now: float) -> Any:
    if value is None:
        return None
    if ctype == "date":
        ts = _parse_time(value)
        return human_duration(now - ts) if ts is not None else "<invalid>"
    if ctype == "integer" and isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value


def table(registry: Registry, rt: ResourceType, objects: list[dict], now: float, include_object: str, rv: str) -> dict:
    version = registry.crd_versions.get((rt.group, rt.version, rt.plural)) or {}
    printer = version.get("additionalPrinterColumns")
    if not printer:
        return to_table(rt.kind, objects, now, include_object, resource_version=rv)
    base = to_table(rt.kind, objects, now, include_object, resource_version=rv)
    name_col = columns_for(rt.kind)[0]
    cols = [name_col] + [
        {
            "name": c["name"],
            "type": c.get("type", "string"),
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": c.get("priority", 0),
        }
        for c in printer
    ]
    for row, obj in zip(base["rows"], objects, strict=True):
        row["cells"] = [obj["metadata"]["name"]] + [
            _cell(jsonpath(obj, c.get("jsonPath", "")), c.get("type", "string"), now) for c in printer
        ]
    base["columnDefinitions"] = cols
    base["apiVersion"] = TABLE_API_VERSION
    return base
