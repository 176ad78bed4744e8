"""Run one bench task (case × model × mitigations × seed) in-process and score what it left behind.

The run is an ordinary `run_incident` against the embedded simulator, given only what an on-call engineer
would have: a summary and the namespaces. Before the simulator closes, the bench lets the cluster settle
and looks for what a false closure leaves: a firing alert in scope, or a root-cause workload not ready.
Tasks go to worker processes (`--jobs`), each of which imports the heavy libraries once.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .suite import Case
from .truth import root_causes, score_entities

# Virtual seconds: the most a fix gets to show it held (longer than any alert's `for:` and an HPA's
# 300 s scale-down window), how often it is looked at, and how many healthy looks in a row count as held.
SETTLE_SECONDS = 600
CHECK_EVERY_SECONDS = 30
STABLE_CHECKS = 4
SUMMARY = "Alerts are firing in {namespaces}; users report errors and slow pages"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True)
class Task:
    case: Case
    model: str
    mitigations: bool
    seed: int
    base_url: str | None = None  # an OpenAI-compatible server for litellm models

    @property
    def arm(self) -> str:
        return "on" if self.mitigations else "off"

    def run_dir(self) -> Path:
        """Relative to the bench's output folder."""
        model = re.sub(r"[^A-Za-z0-9._-]+", "_", self.model.removeprefix("builtin/"))  # azure/gpt-4o: azure_gpt-4o
        return Path("runs") / self.case.name / f"{model}-{self.arm}-s{self.seed}"


def incident_for(case: Case, model: str, seed: int) -> Any:
    from ..incident import Incident

    return Incident.model_validate(
        {
            "apiVersion": "sre-agent.dev/v1alpha1",
            "kind": "Incident",
            "metadata": {"name": case.incident_name},
            "spec": {
                "summary": SUMMARY.format(namespaces=", ".join(case.namespaces)),
                "scope": {"namespaces": case.namespaces},
                "cluster": {"simulate": {"scenario": str(case.scenario.resolve()), "seed": seed}},
                "model": model,
                # as a scenario's example incident: what the faults changed outside any namespace may be undone
                "remediation": {"allowFaultedObjects": True},
            },
        }
    )


@dataclass
class ClusterAfter:
    """What the run left: alerts still firing in scope and root-cause workloads that are not ready."""

    firing: list[str]
    unready: list[str]

    @property
    def fault_remains(self) -> bool:
        return bool(self.firing or self.unready)


def inspect_cluster(session: Any, case: Case, closed: bool) -> ClusterAfter | None:
    """Only a run that closed the incident (exit 0) can be a false closure, so only it is settled and read.

    The cluster gets up to SETTLE_SECONDS of virtual time to show the fix held: healthy on STABLE_CHECKS
    checks in a row (a restarted crash-looping pod can look healthy for a moment), else what still fails.
    """
    if not closed:
        return None
    sim = session.simulator
    waited, healthy_in_a_row = 0, 0
    while True:
        sim.advance(CHECK_EVERY_SECONDS)
        waited += CHECK_EVERY_SECONDS
        after = sim.call(lambda: _cluster_after(sim.cluster, case))
        healthy_in_a_row = 0 if after.fault_remains else healthy_in_a_row + 1
        if healthy_in_a_row >= STABLE_CHECKS or waited >= SETTLE_SECONDS:
            return after


def _cluster_after(cluster: Any, case: Case) -> ClusterAfter:
    """Read on the simulator's own thread: firing alerts in scope, root-cause workloads not ready."""
    firing = sorted(
        a["name"]
        for a in cluster.state()["alerts"]
        if a["state"] == "firing" and (a["labels"].get("namespace") in case.namespaces or not case.namespaces)
    )
    unready = []
    for entity in case.truth.entities:
        ns, kind, name = entity.split("/", 2)
        if kind not in WORKLOAD_KINDS or "*" in name:
            continue
        obj = cluster.store.find(cluster.rt(kind), ns, name)
        spec, status = (obj or {}).get("spec") or {}, (obj or {}).get("status") or {}
        want = spec.get("replicas", 1)
        if obj is None or want < 1 or (status.get("readyReplicas") or 0) < want:
            unready.append(entity)
    return ClusterAfter(firing, unready)


def run_task(task: Task, out: Path) -> dict[str, Any]:
    """Run one task; its row for results.json. Never raises: a failed run is a data point, and a crash is
    recorded as an errored run (with the exception) so one bad task does not cost the bench."""
    try:
        return _run_task(task, out)
    except Exception as exc:  # a bug, not a model failure: keep it visible in the row and the table
        return _row(task, status="error", error=f"{type(exc).__name__}: {exc}")


def _row(task: Task, **measured: Any) -> dict[str, Any]:
    """A results.json run row: what the task is, and what was measured (defaults: a run that did nothing)."""
    nothing = {
        "model_class": "?",
        "exit_code": 1,
        "status": "error",
        "succeeded": False,
        "false_closure": False,
        "verified_mitigation": False,
        "recall": 0.0,
        "precision": 0.0,
        "strict": False,
        "named": [],
        "left_firing": [],
        "left_unready": [],
        "steps": 0,
        "tokens": 0,
        "seconds": 0.0,
        "modes": [],
        "injected": [],
    }
    what = {"scenario": task.case.name, "model": task.model, "mitigations": task.arm, "seed": task.seed}
    return {**what, **nothing, **measured, "run_dir": str(task.run_dir())}


def _run_task(task: Task, out: Path) -> dict[str, Any]:
    from ..engine import RunOptions, run_incident

    run_dir = out / task.run_dir()
    shutil.rmtree(run_dir, ignore_errors=True)  # a re-run of the bench into the same --out measures afresh
    after: list[ClusterAfter | None] = []
    options = RunOptions(
        output_dir=run_dir,
        model=task.model,
        base_url=task.base_url,
        # per case as well as per seed: otherwise every case of a seed replays the same failures
        seed=zlib.crc32(f"{task.case.name}:{task.seed}".encode()),
        mitigations=task.mitigations,
        before_close=lambda session, code: after.append(inspect_cluster(session, task.case, closed=code == 0)),
    )
    result = asyncio.run(run_incident(incident_for(task.case, task.model, task.seed), options))
    # no inspection: the run did not close the incident, or never got a cluster
    cluster = (after[0] if after else None) or ClusterAfter([], [])
    named = root_causes(_read_json(run_dir / "agent_output.json"))
    score = score_entities(named, task.case.truth)
    mast = _read_json(run_dir / "mast.json")
    closed = result.exit_code == 0
    verified = closed and not cluster.fault_remains
    return _row(
        task,
        model_class=result.model_class,
        exit_code=result.exit_code,
        status=result.status,
        succeeded=verified and score.recall == 1.0,
        false_closure=closed and cluster.fault_remains,
        verified_mitigation=verified,
        recall=score.recall,
        precision=score.precision,
        strict=score.strict,
        named=named,
        left_firing=cluster.firing,
        left_unready=cluster.unready,
        steps=result.steps,
        tokens=result.tokens,
        seconds=result.seconds,
        modes=sorted(k for k, v in (mast.get("mast_annotation") or {}).items() if v == 1),
        injected=_injected_modes(run_dir / "trace.jsonl"),
    )


def run_tasks(
    tasks: list[Task], out: Path, jobs: int = 1, on_done: Callable[[dict[str, Any]], None] | None = None
) -> list[dict[str, Any]]:
    """Every task's row, in task order; `on_done` sees each row as it finishes (for a progress bar)."""
    rows: dict[int, dict[str, Any]] = {}
    for index, row in _execute(tasks, out, jobs):
        rows[index] = row
        if on_done is not None:
            on_done(row)
    return [rows[i] for i in range(len(tasks))]


def _execute(tasks: list[Task], out: Path, jobs: int) -> Iterator[tuple[int, dict[str, Any]]]:
    if jobs <= 1:
        for i, task in enumerate(tasks):
            yield i, run_task(task, out)
        return
    import multiprocessing

    # spawn, not fork: the parent may already hold simulator threads and sockets
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_worker, _task_dict(t), str(out)): i for i, t in enumerate(tasks)}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _task_dict(task: Task) -> dict[str, Any]:
    d = asdict(task)
    d["case"] = {"name": task.case.name, "scenario": str(task.case.scenario), "truth": asdict(task.case.truth)}
    return d


def _worker(task: dict[str, Any], out: str) -> dict[str, Any]:
    from ..logs import configure
    from .truth import GroundTruth

    configure()  # a fresh process: keep the engine's info lines off the bench's terminal

    c = task["case"]
    truth = GroundTruth(tuple(c["truth"]["entities"]), tuple(c["truth"]["alerts"]))
    case = Case(c["name"], Path(c["scenario"]), truth)
    return run_task(Task(case, task["model"], task["mitigations"], task["seed"], task["base_url"]), Path(out))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _injected_modes(trace: Path) -> list[str]:
    """The MAST modes the simulated model injected (ground truth the detectors never read)."""
    modes = set()
    try:
        lines = trace.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        if '"injection"' not in line:
            continue
        event = json.loads(line)
        mode = (event.get("data") or {}).get("mode")
        if event.get("kind") == "injection" and mode and mode[0].isdigit():
            modes.add(mode)
    return sorted(modes)
