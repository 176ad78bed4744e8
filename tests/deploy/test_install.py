"""An overlay applied with kubectl to a served cluster (the simulator), then asked, as kube-apiserver's RBAC
authorizer would answer, what each ServiceAccount may do: the agent reads everything but Secrets and writes
only in the allowed namespace; the webhook only creates and updates Incidents in its own."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from orchestrator.sim.cluster import Cluster
from orchestrator.sim.runner import SimulatorServer

from .manifests import OVERLAYS, kustomize

AGENT = "system:serviceaccount:sre-agent:sre-agent"
WEBHOOK = "system:serviceaccount:sre-agent:sre-agent-webhook"


@pytest.fixture
def served() -> Iterator[SimulatorServer]:
    server = SimulatorServer(Cluster())
    server.start_thread()
    try:
        yield server
    finally:
        server.stop()


def may(api: client.ApiClient, user: str, verb: str, resource: str, namespace: str = "", group: str = "") -> bool:
    resource, _, sub = resource.partition("/")
    attrs = {"verb": verb, "resource": resource, "group": group, "namespace": namespace, "subresource": sub}
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "groups": ["system:serviceaccounts", "system:serviceaccounts:sre-agent", "system:authenticated"],
            "resourceAttributes": {k: v for k, v in attrs.items() if v},
        },
    }
    answer = client.AuthorizationV1Api(api).create_subject_access_review(review)
    return bool(answer.status.allowed)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_an_overlay_installs_with_kubectl_and_grants_least_privilege(
    served: SimulatorServer, tmp_path: Path, overlay: str
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    served.write_kubeconfig(kubeconfig)
    manifest = tmp_path / "install.yaml"
    objs = kustomize(overlay)
    manifest.write_text(yaml.safe_dump_all(objs))
    applied = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "apply", "-f", str(manifest)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.count(" created") == len(objs)

    with client.ApiClient(served.client_configuration()) as api:
        deployments = client.AppsV1Api(api).list_namespaced_deployment("sre-agent").items
        assert sorted(d.metadata.name for d in deployments) == ["sre-agent-operator", "sre-agent-webhook"]

        for verb in ("get", "list", "watch"):
            assert may(api, AGENT, verb, "pods", "shop")
            assert may(api, AGENT, verb, "deployments", "shop", "apps")
            assert not may(api, AGENT, verb, "secrets", "shop")
            assert not may(api, AGENT, verb, "secrets", "sre-agent")
        assert may(api, AGENT, "get", "pods/log", "shop")
        assert may(api, AGENT, "list", "nodes")
        # Writes in the allowed namespace only, and never to RBAC.
        assert may(api, AGENT, "patch", "deployments", "default", "apps")
        assert may(api, AGENT, "patch", "deployments/scale", "default", "apps")
        assert not may(api, AGENT, "patch", "deployments", "shop", "apps")
        assert not may(api, AGENT, "delete", "pods", "kube-system")
        assert not may(api, AGENT, "create", "rolebindings", "default", "rbac.authorization.k8s.io")
        assert not may(api, AGENT, "patch", "nodes")
        # The operator's own objects.
        assert may(api, AGENT, "patch", "incidents/status", "sre-agent", "sre-agent.dev")
        assert may(api, AGENT, "watch", "incidents", "sre-agent", "sre-agent.dev")
        assert may(api, AGENT, "create", "jobs", "sre-agent", "batch") == (overlay == "job-executor")

        assert may(api, WEBHOOK, "create", "incidents", "sre-agent", "sre-agent.dev")
        assert may(api, WEBHOOK, "update", "incidents", "sre-agent", "sre-agent.dev")
        assert not may(api, WEBHOOK, "create", "incidents", "default", "sre-agent.dev")
        assert not may(api, WEBHOOK, "delete", "incidents", "sre-agent", "sre-agent.dev")
        assert not may(api, WEBHOOK, "get", "secrets", "sre-agent")
        assert not may(api, WEBHOOK, "get", "pods", "sre-agent")
