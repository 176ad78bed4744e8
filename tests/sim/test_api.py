"""The simulated API server through the official kubernetes client over HTTP."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from orchestrator.sim.cluster import Cluster
from orchestrator.sim.runner import SimulatorServer


@pytest.fixture(scope="module")
def sim():
    server = SimulatorServer(Cluster())
    server.start_thread()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def core(sim):
    return client.CoreV1Api(client.ApiClient(sim.client_configuration()))


@pytest.fixture(scope="module")
def apps(sim):
    return client.AppsV1Api(client.ApiClient(sim.client_configuration()))


def deployment(name: str, image: str = "busybox:1.37", replicas: int = 1) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image, "command": ["sh", "-c", "sleep infinity"]}]},
            },
        },
    }


def test_discovery_and_version(sim):
    with urllib.request.urlopen(f"{sim.url}/version") as r:
        assert json.load(r)["major"] == "1"
    with urllib.request.urlopen(f"{sim.url}/apis") as r:
        groups = {g["name"] for g in json.load(r)["groups"]}
    assert {"apps", "networking.k8s.io", "autoscaling", "scheduling.k8s.io", "apiextensions.k8s.io"} <= groups
    with urllib.request.urlopen(f"{sim.url}/api/v1") as r:
        names = {res["name"] for res in json.load(r)["resources"]}
    assert {"pods", "pods/log", "services", "secrets", "resourcequotas", "events"} <= names


def test_deployment_creates_replicaset_and_pods(sim, core, apps):
    apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    sim.advance(30)
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert len(pods) == 2
    assert all(p.metadata.owner_references[0].kind == "ReplicaSet" for p in pods)
    assert all(p.status.phase == "Running" for p in pods)
    dep = apps.read_namespaced_deployment("web", "default")
    assert dep.status.ready_replicas == 2
    assert dep.metadata.annotations["deployment.kubernetes.io/revision"] == "1"


def test_stale_update_conflicts(apps):
    apps.create_namespaced_deployment("default", deployment("conflict"))
    first = apps.read_namespaced_deployment("conflict", "default")
    second = apps.read_namespaced_deployment("conflict", "default")
    first.spec.replicas = 2
    apps.replace_namespaced_deployment("conflict", "default", first)
    second.spec.replicas = 3
    with pytest.raises(ApiException) as err:
        apps.replace_namespaced_deployment("conflict", "default", second)
    assert err.value.status == 409
    assert json.loads(err.value.body)["reason"] == "Conflict"


def test_errors_are_status_objects(core):
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("nope", "default")
    body = json.loads(err.value.body)
    assert err.value.status == 404 and body["kind"] == "Status" and body["reason"] == "NotFound"
    assert body["message"] == 'pods "nope" not found'
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("default", {"metadata": {"name": "Bad_Name"}})
    assert err.value.status == 422


def test_patch_types(sim, core, apps):
    apps.create_namespaced_deployment("default", deployment("patched"))
    # strategic merge: containers merge by name
    apps.patch_namespaced_deployment(
        "patched",
        "default",
        {"spec": {"template": {"spec": {"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}]}]}}}},
    )
    dep = apps.read_namespaced_deployment("patched", "default")
    assert dep.spec.template.spec.containers[0].image == "busybox:1.37"
    assert dep.spec.template.spec.containers[0].env[0].name == "A"
    assert dep.metadata.generation == 2
    # JSON patch, as kubectl rollout undo sends it (the client sends a list body as JSON patch)
    apps.patch_namespaced_deployment("patched", "default", [{"op": "replace", "path": "/spec/replicas", "value": 3}])
    assert apps.read_namespaced_deployment("patched", "default").spec.replicas == 3
    # merge patch on a ConfigMap: null deletes a key
    core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}})
    req = urllib.request.Request(
        f"{sim.url}/api/v1/namespaces/default/configmaps/cfg",
        data=json.dumps({"data": {"a": None, "c": "3"}}).encode(),
        method="PATCH",
        headers={"Content-Type": "application/merge-patch+json"},
    )
    urllib.request.urlopen(req).close()
    assert core.read_namespaced_config_map("cfg", "default").data == {"b": "2", "c": "3"}


def test_scale_subresource(sim, apps):
    apps.create_namespaced_deployment("default", deployment("scaled"))
    apps.patch_namespaced_deployment_scale("scaled", "default", {"spec": {"replicas": 4}})
    sim.advance(20)
    scale = apps.read_namespaced_deployment_scale("scaled", "default")
    assert scale.spec.replicas == 4 and scale.status.replicas == 4


def test_field_and_label_selectors(sim, core, apps):
    apps.create_namespaced_deployment("default", deployment("selected", replicas=1))
    sim.advance(10)
    pod = core.list_namespaced_pod("default", label_selector="app=selected").items[0]
    by_name = core.list_namespaced_pod("default", field_selector=f"metadata.name={pod.metadata.name}").items
    assert [p.metadata.name for p in by_name] == [pod.metadata.name]
    node = pod.spec.node_name
    on_node = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items
    assert pod.metadata.name in {p.metadata.name for p in on_node}
    events = core.list_namespaced_event(
        "default", field_selector=f"involvedObject.name={pod.metadata.name},involvedObject.kind=Pod"
    ).items
    assert {e.reason for e in events} >= {"Scheduled"}
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", field_selector="spec.bogus=1")
    assert err.value.status == 400


def test_watch_from_resource_version(sim, core):
    listed = core.list_namespaced_config_map("default")
    rv = listed.metadata.resource_version
    seen: list[tuple[str, str]] = []

    def consume() -> None:
        w = watch.Watch()
        for event in w.stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) >= 3:
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    core.create_namespaced_config_map("default", {"metadata": {"name": "watched"}, "data": {"x": "1"}})
    core.patch_namespaced_config_map("watched", "default", {"data": {"x": "2"}})
    core.delete_namespaced_config_map("watched", "default")
    t.join(10)
    assert seen == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]


def test_custom_resources_list_and_watch(sim):
    ext = client.ApiextensionsV1Api(client.ApiClient(sim.client_configuration()))
    ext.create_custom_resource_definition(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "incidents.sre-agent.dev"},
            "spec": {
                "group": "sre-agent.dev",
                "scope": "Namespaced",
                "names": {"plural": "incidents", "singular": "incident", "kind": "Incident"},
                "versions": [
                    {
                        "name": "v1alpha1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": {"type": "object"}},
                    }
                ],
            },
        }
    )
    custom = client.CustomObjectsApi(client.ApiClient(sim.client_configuration()))
    custom.create_namespaced_custom_object(
        "sre-agent.dev",
        "v1alpha1",
        "default",
        "incidents",
        {
            "apiVersion": "sre-agent.dev/v1alpha1",
            "kind": "Incident",
            "metadata": {"name": "i1"},
            "spec": {"summary": "x"},
        },
    )
    items = custom.list_namespaced_custom_object("sre-agent.dev", "v1alpha1", "default", "incidents")["items"]
    assert [i["metadata"]["name"] for i in items] == ["i1"]
    w = watch.Watch()
    events = []
    for event in w.stream(
        custom.list_cluster_custom_object, "sre-agent.dev", "v1alpha1", "incidents", timeout_seconds=2
    ):
        events.append(event["type"])
        w.stop()
    assert events == ["ADDED"]


def test_garbage_collection_of_dependents(sim, core, apps):
    apps.create_namespaced_deployment("default", deployment("doomed", replicas=2))
    sim.advance(10)
    apps.delete_namespaced_deployment("doomed", "default")
    assert not apps.list_namespaced_replica_set("default", label_selector="app=doomed").items
    assert not core.list_namespaced_pod("default", label_selector="app=doomed").items


def test_server_side_dry_run_changes_nothing(core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "dry"}, "data": {"a": "1"}}, dry_run="All")
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("dry", "default")


def test_secret_values_are_stored_base64(core):
    core.create_namespaced_secret("default", {"metadata": {"name": "creds"}, "stringData": {"password": "hunter2"}})
    secret = core.read_namespaced_secret("creds", "default")
    assert secret.data == {"password": "aHVudGVyMg=="} and secret.type == "Opaque"


def test_reliability_rules_inject_errors(sim, core):
    req = urllib.request.Request(
        f"{sim.url}/sim/v1/reliability",
        data=json.dumps({"path": "/configmaps", "status": 500, "times": 1}).encode(),
        method="POST",
    )
    req.add_header("Content-Type", "application/json")
    urllib.request.urlopen(req).close()
    with pytest.raises(ApiException) as err:
        core.list_namespaced_config_map("default")
    assert err.value.status == 500
    core.list_namespaced_config_map("default")  # only once

    req = urllib.request.Request(
        f"{sim.url}/sim/v1/reliability", data=json.dumps({"path": "/secrets", "status": 403}).encode(), method="POST"
    )
    req.add_header("Content-Type", "application/json")
    urllib.request.urlopen(req).close()
    with pytest.raises(ApiException) as err:
        core.list_namespaced_secret("default")
    assert err.value.status == 403 and json.loads(err.value.body)["reason"] == "Forbidden"
    urllib.request.urlopen(urllib.request.Request(f"{sim.url}/sim/v1/reliability", method="DELETE")).close()
    core.list_namespaced_secret("default")


def test_a_stopped_simulator_leaves_nothing_in_memory():
    # aiohttp's process-wide middleware cache held every served simulator (and its whole cluster) alive.
    import gc
    import weakref

    server = SimulatorServer.start()
    client.CoreV1Api(client.ApiClient(server.client_configuration())).list_namespaced_pod("default")
    cluster = weakref.ref(server.cluster)
    server.stop()
    del server
    gc.collect()
    assert cluster() is None


def test_lists_come_in_pages_when_a_limit_is_asked(core):
    core.create_namespace({"metadata": {"name": "paged"}})
    for i in range(7):
        core.create_namespaced_config_map("paged", {"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
    names, token, remaining = [], None, []
    while True:
        page = core.list_namespaced_config_map("paged", limit=3, _continue=token)
        names += [cm.metadata.name for cm in page.items]
        remaining.append(page.metadata.remaining_item_count)
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"cm-{i}" for i in range(7)]
    assert remaining == [4, 1, None]
    everything = core.list_namespaced_config_map("paged")
    assert len(everything.items) == 7 and everything.metadata._continue is None
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_config_map("paged", limit=3, _continue="not-a-token")
    assert bad.value.status == 400 and "continue key is not valid" in bad.value.body


def test_numeric_quantities_read_back_as_strings(sim, core, apps):
    # A manifest may say `cpu: 3` (kubectl sends it as a number); the API server serves quantities as
    # strings, and the typed client rejects a number there.
    dep = deployment("numeric-requests")
    dep["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": 0.5, "memory": "64Mi", "nvidia.com/gpu": 1},
        "limits": {"cpu": 3, "memory": "64Mi", "nvidia.com/gpu": 1},
    }
    request = urllib.request.Request(
        f"{sim.url}/apis/apps/v1/namespaces/default/deployments",
        data=json.dumps(dep).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 201
    read = apps.read_namespaced_deployment("numeric-requests", "default").spec.template.spec.containers[0].resources
    assert read.requests == {"cpu": "500m", "memory": "64Mi", "nvidia.com/gpu": "1"}
    assert read.limits == {"cpu": "3", "memory": "64Mi", "nvidia.com/gpu": "1"}
    pods = core.list_namespaced_pod("default", label_selector="app=numeric-requests").items
    assert pods and pods[0].spec.containers[0].resources.limits["cpu"] == "3"
