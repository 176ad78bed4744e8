"""What a scrape and the eviction manager keep between steps gives what working everything out afresh
gives: the running containers' plan (kept while no Pod is written), the scrape targets' samples (kept
while no Node or Endpoints is written), the limits parsed once per container spec, and a scrape laid
out from its parts only when read."""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orchestrator.sim.builtin import resolve_scenario
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.controllers.kubelet import ContainerRun, _kubelet_of, kubelet_container_usage
from orchestrator.sim.observability import _Collector, _usage
from orchestrator.sim.promql import Sample, SampleIndex, group_by_name
from orchestrator.sim.runner import SimulatorServer

NS = "otel-demo"


@pytest.fixture
def shop() -> Iterator[Cluster]:
    """The Astronomy Shop with its product catalog's image broken; the test's cycles collected at its end
    (left behind, they would be frozen into the heap of the next embedded server a test starts)."""
    yield SimulatorServer.create(resolve_scenario("otel-demo-bad-image"), seed=0).cluster
    gc.collect()


def _seen(index: SampleIndex) -> tuple[list[tuple], list[tuple]]:
    """A scrape without the alert series the rules add to it: every sample in order, and the grouping by
    name with its order."""
    samples = [(s.name, tuple(s.labels.items()), s.value) for s in index.samples if not s.name.startswith("ALERTS")]
    groups = [
        (name, [(tuple(s.labels.items()), s.value) for s in group])
        for name, group in index.by_name.items()
        if not name.startswith("ALERTS")
    ]
    return samples, groups


def _set_node_ready(status: str) -> Callable[[dict], None]:
    def edit(node: dict) -> None:
        for c in node["status"]["conditions"]:
            if c["type"] == "Ready":
                c["status"] = status

    return edit


def test_a_scrape_that_keeps_its_plan_and_targets_equals_one_that_works_them_out_every_time(shop: Cluster) -> None:
    # Both collectors start together, so their counters (CPU, requests) integrate the same steps.
    kept = shop.observability._collector = _Collector(shop)
    afresh = _Collector(shop)
    pods, store = shop.rt("Pod"), shop.store
    worker = store.list(shop.rt("Node"))[-1]["metadata"]["name"]
    steps = kept_plans = kept_targets = 0

    def step_both(seconds: int, what: str) -> None:
        nonlocal steps, kept_plans, kept_targets
        for _ in range(seconds // 5):
            steps += 1
            plan, targets = kept._planned, kept._last_targets
            shop.advance(5)
            kept_plans += kept._planned is plan
            kept_targets += kept._last_targets is targets
            afresh._planned = afresh._last_targets = None  # works both out from scratch
            now = shop.now()
            assert _seen(shop.observability.history.index_at(now)) == _seen(afresh.collect(now)), (what, now)

    def write(what: str, change: Callable[[], object], seconds: int = 30) -> None:
        change()
        shop.after_write()
        step_both(seconds, what)

    step_both(60, "clock")
    first, second = (p["metadata"]["name"] for p in store.list(pods, NS)[:2])
    write("relabel", lambda: store.mutate(pods, NS, first, lambda o: o["metadata"]["labels"].update(x="1")))
    write("delete pod", lambda: store.delete(pods, NS, second))
    write("node not ready", lambda: store.mutate(shop.rt("Node"), "", worker, _set_node_ready("False"), status=True))
    write("node ready", lambda: store.mutate(shop.rt("Node"), "", worker, _set_node_ready("True"), status=True))
    write("hand-edit endpoints", lambda: store.mutate(shop.rt("Endpoints"), NS, "cart", lambda o: o.update(subsets=[])))
    write(
        "cpu limit",  # a rollout; the new pods' CPU is throttled, their CFS counters start
        lambda: store.mutate(
            shop.rt("Deployment"),
            NS,
            "frontend",
            lambda d: d["spec"]["template"]["spec"]["containers"][0].update(resources={"limits": {"cpu": "10m"}}),
        ),
        seconds=120,
    )
    assert any(s.name == "container_cpu_cfs_throttled_periods_total" for s in afresh.collect(shop.now()).samples)
    kubelet = _kubelet_of(shop)
    assert kubelet is not None
    for run in kubelet.runs.values():  # usage moves with no write to any object
        for c in run.containers:
            c.cpu *= 2
            c.extra_memory += 2**20
    step_both(30, "usage")
    write("delete service", lambda: store.delete(shop.rt("Service"), NS, "ad"))
    # Most steps kept both (the comparison covered the kept path), some could not.
    assert steps // 2 < kept_plans < steps
    assert steps // 2 < kept_targets < steps


def test_a_usage_reading_is_the_kubelets_with_the_limits_of_the_spec_it_runs(shop: Cluster) -> None:
    kubelet = _kubelet_of(shop)
    plan = shop.observability._collector._planned
    assert kubelet is not None and plan
    largest = []
    for limits in (None, {"memory": "1Mi", "cpu": "1m"}, {}):
        for pod, running, series in plan:
            run = kubelet.runs.get(running.key[0])  # (none for a pod the kubelet does not run)
            c = next((c for c in run.containers if c.name == series.name), None) if run else None
            if limits is not None and c is not None:  # the kubelet runs a new spec object, with other limits
                c.spec = copy.deepcopy(c.spec)
                c.spec.setdefault("resources", {})["limits"] = limits
            memory, cpu = kubelet_container_usage(kubelet, pod, running.spec["name"])
            assert _usage(kubelet, running.key[0], series) == (cpu, float(memory))
        largest.append(max(_usage(kubelet, running.key[0], series)[1] for _, running, series in plan))
    assert largest[1] == 2**20 < largest[2]


def test_a_containers_limits_are_those_of_the_spec_object_it_runs() -> None:
    spec: dict[str, Any] = {"name": "a", "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}}}
    c = ContainerRun("a", spec, init=False, phase="running", base_memory=2**30, cpu=2.0)
    assert c.limits() == (64 * 2**20, 0.5) and c.usage() == (64 * 2**20, 0.5)
    edited = copy.deepcopy(spec)  # a write stores a new object: its limits are read again
    edited["resources"]["limits"] = {"memory": "4Gi"}
    c.spec = edited
    assert c.limits() == (4 * 2**30, None) and c.usage() == (2**30, 2.0)
    c.phase = "backoff"
    assert c.usage() == (0, 0.0)


def test_an_index_of_parts_lays_them_out_as_one_list_would_be_indexed() -> None:
    def part(*names: str) -> list[Sample]:
        return [Sample(name, {"i": str(i)}, float(i)) for i, name in enumerate(names)]

    parts = [part("a", "b", "a"), part(), part("c", "a"), part("b")]
    alerts = part("ALERTS", "a")
    for read_before_extend in (False, True):
        index = SampleIndex.of_parts([(p, group_by_name(p)) for p in parts])
        whole = SampleIndex([s for p in parts for s in p])
        if read_before_extend:
            assert index.samples == whole.samples
        index.extend(alerts)
        whole = SampleIndex(whole.samples + alerts)
        assert index.samples == whole.samples
        assert list(index.by_name.items()) == list(whole.by_name.items())
        assert [len(p) for p in parts] == [3, 0, 2, 1]  # the parts' lists are shared, never changed
