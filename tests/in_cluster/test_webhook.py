"""The Alertmanager webhook receiver against a served cluster (the simulator, with the Incident CRD applied):
real HTTP posts to two receiver replicas, Incidents created and joined through the official client."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from kubernetes import client

from orchestrator.operator.crd import CRD_FILE, GROUP, PLURAL, VERSION
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.runner import SimulatorServer
from orchestrator.webhook.record import ALERTS_ANNOTATION, TemplateError, incident_name, load_template
from orchestrator.webhook.server import make_app
from orchestrator.webhook.store import IncidentStore
from tests.run.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-webhook-token-for-tests"
NAMESPACE = "sre-agent"


@dataclass
class Receiver:
    url: str
    runner: web.AppRunner


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    server = SimulatorServer(Cluster())
    server.start_thread()
    try:
        with client.ApiClient(server.client_configuration()) as api:
            client.ApiextensionsV1Api(api).create_custom_resource_definition(
                yaml.safe_load((ROOT / CRD_FILE).read_text())
            )
            client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
        yield server
    finally:
        server.stop()


async def start_receiver(sim: SimulatorServer, template: dict[str, Any] | None = None) -> Receiver:
    # Each replica has its own client, as two pods would.
    api = client.ApiClient(sim.client_configuration())
    runner = web.AppRunner(make_app(IncidentStore(api, NAMESPACE, template or {}), TOKEN))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return Receiver(f"http://127.0.0.1:{runner.addresses[0][1]}/alerts", runner)


@pytest.fixture
async def replicas(sim: SimulatorServer) -> AsyncIterator[list[Receiver]]:
    receivers = [await start_receiver(sim), await start_receiver(sim)]
    try:
        yield receivers
    finally:
        for r in receivers:
            await r.runner.cleanup()


def incidents(sim: SimulatorServer) -> list[dict[str, Any]]:
    with client.ApiClient(sim.client_configuration()) as api:
        listed = client.CustomObjectsApi(api).list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)
    return sorted(listed["items"], key=lambda o: o["metadata"]["name"])


def alert(name: str, fingerprint: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} on {labels.get('pod', 'something')}"},
        "startsAt": "2026-12-07T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-07T10:30:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }


def notification(group: int, alerts: list[dict[str, Any]], status: str = "firing") -> dict[str, Any]:
    name = alerts[0]["labels"]["alertname"]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}", namespace="ns-{group}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "sre-agent",
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "namespace": f"ns-{group}"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


def group_post(group: int, post: int) -> dict[str, Any]:
    """The post'th notification of a group: each one brings one more alert (as a growing crash loop would)."""
    alerts = [
        alert(f"Alert{group}", f"{group:02d}{i:014x}", namespace=f"ns-{group}", pod=f"pod-{i}") for i in range(post + 1)
    ]
    return notification(group, alerts)


async def post(
    session: aiohttp.ClientSession, url: str, body: Any, token: str | None = TOKEN
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with session.post(url, data=data, headers={**headers, "Content-Type": "application/json"}) as resp:
        return resp.status, await resp.json()


async def test_fifty_posts_for_five_groups_make_five_incidents(sim: SimulatorServer, replicas: list[Receiver]) -> None:
    posts = [(g, p) for g in range(5) for p in range(10)]
    random.Random(7).shuffle(posts)
    async with aiohttp.ClientSession() as session:
        # Both replicas at once: only the API server's 409 keeps them from making a group twice.
        answers = await asyncio.gather(
            *(post(session, replicas[i % 2].url, group_post(g, p)) for i, (g, p) in enumerate(posts))
        )
    assert all(status == 200 for status, _ in answers), answers
    actions = [a["action"] for _, a in answers]
    assert actions.count("created") == 5
    assert set(actions) <= {"created", "joined", "unchanged"}
    made = incidents(sim)
    assert len(made) == 5
    for group in range(5):
        key = group_post(group, 0)["groupKey"]
        (inc,) = [o for o in made if o["metadata"]["name"] == incident_name(key, 1)]
        # No join lost an alert: all ten pods' alerts are in the spec and the record.
        assert len(inc["spec"]["alerts"]) == 10
        assert inc["spec"]["scope"]["namespaces"] == [f"ns-{group}"]
        record = json.loads(inc["metadata"]["annotations"][ALERTS_ANNOTATION])
        assert sorted(r["fingerprint"] for r in record) == [f"{group:02d}{i:014x}" for i in range(10)]
        assert inc["spec"]["summary"] == f"Alert{group} on pod-0"


async def test_tokens_and_bad_payloads(sim: SimulatorServer, replicas: list[Receiver]) -> None:
    url = replicas[0].url
    good = group_post(1, 0)
    async with aiohttp.ClientSession() as session:
        assert (await post(session, url, good, token=None))[0] == 401
        status, body = await post(session, url, good, token="not-the-token")
        assert status == 403 and "token" in body["error"]
        for bad, reason in (
            (b"{not json", "the body is not JSON"),
            ([1, 2], "expected an Alertmanager notification (a JSON object), got list"),
            ({**good, "version": "3"}, "version: Input should be '4'"),
            ({k: v for k, v in good.items() if k != "groupKey"}, "groupKey: Field required"),
            ({**good, "alerts": []}, "alerts: List should have at least 1 item"),
            ({**good, "alerts": [{**good["alerts"][0], "status": "pending"}]}, "alerts[0].status: Input should be"),
            ({**good, "alerts": [{**good["alerts"][0], "labels": {"pod": "x"}}]}, "alerts[0].labels: has no alertname"),
        ):
            status, body = await post(session, url, bad)
            assert status == 400, (bad, body)
            assert body["error"].startswith(reason) and "\n" not in body["error"]
        async with session.get(url.replace("/alerts", "/healthz")) as resp:
            assert resp.status == 200
    assert incidents(sim) == []


async def test_resolved_alerts_are_recorded_and_a_closed_incident_is_not_joined(
    sim: SimulatorServer, replicas: list[Receiver]
) -> None:
    url = replicas[0].url
    firing = group_post(2, 1)
    key = firing["groupKey"]
    async with aiohttp.ClientSession() as session:
        assert (await post(session, url, firing))[1]["action"] == "created"
        assert (await post(session, url, firing))[1]["action"] == "unchanged"  # a repeat writes nothing
        ended = {"status": "resolved", "endsAt": "2026-12-07T10:30:00Z"}
        resolved = notification(2, [{**a, **ended} for a in firing["alerts"]], status="resolved")
        status, answer = await post(session, url, resolved)
        assert (status, answer["action"], answer["incident"]) == (200, "recorded", incident_name(key, 1))
        (inc,) = incidents(sim)
        record = json.loads(inc["metadata"]["annotations"][ALERTS_ANNOTATION])
        assert {r["status"] for r in record} == {"resolved"}
        assert {r["endsAt"] for r in record} == {"2026-12-07T10:30:00Z"}

        # The operator closes it: the group's next firing is a new Incident.
        with client.ApiClient(sim.client_configuration()) as api:
            client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
                GROUP, VERSION, NAMESPACE, PLURAL, inc["metadata"]["name"], {"status": {"phase": "Resolved"}}
            )
        status, answer = await post(session, url, firing)
        assert (answer["action"], answer["incident"]) == ("created", incident_name(key, 2))

        # Another group whose alert an open Incident already records joins that Incident.
        newcomer = alert("Alert3", "ee00000000000000", namespace="ns-3", pod="pod-9")
        other = notification(3, [firing["alerts"][0], newcomer])
        assert (await post(session, url, other))[1] == {
            "action": "joined",
            "namespace": NAMESPACE,
            "incident": incident_name(key, 2),
        }
        # Resolved alerts of a group no Incident was made for change nothing.
        lone = notification(4, [alert("Alert4", "ff00000000000000", status="resolved")], status="resolved")
        assert (await post(session, url, lone))[1]["action"] == "dropped"
    first, second = incidents(sim)
    assert [first["metadata"]["name"], second["metadata"]["name"]] == [incident_name(key, 1), incident_name(key, 2)]
    assert second["spec"]["scope"]["namespaces"] == ["ns-2", "ns-3"]
    assert [a["labels"]["pod"] for a in second["spec"]["alerts"]] == ["pod-0", "pod-1", "pod-9"]


async def test_the_template_gives_the_spec_its_settings(sim: SimulatorServer, tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        "apiVersion: sre-agent.dev/v1alpha1\nkind: Incident\nmetadata: {name: template}\n"
        "spec:\n  summary: replaced by the alerts'\n  model: builtin/flaky-mid\n"
        "  cluster: {inCluster: true}\n  remediation: {mode: approve}\n"
    )
    receiver = await start_receiver(sim, load_template(template))
    try:
        async with aiohttp.ClientSession() as session:
            assert (await post(session, receiver.url, group_post(0, 0)))[0] == 200
    finally:
        await receiver.runner.cleanup()
    (inc,) = incidents(sim)
    assert inc["spec"]["model"] == "builtin/flaky-mid"
    assert inc["spec"]["remediation"] == {"mode": "approve"}  # allowedNamespaces is the scope's, left to the run
    assert inc["spec"]["cluster"] == {"inCluster": True}
    template.write_text(template.read_text().replace("mode: approve", "mode: fast"))
    with pytest.raises(TemplateError, match="spec.remediation.mode: 'fast' is not one of"):
        load_template(template)


def test_serve_without_a_token_is_one_line() -> None:
    code, _, stderr = run_cli("operator", "webhook", env={"SRE_AGENT_WEBHOOK_TOKEN": ""})
    assert code == 2
    assert (
        stderr
        == "error: no webhook token given: name a file holding it with --token-file, or set SRE_AGENT_WEBHOOK_TOKEN\n"
    )


def test_serve_on_a_cluster_without_the_crd_exits_5(tmp_path: Path) -> None:
    server = SimulatorServer(Cluster())
    server.start_thread()
    try:
        server.write_kubeconfig(tmp_path / "kubeconfig")
        (tmp_path / "token").write_text(TOKEN)
        code, _, stderr = run_cli(
            "operator", "webhook", "--kubeconfig", str(tmp_path / "kubeconfig"), "--token-file", str(tmp_path / "token")
        )
    finally:
        server.stop()
    assert code == 5
    assert (
        stderr
        == "error: the cluster has no incidents.sre-agent.dev CRD: install it with `sre-agent crd | kubectl apply -f -`\n"
    )
    assert stderr.count("\n") == 1
