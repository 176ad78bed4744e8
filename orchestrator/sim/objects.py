"""Reading Kubernetes objects the way every part of the simulator must agree on.

Readiness, ownership, quantities and a container's environment are judged here once, so the
controllers, the traffic model and the metrics can never disagree about what a pod is or sees.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable
from typing import overload

# kind, namespace, name -> the stored object or None
Finder = Callable[[str, str, str], dict | None]

_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "m": 1e-3,
    "n": 1e-9,
    "u": 1e-6,
}
_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


# ------------------------------------------------------------------------------------ quantities
def parse_quantity(q: str | int | float | None) -> float:
    """Kubernetes quantity -> float in base units (bytes, cores). Raises ValueError on a bad one."""
    if q is None:
        return 0.0
    if isinstance(q, int | float):
        return float(q)
    try:
        return _parse_text(str(q))
    except ValueError:
        raise ValueError(f"quantities must be a number with an optional unit (Mi, Gi, m, k, ...), not {q!r}") from None


def quantity_text(value: object) -> object:
    """A quantity as the API server stores and serves it: always a string (a manifest's `cpu: 3` or
    `cpu: 0.5` reads back as "3" or "500m"; typed clients reject a number there). Anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if float(value).is_integer():
        return str(int(value))
    milli = value * 1000
    return f"{round(milli)}m" if abs(milli - round(milli)) < 1e-9 else repr(value)


@functools.lru_cache(maxsize=4096)
def _parse_text(q: str) -> float:
    """Parsed once per distinct text: every pass over the pods reads the same few requests and limits."""
    m = _QUANTITY.match(q.strip())
    if not m or m.group(2) not in _UNITS:
        raise ValueError(q)
    return float(m.group(1)) * _UNITS[m.group(2)]


@overload
def quantity(value: object) -> float: ...
@overload
def quantity(value: object, default: float | None) -> float | None: ...
def quantity(value: object, default: float | None = 0.0) -> float | None:
    """parse_quantity for controllers and metrics, which must not crash on a bad object."""
    try:
        return parse_quantity(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


# ------------------------------------------------------------------------------------ pods
def pod_ready(pod: dict) -> bool:
    """The pod's Ready condition is True: what Endpoints, ReplicaSets and the traffic model use."""
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def pod_active(pod: dict) -> bool:
    """Not terminating and not finished: a pod that counts toward its owner's replicas."""
    phase = (pod.get("status") or {}).get("phase")
    return not pod["metadata"].get("deletionTimestamp") and phase not in ("Succeeded", "Failed")


def object_reference(obj: dict, api_version: str, kind: str) -> dict:
    """A core/v1 ObjectReference to a namespaced object, as controllers write them into status and specs."""
    meta = obj["metadata"]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "resourceVersion": meta.get("resourceVersion"),
    }


def owned_by(obj: dict, owner: dict) -> bool:
    uid = owner["metadata"]["uid"]
    return any(r.get("uid") == uid and r.get("controller") for r in obj["metadata"].get("ownerReferences") or ())


# ------------------------------------------------------------------------------------ config
def config_data(obj: dict) -> dict:
    return {**(obj.get("binaryData") or {}), **(obj.get("data") or {})}


def decode_value(kind: str, value: object) -> str:
    """A ConfigMap value as is, a Secret value base64-decoded ("" when it is not valid base64)."""
    if kind != "Secret":
        return str(value)
    try:
        return base64.b64decode(str(value)).decode(errors="replace")
    except (ValueError, TypeError):
        return ""


_KEYED_FIELD = re.compile(r"^metadata\.(annotations|labels)\['([^']+)'\]$")


def container_env(pod: dict, container: dict, find: Finder) -> dict[str, str]:
    """The environment the container's process sees: literal values with $(VAR) expansion, envFrom,
    ConfigMap/Secret key references at their current data, and the usual fieldRefs. A reference that
    does not resolve leaves the variable unset (the kubelet reports it as CreateContainerConfigError)."""
    meta = pod["metadata"]
    ns = meta.get("namespace", "default")
    fields = {
        "metadata.name": meta["name"],
        "metadata.namespace": ns,
        "spec.nodeName": (pod.get("spec") or {}).get("nodeName", ""),
        "status.podIP": (pod.get("status") or {}).get("podIP", ""),
    }
    env: dict[str, str] = {"HOSTNAME": meta["name"]}
    for src in container.get("envFrom") or ():
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = src.get(key)
            obj = find(kind, ns, ref.get("name", "")) if ref else None
            for k, v in config_data(obj or {}).items():
                env[src.get("prefix", "") + k] = decode_value(kind, v)
    for e in container.get("env") or ():
        name = e.get("name")
        if not name:
            continue
        if "value" in e:
            env[name] = _VAR_REF.sub(lambda m: env.get(m.group(1), m.group(0)), str(e["value"] or ""))
            continue
        vf = e.get("valueFrom") or {}
        env.pop(name, None)
        if "fieldRef" in vf:
            path = vf["fieldRef"].get("fieldPath", "")
            keyed = _KEYED_FIELD.match(path)
            if keyed:  # metadata.annotations['k'] / metadata.labels['k'] (an Indexed Job's completion index)
                env[name] = str((meta.get(keyed.group(1)) or {}).get(keyed.group(2), ""))
            else:
                env[name] = fields.get(path, "")
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            ref = vf.get(key)
            obj = find(kind, ns, ref.get("name", "")) if ref else None
            if ref and obj is not None and ref.get("key") in config_data(obj):
                env[name] = decode_value(kind, config_data(obj)[ref["key"]])
    return env
