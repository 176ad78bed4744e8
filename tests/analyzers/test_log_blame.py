"""log_blame: a log line that names an unresolvable host or an expired certificate, traced to the object
holding the value (a ConfigMap key, a literal in the workload's template, a mounted ConfigMap)."""

from __future__ import annotations

import pytest

from orchestrator.analyzers import Finding

from .builders import NS, obj, owned_by, pod, run

RS = obj("ReplicaSet", "web-5d9", ownerReferences=owned_by("Deployment", "web"))


def _cluster(container: dict, line: str, volumes: list | None = None, **extra: list[dict]) -> list[Finding]:
    spec = {"containers": [{"name": "app", "image": "app:1", **container}], "volumes": volumes or []}
    objects = {
        "Deployment": [obj("Deployment", "web", spec={"template": {"spec": spec}})],
        "ReplicaSet": [RS],
        "Service": [obj("Service", "db")],
        "ConfigMap": [],
        "Secret": [],
        **extra,
    }
    objects["Pod"] = [pod("web-5d9-x", spec=spec, ownerReferences=owned_by("ReplicaSet", "web-5d9"))] + extra.get(
        "Pod", []
    )
    return [
        f
        for f in run(objects, ["ConfigMap"], {(NS, "web-5d9-x", "app"): f"starting\n{line}\n"})
        if f.analyzer == "log_blame"
    ]


LINES = [
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.memes.example', port=443): Max retries "
    "exceeded (Caused by NameResolutionError(\"Failed to resolve 'api.memes.example' ([Errno -2] Name or service not known)\"))",
    'psql: error: could not translate host name "api.memes.example" to address: Name or service not known',
    "dial tcp: lookup api.memes.example on 10.96.0.10:53: no such host",
    "Error: getaddrinfo ENOTFOUND api.memes.example",
    "java.net.UnknownHostException: api.memes.example",
    "Could not connect to database at api.memes.example:5432 (attempt 1/3): [Errno -2] Name or service not known",
]


@pytest.mark.parametrize("line", LINES)
def test_a_host_from_a_configmap_key_blames_the_configmap(line: str) -> None:
    cm = obj("ConfigMap", "web-config", data={"API_URL": "https://api.memes.example/gimme"})
    env = [{"name": "API_URL", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "API_URL"}}}]
    (f,) = _cluster({"env": env}, line, ConfigMap=[cm])
    assert (f.kind, f.name, f.confidence) == ("ConfigMap", "web-config", "high")
    assert "API_URL" in f.cause and "api.memes.example" in f.cause
    assert f.explains == [f"{NS}/Pod/web-5d9-x", f"{NS}/Deployment/web"] and f.field == "data.API_URL"


def test_a_literal_host_blames_the_workload_template() -> None:
    line = 'could not translate host name "db-primary" to address: Name or service not known'
    (f,) = _cluster({"env": [{"name": "DB_HOST", "value": "db-primary"}]}, line)
    assert (f.kind, f.name) == ("Deployment", "web")
    assert f.field == "spec.template.spec.containers[app].env[DB_HOST]"


def test_a_host_that_is_a_service_is_not_blamed() -> None:
    """The name exists: the failure is elsewhere (DNS itself, a network policy), not in the value."""
    line = 'could not translate host name "db" to address: Temporary failure in name resolution'
    assert _cluster({"env": [{"name": "DB_HOST", "value": "db"}]}, line) == []


def test_an_expired_certificate_blames_the_mounted_configmap() -> None:
    cm = obj("ConfigMap", "certs", data={"certificate.pem": "-----BEGIN CERTIFICATE-----"})
    other = obj("ConfigMap", "settings", data={"mode": "prod"})
    volumes = [
        {"name": "c", "configMap": {"name": "certs", "items": [{"key": "certificate.pem", "path": "c.pem"}]}},
        {"name": "k", "configMap": {"name": "certs", "items": [{"key": "key.pem", "path": "k.pem"}]}},
        {"name": "s", "configMap": {"name": "settings"}},
    ]
    mounts = [
        {"name": "c", "mountPath": "/certs"},
        {"name": "k", "mountPath": "/certs/key.pem"},
        {"name": "s", "mountPath": "/etc/app"},
    ]
    line = "Certificate has expired. Please update the config map with a valid certificate."
    (f,) = _cluster({"volumeMounts": mounts}, line, volumes, ConfigMap=[cm, other])
    assert (f.kind, f.name) == ("ConfigMap", "certs") and "/certs" in f.cause


def test_an_expired_certificate_with_nothing_mounted_blames_nothing() -> None:
    assert _cluster({}, "x509: certificate has expired or is not yet valid") == []


def test_a_cause_ranks_before_its_symptoms() -> None:
    cm = obj("ConfigMap", "web-config", data={"API_URL": "https://api.memes.example/gimme"})
    env = [{"name": "API_URL", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "API_URL"}}}]
    spec = {"containers": [{"name": "app", "image": "app:1", "env": env}]}
    crashing = pod(
        "web-5d9-x",
        spec=spec,
        ownerReferences=owned_by("ReplicaSet", "web-5d9"),
        status={
            "phase": "Running",
            "containerStatuses": [
                {"name": "app", "restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "ready": False}
            ],
        },
    )
    objects = {
        "Deployment": [obj("Deployment", "web", spec={"template": {"spec": spec}})],
        "ReplicaSet": [RS],
        "Pod": [crashing],
        "Service": [],
        "ConfigMap": [cm],
        "Secret": [],
        "Event": [],
    }
    findings = run(objects, ["ConfigMap", "Pod"], {(NS, "web-5d9-x", "app"): LINES[2]})
    assert findings[0].object == f"{NS}/ConfigMap/web-config", [f.to_dict() for f in findings]
    assert any(f.kind == "Pod" for f in findings[1:])


def test_the_host_the_namespace_uses_elsewhere_is_the_derived_fix() -> None:
    """A sibling reads the same variable from a ConfigMap, and that host is a Service: set_env to it."""
    shared = obj("ConfigMap", "db-config", data={"DB_HOST": "db"})
    sibling_env = [{"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": "db-config", "key": "DB_HOST"}}}]
    sibling = pod("booking-1", spec={"containers": [{"name": "booking", "image": "b:1", "env": sibling_env}]})
    line = 'could not translate host name "db-prod" to address: Name or service not known'
    (f,) = _cluster({"env": [{"name": "DB_HOST", "value": "db-prod"}]}, line, ConfigMap=[shared], Pod=[sibling])
    assert f.fix is not None and f.fix["action"] == "set_env"
    assert f.fix["args"] == {
        "kind": "Deployment",
        "name": "web",
        "namespace": NS,
        "container": "app",
        "env_name": "DB_HOST",
        "value": "db",
    }


def test_no_fix_is_invented_when_the_namespace_does_not_agree() -> None:
    line = 'could not translate host name "db-prod" to address: Name or service not known'
    (f,) = _cluster({"env": [{"name": "DB_HOST", "value": "db-prod"}]}, line)
    assert f.fix is None


def test_the_remedy_for_an_expired_certificate_asks_for_a_renewed_file_and_restarts_the_workload() -> None:
    from orchestrator.analyzers.remedies import remedy

    cm = obj("ConfigMap", "certs", data={"certificate.pem": "-----BEGIN CERTIFICATE-----"})
    volumes = [{"name": "c", "configMap": {"name": "certs"}}]
    line = "x509: certificate has expired or is not yet valid"
    (f,) = _cluster({"volumeMounts": [{"name": "c", "mountPath": "/certs"}]}, line, volumes, ConfigMap=[cm])
    create, restart = remedy(f)
    assert create.startswith(
        f"kubectl -n {NS} create configmap certs --from-file=certificate.pem=RENEWED-CERTIFICATE-FILE"
    )
    assert restart == f"kubectl -n {NS} rollout restart deployment/web"
