"""Storage through the official client: the default class, dynamic provisioning (immediate and
WaitForFirstConsumer), static binding, claims that cannot bind, and pvc-protection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from .helpers import Sim, condition, events_for, raw, served_plan

NS = "default"


@pytest.fixture
def sim() -> Iterator[Sim]:
    with served_plan({"name": "storage", "applications": [], "faults": [], "warmup": 0}) as s:
        yield s


def storage(sim: Sim) -> client.StorageV1Api:
    return client.StorageV1Api(sim.api)


def claim(name: str, size: str = "1Gi", storage_class: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def pod_using(name: str, claim_name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {
                    "name": "db",
                    "image": "busybox:1.36",
                    "command": ["sh", "-c", "sleep 3600"],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
        },
    }


def read_claim(sim: Sim, name: str) -> dict:
    return raw(sim.core.read_namespaced_persistent_volume_claim(name, NS, _preload_content=False))


def read_pod(sim: Sim, name: str) -> dict:
    return raw(sim.core.read_namespaced_pod(name, NS, _preload_content=False))


def test_default_class_is_kinds_local_path(sim: Sim) -> None:
    classes = raw(storage(sim).list_storage_class(_preload_content=False))["items"]
    assert [(c["metadata"]["name"], c["provisioner"], c["volumeBindingMode"]) for c in classes] == [
        ("standard", "rancher.io/local-path", "WaitForFirstConsumer")
    ]
    created = raw(sim.core.create_namespaced_persistent_volume_claim(NS, claim("data"), _preload_content=False))
    assert created["spec"]["storageClassName"] == "standard"  # the DefaultStorageClass admission plugin
    assert created["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]


def test_unknown_storage_class_leaves_claim_and_pod_pending(sim: Sim) -> None:
    sim.core.create_namespaced_persistent_volume_claim(NS, claim("data", storage_class="fast-ssd"))
    sim.core.create_namespaced_pod(NS, pod_using("db", "data"))
    sim.advance(60)
    assert read_claim(sim, "data")["status"]["phase"] == "Pending"
    events = events_for(sim, NS, "data", "PersistentVolumeClaim")
    failed = [e for e in events if e["reason"] == "ProvisioningFailed"]
    assert failed and failed[0]["type"] == "Warning"
    assert failed[0]["message"] == 'storageclass.storage.k8s.io "fast-ssd" not found'
    assert failed[0]["source"]["component"] == "persistentvolume-controller"
    pod = read_pod(sim, "db")
    assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")
    message = condition(pod, "PodScheduled")["message"]
    assert message == (
        "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."
    )
    assert "FailedScheduling" in [e["reason"] for e in events_for(sim, NS, "db", "Pod")]


def test_wait_for_first_consumer_provisions_on_the_chosen_node(sim: Sim) -> None:
    sim.core.create_namespaced_persistent_volume_claim(NS, claim("data", "5Gi"))
    sim.advance(10)
    assert read_claim(sim, "data")["status"]["phase"] == "Pending"
    reasons = [e["reason"] for e in events_for(sim, NS, "data", "PersistentVolumeClaim")]
    assert reasons == ["WaitForFirstConsumer"]
    sim.core.create_namespaced_pod(NS, pod_using("db", "data"))
    sim.advance(20)
    pvc, pod = read_claim(sim, "data"), read_pod(sim, "db")
    assert pvc["status"]["phase"] == "Bound" and pod["status"]["phase"] == "Running"
    node = pod["spec"]["nodeName"]
    assert pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == node
    pv = raw(sim.core.read_persistent_volume(pvc["spec"]["volumeName"], _preload_content=False))
    assert pv["metadata"]["name"] == f"pvc-{pvc['metadata']['uid']}"
    assert pv["status"]["phase"] == "Bound" and pv["spec"]["claimRef"]["name"] == "data"
    assert pv["spec"]["capacity"]["storage"] == "5Gi" and pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][0]["values"] == [node]
    reasons = [e["reason"] for e in events_for(sim, NS, "data", "PersistentVolumeClaim")]
    assert {"ExternalProvisioning", "Provisioning", "ProvisioningSucceeded"} <= set(reasons)


def test_immediate_class_provisions_without_a_pod_and_a_class_with_no_provisioner_waits(sim: Sim) -> None:
    for name, provisioner in (("instant", "rancher.io/local-path"), ("cloud", "ebs.csi.aws.com")):
        storage(sim).create_storage_class(
            {"metadata": {"name": name}, "provisioner": provisioner, "volumeBindingMode": "Immediate"}
        )
    sim.core.create_namespaced_persistent_volume_claim(NS, claim("now", storage_class="cloud"))
    sim.advance(30)
    assert read_claim(sim, "now")["status"]["phase"] == "Pending"
    events = events_for(sim, NS, "now", "PersistentVolumeClaim")
    assert [e["reason"] for e in events] == ["ExternalProvisioning"]
    assert "external provisioner 'ebs.csi.aws.com'" in events[0]["message"]


def test_claim_larger_than_the_provisioner_can_give(sim: Sim) -> None:
    sim.core.create_namespaced_persistent_volume_claim(NS, claim("huge", "2Ti"))
    sim.core.create_namespaced_pod(NS, pod_using("db", "huge"))
    sim.advance(30)
    assert read_claim(sim, "huge")["status"]["phase"] == "Pending"
    failed = [e for e in events_for(sim, NS, "huge", "PersistentVolumeClaim") if e["reason"] == "ProvisioningFailed"]
    assert failed and failed[0]["message"].startswith('failed to provision volume with StorageClass "standard"')
    assert read_pod(sim, "db")["status"]["phase"] == "Pending"


def test_static_volume_binds_and_empty_class_without_volume_fails_binding(sim: Sim) -> None:
    sim.core.create_persistent_volume(
        {
            "metadata": {"name": "manual"},
            "spec": {
                "capacity": {"storage": "10Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "hostPath": {"path": "/mnt/data"},
            },
        }
    )
    sim.advance(5)
    assert raw(sim.core.read_persistent_volume("manual", _preload_content=False))["status"]["phase"] == "Available"
    sim.core.create_namespaced_persistent_volume_claim(NS, claim("fits", "8Gi", storage_class=""))
    sim.core.create_namespaced_persistent_volume_claim(NS, claim("nothing", "1Gi", storage_class=""))
    sim.advance(10)
    fits = read_claim(sim, "fits")
    assert fits["status"]["phase"] == "Bound" and fits["spec"]["volumeName"] == "manual"
    assert fits["status"]["capacity"]["storage"] == "10Gi"
    assert read_claim(sim, "nothing")["status"]["phase"] == "Pending"
    events = events_for(sim, NS, "nothing", "PersistentVolumeClaim")
    assert [(e["type"], e["reason"], e["message"]) for e in events] == [
        ("Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set")
    ]
    # The claim goes away: a Retain volume is Released, not deleted.
    sim.core.delete_namespaced_persistent_volume_claim("fits", NS)
    sim.advance(5)
    assert raw(sim.core.read_persistent_volume("manual", _preload_content=False))["status"]["phase"] == "Released"


def test_claim_in_use_waits_for_its_pod_then_the_volume_is_deleted(sim: Sim) -> None:
    sim.core.create_namespaced_persistent_volume_claim(NS, claim("data"))
    sim.core.create_namespaced_pod(NS, pod_using("db", "data"))
    sim.advance(20)
    volume = read_claim(sim, "data")["spec"]["volumeName"]
    sim.core.delete_namespaced_persistent_volume_claim("data", NS)
    sim.advance(30)
    pvc = read_claim(sim, "data")  # kept by kubernetes.io/pvc-protection while the pod runs
    assert pvc["metadata"]["deletionTimestamp"] and pvc["status"]["phase"] == "Bound"
    sim.core.delete_namespaced_pod("db", NS, grace_period_seconds=0)
    sim.advance(40)
    with pytest.raises(client.ApiException) as err:
        read_claim(sim, "data")
    assert err.value.status == 404
    names = [v["metadata"]["name"] for v in raw(sim.core.list_persistent_volume(_preload_content=False))["items"]]
    assert volume not in names  # reclaimPolicy Delete
