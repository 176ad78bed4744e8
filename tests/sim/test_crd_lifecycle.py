"""CustomResourceDefinitions through the official client: registration makes the kind served
(discovery, OpenAPI, tables with its printer columns), custom resources get CRUD, watch, the status
subresource and validation against the CRD's schema."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from orchestrator.sim.cluster import Cluster
from orchestrator.sim.runner import SimulatorServer

GROUP, VERSION, PLURAL = "example.com", "v1", "widgets"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1},
                                    "color": {"type": "string", "enum": ["red", "blue"]},
                                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {
                                    "conditions": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {"type": {"type": "string"}, "status": {"type": "string"}},
                                        },
                                    }
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}


def get_json(api: client.ApiClient, path: str, accept: str = "application/json") -> dict:
    req = urllib.request.Request(api.configuration.host + path, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def widget(name: str, **spec: object) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": name}, "spec": spec}


@pytest.fixture
def api() -> Iterator[client.ApiClient]:
    server = SimulatorServer(Cluster())
    server.start_thread()
    try:
        with client.ApiClient(server.client_configuration()) as api_client:
            yield api_client
    finally:
        server.stop()


def test_crd_lifecycle_with_the_official_client(api: client.ApiClient) -> None:
    ext = client.ApiextensionsV1Api(api)
    custom = client.CustomObjectsApi(api)
    ext.create_custom_resource_definition(CRD)
    crd = json.loads(ext.read_custom_resource_definition("widgets.example.com", _preload_content=False).data)
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd["status"]["acceptedNames"]["kind"] == "Widget"

    # Served: discovery and OpenAPI know the kind.
    resources = get_json(api, f"/apis/{GROUP}/{VERSION}")
    names = {r["name"] for r in resources["resources"]}
    assert names == {"widgets", "widgets/status"}
    doc = get_json(api, f"/openapi/v3/apis/{GROUP}/{VERSION}")
    schema = doc["components"]["schemas"]["com.example.v1.Widget"]
    assert schema["properties"]["spec"]["required"] == ["size"]

    events: list[tuple[str, dict]] = []
    # Watch from the list's resourceVersion: whenever the stream connects, it replays from there.
    since = custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["metadata"]["resourceVersion"]

    def watch_widgets() -> None:
        w = watch.Watch()
        stream = w.stream(
            custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            "default",
            PLURAL,
            resource_version=since,
            timeout_seconds=10,
        )
        for ev in stream:
            events.append((ev["type"], ev["object"]))
            if len(events) == 3:
                w.stop()

    watcher = threading.Thread(target=watch_widgets, daemon=True)
    watcher.start()

    # Create: status is ignored with the status subresource; undeclared fields are pruned.
    body = widget("w1", size=3, color="red", extra={"free": [1, 2]}, undeclared=True)
    body["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    assert "status" not in created
    assert created["spec"] == {"size": 3, "color": "red", "extra": {"free": [1, 2]}}

    # Status only through /status; spec writes leave status alone.
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, "default", PLURAL, "w1", {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    )
    updated = custom.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "w1", {"spec": {"size": 4}, "status": {"conditions": []}}
    )
    assert updated["spec"]["size"] == 4
    assert updated["status"] == {"conditions": [{"type": "Ready", "status": "True"}]}

    watcher.join(timeout=15)
    assert [t for t, _ in events] == ["ADDED", "MODIFIED", "MODIFIED"]
    assert events[1][1]["status"]["conditions"][0]["status"] == "True"

    # kubectl get's table: the printer columns.
    table = get_json(api, f"/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}", TABLE)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Size", "Ready"]
    assert table["rows"][0]["cells"] == ["w1", 4, "True"]

    # Validation against the schema.
    for bad, message in (
        (widget("w2", size="big"), 'spec.size: Invalid value: "big": spec.size in body must be of type integer'),
        (widget("w3", size=2, color="pink"), 'spec.color: Unsupported value: "pink"'),
        (widget("w4", color="red"), "spec.size: Required value"),
        (widget("w5", size=0), "spec.size in body should be greater than or equal to 1"),
    ):
        with pytest.raises(ApiException) as err:
            custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, bad)
        assert err.value.status == 422 and message in json.loads(err.value.body)["message"]
    with pytest.raises(ApiException) as err:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, widget("w6", size=1, nope=1), field_validation="Strict"
        )
    assert err.value.status == 400
    assert 'strict decoding error: unknown field "spec.nope"' in json.loads(err.value.body)["message"]

    # Deleting the CRD removes its objects and stops serving the kind.
    ext.delete_custom_resource_definition("widgets.example.com")
    with pytest.raises(ApiException) as err:
        custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    assert err.value.status == 404
