"""Connecting to a cluster: kubeconfig and context problems, an unreachable API server, in-cluster mode."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from kubernetes import client

from orchestrator.kube import ClusterError, check_reachable, connect, kubeconfig_files
from tests.tools.conftest import Cluster


def test_connect_with_a_kubeconfig(healthy: Cluster, tmp_path: Path) -> None:
    path = healthy.server.write_kubeconfig(tmp_path / "config", context="sim")
    api = connect(kubeconfig=str(path), context="sim")
    try:
        check_reachable(api)
        names = {n.metadata.name for n in client.CoreV1Api(api).list_namespace().items}
        assert "otel-demo" in names
        assert api.configuration.retries.total == 1
    finally:
        api.close()


def test_kubeconfig_from_the_environment(healthy: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = healthy.server.write_kubeconfig(tmp_path / "env-config")
    monkeypatch.setenv("KUBECONFIG", f"{path}:{tmp_path / 'other'}")
    assert kubeconfig_files() == [path]  # the file that does not exist is left out, as kubectl does
    api = connect()  # the current context
    try:
        check_reachable(api)
    finally:
        api.close()


def test_kubeconfig_files_are_merged_like_kubectl(
    healthy: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    full = yaml.safe_load(healthy.server.write_kubeconfig(tmp_path / "clusters", context="sim").read_text())
    full.pop("current-context", None)  # the clusters and users in one file, the current context in another
    (tmp_path / "clusters").write_text(yaml.safe_dump(full))
    (tmp_path / "current").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "sim"}))
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'current'}:{tmp_path / 'clusters'}")
    api = connect()
    try:
        check_reachable(api)
    finally:
        api.close()


def test_missing_kubeconfig(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config"
    with pytest.raises(ClusterError) as err:
        connect(kubeconfig=str(missing))
    assert str(err.value) == f"kubeconfig {missing} not found"


def test_unknown_context(healthy: Cluster, tmp_path: Path) -> None:
    path = healthy.server.write_kubeconfig(tmp_path / "config", context="sim")
    with pytest.raises(ClusterError) as err:
        connect(kubeconfig=str(path), context="prod")
    assert str(err.value) == f"context prod not found in kubeconfig {path}; available contexts: sim"


def test_broken_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters: [unclosed\n")
    with pytest.raises(ClusterError) as err:
        connect(kubeconfig=str(path))
    assert str(err.value).startswith(f"kubeconfig {path} is not")
    assert "\n" not in str(err.value)


def test_unreachable_cluster(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "dead", "cluster": {"server": url}}],
        "users": [{"name": "dead", "user": {"token": "x"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "dead"}}],
        "current-context": "dead",
    }
    import yaml

    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    api = connect(kubeconfig=str(path))
    try:
        with pytest.raises(ClusterError) as err:
            check_reachable(api)
    finally:
        api.close()
    assert str(err.value).startswith(f"cannot reach the cluster at {url}: ")
    assert "refused" in str(err.value).lower() and "\n" not in str(err.value)


def test_in_cluster_outside_a_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ClusterError, match="^not running inside a Kubernetes pod"):
        connect(in_cluster=True)


def test_every_request_gets_a_timeout(cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib3

    import orchestrator.kube as kube

    monkeypatch.setattr(kube, "REQUEST_TIMEOUT_SECONDS", 0.5)
    api = connect(kubeconfig=str(cluster.server.write_kubeconfig(tmp_path / "config")))
    try:
        cluster.control("POST", "reliability", {"path": "/namespaces$", "latency": 3.0})
        with pytest.raises(urllib3.exceptions.MaxRetryError, match="timed out"):
            client.CoreV1Api(api).list_namespace()
    finally:
        api.close()


def test_a_server_error_is_asked_again_once_and_a_refusal_is_not(cluster: Cluster) -> None:
    from orchestrator.kube import ClusterUnreachable

    cluster.control("POST", "reliability", {"path": "/version", "status": 503, "times": 1})
    check_reachable(cluster.api, backoff=0.01)  # the second ask is answered
    cluster.fail_requests("/version", 503)
    with pytest.raises(ClusterUnreachable) as gone:
        check_reachable(cluster.api, attempts=3, backoff=0.01)
    assert gone.value.transient and str(gone.value).startswith(f"cannot reach the cluster at {cluster.url}: 503")
    cluster.heal_requests()
    cluster.fail_requests("/version", 401)
    with pytest.raises(ClusterUnreachable) as refused:
        check_reachable(cluster.api, backoff=60)  # not transient: no second ask, so no minute's wait
    assert not refused.value.transient and "refused the credentials: 401" in str(refused.value)
