"""Secret values never leave the toolbox: every read tool over every object of the Astronomy Shop, and the
writes that touch credentials, never show a known credential of the simulated cluster."""

from __future__ import annotations

import base64
import json

import pytest

from orchestrator.redaction import mask_text
from orchestrator.tools import ActionPolicy, Toolbox
from orchestrator.tools.redact import config_value, redact_argv, redact_env, secret_sizes
from tests.tools.conftest import NS, Cluster

VALKEY_PASSWORD = "v4lk3y-c4rt-s3cr3t"  # orchestrator/sim/applications/otel-demo.yaml, valkey-credentials
DB_PASSWORD = "otelp"  # in the accounting and product-reviews connection strings
CONFIG_TOKEN = "tok-9f8e7d6c5b4a"
CONFIG_PASSWORD = "pa55-in-a-config-map"


def leaks(result: object, secrets: list[str]) -> list[str]:
    text = json.dumps(result, default=lambda o: o.__dict__)
    return [s for s in secrets if s in text]


async def every_read(tb: Toolbox) -> list[object]:
    """Call every read tool on every object of the namespace (and cluster-scoped ones)."""
    results: list[object] = []

    async def call(name: str, args: dict) -> object:
        r = await tb.call(name, args)
        results.append(r)
        return r

    await call("get_alerts", {})
    await call("list_workloads", {"namespace": NS})
    await call("get_events", {"namespace": NS, "warnings_only": False, "limit": 200})
    for query in ("app_requests_per_second", "kube_pod_info", 'ALERTS{alertstate="firing"}'):
        await call("query_metrics", {"query": query})
    kinds = ["Deployment", "Pod", "Service", "Secret", "ConfigMap", "Endpoints", "ReplicaSet", "Node", "Event"]
    for kind in kinds:
        listed = await call("list_resources", {"kind": kind, "namespace": NS})
        for item in listed.content.get("items", []):
            await call("describe", {"kind": kind, "name": item["name"], "namespace": item["namespace"] or NS})
    pods = (await call("list_pods", {"namespace": NS})).content["pods"]
    for pod in pods:
        detail = (await tb.call("describe", {"kind": "pod", "name": pod["name"], "namespace": NS})).content
        for c in detail["spec"].get("containers", []) + detail["spec"].get("initContainers", []):
            await call("get_logs", {"namespace": NS, "pod": pod["name"], "container": c["name"], "tail": 200})
    deployments = (await tb.call("list_workloads", {"namespace": NS})).content["workloads"]
    for dep in deployments:
        await call("rollout_history", {"kind": "deploy", "name": dep["name"], "namespace": NS})
    return results


@pytest.fixture
def secretive(cluster: Cluster) -> Cluster:
    """The shop plus a ConfigMap with credentials in it, a rotated valkey password, and time to log."""
    cluster.core.create_namespaced_config_map(
        NS,
        {
            "metadata": {"name": "app-settings"},
            "data": {
                "API_TOKEN": CONFIG_TOKEN,
                "db.properties": f"url=jdbc:postgresql://db:5432/app\nuser=app\npassword={CONFIG_PASSWORD}\n",
                "LOG_LEVEL": "info",
            },
        },
    )
    cluster.inject(
        "valkey-workload-changed-password", {**_deployment("valkey-cart"), "container": {"name": "valkey-cart"}}
    )
    cluster.advance(300)
    return cluster


def _deployment(name: str) -> dict:
    return {
        "kubernetesObject": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS}}
    }


def known_secrets(cluster: Cluster) -> list[str]:
    secret = cluster.core.read_namespaced_secret("valkey-credentials", NS)
    rotated = base64.b64decode(secret.data["valkey-password"]).decode()
    assert rotated.startswith("rotated-")  # the fault changed it: both values are credentials now
    encoded = base64.b64encode(VALKEY_PASSWORD.encode()).decode()
    return [
        VALKEY_PASSWORD,
        encoded,
        rotated,
        secret.data["valkey-password"],
        DB_PASSWORD,
        CONFIG_TOKEN,
        CONFIG_PASSWORD,
    ]


async def test_no_read_result_carries_a_secret(secretive: Cluster) -> None:
    secrets = known_secrets(secretive)
    results = await every_read(secretive.toolbox())
    assert len(results) > 80 and all(r.ok for r in results)  # type: ignore[attr-defined]
    for r in results:
        assert leaks(r, secrets) == [], r
    # And the redacted facts are still there as evidence.
    tb = secretive.toolbox()
    secret = await tb.call("describe", {"kind": "secret", "name": "valkey-credentials", "namespace": NS})
    assert secret.content["spec"]["data"] == {"valkey-password": "<redacted 24 bytes>"}
    cm = await tb.call("describe", {"kind": "cm", "name": "app-settings", "namespace": NS})
    assert cm.content["spec"]["data"]["API_TOKEN"] == "<redacted>"
    assert "password=<redacted>" in cm.content["spec"]["data"]["db.properties"]
    assert cm.content["spec"]["data"]["LOG_LEVEL"] == "info"
    pg = await tb.call("describe", {"kind": "deploy", "name": "postgresql", "namespace": NS})
    env = pg.content["spec"]["template"]["containers"][0]["env"]
    assert {"name": "POSTGRES_PASSWORD", "value": "<redacted>"} in env
    assert {"name": "POSTGRES_USER", "value": "root"} in env


async def test_writes_never_echo_credentials(cluster: Cluster) -> None:
    tb = cluster.toolbox(ActionPolicy(mode="dry-run"))
    new_password = "brand-new-s3cret-value"
    args = {"kind": "deploy", "name": "postgresql", "namespace": NS, "container": "postgresql"}
    r = await tb.call("set_env", args | {"env_name": "POSTGRES_PASSWORD", "value": new_password})
    assert r.ok, r.error
    assert r.write["change"].startswith("set env POSTGRES_PASSWORD='<redacted>' (was '<redacted>')")
    assert r.write["revert"] == "kubectl rollout undo deployment/postgresql -n otel-demo"
    assert r.content["diff"] == [
        "spec.template.spec.containers[postgresql].env[POSTGRES_PASSWORD]: changed (credential value redacted)"
    ]
    conn = "Host=postgresql;Username=otelu;Password=an0ther-pw;Database=otel"
    r2 = await tb.call(
        "set_env",
        {"kind": "deploy", "name": "accounting", "namespace": NS, "container": "accounting"}
        | {"env_name": "DB_CONNECTION_STRING", "value": conn},
    )
    assert r2.ok, r2.error
    assert leaks(r, [new_password, "otel'"]) == [] and leaks(r2, ["an0ther-pw", DB_PASSWORD]) == []


# ---------------------------------------------------------------------------------------------- the rules
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "host=postgresql user=otelu password=otelp dbname=otel",
            "host=postgresql user=otelu password=<redacted> dbname=otel",
        ),
        ("Host=db;Password=otelp;Database=otel", "Host=db;Password=<redacted>;Database=otel"),
        ("export API_TOKEN=abc123", "export API_TOKEN=<redacted>"),
        ('{"apiKey": "k-123", "user": "x"}', '{"apiKey": "<redacted>", "user": "x"}'),
        ("key=abcdef", "key=<redacted>"),
        ("valkey-server --requirepass hunter22", "valkey-server --requirepass <redacted>"),
        ("redis://app:s3cr3t@cache:6379/0", "redis://app:<redacted>@cache:6379/0"),
        ("Authorization: Bearer eyJhbGciOi.abc", "Authorization: Bearer <redacted>"),
        # Not credentials: left alone.
        ("Connecting to Valkey: valkey-cart:6379", "Connecting to Valkey: valkey-cart:6379"),
        ("valkey-server --requirepass $(VALKEY_PASSWORD)", "valkey-server --requirepass $(VALKEY_PASSWORD)"),
        ('secret "valkey-credentials" not found', 'secret "valkey-credentials" not found'),
        ("WRONGPASS invalid username-password pair", "WRONGPASS invalid username-password pair"),
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_structured_redaction() -> None:
    secret = {"data": {"a": base64.b64encode(b"12345").decode()}, "stringData": {"b": "xyz"}}
    assert secret_sizes(secret) == {"a": "<redacted 5 bytes>", "b": "<redacted 3 bytes>"}
    env = [
        {"name": "DB_PASSWORD", "value": "hunter2"},
        {"name": "MODE", "value": "fast"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "level"}}},
    ]
    assert redact_env(env) == [
        {"name": "DB_PASSWORD", "value": "<redacted>"},
        {"name": "MODE", "value": "fast"},
        {"name": "TOKEN", "secretKeyRef": "api/token"},
        {"name": "LEVEL", "configMapKeyRef": "cfg/level"},
    ]
    assert redact_argv(["server", "--password", "pw", "--port", "1"]) == [
        "server",
        "--password",
        "<redacted>",
        "--port",
        "1",
    ]
    assert config_value("client_secret", "abc") == "<redacted>"
    assert config_value("motd", "x" * 300).endswith("... (300 chars)")
