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
