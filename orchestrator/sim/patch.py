"""Patch algorithms used by the simulated API server's PATCH verb.

Three content types are supported, matching what kubectl and client libraries send:

* ``application/merge-patch+json``      -> :func:`json_merge_patch` (RFC 7386)
* ``application/json-patch+json``       -> :func:`json_patch` (RFC 6902)
* ``application/strategic-merge-patch+json`` -> :func:`strategic_merge_patch`

Every function works on a deep copy: the stored object handed in is never mutated, so
a failed patch can simply be discarded by the caller without rollback logic.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "STRATEGIC_KINDS",
    "PatchError",
    "json_merge_patch",
    "json_patch",
    "strategic_merge_patch",
    "supports_strategic_merge",
]


class PatchError(ValueError):
    """A patch document is malformed or cannot be applied to the target."""


# --------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------


def _json_equal(a: Any, b: Any) -> bool:
    """JSON value equality.

    Python's ``==`` says ``True == 1`` and ``1 == 1.0``; JSON distinguishes booleans
    from numbers but not ints from floats, so compare by JSON type first.
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _require_object(value: Any, what: str) -> None:
    if not isinstance(value, dict):
        raise PatchError(f"{what} must be a JSON object, got {type(value).__name__}")


# --------------------------------------------------------------------------------------
# RFC 7386 JSON merge patch
# --------------------------------------------------------------------------------------


def _merge(target: Any, patch: Any) -> Any:
    # RFC 7386 section 2: a non-object patch replaces the target wholesale.
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def json_merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply an RFC 7386 JSON merge patch and return the new object.

    Objects merge recursively, ``null`` deletes a key, anything else (including
    lists) replaces. Both documents must be objects at the top level because a
    Kubernetes resource can never become a scalar or list.
    """
    _require_object(target, "merge patch target")
    _require_object(patch, "merge patch")
    return _merge(target, patch)


# --------------------------------------------------------------------------------------
# RFC 6902 JSON patch
# --------------------------------------------------------------------------------------

_BAD_ESCAPE = re.compile(r"~(?![01])")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def _parse_pointer(pointer: Any, what: str) -> list[str]:
    """Split an RFC 6901 JSON pointer into unescaped reference tokens."""
    if not isinstance(pointer, str):
        raise PatchError(f"'{what}' must be a string JSON pointer, got {pointer!r}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer {pointer!r}: must be empty or start with '/'")
    tokens = pointer[1:].split("/")
    for token in tokens:
        if _BAD_ESCAPE.search(token):
            raise PatchError(f"invalid JSON pointer {pointer!r}: '~' must be followed by 0 or 1")
    # Order matters (RFC 6901 section 4): "~01" must decode to "~1", not "/".
    return [t.replace("~1", "/").replace("~0", "~") for t in tokens]


def _array_index(token: str, length: int, pointer: str, *, allow_end: bool) -> int:
    if token == "-":
        if allow_end:
            return length
        raise PatchError(f"path {pointer!r}: '-' (end of array) is only valid for add")
    # RFC 6901 forbids leading zeros and signs, so "01" or "-1" are errors, not indexes.
    if not _ARRAY_INDEX.fullmatch(token):
        raise PatchError(f"path {pointer!r}: {token!r} is not a valid array index")
    index = int(token)
    limit = length if allow_end else length - 1
    if index > limit:
        raise PatchError(f"path {pointer!r}: array index {index} out of range (length {length})")
    return index


def _resolve(doc: Any, tokens: list[str], pointer: str) -> Any:
    """Return the value the tokens refer to; raise if any step is missing."""
    current = doc
    for token in tokens:
        if isinstance(current, dict):
            if token not in current:
                raise PatchError(f"path {pointer!r} does not exist")
            current = current[token]
        elif isinstance(current, list):
            current = current[_array_index(token, len(current), pointer, allow_end=False)]
        else:
            raise PatchError(f"path {pointer!r} does not exist (traverses a scalar)")
    return current


def _container_of(doc: Any, tokens: list[str], pointer: str) -> Any:
    parent = _resolve(doc, tokens[:-1], pointer)
    if not isinstance(parent, (dict, list)):
        raise PatchError(f"path {pointer!r}: parent is not an object or array")
    return parent


def _op_add(doc: Any, tokens: list[str], value: Any, pointer: str) -> Any:
    if not tokens:
        return value
    parent = _container_of(doc, tokens, pointer)
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    else:
        parent.insert(_array_index(tokens[-1], len(parent), pointer, allow_end=True), value)
    return doc


def _op_remove(doc: Any, tokens: list[str], pointer: str) -> tuple[Any, Any]:
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _container_of(doc, tokens, pointer)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise PatchError(f"path {pointer!r} does not exist")
        return doc, parent.pop(tokens[-1])
    return doc, parent.pop(_array_index(tokens[-1], len(parent), pointer, allow_end=False))


def _op_replace(doc: Any, tokens: list[str], value: Any, pointer: str) -> Any:
    if not tokens:
        return value
    parent = _container_of(doc, tokens, pointer)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise PatchError(f"path {pointer!r} does not exist")
        parent[tokens[-1]] = value
    else:
        parent[_array_index(tokens[-1], len(parent), pointer, allow_end=False)] = value
    return doc


def _apply_op(doc: Any, op: Any) -> Any:
    if not isinstance(op, dict):
        raise PatchError(f"operation must be an object, got {type(op).__name__}")
    name = op.get("op")
    if "path" not in op:
        raise PatchError(f"operation {name!r} is missing 'path'")
    pointer = op["path"]
    tokens = _parse_pointer(pointer, "path")

    def value() -> Any:
        # Presence, not truthiness: {"value": null} is a legal value.
        if "value" not in op:
            raise PatchError(f"operation {name!r} at {pointer!r} is missing 'value'")
        return copy.deepcopy(op["value"])

    def source() -> tuple[str, list[str]]:
        if "from" not in op:
            raise PatchError(f"operation {name!r} at {pointer!r} is missing 'from'")
        return op["from"], _parse_pointer(op["from"], "from")

    if name == "add":
        return _op_add(doc, tokens, value(), pointer)
    if name == "remove":
        return _op_remove(doc, tokens, pointer)[0]
    if name == "replace":
        return _op_replace(doc, tokens, value(), pointer)
    if name == "move":
        from_pointer, from_tokens = source()
        if tokens == from_tokens:
            _resolve(doc, from_tokens, from_pointer)  # still must exist
            return doc
        # RFC 6902 4.4: a location cannot be moved into one of its own children.
        if tokens[: len(from_tokens)] == from_tokens:
            raise PatchError(f"cannot move {from_pointer!r} into its own child {pointer!r}")
        doc, moved = _op_remove(doc, from_tokens, from_pointer)
        return _op_add(doc, tokens, moved, pointer)
    if name == "copy":
        from_pointer, from_tokens = source()
        copied = copy.deepcopy(_resolve(doc, from_tokens, from_pointer))
        return _op_add(doc, tokens, copied, pointer)
    if name == "test":
        expected = value()
        actual = _resolve(doc, tokens, pointer)
        if not _json_equal(actual, expected):
            raise PatchError(f"test failed at {pointer!r}: expected {expected!r}, found {actual!r}")
        return doc
    raise PatchError(f"unknown or missing patch operation {name!r}")


def json_patch(target: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply an RFC 6902 JSON patch (a list of operations) and return the new object.

    Operations apply in order to a private copy, so the patch is atomic: if any
    operation fails a :class:`PatchError` is raised and nothing is changed.
    """
    _require_object(target, "JSON patch target")
    if not isinstance(ops, list):
        raise PatchError(f"JSON patch must be an array of operations, got {type(ops).__name__}")
    doc: Any = copy.deepcopy(target)
    for index, op in enumerate(ops):
        try:
            doc = _apply_op(doc, op)
        except PatchError as exc:
            raise PatchError(f"JSON patch operation {index}: {exc}") from None
    if not isinstance(doc, dict):
        raise PatchError("JSON patch result must be a JSON object")
    return doc


# --------------------------------------------------------------------------------------
# Kubernetes strategic merge patch
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ListRule:
    """How a list field merges (the Go patchStrategy/patchMergeKey struct tags)."""

    strategy: str  # "merge" or "replace"
    key: str | None = None  # merge key for lists of objects; None = list of scalars


_REPLACE = _ListRule("replace")
_SCALAR_SET = _ListRule("merge")  # e.g. finalizers: union of scalars


def _keyed(key: str) -> _ListRule:
    return _ListRule("merge", key)


_CONTAINER_LISTS: dict[str, _ListRule] = {
    "env": _keyed("name"),
    "envFrom": _REPLACE,
    "ports": _keyed("containerPort"),
    "volumeMounts": _keyed("mountPath"),
    "volumeDevices": _keyed("devicePath"),
    "resizePolicy": _REPLACE,
}

_POD_SPEC_LISTS: dict[str, _ListRule] = {
    "volumes": _keyed("name"),
    "imagePullSecrets": _keyed("name"),
    "tolerations": _REPLACE,
    "hostAliases": _keyed("ip"),
    "topologySpreadConstraints": _keyed("topologyKey"),
    "schedulingGates": _keyed("name"),
    "resourceClaims": _keyed("name"),
    "readinessGates": _REPLACE,
}

_CONTAINER_FIELDS = ("containers", "initContainers", "ephemeralContainers")

_METADATA_LISTS: dict[str, _ListRule] = {
    "ownerReferences": _keyed("uid"),
    "finalizers": _SCALAR_SET,
    "managedFields": _REPLACE,
}

# Where each workload kind embeds a PodSpec (and the pod template's metadata).
_POD_SPEC_ROOTS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template.spec",),
    "Deployment": ("spec.template.spec",),
    "ReplicaSet": ("spec.template.spec",),
    "StatefulSet": ("spec.template.spec",),
    "DaemonSet": ("spec.template.spec",),
    "Job": ("spec.template.spec",),
    "ReplicationController": ("spec.template.spec",),
    "CronJob": ("spec.jobTemplate.spec.template.spec",),
}

_KIND_LISTS: dict[str, dict[str, _ListRule]] = {
    "Pod": {"status.podIPs": _keyed("ip"), "status.hostIPs": _keyed("ip")},
    "Service": {"spec.ports": _keyed("port"), "status.loadBalancer.ingress": _REPLACE},
    "Node": {
        "spec.podCIDRs": _SCALAR_SET,
        "spec.taints": _REPLACE,
        "status.addresses": _keyed("type"),
    },
    "ServiceAccount": {"secrets": _keyed("name")},
    "Endpoints": {"subsets": _REPLACE},
}

# Built-in kinds that accept strategic merge patch. Anything else is treated as a custom
# resource; the real API server answers 415 there, the simulator uses merge patch.
STRATEGIC_KINDS: frozenset[str] = frozenset(
    {
        *_POD_SPEC_ROOTS,
        *_KIND_LISTS,
        "ConfigMap",
        "Secret",
        "Namespace",
        "Event",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "LimitRange",
        "ResourceQuota",
        "Ingress",
        "IngressClass",
        "NetworkPolicy",
        "EndpointSlice",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "PriorityClass",
        "StorageClass",
        "Lease",
    }
)


def _build_rules(kind: str) -> dict[str, _ListRule]:
    """Map dotted field paths (list traversal adds no segment) to list merge rules."""
    rules: dict[str, _ListRule] = {}
    # Pod/Node/workload/Namespace/PVC... conditions are all keyed by "type".
    rules["status.conditions"] = _keyed("type")
    meta_roots = ["metadata"]
    for root in _POD_SPEC_ROOTS.get(kind, ()):
        meta_roots.append(root.rsplit(".", 1)[0] + ".metadata" if "." in root else "metadata")
        for field, rule in _POD_SPEC_LISTS.items():
            rules[f"{root}.{field}"] = rule
        for containers in _CONTAINER_FIELDS:
            rules[f"{root}.{containers}"] = _keyed("name")
            for field, rule in _CONTAINER_LISTS.items():
                rules[f"{root}.{containers}.{field}"] = rule
    for meta in meta_roots:
        for field, rule in _METADATA_LISTS.items():
            rules[f"{meta}.{field}"] = rule
    rules.update(_KIND_LISTS.get(kind, {}))
    return rules


_RULES: dict[str, dict[str, _ListRule]] = {kind: _build_rules(kind) for kind in STRATEGIC_KINDS}

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"


class _Deleted:
    """Sentinel returned when a map carries ``$patch: delete``."""


_DELETED = _Deleted()


def _is_directive_key(key: str) -> bool:
    return key in (_DIRECTIVE, _RETAIN_KEYS) or key.startswith((_SET_ORDER, _DELETE_PRIMITIVE))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _smp_map(original: Any, patch: dict[str, Any], path: str, rules: dict[str, _ListRule]) -> Any:
    """Merge a patch map into a copy of ``original``; may return ``_DELETED``."""
    directive = patch.get(_DIRECTIVE, "merge")
    if directive == "delete":
        return _DELETED
    if directive == "replace":
        # Replace the whole map, but still run the patch through the merger against
        # nothing so nested directives and nulls don't leak into the stored object.
        body = {k: v for k, v in patch.items() if k != _DIRECTIVE}
        return _smp_map({}, body, path, rules)
    if directive != "merge":
        raise PatchError(f"{path or '<root>'}: unknown $patch directive {directive!r}")

    result: dict[str, Any] = copy.deepcopy(original) if isinstance(original, dict) else {}

    if _RETAIN_KEYS in patch:
        retain = patch[_RETAIN_KEYS]
        if not isinstance(retain, list) or not all(isinstance(k, str) for k in retain):
            raise PatchError(f"{path or '<root>'}: $retainKeys must be a list of strings")
        for key in patch:
            if not _is_directive_key(key) and key not in retain:
                raise PatchError(f"{path or '<root>'}: key {key!r} is not listed in $retainKeys")
        # Used for union types (volume source, deployment strategy): drop old member.
        result = {k: v for k, v in result.items() if k in retain}

    # Deletions from scalar lists run before merging, so the same patch can add and
    # remove finalizers without the add being undone.
    for key, values in patch.items():
        if not key.startswith(_DELETE_PRIMITIVE):
            continue
        field = key[len(_DELETE_PRIMITIVE) :]
        if not isinstance(values, list):
            raise PatchError(f"{_join(path, field)}: {key} must be a list")
        current = result.get(field)
        if isinstance(current, list):
            result[field] = [v for v in current if not any(_json_equal(v, d) for d in values)]

    for key, value in patch.items():
        if _is_directive_key(key):
            continue
        child = _join(path, key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(result.get(key), value, child, rules)
            if merged is _DELETED:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _smp_list(result.get(key), value, child, rules)
        else:
            result[key] = copy.deepcopy(value)

    for key, order in patch.items():
        if not key.startswith(_SET_ORDER):
            continue
        field = key[len(_SET_ORDER) :]
        if not isinstance(order, list):
            raise PatchError(f"{_join(path, field)}: {key} must be a list")
        current = result.get(field)
        if isinstance(current, list):
            rule = rules.get(_join(path, field))
            result[field] = _apply_order(current, order, rule.key if rule else None)
    return result


def _apply_order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """Reorder the items named in ``order`` among the slots they already occupy.

    Items the order does not mention (e.g. added by another writer) keep their
    position, and unknown order entries are ignored; this is the forgiving subset of
    the Kubernetes behaviour.
    """

    def identity(item: Any) -> Any:
        if key is not None and isinstance(item, dict):
            return item.get(key)
        return item

    order_ids = [identity(entry) for entry in order]

    def rank(item: Any) -> int | None:
        ident = identity(item)
        for index, wanted in enumerate(order_ids):
            if _json_equal(ident, wanted):
                return index
        return None

    ranked = [(r, i) for i, r in enumerate(rank(item) for item in items) if r is not None]
    slots = [i for _, i in ranked]
    result = list(items)
    for slot, (_, source) in zip(slots, sorted(ranked), strict=True):
        result[slot] = items[source]
    return result


def _is_list_directive(item: Any) -> bool:
    return isinstance(item, dict) and _DIRECTIVE in item


def _smp_list(original: Any, patch: list[Any], path: str, rules: dict[str, _ListRule]) -> list[Any]:
    rule = rules.get(path, _REPLACE)
    if rule.strategy == "replace":
        # Atomic list: the patch wins; only drop a stray {"$patch": "replace"} marker.
        return [copy.deepcopy(item) for item in patch if item != {_DIRECTIVE: "replace"}]

    replace_all = any(_is_list_directive(i) and i[_DIRECTIVE] == "replace" for i in patch)
    base = [] if replace_all or not isinstance(original, list) else copy.deepcopy(original)

    if rule.key is None:
        # List of scalars merged as an ordered set (e.g. finalizers).
        for item in patch:
            if _is_list_directive(item):
                continue
            if not any(_json_equal(item, existing) for existing in base):
                base.append(copy.deepcopy(item))
        return base

    key = rule.key
    for item in patch:
        if not _is_list_directive(item):
            continue
        directive = item[_DIRECTIVE]
        if directive == "delete":
            if key not in item:
                raise PatchError(f"{path}: $patch: delete item must contain merge key {key!r}")
            if not replace_all:
                base = [b for b in base if not _same_key(b, item, key)]
        elif directive not in ("replace", "merge"):
            raise PatchError(f"{path}: unknown $patch directive {directive!r} in list")

    for item in patch:
        if _is_list_directive(item) and item[_DIRECTIVE] in ("delete", "replace"):
            continue
        if not isinstance(item, dict):
            raise PatchError(f"{path}: expected a list of objects merged by {key!r}, got {item!r}")
        if key not in item:
            raise PatchError(f"{path}: list item {item!r} does not contain merge key {key!r}")
        body = {k: v for k, v in item.items() if k != _DIRECTIVE}
        for index, existing in enumerate(base):
            if _same_key(existing, item, key):
                base[index] = _smp_map(existing, body, path, rules)
                break
        else:
            base.append(_smp_map({}, body, path, rules))
    return base


def _same_key(existing: Any, item: dict[str, Any], key: str) -> bool:
    return isinstance(existing, dict) and key in existing and _json_equal(existing[key], item[key])


def supports_strategic_merge(kind: str) -> bool:
    """Whether ``kind`` is a built-in kind with strategic merge patch metadata."""
    return kind in STRATEGIC_KINDS


def strategic_merge_patch(target: dict[str, Any], patch: dict[str, Any], kind: str) -> dict[str, Any]:
    """Apply a Kubernetes strategic merge patch for a built-in ``kind``.

    Lists of objects whose field carries a merge key (containers by ``name``,
    container ports by ``containerPort``, Service ports by ``port``...) are merged
    item by item; other lists are replaced; ``null`` deletes a key. Directives
    ``$patch`` (replace/delete/merge), ``$retainKeys``,
    ``$deleteFromPrimitiveList/<field>`` and ``$setElementOrder/<field>`` are
    honoured. Existing list items keep their position and new ones are appended
    unless ``$setElementOrder`` says otherwise.

    Unknown kinds (custom resources) fall back to :func:`json_merge_patch`.
    """
    _require_object(target, "strategic merge patch target")
    _require_object(patch, "strategic merge patch")
    rules = _RULES.get(kind)
    if rules is None:
        return json_merge_patch(target, patch)
    merged = _smp_map(target, patch, "", rules)
    # "$patch: delete" at the root empties the object; the caller decides what next.
    return {} if merged is _DELETED else merged
