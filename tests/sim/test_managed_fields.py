"""metadata.managedFields: each write records its field manager and the fields it set, and a field set by
another manager leaves the first one's set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from orchestrator.sim.cluster import Cluster
from orchestrator.sim.runner import SimulatorServer


@pytest.fixture
def core() -> Iterator[client.CoreV1Api]:
    server = SimulatorServer(Cluster())
    server.start_thread()
    try:
        with client.ApiClient(server.client_configuration()) as api:
            yield client.CoreV1Api(api)
    finally:
        server.stop()


def fields(obj: client.V1ConfigMap) -> dict[str, dict]:
    return {(e.manager, e.operation): e.fields_v1 for e in obj.metadata.managed_fields or []}


def test_writes_record_their_manager_and_fields(core: client.CoreV1Api) -> None:
    body = {"metadata": {"name": "cm", "labels": {"team": "a"}}, "data": {"k": "v"}}
    core.create_namespaced_config_map("default", body, field_manager="creator")
    created = core.read_namespaced_config_map("cm", "default")
    assert fields(created) == {
        ("creator", "Update"): {"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {"f:team": {}}, "f:name": {}}}
    }
    core.patch_namespaced_config_map("cm", "default", {"metadata": {"annotations": {"approve": "x"}}},
                                     field_manager="kubectl-annotate")  # fmt: skip
    core.patch_namespaced_config_map("cm", "default", {"data": {"k": "w"}}, field_manager="editor")
    now = fields(core.read_namespaced_config_map("cm", "default"))
    assert now[("kubectl-annotate", "Update")] == {"f:metadata": {"f:annotations": {"f:approve": {}}}}
    assert now[("editor", "Update")] == {"f:data": {"f:k": {}}}
    assert now[("creator", "Update")] == {"f:metadata": {"f:labels": {"f:team": {}}, "f:name": {}}}  # k moved on
    core.patch_namespaced_config_map("cm", "default", {"data": {"k": "w"}}, field_manager="idle")  # no change
    assert ("idle", "Update") not in fields(core.read_namespaced_config_map("cm", "default"))
    core.patch_namespaced_config_map("cm", "default", {"metadata": {"labels": {"team": "b"}}})  # no manager named
    assert any(m.startswith("OpenAPI-Generator") for m, _ in fields(core.read_namespaced_config_map("cm", "default")))
