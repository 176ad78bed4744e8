"""From page to fix in the cluster: the simulator's firing alerts, sent as Alertmanager would send them to
the webhook receiver, become one Incident, which the operator runs to Resolved."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from orchestrator.operator.controller import OperatorConfig
from orchestrator.webhook.record import ALERTS_ANNOTATION
from orchestrator.webhook.server import make_app
from orchestrator.webhook.store import IncidentStore

from .helpers import operator, served, wait_until

TOKEN = "token-for-the-page-to-fix-test"


def notification(group_key: str, group_labels: dict[str, str], alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """Alertmanager's webhook body for a group of alerts read from its v2 API."""
    common = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)}
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "sre-agent",
        "groupLabels": group_labels,
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {k: a[k] for k in ("labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint")}
            | {"status": "firing"}
            for a in alerts
        ],
    }


async def deliver(api: Any, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    runner = web.AppRunner(make_app(IncidentStore(api, "otel-demo", {}), TOKEN))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/alerts"
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:

            async def post(body: dict[str, Any]) -> dict[str, Any]:
                async with session.post(url, json=body) as resp:
                    assert resp.status == 200, await resp.text()
                    return await resp.json()  # type: ignore[no-any-return]

            return list(await asyncio.gather(*(post(b) for b in bodies)))
    finally:
        await runner.cleanup()


def test_alertmanagers_alerts_become_one_incident_the_operator_resolves(tmp_path: Path) -> None:
    with served(tmp_path) as cluster:
        with urllib.request.urlopen(f"{cluster.sim.url}/api/v2/alerts", timeout=30) as resp:
            firing = [a for a in json.loads(resp.read()) if a["labels"].get("namespace") == "otel-demo"]
        assert len(firing) >= 3
        # A route grouping by namespace sends the whole page as one group, again at each group_interval; a
        # route grouping by alertname sends the same alerts (same fingerprints) in groups of their own.
        by_namespace = notification('{}:{namespace="otel-demo"}', {"namespace": "otel-demo"}, firing)
        names = sorted({a["labels"]["alertname"] for a in firing})
        by_name = [
            notification(
                f'{{}}:{{alertname="{n}"}}', {"alertname": n}, [a for a in firing if a["labels"]["alertname"] == n]
            )
            for n in names
        ]
        first = asyncio.run(deliver(cluster.api, [by_namespace]))
        assert [a["action"] for a in first] == ["created"]
        later = asyncio.run(deliver(cluster.api, [by_namespace, *by_name]))
        assert {a["incident"] for a in later} == {first[0]["incident"]}
        name = first[0]["incident"]

        config = OperatorConfig(executor=cluster.settings(tmp_path / "runs"), namespaces=["otel-demo"])
        with operator(config, cluster.kubeconfig):
            done = wait_until(
                lambda: (
                    (cluster.get(name).get("status") or {}).get("phase")
                    in ("Resolved", "Escalated", "Failed", "NoFault")
                ),
                timeout=180,
            )
            obj = cluster.get(name)
        listed = cluster.custom.list_namespaced_custom_object("sre-agent.dev", "v1alpha1", "otel-demo", "incidents")
    assert len(listed["items"]) == 1
    status = obj["status"]
    assert done and status["phase"] == "Resolved", status.get("reason")
    assert status["diagnosis"]["rootCauses"] == ["otel-demo/Deployment/product-catalog"]
    assert obj["spec"]["scope"]["namespaces"] == ["otel-demo"]
    assert {a["name"] for a in obj["spec"]["alerts"]} == set(names)
    recorded = json.loads(obj["metadata"]["annotations"][ALERTS_ANNOTATION])
    assert sorted(r["fingerprint"] for r in recorded) == sorted(a["fingerprint"] for a in firing)
