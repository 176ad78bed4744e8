"""The real-world dev set as fixtures: public failure demos (robusta-dev/kubernetes-demos) replayed on the
simulator through the official kubernetes client, checked against what a real cluster shows.

Each case folder holds the upstream manifests (unchanged) and `spec.yaml` (format in README.md). A case
runs on kube-prometheus' rules with their real `for:` durations, as `sre-agent sim serve` does, so an
alert is asserted only after the time a real cluster would take to fire it.

Cases the simulator cannot reproduce yet keep their data here and are listed in PENDING with what is
missing; they are not collected as tests. When one starts to pass, move it out of PENDING.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

from orchestrator.sim.cluster import WORKER_NODES, Cluster
from orchestrator.sim.runner import SimulatorServer
from orchestrator.sim.runtime.catalogue import catalogue_for, read_image_file
from orchestrator.sim.shape import shape_from_dict

HERE = Path(__file__).parent

PENDING: dict[str, str] = {}

SPEC_KEYS = {"namespace", "cluster", "replay", "wait", "expect"}
EXPECT_KEYS = {
    "pods",
    "deployments",
    "jobs",
    "hpas",
    "nodes",
    "ingresses",
    "events",
    "logs",
    "no_warning_events",
    "alerts",
}


def case_names() -> list[str]:
    return sorted(p.parent.name for p in HERE.glob("*/spec.yaml"))


def load_spec(name: str) -> dict[str, Any]:
    spec = yaml.safe_load((HERE / name / "spec.yaml").read_text())
    assert isinstance(spec, dict) and set(spec) <= SPEC_KEYS, name
    assert set(spec.get("expect") or {}) <= EXPECT_KEYS, name
    return spec


# ================================================================================================ replay
@dataclass
class Replay:
    name: str
    spec: dict[str, Any]
    server: SimulatorServer
    api: client.ApiClient
    dyn: dynamic.DynamicClient

    @property
    def namespace(self) -> str:
        return str(self.spec.get("namespace", "default"))

    @property
    def namespaces(self) -> set[str]:
        """The case's namespace and any other its expectations name."""
        wants = [w for items in self.spec["expect"].values() if isinstance(items, list) for w in items]
        return {self.namespace} | {w["namespace"] for w in wants if isinstance(w, dict) and "namespace" in w}

    @property
    def cluster(self) -> Cluster:
        return self.server.cluster

    def resource(self, api_version: str, kind: str) -> Any:
        return self.dyn.resources.get(api_version=api_version, kind=kind)

    def apply(self, text: str) -> None:
        """`kubectl apply` for fresh objects and whole-object replacements: create, else replace."""
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            res = self.resource(doc["apiVersion"], doc["kind"])
            ns = (doc["metadata"].get("namespace") or "default") if res.namespaced else None
            try:
                res.create(body=doc, namespace=ns)
            except ApiException as err:
                if err.status != 409:
                    raise
                current = res.get(name=doc["metadata"]["name"], namespace=ns)
                doc["metadata"]["resourceVersion"] = current.metadata.resourceVersion
                res.replace(body=doc, namespace=ns)

    def patch(self, step: dict) -> None:
        res = self.resource(step["apiVersion"], step["kind"])
        res.patch(
            body=step["body"],
            name=step["name"],
            namespace=step.get("namespace"),
            content_type="application/strategic-merge-patch+json",
        )

    def objects(self, kind: str, namespace: str | None = None) -> list[dict]:
        cluster = self.cluster
        return self.server.call(lambda: cluster.store.list(cluster.rt(kind), namespace))

    def firing(self) -> list[dict[str, str]]:
        cluster = self.cluster
        return self.server.call(lambda: [dict(a.labels) for a in cluster.observability.alerts.firing()])


def substitute(text: str, subs: dict[str, str]) -> str:
    for old, new in subs.items():
        text = text.replace(old, WORKER_NODES[0] if new == "@worker" else new)
    return text


@pytest.fixture
def replay(request: pytest.FixtureRequest) -> Iterator[Replay]:
    name = request.param
    spec = load_spec(name)
    # A case that depends on the node size carries its own shape (a scenario's `cluster:` block).
    shape = shape_from_dict(spec["cluster"]) if "cluster" in spec else None
    # As `sre-agent sim serve` (which replay.sh runs) makes it: kube-prometheus' rules and kind's kube-system.
    cluster = Cluster(alert_rules="kube-prometheus", shape=shape, system_pods=True)
    # The set's demo images described as data, as `sim serve --images` adds them.
    catalogue_for(cluster).add(read_image_file(HERE / "images.yaml"))
    server = SimulatorServer(cluster)
    server.start_thread()
    try:
        api = client.ApiClient(server.client_configuration())
        run = Replay(name, spec, server, api, dynamic.DynamicClient(api))
        subs = spec["replay"].get("substitute") or {}
        for step in spec["replay"]["steps"]:
            if "apply" in step:
                run.apply(substitute((HERE / name / step["apply"]).read_text(), subs))
            elif "advance" in step:
                server.advance(float(step["advance"]))
            elif "patch" in step:
                run.patch(step["patch"])
            else:
                raise AssertionError(f"{name}: unknown replay step {step}")
        server.advance(float(spec["wait"]))
        yield run
    finally:
        server.stop()


# ================================================================================================ checks
def condition(obj: dict, ctype: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == ctype), {})


def condition_matches(obj: dict, want: dict) -> bool:
    got = condition(obj, want["type"])
    return all(str(got.get(k)) == str(v) for k, v in want.items())


def pod_matches(pod: dict, want: dict) -> bool:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    checks = {
        "phase": lambda v: status.get("phase") == v,
        "reason": lambda v: status.get("reason") == v,
        "ready": lambda v: bool(statuses) and all(cs.get("ready") for cs in statuses) == v,
        "waiting": lambda v: any(((cs.get("state") or {}).get("waiting") or {}).get("reason") == v for cs in statuses),
        "min_restarts": lambda v: max((cs.get("restartCount", 0) for cs in statuses), default=0) >= v,
        "containers": lambda v: [c["name"] for c in pod["spec"]["containers"]] == v,
        "condition": lambda v: condition_matches(pod, v),
    }
    return all(checks[k](v) for k, v in want.items() if k not in ("prefix", "namespace", "any"))


def check_pods(run: Replay, wants: list[dict]) -> None:
    for want in wants:
        ns = want.get("namespace", run.namespace)
        pods = [p for p in run.objects("Pod", ns) if p["metadata"]["name"].startswith(want["prefix"])]
        assert pods, f"no pod {ns}/{want['prefix']}*"
        ok = [pod_matches(p, want) for p in pods]
        summary = [(p["metadata"]["name"], p.get("status")) for p in pods]
        assert any(ok) if want.get("any") else all(ok), f"{want}: {summary}"


def check_workloads(run: Replay, kind: str, wants: list[dict]) -> None:
    for want in wants:
        ns = want.get("namespace", run.namespace)
        obj = next((o for o in run.objects(kind, ns) if o["metadata"]["name"] == want["name"]), None)
        assert obj is not None, f"no {kind} {ns}/{want['name']}"
        status = obj.get("status") or {}
        if "available" in want:
            assert status.get("availableReplicas", 0) == want["available"], (want, status)
        if "current" in want:
            assert status.get("currentReplicas", 0) == want["current"], (want, status)
        if "updated" in want:
            assert status.get("updatedReplicas", 0) == want["updated"], (want, status)
        if "image" in want:
            assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == want["image"]
        if "condition" in want:
            assert condition_matches(obj, want["condition"]), (want, status.get("conditions"))


def check_nodes(run: Replay, wants: list[dict]) -> None:
    for want in wants:
        name = WORKER_NODES[0] if want["name"] == "@worker" else want["name"]
        node = next(n for n in run.objects("Node") if n["metadata"]["name"] == name)
        assert condition_matches(node, want["condition"]), (want, node["status"].get("conditions"))


def check_ingresses(run: Replay, wants: list[dict]) -> None:
    for want in wants:
        ns = want.get("namespace", run.namespace)
        obj = next(o for o in run.objects("Ingress", ns) if o["metadata"]["name"] == want["name"])
        paths = [
            p.get("path") for r in obj["spec"].get("rules") or () for p in (r.get("http") or {}).get("paths") or ()
        ]
        assert want["path"] in paths, paths
        secrets = [t.get("secretName") for t in obj["spec"].get("tls") or ()]
        assert want["tls_secret"] in secrets, secrets


def check_events(run: Replay, wants: list[dict], no_warnings: bool) -> None:
    events = run.objects("Event")
    for want in wants:
        found = [
            e
            for e in events
            if e.get("reason") == want["reason"]
            and e["involvedObject"].get("name", "").startswith(want.get("object", ""))
            and want.get("message", "") in e.get("message", "")
        ]
        assert found, f"no event {want}"
    if no_warnings:
        warnings = [
            (e["reason"], e["message"])
            for e in events
            if e.get("type") == "Warning" and e["metadata"]["namespace"] in run.namespaces
        ]
        assert not warnings, warnings


def check_logs(run: Replay, wants: list[dict]) -> None:
    core = client.CoreV1Api(run.api)
    for want in wants:
        ns = want.get("namespace", run.namespace)
        pods = [p for p in run.objects("Pod", ns) if p["metadata"]["name"].startswith(want["prefix"])]
        assert pods, want
        text = "".join(core.read_namespaced_pod_log(p["metadata"]["name"], ns) for p in pods)
        assert want["contains"] in text, text[-2000:]


def check_alerts(run: Replay, want: list[str | dict[str, str]]) -> None:
    """Exactly these alerts fire for the case: in its namespaces, or cluster-scoped (node) ones. An entry
    {alert: NAME, namespace: NS} expects one from another namespace (e.g. Prometheus' own, in monitoring)."""
    names = {w if isinstance(w, str) else w["alert"] for w in want}
    firing = {a["alertname"] for a in run.firing() if a.get("namespace") is None or a["namespace"] in run.namespaces}
    assert firing == names, firing


# SRE_AGENT_REALWORLD_PENDING=1 runs the pending cases too (expected to fail): to see what is missing.
RUN = [c for c in case_names() if c not in PENDING or os.environ.get("SRE_AGENT_REALWORLD_PENDING")]


@pytest.mark.parametrize("replay", RUN, indirect=True)
def test_case(replay: Replay) -> None:
    expect = replay.spec["expect"]
    check_pods(replay, expect.get("pods") or [])
    check_workloads(replay, "Deployment", expect.get("deployments") or [])
    check_workloads(replay, "Job", expect.get("jobs") or [])
    check_workloads(replay, "HorizontalPodAutoscaler", expect.get("hpas") or [])
    check_nodes(replay, expect.get("nodes") or [])
    check_ingresses(replay, expect.get("ingresses") or [])
    check_events(replay, expect.get("events") or [], bool(expect.get("no_warning_events")))
    check_logs(replay, expect.get("logs") or [])
    check_alerts(replay, expect.get("alerts") or [])


def test_every_case_is_tested_or_pending_with_a_reason() -> None:
    folders = sorted(p.name for p in HERE.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    assert folders == case_names(), "every case folder needs a spec.yaml"
    assert set(PENDING) <= set(folders), set(PENDING) - set(folders)
    assert all(reason.strip() for reason in PENDING.values())
    for name in folders:
        spec = load_spec(name)  # pending cases too: their data must stay usable
        for step in spec["replay"]["steps"]:
            if "apply" in step:
                assert (HERE / name / step["apply"]).is_file(), (name, step)
    assert len(folders) - len(PENDING) >= 1
