"""The reader: bounded lists through the official client, tolerant of kinds a cluster does not serve."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from orchestrator.analyzers import ReadFailure, read_snapshot
from orchestrator.sim import SimulatorServer


class FakeApi:
    """Answers GETs from a table of path -> (status, body); records what was asked."""

    def __init__(self, answers: dict[str, tuple[int, Any]]) -> None:
        self.answers = answers
        self.asked: list[str] = []
        self.configuration = SimpleNamespace(host="https://fake")

    def param_serialize(
        self, method: str, path: str, query_params: list, header_params: dict, auth_settings: list
    ) -> tuple:
        return method, path, header_params, None, []

    def call_api(self, method: str, url: str, headers: dict, body: Any, post: Any, _request_timeout: float) -> Any:
        self.asked.append(url)
        if url == "/boom":
            raise OSError("connection refused")
        status, payload = self.answers.get(url, (404, {"kind": "Status"}))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return SimpleNamespace(status=status, data=data, read=lambda: data, getheader=lambda name: None)


def test_unserved_and_forbidden_kinds_are_left_out_and_secrets_lose_their_values() -> None:
    api = FakeApi(
        {
            "/api/v1/namespaces/shop/pods": (200, {"items": [{"metadata": {"name": "p", "namespace": "shop"}}]}),
            "/api/v1/namespaces/shop/secrets": (
                200,
                {"items": [{"metadata": {"name": "s", "namespace": "shop"}, "data": {"pw": "aHVudGVyMg=="}}]},
            ),
            "/api/v1/nodes": (403, {"message": "forbidden"}),
        }
    )
    result = read_snapshot(api, ["shop"], ["Pod", "Secret", "Node", "Ingress"], logs=False)
    snap = result.snapshot
    assert snap.fetched("Pod") and snap.of("Pod")[0]["kind"] == "Pod"
    assert not snap.fetched("Node") and not snap.fetched("Ingress")
    assert "Node: forbidden (403)" in result.skipped
    assert "Ingress: not served by this cluster" in result.skipped
    assert snap.of("Secret")[0]["data"] == {"pw": "<redacted 7 bytes>"}


def test_an_unreachable_cluster_is_one_read_failure() -> None:
    class Dead(FakeApi):
        def call_api(self, *args: Any, **kw: Any) -> Any:
            raise OSError("[Errno 111] Connection refused")

    with pytest.raises(
        ReadFailure, match=r"^cannot reach the cluster at https://fake: \[Errno 111\] Connection refused$"
    ):
        read_snapshot(Dead({}), ["shop"], ["Pod"])


def test_reads_the_simulator_with_the_logs_of_a_crashed_container() -> None:
    sim = SimulatorServer.start(scenario="oom")
    try:
        sim.advance(300)
        result = read_snapshot(client.ApiClient(sim.client_configuration()), ["otel-demo"])
    finally:
        sim.stop()
    snap = result.snapshot
    for kind in ("Pod", "Deployment", "ReplicaSet", "Service", "Endpoints", "Event", "Node"):
        assert snap.fetched(kind), kind
    assert all(line.endswith("not served by this cluster") or "forbidden" in line for line in result.skipped)
    assert snap.now is not None
    assert any(pod.startswith("postgresql") for _, pod, _ in snap.logs)  # the crashed container's log


def test_events_read_are_the_warnings_and_the_normal_reasons_analyzers_declare() -> None:
    from orchestrator.analyzers import REGISTRY, needed_normal_events

    declared = needed_normal_events(REGISTRY.all())
    assert {"Preempted", "ScalingReplicaSet"} <= declared  # what preemption and scale-to-zero read
    sim = SimulatorServer.start(scenario="oom")
    try:
        sim.advance(300)
        api = client.ApiClient(sim.client_configuration())
        every = client.CoreV1Api(api).list_namespaced_event("otel-demo").items
        events = read_snapshot(api, ["otel-demo"], ["Event"], logs=False).snapshot.of("Event")
        warnings_only = read_snapshot(api, ["otel-demo"], ["Event"], logs=False, normal_events=()).snapshot.of("Event")
    finally:
        sim.stop()
    wanted = [e.metadata.name for e in every if e.type == "Warning" or e.reason in declared]
    assert any(e.type == "Normal" and e.reason == "Scheduled" for e in every)  # routine ones exist and are skipped
    assert any(e.reason == "ScalingReplicaSet" for e in every) and any(e.type == "Warning" for e in every)
    assert [e["metadata"]["name"] for e in events] == wanted  # in the order one list gives
    assert {e["type"] for e in warnings_only} == {"Warning"}


def test_a_kind_with_more_objects_than_the_reader_takes_says_so() -> None:
    from orchestrator.analyzers import reader

    class Endless(FakeApi):
        def call_api(self, method: str, url: str, headers: dict, body: Any, post: Any, _request_timeout: float) -> Any:
            self.asked.append(url)
            n = len(self.asked)
            data = json.dumps({"metadata": {"continue": f"t{n}"}, "items": [{"metadata": {"name": f"p{n}"}}]}).encode()
            return SimpleNamespace(status=200, data=data, read=lambda: data, getheader=lambda name: None)

    api = Endless({})
    result = read_snapshot(api, ["shop"], ["Pod"], logs=False)
    assert len(api.asked) == reader.MAX_PAGES
    assert result.skipped == [f"Pod: only the first {reader.MAX_PAGES} in shop read"]
    assert len(result.snapshot.of("Pod")) == reader.MAX_PAGES
