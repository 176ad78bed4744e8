"""The bad-input corpus (tests/bad_inputs.yaml): every case runs the real `sre-agent` CLI in a subprocess
and must end with its documented exit code and one `error: ...` line on stderr, never a traceback, within
MAX_CPU_SECONDS and MAX_RSS_BYTES (the child's own rusage, from wait4).

Time is bounded as CPU time, which a busy machine does not inflate; a case that blocks (a FIFO read, say)
spends no CPU, so wall time is bounded too, by MAX_WALL_SECONDS: on an idle machine every case takes well
under 5 s of it."""

from __future__ import annotations

import json
import os
import re
import socket
import string
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.sim import SimulatorServer

CORPUS = Path(__file__).with_name("bad_inputs.yaml")
DEMO = Path(__file__).resolve().parent.parent / "examples" / "incidents" / "demo.yaml"
HEADER = "apiVersion: sre-agent.dev/v1alpha1\nkind: Incident\nmetadata: {name: x}\nspec:\n"
MAX_CPU_SECONDS = 5.0
MAX_WALL_SECONDS = 20.0
MAX_RSS_BYTES = 300 * 1024 * 1024
WORKERS = 2
KILL_AFTER_SECONDS = 30.0  # a case that hangs fails on its wall time, and does not hang the suite
CASES: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text())


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float
    cpu_seconds: float
    rss_bytes: int


def sre_agent() -> list[str]:
    script = Path(sys.executable).with_name("sre-agent")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "orchestrator.cli"]


# Runs the CLI and reports its rusage. A child's peak RSS counts its parent's pages at the moment it
# executes (fork copies the parent's memory map, and Linux keeps that high-water mark across exec), and
# pytest is large by the time this module runs; a small middle process makes the CLI's count its own.
MEASURE = """
import json, os, signal, sys, threading, time
argv, cwd, env, out, err, kill_after = json.loads(sys.argv[1])
o = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
e = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
null = os.open(os.devnull, os.O_RDONLY)
started = time.monotonic()
pid = os.posix_spawn(argv[0], argv, env, file_actions=[
    (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, o, 1), (os.POSIX_SPAWN_DUP2, e, 2)])
watchdog = threading.Timer(kill_after, os.kill, (pid, signal.SIGKILL))
watchdog.start()
_, status, usage = os.wait4(pid, 0)
watchdog.cancel()
print(json.dumps([os.waitstatus_to_exitcode(status), time.monotonic() - started,
                  usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024]))
"""


def run_measured(argv: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    """Run the CLI; its exit code, output, wall and CPU time and peak RSS (ru_maxrss is in KiB on Linux)."""
    out, err = cwd / ".stdout", cwd / ".stderr"
    job = [[*sre_agent(), *argv], str(cwd), env, str(out), str(err), KILL_AFTER_SECONDS]
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(job)], cwd=cwd, capture_output=True, text=True, check=True
    )
    code, seconds, cpu, rss = json.loads(measured.stdout)
    return Outcome(code, out.read_text(errors="replace"), err.read_text(errors="replace"), seconds, cpu, rss)


def make_files(base: Path, files: dict[str, Any], values: dict[str, str]) -> None:
    for rel, spec in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if spec.get("dir"):
            path.mkdir(exist_ok=True)
        elif spec.get("fifo"):
            os.mkfifo(path)
        elif "symlink" in spec:
            path.symlink_to(spec["symlink"])
        elif "size" in spec:
            with path.open("wb") as fh:
                fh.truncate(spec["size"])  # sparse: the size without the disk
        elif "hex" in spec:
            path.write_bytes(bytes.fromhex(spec["hex"]))
        else:
            pieces = spec["pieces"] if "pieces" in spec else [spec["text"]]
            text = "".join(p if isinstance(p, str) else p["repeat"] * p["times"] for p in pieces)
            path.write_bytes(string.Template(text).safe_substitute(values).encode())


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A served simulator's kubeconfig, and one whose server port nothing listens on."""
    base = tmp_path_factory.mktemp("clusters")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    closed_config = base / "closed.kubeconfig"
    closed_config.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{closed}"}}],
                "users": [{"name": "gone", "user": {"token": "x"}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
                "current-context": "gone",
            }
        )
    )
    with SimulatorServer.start() as sim:
        sim_config = sim.write_kubeconfig(base / "sim.kubeconfig", context="sim")
        yield {"sim_kubeconfig": str(sim_config), "closed_kubeconfig": str(closed_config), "demo": str(DEMO)}


def child_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG" and not k.endswith("_API_KEY")}
    return {**env, "HOME": str(home), "NO_COLOR": "1", **extra}


def test_the_corpus_is_large_and_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 50 and len(set(ids)) == len(ids)
    for case in CASES:
        assert set(case) <= {"id", "files", "argv", "env", "exit", "error"}, case["id"]
        assert case["argv"] and case["error"], case["id"]


@pytest.fixture(scope="module")
def outcomes(places: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case's outcome, run WORKERS at a time: each is a process that mostly starts Python and
    imports, so running them side by side keeps the suite fast and the bounds still hold per process."""

    def one(case: dict[str, Any]) -> Outcome:
        base = tmp_path_factory.mktemp(case["id"])
        values = {**places, "dir": str(base), "header": HEADER}
        make_files(base, case.get("files") or {}, values)
        argv = [string.Template(a).substitute(values) for a in case["argv"]]
        return run_measured(argv, base, child_env(base, case.get("env") or {}))

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip([c["id"] for c in CASES], pool.map(one, CASES), strict=True))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(case: dict[str, Any], outcomes: dict[str, Outcome]) -> None:
    got = outcomes[case["id"]]
    assert "Traceback" not in got.stderr + got.stdout
    assert got.code == case.get("exit", 2), got.stderr
    lines = got.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), got.stderr
    assert re.search(case["error"], lines[0]), lines[0]
    assert got.cpu_seconds < MAX_CPU_SECONDS, f"{got.cpu_seconds:.1f} s of CPU"
    assert got.seconds < MAX_WALL_SECONDS, f"{got.seconds:.1f} s"
    assert got.rss_bytes < MAX_RSS_BYTES, f"{got.rss_bytes / 2**20:.0f} MiB"
