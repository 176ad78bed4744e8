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

import pytest
from kubernetes import client

from orchestrator.sim.cluster import WORKER_NODES

from .harness import HERE, Replay, case_names, load_spec

PENDING: dict[str, str] = {}


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
