"""Prometheus and Alertmanager behind TLS and a bearer token, as a real monitoring stack serves them: the run
reads alerts and metrics through `spec.observability` (bearerTokenEnv, caFile) and still resolves; without
the token it cannot read them, and the gate does not pass."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from orchestrator.sim import resolve_scenario
from orchestrator.sim.runner import SimulatorServer

from .helpers import run_cli

TOKEN = "obs-token-0123456789abcdef"


def _certificate(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def guarded(upstream: str, tmp: Path) -> Iterator[tuple[str, Path, list[dict[str, Any]]]]:
    """An HTTPS reverse proxy in front of `upstream` that answers 401 without the bearer token."""
    cert, key = _certificate(tmp)
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            authorized = self.headers.get("Authorization") == f"Bearer {TOKEN}"
            seen.append({"path": self.path, "authorized": authorized})
            if not authorized:
                self._send(401, b'{"error":"unauthorized"}')
                return
            with urllib.request.urlopen(upstream + self.path, timeout=30) as resp:
                self._send(resp.status, resp.read())

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert, seen
    finally:
        server.shutdown()


def _incident(tmp: Path, kubeconfig: Path, url: str, cert: Path) -> Path:
    doc = {
        "apiVersion": "sre-agent.dev/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": "guarded"},
        "spec": {
            "summary": "checkout is failing",
            "alerts": [{"name": "KubePodNotReady", "labels": {"namespace": "otel-demo"}}],
            "scope": {"namespaces": ["otel-demo"]},
            "cluster": {"kubeconfig": str(kubeconfig)},
            "observability": {
                "alertmanager": url,
                "prometheus": url,
                "bearerTokenEnv": "OBS_TOKEN",
                "caFile": str(cert),
            },
        },
    }
    path = tmp / "incident.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_run_reads_alerts_and_metrics_through_tls_and_a_bearer_token(tmp_path: Path) -> None:
    with SimulatorServer.start(scenario=resolve_scenario("otel-demo-bad-image")) as sim:
        sim.advance(300)
        kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")
        with guarded(sim.url, tmp_path) as (url, cert, seen):
            inc = _incident(tmp_path, kubeconfig, url, cert)
            code, stdout, _ = run_cli(
                "run", str(inc), "--output", str(tmp_path / "run"), "-o", "json", env={"OBS_TOKEN": TOKEN}
            )
            assert code == 0, json.loads(stdout)["reason"]
            assert seen and all(s["authorized"] for s in seen)
            assert {s["path"].split("?")[0] for s in seen} >= {"/api/v2/alerts", "/api/v1/query"}  # alerts and metrics
            # Without the variable the run refuses to start; with a wrong token nothing can be read.
            code, _, stderr = run_cli("run", str(inc), "--output", str(tmp_path / "run2"), env={"OBS_TOKEN": None})
            assert code == 2 and "OBS_TOKEN is not set" in stderr
            code, stdout, _ = run_cli(
                "run", str(inc), "--output", str(tmp_path / "run3"), "-o", "json", env={"OBS_TOKEN": "wrong"}
            )
            assert code != 0 and not json.loads(stdout)["verdict"]


def test_monitoring_reached_through_the_api_servers_service_proxy(tmp_path: Path) -> None:
    from kubernetes import client

    from orchestrator.kube import connect

    with SimulatorServer.start(scenario=resolve_scenario("otel-demo-bad-image")) as sim:
        sim.advance(300)
        kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")

        def incident(name: str, services: dict[str, str], mode: str = "auto") -> Path:
            doc = {
                "apiVersion": "sre-agent.dev/v1alpha1",
                "kind": "Incident",
                "metadata": {"name": name},
                "spec": {
                    "summary": "checkout is failing",
                    "alerts": [{"name": "KubePodNotReady", "labels": {"namespace": "otel-demo"}}],
                    "scope": {"namespaces": ["otel-demo"]},
                    "cluster": {"kubeconfig": str(kubeconfig)},
                    "observability": services,
                    "remediation": {"mode": mode},
                },
            }
            path = tmp_path / f"{name}.yaml"
            path.write_text(yaml.safe_dump(doc))
            return path

        services = {
            "prometheusService": "monitoring/prometheus-k8s:9090",
            "alertmanagerService": "monitoring/alertmanager-main:9093",
        }
        # Before the Services exist the proxy answers 404: the alerts cannot be read (a dry run: the fault stays).
        absent = incident("absent", services, mode="dry-run")
        code, stdout, _ = run_cli("run", str(absent), "--output", str(tmp_path / "absent"), "-o", "json")
        assert code != 0
        trace = (tmp_path / "absent" / "trace.jsonl").read_text()
        assert "Alertmanager answered 404" in trace  # the proxy's answer: the simulator's own address would serve
        api = connect(kubeconfig=str(kubeconfig))
        core = client.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": "monitoring"}})
        for name, port in (("prometheus-k8s", 9090), ("alertmanager-main", 9093)):
            spec = {"selector": {"app.kubernetes.io/name": name}, "ports": [{"name": "web", "port": port}]}
            core.create_namespaced_service("monitoring", {"metadata": {"name": name}, "spec": spec})
        code, stdout, _ = run_cli(
            "run", str(incident("proxied", services)), "--output", str(tmp_path / "proxied"), "-o", "json"
        )
        assert code == 0, json.loads(stdout)["reason"]
