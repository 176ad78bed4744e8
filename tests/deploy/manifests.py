"""The deploy/ folder rendered as a cluster would receive it: `kubectl kustomize` of an overlay, the Helm
chart through Helm's own template engine (helm-python-sdk binds Helm's Go SDK; no helm binary here), and
a check of each object against the Kubernetes API types as the official client's models define them."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("in-process", "job-executor")
CHART = DEPLOY / "helm" / "sre-agent"


def kustomize(overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "kustomize" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # The overlays use `patches` and `replacements`: kubectl 1.27 or later (kustomize 5).
    assert out.returncode == 0, f"kubectl kustomize {overlay}: {out.stderr.strip()}"
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def helm_template(
    values: dict[str, Any] | None = None, name: str = "sre-agent", namespace: str = "sre-agent"
) -> list[dict[str, Any]]:
    import helm_python

    with helm_python.Chart.load(str(CHART)) as chart:
        rendered = chart.render(values or {}, name=name, namespace=namespace)
    return [d for text in rendered.values() for d in yaml.safe_load_all(text) if d]


def chart_crds() -> list[dict[str, Any]]:
    """What Helm installs from the chart's crds/ folder before its templates."""
    return [d for path in sorted((CHART / "crds").glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]


def key(obj: dict[str, Any]) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


class SchemaError(AssertionError):
    pass


def model_class(obj: dict[str, Any]) -> type:
    """The client's model of the object's kind: apps/v1 Deployment -> V1Deployment."""
    version = obj["apiVersion"].rpartition("/")[2]
    name = version[0].upper() + version[1:] + obj["kind"]
    cls = getattr(client, name, None)
    if cls is None:
        raise SchemaError(f"{obj['apiVersion']} {obj['kind']}: not a kind of the Kubernetes API")
    return cls  # type: ignore[no-any-return]


def check_schema(obj: dict[str, Any]) -> None:
    """SchemaError unless `obj` is a valid object of its kind: read into the client's model (required
    fields, each field's type, checked strictly), and written back unchanged (a field the API type does
    not have is dropped on the way, so a difference is an unknown field)."""
    cls = model_class(obj)
    where = f"{obj['kind']}/{obj.get('metadata', {}).get('name', '?')}"
    try:
        model = cls.from_dict(obj)  # type: ignore[attr-defined]
    except ValueError as err:
        raise SchemaError(f"{where}: {err}") from None
    back = client.ApiClient().sanitize_for_serialization(model)
    if back != obj:
        raise SchemaError(f"{where}: fields the API type does not have: {sorted(_dropped(obj, back))}")


def _dropped(given: Any, kept: Any, path: str = "") -> list[str]:
    if isinstance(given, dict) and isinstance(kept, dict):
        out = [f"{path}.{k}" for k in given if k not in kept]
        return out + [p for k in given if k in kept for p in _dropped(given[k], kept[k], f"{path}.{k}")]
    if isinstance(given, list) and isinstance(kept, list):
        return [p for i, (a, b) in enumerate(zip(given, kept, strict=False)) for p in _dropped(a, b, f"{path}[{i}]")]
    return [] if given == kept else [path or "."]
