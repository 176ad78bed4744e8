"""kubectl computes event ages on the client side, against the local wall clock: a served cluster whose
clock was skipped ahead of the wall clock shows `<invalid>`, unless the clock starts with a lead."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from orchestrator.sim.clock import Clock, RealtimeClock
from orchestrator.sim.runner import SimulatorServer

from .helpers import kubectl

KUBECTL = kubectl()  # required: a missing kubectl fails the module, never skips it


def test_a_lead_starts_the_clock_behind_the_wall_clock() -> None:
    assert Clock(lead=600).now() <= time.time() - 540
    assert Clock(start=100.0, lead=600).now() == 100.0  # an explicit start wins
    clock = RealtimeClock(lead=600)
    clock.advance(300)
    assert clock.now() <= time.time() - 299
    with pytest.raises(ValueError):
        Clock(lead=-1)


def event_ages(tmp_path: Path, lead: float) -> str:
    server = SimulatorServer.create("crash", clock_lead=lead)
    server.start_thread()
    try:
        server.advance(1200)
        kubeconfig = server.write_kubeconfig(tmp_path / f"kubeconfig-{lead:g}")
        assert KUBECTL is not None
        out = subprocess.run(
            [KUBECTL, "--kubeconfig", str(kubeconfig), "events", "-n", "otel-demo"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return out.stdout
    finally:
        server.stop()


def test_kubectl_event_ages_after_a_skip(tmp_path: Path) -> None:
    assert "<invalid>" in event_ages(tmp_path, 0)  # the clock is 20 minutes ahead of kubectl's
    out = event_ages(tmp_path, 3600)
    assert "<invalid>" not in out and "BackOff" in out
