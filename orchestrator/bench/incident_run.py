"""The incident-run figure of `sre-agent bench sim --incident-pods N`: one whole `sre-agent run` at scale.

A scenario is written the way a user would write one: the built-in Astronomy Shop with
`options: {replicas: R}` (R chosen so the cluster holds about N pods), a `cluster:` block sized for them,
and one ordinary fault (product-catalog rolled out with an image that does not exist). An incident file
points at it with the offline `builtin/playbook` model in auto mode, and `sre-agent run` runs it in a
child process, as from a shell: interpreter start, simulator start (install and warm-up), investigation,
mitigation, the verifier's waits on the virtual clock and the report. Measured: wall seconds, the
child's CPU seconds and peak RSS, its exit code and the root cause it named (resolved: exit 0 and the
faulted Deployment named). Goal: < 10 s wall at 3,000 pods.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

GOAL_SECONDS_AT_3000 = 10.0
APPLICATION = "opentelemetry-demo"
WORKLOADS = 21  # the Astronomy Shop's workloads; `replicas` scales every one of them
PODS_PER_NODE = 500
NAMESPACE = "otel-demo"
FAULTED = "product-catalog"
EXPECTED_ROOT_CAUSE = f"{NAMESPACE}/Deployment/{FAULTED}"


def replicas_for(pods: int) -> int:
    return max(1, round(pods / WORKLOADS))


def scenario_document(pods: int) -> dict[str, Any]:
    """About `pods` pods of the Astronomy Shop on enough workers, product-catalog's image broken."""
    replicas = replicas_for(pods)
    nodes = max(3, -(-replicas * WORKLOADS // PODS_PER_NODE) + 1)
    return {
        "apiVersion": "sim.sre-agent.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": f"otel-demo-{pods}-pods-bad-image"},
        "spec": {
            "applications": [{"name": APPLICATION, "options": {"replicas": replicas}}],
            "cluster": {"nodes": nodes, "cpu": "64", "memory": "256Gi", "pods": PODS_PER_NODE},
            "faults": [
                {
                    "id": "nonexistent-kubernetes-workload-container-image",
                    "args": {
                        "container": {"name": FAULTED},
                        "kubernetesObject": {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "metadata": {"name": FAULTED, "namespace": NAMESPACE},
                        },
                    },
                }
            ],
        },
    }


def incident_document(scenario_file: str) -> dict[str, Any]:
    """What an on-call engineer would be paged with, against the simulated cluster."""
    return {
        "apiVersion": "sre-agent.dev/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": "bench-incident-run"},
        "spec": {
            "summary": "Product pages and checkout fail with errors; product-catalog pods are not ready",
            "scope": {"namespaces": [NAMESPACE]},
            "cluster": {"simulate": {"scenario": scenario_file, "seed": 0}},
            "model": "builtin/playbook",
            "remediation": {"mode": "auto"},
        },
    }


def _root_causes(result: dict[str, Any]) -> list[str]:
    entities = (result.get("diagnosis") or {}).get("entities") or []
    return [e["name"] for e in entities if e.get("contributing_factor")]


def measure_incident_run(pods: int) -> dict[str, Any]:
    """Run the incident once in a child `sre-agent run` and report what it took and what it found."""
    with tempfile.TemporaryDirectory(prefix="sre-agent-bench-") as tmp:
        root = Path(tmp)
        (root / "scenario.yaml").write_text(yaml.safe_dump(scenario_document(pods), sort_keys=False))
        (root / "incident.yaml").write_text(yaml.safe_dump(incident_document("scenario.yaml"), sort_keys=False))
        argv = [sys.executable, "-m", "orchestrator", "run", str(root / "incident.yaml")]
        argv += ["-q", "-o", "json", "--output-dir", str(root / "run")]
        out, err = root / "stdout.json", root / "stderr.txt"
        with out.open("w") as stdout, err.open("w") as stderr:
            t0 = time.perf_counter()
            child = subprocess.Popen(argv, stdout=stdout, stderr=stderr)
            # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix in earlier children).
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - t0
        exit_code = os.waitstatus_to_exitcode(status)
        child.returncode = exit_code  # reaped above: the Popen must not wait for it again
        text, errors = out.read_text(), err.read_text()
    try:
        result = json.loads(text)
    except json.JSONDecodeError:
        result = {}
    causes = _root_causes(result)
    resolved = exit_code == 0 and EXPECTED_ROOT_CAUSE in causes
    row: dict[str, Any] = {
        "pods": replicas_for(pods) * WORKLOADS,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),  # less moved by a busy machine than wall
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux reports kilobytes
        "exit_code": exit_code,
        "status": result.get("status"),
        "root_cause": ", ".join(causes) or None,
        "expected_root_cause": EXPECTED_ROOT_CAUSE,
        "resolved": resolved,
        "steps": result.get("steps"),
    }
    if not resolved:
        row["problem"] = (result.get("reason") or errors.strip().splitlines()[-1:] or ["no output"])[0]
    return row


def add_incident_run(results: dict[str, Any], pods: int) -> None:
    """Put the incident-run figure into `sre-agent bench sim`'s results: its goal, its row, its line."""
    row = measure_incident_run(pods)
    results.setdefault("goals", {})["incident_run_seconds_at_3000"] = GOAL_SECONDS_AT_3000
    results["incident_run"] = row
    outcome = "resolved" if row["resolved"] else f"NOT RESOLVED ({row.get('problem')})"
    results.setdefault("lines", []).append(
        f"incident run at {row['pods']} pods (sre-agent run, builtin/playbook, auto): {row['wall_seconds']} s wall "
        f"(goal < {GOAL_SECONDS_AT_3000:g} s at 3,000 pods), {row['cpu_seconds']} s CPU, peak RSS {row['peak_rss_mb']} MB, "
        f"exit {row['exit_code']}, root cause {row['root_cause']}: {outcome}"
    )
