"""Access reviews over stored RBAC objects (official client), and protobuf request bodies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from orchestrator.sim import protobuf
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.runner import SimulatorServer

RBAC = "rbac.authorization.k8s.io"


@pytest.fixture
def api() -> Iterator[client.ApiClient]:
    server = SimulatorServer(Cluster())
    server.start_thread()
    try:
        with client.ApiClient(server.client_configuration()) as api_client:
            yield api_client
    finally:
        server.stop()


def _sar(api: client.ApiClient, user: str, groups: list[str], **attrs: str) -> client.V1SubjectAccessReviewStatus:
    spec = client.V1SubjectAccessReviewSpec(
        user=user, groups=groups, resource_attributes=client.V1ResourceAttributes(**attrs)
    )
    review = client.AuthorizationV1Api(api).create_subject_access_review(client.V1SubjectAccessReview(spec=spec))
    return review.status


def test_subject_access_reviews_follow_bindings(api: client.ApiClient) -> None:
    rbac = client.RbacAuthorizationV1Api(api)
    # The bootstrap policy: system:masters is cluster-admin.
    assert _sar(api, "admin", ["system:masters"], verb="delete", resource="nodes").allowed
    assert not _sar(api, "dev", [], verb="get", resource="pods", namespace="default").allowed
    rbac.create_cluster_role(
        {
            "metadata": {"name": "deploy-editor"},
            "rules": [
                {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "patch"]},
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["app"], "verbs": ["get"]},
            ],
        }
    )
    rbac.create_namespaced_role_binding(
        "default",
        {
            "metadata": {"name": "dev-edits"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "deploy-editor"},
            "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "dev"}],
        },
    )
    status = _sar(api, "dev", [], verb="patch", group="apps", resource="deployments", namespace="default")
    assert status.allowed
    assert status.reason == (
        'RBAC: allowed by RoleBinding "dev-edits/default" of ClusterRole "deploy-editor" to User "dev"'
    )
    assert _sar(
        api, "dev", [], verb="patch", group="apps", resource="deployments", subresource="scale", namespace="default"
    ).allowed
    assert not _sar(api, "dev", [], verb="patch", group="apps", resource="deployments", namespace="kube-system").allowed
    assert not _sar(api, "dev", [], verb="delete", group="apps", resource="deployments", namespace="default").allowed
    assert _sar(api, "dev", [], verb="get", resource="configmaps", name="app", namespace="default").allowed
    assert not _sar(api, "dev", [], verb="get", resource="configmaps", name="other", namespace="default").allowed
    # The caller of a self review is the kubeconfig's admin.
    self_review = client.AuthorizationV1Api(api).create_self_subject_access_review(
        client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(verb="delete", resource="namespaces")
            )
        )
    )
    assert self_review.status.allowed


def _field(num: int, payload: bytes) -> bytes:
    assert num < 16 and len(payload) < 128
    return bytes([num << 3 | 2, len(payload)]) + payload


def test_protobuf_body_decodes_to_json() -> None:
    meta = _field(1, b"cfg") + _field(11, _field(1, b"app") + _field(2, b"web"))
    configmap = _field(1, meta) + _field(2, _field(1, b"k") + _field(2, b"v"))
    envelope = _field(1, _field(1, b"v1") + _field(2, b"ConfigMap")) + _field(2, configmap)
    assert protobuf.decode(protobuf.MAGIC + envelope) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "labels": {"app": "web"}},
        "data": {"k": "v"},
    }
