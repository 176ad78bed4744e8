from __future__ import annotations

import pytest

from .builders import obj, only, run


def _ing(service: str, port: dict) -> dict:
    backend = {"service": {"name": service, "port": port}}
    return obj("Ingress", "web", spec={"rules": [{"http": {"paths": [{"path": "/", "backend": backend}]}}]})


@pytest.mark.parametrize(
    ("service", "port", "cause", "field"),
    [
        (
            "gone",
            {"number": 80},
            "backend Service gone does not exist",
            "spec.rules[0].http.paths[0].backend.service.name",
        ),
        (
            "api",
            {"number": 81},
            "backend port 81 is not a port of Service api",
            "spec.rules[0].http.paths[0].backend.service.port",
        ),
        (
            "api",
            {"name": "grpc"},
            "backend port grpc is not a port of Service api",
            "spec.rules[0].http.paths[0].backend.service.port",
        ),
    ],
)
def test_backends(service: str, port: dict, cause: str, field: str) -> None:
    svc = obj("Service", "api", spec={"ports": [{"name": "http", "port": 80}]})
    f = only(run({"Ingress": [_ing(service, port)], "Service": [svc], "Event": []}, ["Ingress"]), "Ingress", "web")
    assert f.cause == cause and f.field == field


def test_good_backend_is_quiet() -> None:
    svc = obj("Service", "api", spec={"ports": [{"name": "http", "port": 80}]})
    assert run({"Ingress": [_ing("api", {"name": "http"})], "Service": [svc], "Event": []}, ["Ingress"]) == []
