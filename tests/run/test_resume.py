"""kill -9 of a real `sre-agent run` at random points, then `sre-agent resume`: no trace is lost, the journal
holds every write the cluster shows, and resume completes each run with a verdict (--revert puts the object
back as it was). The cluster is a served simulator on a virtual clock that outlives each run, as a real one
would; every case starts from the same faulted state (a revert restores it)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from orchestrator.sim.builtin import resolve_scenario
from orchestrator.sim.runner import SimulatorServer

from .helpers import run_cli, write_incident

NS, NAME = "otel-demo", "product-catalog"
STATUSES = {"resolved-after-resume", "escalated", "reverted"}
# Where each run is killed: the file to watch, the line that must appear there, the longest delay after it
# (drawn at random, seeded, so the kill lands anywhere from that point on) and the case's revert flag.
KILL_POINTS = [
    ("journal.jsonl", '"event":"start"', 0.3, True),  # just started: nothing connected yet
    ("trace.jsonl", '"kind":"analysis"', 0.3, False),  # intake done
    ("trace.jsonl", '"dest":"investigate"', 0.2, True),
    ("trace.jsonl", '"tool":"rollout_history"', 0.1, False),
    ("journal.jsonl", '"event":"sent"', 0.1, True),  # the write is on its way
    ("journal.jsonl", '"event":"applied"', 0.0, True),  # the write is applied: unverified
    ("journal.jsonl", '"event":"applied"', 0.05, True),
    ("trace.jsonl", '"dest":"stabilise"', 0.02, True),
    ("trace.jsonl", '"dest":"verify"', 0.03, True),  # during verification
    ("trace.jsonl", '"dest":"verify"', 0.03, False),  # last: no revert, so the change is verified and kept
]


def _template(apps: client.AppsV1Api) -> list[dict[str, Any]]:
    dep = apps.read_namespaced_deployment(NAME, NS)
    return [{"name": c.name, "image": c.image} for c in dep.spec.template.spec.containers]


@contextmanager
def _faulted(tmp_path: Path, name: str) -> Iterator[tuple[SimulatorServer, client.AppsV1Api, Any, Path]]:
    """A served bad-image cluster five minutes in, its faulted pod template, and an auto-mode incident for it."""
    with SimulatorServer.start(scenario=resolve_scenario("otel-demo-bad-image")) as sim:
        sim.advance(300)
        apps = client.AppsV1Api(client.ApiClient(sim.client_configuration()))
        kubeconfig = sim.write_kubeconfig(tmp_path / "sim.kubeconfig")
        incident = write_incident(
            tmp_path, name, "unused", scope={"namespaces": [NS]}, cluster={"kubeconfig": str(kubeconfig)},
            observability={"alertmanager": sim.url, "prometheus": sim.url}, remediation={"mode": "auto"},
        )  # fmt: skip
        yield sim, apps, _template(apps), incident


def _kill_when(proc: subprocess.Popen, path: Path, marker: str, delay: float, limit: float = 60) -> bool:
    """SIGKILL the run `delay` seconds after `marker` shows in `path`; False if it ended first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if path.is_file() and marker in path.read_text(encoding="utf-8", errors="replace"):
            time.sleep(delay)
            break
        time.sleep(0.005)
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return True


def _lines(path: Path) -> list[dict[str, Any]]:
    """Every whole line of a JSON-lines file, parsed (one cut short by the kill is the last, without newline)."""
    text = path.read_text(encoding="utf-8")
    whole = text.split("\n")[:-1]
    return [json.loads(line) for line in whole]


def test_runs_killed_at_random_points_are_resumed_with_a_verdict(tmp_path: Path) -> None:
    rng = random.Random(15)
    with _faulted(tmp_path, "killed") as (sim, apps, faulted, incident):
        outcomes = []
        for i, (watched, marker, longest, revert) in enumerate(KILL_POINTS):
            out = tmp_path / f"killed-{i}"  # not under runs_root: a killed trace may end in a cut line
            proc = subprocess.Popen(
                [sys.executable, "-m", "orchestrator.cli", "run", str(incident), "--output", str(out), "-q"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            assert _kill_when(proc, out / watched, marker, rng.uniform(0, longest)), f"case {i} ended before its kill"
            trace = _lines(out / "trace.jsonl")  # no trace lost: every whole line parses
            assert trace and trace[0]["kind"] == "run_start"
            if [e for e in trace if e["kind"] == "run_end"]:  # killed while it wrote its reports
                assert not (out / "report.md").is_file()
            journal = _lines(out / "journal.jsonl")
            applied_in_trace = [
                e["data"]["write"]["target"] for e in trace
                if e["kind"] == "tool_result" and (e["data"].get("write") or {}).get("mode") == "applied"
            ]  # fmt: skip
            sent = [e["target"] for e in journal if e["event"] == "sent"]
            assert set(applied_in_trace) <= set(sent)
            if _template(apps) != faulted:  # the cluster was changed: the journal says so
                assert f"{NS}/Deployment/{NAME}" in sent

            args = ["resume", str(out), "-o", "json", *(["--revert"] if revert else [])]
            code, stdout, stderr = run_cli(*args)
            assert code in (0, 3), stderr
            result = json.loads(stdout)
            assert result["status"] in STATUSES and result["exit_code"] == code and result["verdict"]["results"]
            report = json.loads((out / "report.json").read_text())
            assert report["status"] == result["status"] and (out / "report.md").is_file()
            assert (out / "report.html").is_file()
            if revert:
                assert result["status"] == ("reverted" if sent else "escalated"), result["reason"]
                assert _template(apps) == faulted  # the object is as it was before the run
                sim.advance(300)  # the fault pages again before the next case
            outcomes.append((i, bool(sent), result["status"], code))
            again = run_cli("resume", str(out))
            assert again[0] == 2 and "resumed already" in again[2]

    changed = [o for o in outcomes if o[1]]
    assert len(changed) >= 5, outcomes  # the kills after the write did find a write to verify
    assert outcomes[-1][2:] == ("resolved-after-resume", 0), outcomes
    assert [o for o in outcomes if not o[1] and o[2] == "escalated"], outcomes  # before any write: the gate fails


def test_nothing_to_resume_is_one_line_exit_2(runs_root: Path, tmp_path: Path) -> None:
    code, _, stderr = run_cli("resume", str(tmp_path))
    assert code == 2 and stderr.startswith("error: ") and stderr.count("\n") == 1 and "no run to resume" in stderr
    inc = write_incident(tmp_path, "done", "builtin:otel-demo-bad-image", scope={"namespaces": [NS]})
    out = runs_root / "resume-completed"
    run_cli("run", str(inc), "--output", str(out), "-q")
    code, _, stderr = run_cli("resume", str(out))
    assert code == 2 and "ended normally" in stderr and stderr.count("\n") == 1


@pytest.mark.parametrize("cut", ["journal.jsonl", "trace.jsonl"])
def test_a_run_dir_missing_its_journal_or_trace_is_refused(tmp_path: Path, cut: str) -> None:
    (tmp_path / "journal.jsonl").write_text('{"event":"start","incident":{}}\n')
    (tmp_path / "trace.jsonl").write_text("")
    (tmp_path / cut).unlink()
    code, _, stderr = run_cli("resume", str(tmp_path))
    assert code == 2 and "needs trace.jsonl and journal.jsonl" in stderr and "Traceback" not in stderr


def test_a_journal_with_an_invalid_incident_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").write_text('{"event":"start","incident":{"kind":"Incident"}}\n{"event":"se')
    (tmp_path / "trace.jsonl").write_text('{"seq":1,"kind":"run_start","data":{}}\n')
    code, _, stderr = run_cli("resume", str(tmp_path))
    assert code == 2 and "is not valid: " in stderr and stderr.count("\n") == 1


def test_a_resume_killed_while_it_reverts_is_resumed_again(tmp_path: Path) -> None:
    """kill -9 of `sre-agent resume --revert` once its revert is on the way: the next resume reverts what
    is left (or finds it done) and ends `reverted`, the object as it was before the run."""
    with _faulted(tmp_path, "twice") as (sim, apps, faulted, incident):
        out = tmp_path / "twice"
        run = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli", "run", str(incident), "--output", str(out), "-q"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert _kill_when(run, out / "journal.jsonl", '"event":"applied"', 0.0)
        assert _template(apps) != faulted  # the run's rollback is in the cluster, unverified
        resume = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli", "resume", str(out), "--revert"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        killed = _kill_when(resume, out / "journal.jsonl", '"event":"resuming"', 0.0)
        journal = _lines(out / "journal.jsonl")
        # The revert had begun (or the resume ended).
        assert [e for e in journal if e["event"] == "resuming"], (resume.communicate(), journal)
        code, stdout, stderr = run_cli("resume", str(out), "--revert", "-o", "json")
        if killed:
            assert code == 3, stderr
            result = json.loads(stdout)
            assert result["status"] == "reverted", result["reason"]
        else:  # the resume finished before the kill: nothing is left to resume
            assert code == 2 and "resumed already" in stderr
        assert _template(apps) == faulted
