"""Scenario files: which applications to install and which faults to inject.

Three shapes load:
- ITBench `itbench.io/v2` `Scenario` (YAML): `spec.applications.{opentelemetryDemo,bookInfo}` and
  `spec.faults[].injections[] {id, args}`, exactly as ITBench writes them;
- ITBench library scenario JSON (`environment.applications[].id`, `disruptions[].injections[]`);
- our own `sim.sre-agent.dev/v1alpha1` `Scenario`:

      apiVersion: sim.sre-agent.dev/v1alpha1
      kind: Scenario
      metadata: {name: my-incident}
      spec:
        applications:                 # a built-in model by name, or your own model file
          - {name: opentelemetry-demo, options: {autoscaling: {kubernetes: {hpa: true}}}}
          - {name: book-info, options: {replicas: 20}}   # every workload of the application at 20 pods
          - {file: my-shop.yaml}       # format: orchestrator/sim/apps.py, relative to this file
        warmup: 120            # virtual seconds the applications run healthy before the faults
        cluster: {nodes: 2, cpu: "2", memory: 4Gi, gpus: 1}   # worker shape: orchestrator/sim/shape.py
        objects:               # objects of its own, created after the applications (before the warmup)
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: runbook, namespace: otel-demo}, data: {...}}
        faults: [{id: nonexistent-kubernetes-workload-container-image, args: {...}}]
        images:                # image catalogue entries of its own (format: sim/runtime/images.yaml)
          - {repository: registry.example.com/team/api, tags: ["1.*"], entrypoint: [/api],
             programs: {/api: {exit: 1, logs: ["panic: missing DATABASE_URL"]}}}
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .apps import Application, ApplicationError, load_application_file
from .errors import ApiError
from .runtime.catalogue import CatalogueError, catalogue_for, parse_entry
from .shape import ShapeError, shape_from_dict

if TYPE_CHECKING:
    from .cluster import Cluster

DEFAULT_WARMUP_SECONDS = 120.0

# metadata.annotations key for the symptom the scenario shows, in the words an on-call engineer is paged
# with (never its cause): the summary of the scenario's example incident.
SUMMARY_ANNOTATION = "sim.sre-agent.dev/summary"

# ITBench application keys and ids -> our application model names.
APPLICATION_KEYS = {
    "opentelemetryDemo": "opentelemetry-demo",
    "opentelemetry-demo": "opentelemetry-demo",
    "otel-demo": "opentelemetry-demo",
    "bookInfo": "book-info",
    "book-info": "book-info",
}


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message names the file and the field."""


def read_document(path: str | Path) -> dict:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as err:
        raise ScenarioError(f"{p}: cannot read the scenario: {err.strerror or err}") from err
    try:
        doc = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise ScenarioError(f"{p}: not valid {'JSON' if p.suffix == '.json' else 'YAML'}: {err}") from err
    if not isinstance(doc, dict):
        raise ScenarioError(f"{p}: a scenario must be a mapping")
    return doc


def normalise(doc: dict, source: str = "<scenario>") -> dict[str, Any]:
    """Any supported shape -> {name, applications: [(name, options)], faults: [{id, args}], warmup}."""
    api = str(doc.get("apiVersion", ""))
    if doc.get("kind") == "Scenario" and api.startswith("itbench.io/"):
        spec = doc.get("spec") or {}
        apps: list[tuple[str | Application, dict]] = []
        for key, conf in (spec.get("applications") or {}).items():
            conf = conf or {}
            if not conf.get("enabled", True):
                continue
            if key not in APPLICATION_KEYS:
                raise ScenarioError(
                    f"{source}: spec.applications.{key}: unknown application (known: opentelemetryDemo, bookInfo)"
                )
            apps.append((APPLICATION_KEYS[key], conf.get("options") or {}))
        faults = [
            {"id": inj.get("id"), "args": inj.get("args") or {}}
            for group in spec.get("faults") or []
            for inj in (group or {}).get("injections") or []
        ]
        name = (doc.get("metadata") or {}).get("name") or Path(source).parent.name
        return {"name": name, "applications": apps, "faults": faults, "warmup": DEFAULT_WARMUP_SECONDS}
    if "disruptions" in doc and "environment" in doc:
        apps = []
        for a in (doc.get("environment") or {}).get("applications") or []:
            if a.get("id") not in APPLICATION_KEYS:
                raise ScenarioError(f"{source}: environment.applications: unknown application {a.get('id')!r}")
            apps.append((APPLICATION_KEYS[a["id"]], a.get("args") or {}))
        faults = [
            {"id": inj.get("id"), "args": inj.get("args") or {}}
            for d in doc["disruptions"]
            for inj in d.get("injections") or []
        ]
        return {
            "name": f"scenario-{doc.get('id')}",
            "applications": apps,
            "faults": faults,
            "warmup": DEFAULT_WARMUP_SECONDS,
        }
    if doc.get("kind") == "Scenario" and api.startswith("sim.sre-agent.dev/"):
        spec = doc.get("spec") or {}
        unknown = set(spec) - {"applications", "faults", "warmup", "images", "cluster", "objects"}
        if unknown:
            raise ScenarioError(f"{source}: spec: unknown field(s) {', '.join(sorted(unknown))}")
        apps = []
        for i, a in enumerate(spec.get("applications") or []):
            if isinstance(a, dict) and a.get("file"):
                # A user's own application model, relative to the scenario file.
                app_path = Path(source).parent / a["file"]
                try:
                    apps.append((load_application_file(app_path), a.get("options") or {}))
                except ApplicationError as err:
                    raise ScenarioError(f"{source}: spec.applications[{i}].file: {err}") from err
                continue
            name = a.get("name") if isinstance(a, dict) else a
            if name not in APPLICATION_KEYS:
                raise ScenarioError(f"{source}: spec.applications[{i}].name: unknown application {name!r}")
            apps.append((APPLICATION_KEYS[name], (a.get("options") if isinstance(a, dict) else None) or {}))
        for i, (_, options) in enumerate(apps):
            replicas = options.get("replicas") if isinstance(options, dict) else None
            if replicas is not None and (isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0):
                raise ScenarioError(f"{source}: spec.applications[{i}].options.replicas: a whole number, 0 or more")
        faults = []
        for i, f in enumerate(spec.get("faults") or []):
            if not isinstance(f, dict) or "id" not in f:
                raise ScenarioError(f"{source}: spec.faults[{i}].id: required")
            faults.append({"id": f["id"], "args": f.get("args") or {}})
        images = list(spec.get("images") or [])
        for i, entry in enumerate(images):
            try:
                parse_entry(entry)
            except (CatalogueError, TypeError, ValueError) as err:
                raise ScenarioError(f"{source}: spec.images[{i}]: {err}") from err
        objects = list(spec.get("objects") or [])
        for i, obj in enumerate(objects):
            if not isinstance(obj, dict) or not obj.get("kind") or not (obj.get("metadata") or {}).get("name"):
                raise ScenarioError(f"{source}: spec.objects[{i}]: a Kubernetes object needs kind and metadata.name")
        plan: dict[str, Any] = {
            "name": (doc.get("metadata") or {}).get("name", "scenario"),
            "applications": apps,
            "faults": faults,
            "warmup": float(spec.get("warmup", DEFAULT_WARMUP_SECONDS)),
            "images": images,
            "objects": objects,
        }
        if spec.get("cluster") is not None:
            try:
                plan["cluster"] = shape_from_dict(spec["cluster"])
            except ShapeError as err:
                raise ScenarioError(f"{source}: spec.{err}") from err
        return plan
    raise ScenarioError(
        f"{source}: not a scenario (expected apiVersion itbench.io/v2 or sim.sre-agent.dev/v1alpha1 with kind: Scenario)"
    )


def scenario_problem(path: str | Path) -> str | None:
    """What would stop a scenario loading (bad document, unknown fault id or arguments), in one line."""
    from .faults import FaultError, validate_fault

    try:
        plan = normalise(read_document(path), str(path))
        for fault in plan["faults"]:
            validate_fault(fault["id"], fault["args"])
    except (ScenarioError, FaultError) as err:
        return str(err).splitlines()[0]
    return None


@dataclass(frozen=True)
class ScenarioFacts:
    """What a scenario is about, read without running it."""

    name: str
    applications: tuple[str, ...]
    faults: tuple[tuple[str, str], ...]  # (fault id, target as namespace/Kind/name)
    namespaces: tuple[str, ...]  # of the faults' targets, in the order the faults come
    summary: str | None  # SUMMARY_ANNOTATION, when the scenario has one


def describe_scenario(path: str | Path) -> ScenarioFacts:
    """The scenario's applications, faults and their targets, and the namespaces they are in."""
    from .faults import target_name

    doc = read_document(path)
    plan = normalise(doc, str(path))
    faults = tuple((str(f["id"]), target_name(f["args"])) for f in plan["faults"])
    namespaces = (
        ((f["args"].get("kubernetesObject") or {}).get("metadata") or {}).get("namespace") for f in plan["faults"]
    )
    annotations = (doc.get("metadata") or {}).get("annotations") or {}
    summary = annotations.get(SUMMARY_ANNOTATION) if isinstance(annotations, dict) else None
    return ScenarioFacts(
        name=str(plan["name"]),
        applications=tuple(app.name if isinstance(app, Application) else str(app) for app, _ in plan["applications"]),
        faults=faults,
        namespaces=tuple(dict.fromkeys(str(ns) for ns in namespaces if ns)),
        summary=str(summary) if summary else None,
    )


def load_scenario(cluster: Cluster, path: str | Path) -> dict[str, Any]:
    """Install the scenario's applications, let them warm up, then inject its faults."""
    doc = read_document(path)
    plan = normalise(doc, str(path))
    apply_plan(cluster, plan)
    return plan


def apply_plan(cluster: Cluster, plan: dict[str, Any]) -> None:
    from .faults import validate_fault

    for f in plan["faults"]:
        validate_fault(f["id"], f["args"])  # fail before installing anything
    catalogue_for(cluster).add(plan.get("images") or [])
    if plan.get("cluster") is not None:
        cluster.reshape(plan["cluster"])
    for app, options in plan["applications"]:
        if isinstance(app, Application):
            cluster.catalog[app.name] = app
            app = app.name
        cluster.install_application(app, options)
    for i, obj in enumerate(plan.get("objects") or []):
        try:
            cluster.apply(copy.deepcopy(obj))
        except ApiError as err:
            raise ScenarioError(f"spec.objects[{i}] ({obj['kind']}/{obj['metadata']['name']}): {err}") from err
    cluster.scenario_name = plan["name"]
    cluster.advance(plan.get("warmup", DEFAULT_WARMUP_SECONDS))
    inject_faults(cluster, plan["faults"])


def inject_faults(cluster: Cluster, faults: list[dict]) -> list[dict]:
    from .faults import inject

    done = []
    for f in faults:
        done.append(inject(cluster, f["id"], f["args"]))
    cluster.after_write()
    return done


def inject_document(cluster: Cluster, doc: dict) -> list[dict]:
    """POST /sim/v1/inject: a whole scenario document or {"faults": [...]} into the running cluster."""
    if "faults" in doc and "kind" not in doc:
        from .faults import validate_fault

        for f in doc["faults"]:
            validate_fault(f.get("id"), f.get("args") or {})
        return inject_faults(cluster, [{"id": f["id"], "args": f.get("args") or {}} for f in doc["faults"]])
    plan = normalise(doc)
    catalogue_for(cluster).add(plan.get("images") or [])
    return inject_faults(cluster, plan["faults"])
