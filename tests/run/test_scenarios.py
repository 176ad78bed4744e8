"""Every simulated fault, through `sre-agent run` with builtin/playbook and only what an on-call engineer
has: a summary and a namespace. The scenarios of ITBench's 13 sample scenarios (in the scenario library,
by name) must yield exactly their ground-truth root-cause entities; every other fault scenario, the entities
below."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.sim import describe_scenario, resolve_scenario

from .helpers import events, root_causes, run_cli, write_incident

# Ground truth of ITBench's sample scenarios (groundtruth.yaml `entities`), as namespace/Kind/name, by the
# library name of the scenario (ITBench's number in the comment).
ITBENCH_GROUND_TRUTH = {
    "quota": {"otel-demo/Deployment/ad", "otel-demo/ResourceQuota/strict-resource-quota"},  # 102
    "crash": {"otel-demo/Deployment/product-catalog"},  # 105
    "deleted-service": {"otel-demo/Service/product-catalog"},  # 114
    "config": {"otel-demo/Deployment/shipping"},  # 16
    "image": {"otel-demo/Deployment/product-catalog"},  # 20
    "service-port": {"otel-demo/Service/ad"},  # 30
    "network-policy": {"otel-demo/Deployment/frontend", "otel-demo/NetworkPolicy/frontend-ingress"},  # 31
    "service-selector": {"book-info/Service/details"},  # 36
    "hpa-three-services": {  # 38
        f"otel-demo/{kind}/{name}"
        for kind in ("Deployment", "HorizontalPodAutoscaler")
        for name in ("fraud-detection", "frontend", "image-provider")
    },
    "startup": {"otel-demo/Deployment/email"},  # 45
    "oom": {"otel-demo/Deployment/postgresql"},  # 46
    "readiness-probe": {"otel-demo/Deployment/frontend"},  # 49
    "scale": {"otel-demo/Deployment/accounting"},  # 58
}


# Faults without ITBench ground truth. "/Node/*": whichever node was cordoned. The Valkey password and
# corrupted-Secret faults are localised to the Secret the clients read (ITBench's solution edits it).
OTHERS = {
    "anti-affinity": {"otel-demo/Deployment/currency"},
    "book-info-architecture": {"book-info/Deployment/ratings"},
    "scheduling": {"otel-demo/Deployment/ad", "/Node/*"},
    "corrupted-secret": {"otel-demo/Secret/valkey-credentials"},
    "crashing-init-container": {"otel-demo/Deployment/payment"},
    "dns-policy": {"otel-demo/Deployment/checkout"},
    "missing-pvc": {"otel-demo/Deployment/quote"},
    "nonexistent-node": {"otel-demo/Deployment/checkout"},
    "priority-preemption": {"otel-demo/Deployment/recommendation"},
    "unassigned-limits": {"otel-demo/Deployment/cart"},
    "unsupported-architecture": {"otel-demo/Deployment/quote"},
    "valkey-oom": {"otel-demo/Deployment/valkey-cart"},
    "valkey-password": {"otel-demo/Secret/valkey-credentials"},
}


def matches(got: set[str], expected: set[str]) -> bool:
    wild = {e for e in expected if e.endswith("/*")}
    rest = got - (expected - wild)
    return (
        expected - wild <= got and len(rest) == len(wild) and all(any(r.startswith(w[:-1]) for w in wild) for r in rest)
    )


FAULT_SCENARIOS = sorted(ITBENCH_GROUND_TRUTH | OTHERS)


@pytest.mark.parametrize("name", FAULT_SCENARIOS)
def test_scenario_resolves_with_the_right_root_cause(name: str, runs_root: Path, tmp_path: Path) -> None:
    (ns,) = describe_scenario(resolve_scenario(name)).namespaces
    inc = write_incident(
        tmp_path,
        f"sc-{name}",
        f"builtin:{name}",
        summary=f"Alerts are firing in {ns}; users report errors and slow pages",
        scope={"namespaces": [ns]},
        remediation={"allowFaultedObjects": True},  # as the scenario's own example: a cordoned Node may be undone
    )
    out = runs_root / f"scenario-{name}"
    code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 0, stdout
    got = root_causes(out)
    if name in ITBENCH_GROUND_TRUTH:
        assert got == ITBENCH_GROUND_TRUTH[name]
    else:
        assert matches(got, OTHERS[name]), got
    assert [e["data"]["passed"] for e in events(out) if e["kind"] == "verifier_verdict"][-1]


def test_victims_and_propagations_follow_the_failing_calls(runs_root: Path, tmp_path: Path) -> None:
    out = runs_root / "scenario-image"  # written by the parametrized run above
    if not out.is_dir():
        inc = write_incident(tmp_path, "victims", "builtin:image", scope={"namespaces": ["otel-demo"]})
        assert run_cli("run", str(inc), "--output", str(out), "--quiet")[0] == 0
    diagnosis = json.loads((out / "agent_output.json").read_text())
    victims = {e["name"] for e in diagnosis["entities"] if not e["contributing_factor"]}
    assert {"otel-demo/Deployment/frontend", "otel-demo/Deployment/checkout"} <= victims
    edges = {(p["source"], p["target"]) for p in diagnosis["propagations"]}
    assert ("otel-demo/Deployment/product-catalog", "otel-demo/Deployment/frontend") in edges
    assert diagnosis["alerts_explained"]
    assert all(e["evidence"] for e in diagnosis["entities"] if e["contributing_factor"])


@pytest.mark.parametrize("name", ["quota", "config", "network-policy"])
def test_open_class_short_states_still_find_the_ground_truth(name: str, runs_root: Path, tmp_path: Path) -> None:
    inc = write_incident(tmp_path, f"open-{name}", f"builtin:{name}", scope={"namespaces": ["otel-demo"]})
    out = runs_root / f"open-{name}"
    code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--quiet", "--model-class", "open")
    assert code == 0, stdout
    assert root_causes(out) == ITBENCH_GROUND_TRUTH[name]
    calls_per_state: dict[str, int] = {}
    for e in events(out):
        if e["kind"] == "tool_call":
            calls_per_state[e["state"]] = calls_per_state.get(e["state"], 0) + 1
    assert all(n <= 8 for n in calls_per_state.values()), calls_per_state  # open states are capped at 8
