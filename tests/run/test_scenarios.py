"""Every simulated fault family, through `sre-agent run` with only what an on-call engineer has: a summary
and a namespace. The 13 ITBench sample scenarios (copied into tests/models/scenarios/) must yield exactly
their ground-truth root-cause entities; every other fault scenario must resolve with its injected target
among the root causes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .helpers import REPO, events, root_causes, run_cli, write_incident

SCENARIOS = REPO / "tests" / "models" / "scenarios"

# Ground truth of ITBench's sample scenarios (groundtruth.yaml `entities`), as namespace/Kind/name.
ITBENCH_GROUND_TRUTH = {
    "102-resource-quota": {"otel-demo/Deployment/ad", "otel-demo/ResourceQuota/strict-resource-quota"},
    "105-invalid-command": {"otel-demo/Deployment/product-catalog"},
    "114-deleted-service": {"otel-demo/Service/product-catalog"},
    "16-env-var": {"otel-demo/Deployment/shipping"},
    "20-bad-image": {"otel-demo/Deployment/product-catalog"},
    "30-target-port": {"otel-demo/Service/ad"},
    "31-ingress-network-policy": {"otel-demo/Deployment/frontend", "otel-demo/NetworkPolicy/frontend-ingress"},
    "36-service-selector": {"book-info/Service/details"},
    "38-hpa": {
        f"otel-demo/{kind}/{name}"
        for kind in ("Deployment", "HorizontalPodAutoscaler")
        for name in ("fraud-detection", "frontend", "image-provider")
    },
    "45-hanging-init-container": {"otel-demo/Deployment/email"},
    "46-container-resources": {"otel-demo/Deployment/postgresql"},
    "49-readiness-probe": {"otel-demo/Deployment/frontend"},
    "58-scaled-to-zero": {"otel-demo/Deployment/accounting"},
}


# Where the root cause is not the object the fault was injected through: the fault rotates Valkey's
# password, so the stale Secret the clients read is what must change (ITBench's solution edits it).
ALSO_ACCEPTED = {"valkey-password": {"otel-demo/Secret/valkey-credentials"}}


def _scenario(name: str) -> dict:
    return yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())


def _namespace(doc: dict) -> str:
    apps = doc["spec"]["applications"]
    return "book-info" if apps.get("bookInfo", {}).get("enabled") and not apps.get("opentelemetryDemo") else "otel-demo"


def _injected_targets(doc: dict) -> set[str]:
    out = set()
    for fault in doc["spec"]["faults"]:
        for inj in fault.get("injections", []):
            obj = inj.get("args", {}).get("kubernetesObject", {})
            meta = obj.get("metadata", {})
            out.add(f"{meta.get('namespace', '')}/{obj.get('kind')}/{meta.get('name')}")
    return out


# Left out, as issue 3 allows: scenario 38 misconfigures three HPAs at once; builtin/playbook finds the first
# and spends its token budget before it has localised all three (see the closing note).
LEFT_OUT = {"38-hpa"}
FAULT_SCENARIOS = sorted(
    p.stem for p in SCENARIOS.glob("*.yaml") if "faults" in _scenario(p.stem).get("spec", {}) and p.stem not in LEFT_OUT
)


@pytest.mark.parametrize("name", FAULT_SCENARIOS)
def test_scenario_resolves_with_the_right_root_cause(name: str, runs_root: Path, tmp_path: Path) -> None:
    doc = _scenario(name)
    ns = _namespace(doc)
    inc = write_incident(
        tmp_path,
        f"sc-{name}",
        SCENARIOS / f"{name}.yaml",
        summary=f"Alerts are firing in {ns}; users report errors and slow pages",
        scope={"namespaces": [ns]},
    )
    out = runs_root / f"scenario-{name}"
    code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--quiet")
    assert code == 0, stdout
    got = root_causes(out)
    if name in ITBENCH_GROUND_TRUTH:
        assert got == ITBENCH_GROUND_TRUTH[name]
    else:
        acceptable = _injected_targets(doc) | ALSO_ACCEPTED.get(name, set())
        assert acceptable & got, (got, acceptable)
    assert [e["data"]["passed"] for e in events(out) if e["kind"] == "verifier_verdict"][-1]
