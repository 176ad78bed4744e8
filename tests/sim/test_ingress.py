"""Ingress and IngressClass through the official client and kubectl: validation, the default class,
the address an ingress controller publishes, and backends resolved to endpoints (or errors)."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.sim.controllers.ingress import resolve_backends

from .helpers import Sim, kubectl, raw, served_plan

NS = "default"
KUBECTL = kubectl()  # required: a missing kubectl fails the module, never skips it


@pytest.fixture
def sim() -> Iterator[Sim]:
    with served_plan({"name": "ingress", "applications": [], "faults": [], "warmup": 0}) as s:
        yield s


def web(sim: Sim) -> None:
    sim.apps.create_namespaced_deployment(
        NS,
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "web", "image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 80}]}
                        ]
                    },
                },
            },
        },
    )
    sim.core.create_namespaced_service(
        NS,
        {
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        },
    )


def path(p: str, service: str, port: dict, path_type: str = "Prefix") -> dict:
    return {"path": p, "pathType": path_type, "backend": {"service": {"name": service, "port": port}}}


def shop(paths: list[dict], class_name: str | None = None) -> dict:
    spec: dict = {"rules": [{"host": "shop.example.com", "http": {"paths": paths}}]}
    if class_name:
        spec["ingressClassName"] = class_name
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "shop"}, "spec": spec}


def post(sim: Sim, url_path: str, body: dict) -> tuple[int, dict]:
    """A raw POST, as kubectl sends it: the typed client would refuse these bodies before sending."""
    req = urllib.request.Request(
        sim.server.url + url_path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_ingress_validation(sim: Sim) -> None:
    cases = [
        ({"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}}, "pathType: Required value"),
        (path("api", "web", {"number": 80}), 'path: Invalid value: "api": must be an absolute path'),
        (path("/", "web", {}), "port: Invalid value: exactly one of name or number is required"),
        (path("/", "web", {"number": 70000}), "must be between 1 and 65535"),
    ]
    for bad, message in cases:
        code, status = post(sim, f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses", shop([bad]))
        assert code == 422 and message in status["message"], status


def test_ingress_of_a_served_class_gets_an_address_and_resolves_backends(sim: Sim) -> None:
    web(sim)
    net = sim.networking
    net.create_namespaced_ingress(NS, shop([path("/", "web", {"number": 80})]))
    sim.advance(30)
    # No IngressClass, so no controller claims it: no address, as on a cluster without one.
    ing = raw(net.read_namespaced_ingress("shop", NS, _preload_content=False))
    assert ing["status"] == {"loadBalancer": {}} and "ingressClassName" not in ing["spec"]
    net.create_ingress_class(
        {
            "metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
            "spec": {"controller": "k8s.io/ingress-nginx"},
        }
    )
    sim.advance(5)
    ing = raw(net.read_namespaced_ingress("shop", NS, _preload_content=False))
    assert ing["status"]["loadBalancer"]["ingress"][0]["ip"]
    net.delete_namespaced_ingress("shop", NS)
    paths = [
        path("/", "web", {"name": "http"}),
        path("/api", "api", {"name": "http"}),
        path("/admin", "web", {"number": 8080}, "Exact"),
    ]
    created = raw(net.create_namespaced_ingress(NS, shop(paths), _preload_content=False))
    assert created["spec"]["ingressClassName"] == "nginx"  # the DefaultIngressClass admission plugin
    sim.advance(5)
    backends = {
        b.path: b for b in resolve_backends(sim.cluster, sim.cluster.store.get(sim.cluster.rt("Ingress"), NS, "shop"))
    }
    assert backends["/"].error is None and len(backends["/"].endpoints) == 2
    assert backends["/api"].error == 'service "default/api" not found'
    assert backends["/admin"].error == 'service "default/web" does not have port 8080'


def test_kubectl_describe_ingress_lists_backend_endpoints(sim: Sim, tmp_path: Path) -> None:
    web(sim)
    sim.networking.create_namespaced_ingress(
        NS, shop([path("/", "web", {"number": 80}), path("/api", "api", {"name": "http"})])
    )
    sim.advance(30)
    kubeconfig = sim.server.write_kubeconfig(tmp_path / "kubeconfig")
    assert KUBECTL is not None
    out = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "-n", NS, "describe", "ingress", "shop"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    pods = raw(sim.core.list_namespaced_pod(NS, _preload_content=False))["items"]
    addresses = ",".join(sorted(f"{p['status']['podIP']}:80" for p in pods))
    assert f"web:80 ({addresses})" in out.stdout
    assert 'api:http (<error: services "api" not found>)' in out.stdout
    table = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "-n", NS, "get", "ingress"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert table.stdout.split("\n")[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]


def test_ingress_to_a_missing_service_shows_as_errors_in_the_traffic_figures() -> None:
    plan = {"name": "bookinfo-ingress", "applications": [("book-info", {})], "faults": [], "warmup": 60}
    with served_plan(plan) as sim:
        sim.networking.create_ingress_class(
            {"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}
        )
        body = shop([path("/", "productpage", {"number": 9080}), path("/ratings", "rating", {"number": 9080})], "nginx")
        sim.networking.create_namespaced_ingress("book-info", body)
        sim.advance(120)
        query = "sum by (path, status) (rate(nginx_ingress_controller_requests{ingress='shop'}[1m]))"
        result = sim.get_json("/api/v1/query?" + urllib.parse.urlencode({"query": query}))["data"]["result"]
        rates = {(r["metric"]["path"], r["metric"]["status"]): float(r["value"][1]) for r in result}
        # The application's 10 users/s are split over the two paths; the misspelt Service answers 503.
        assert rates[("/", "200")] == pytest.approx(5, rel=0.05)
        assert rates[("/ratings", "503")] == pytest.approx(5, rel=0.05)
        assert rates.get(("/ratings", "200"), 0) == 0
