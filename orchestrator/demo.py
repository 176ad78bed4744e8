"""`make demo`: a sample incident in the embedded simulator, seen the way an on-call engineer sees it.

It serves the `otel-demo-bad-image` scenario, lets five virtual minutes pass, shows the pods, events
and firing alerts through the official kubernetes client and the Alertmanager API, rolls the bad
Deployment back exactly as `kubectl rollout undo` does, and shows the cluster healing.
"""

from __future__ import annotations

import json
import sys
import urllib.request

from kubernetes import client

from .sim.builtin import resolve_scenario
from .sim.runner import SimulatorServer
from .sim.tables import pod_status_cells

NAMESPACE = "otel-demo"
TARGET = "product-catalog"


def show_pods(sim: SimulatorServer, core: client.CoreV1Api) -> None:
    pods = core.list_namespaced_pod(
        NAMESPACE, label_selector=f"app.kubernetes.io/name={TARGET}", _preload_content=False
    )
    items = json.loads(pods.data)["items"]
    now = sim.cluster.clock.now()
    for pod in items:
        ready, status, restarts = pod_status_cells(pod, now)
        print(f"  {pod['metadata']['name']:<40} {ready:<6} {status:<18} restarts={restarts}")


def firing(sim: SimulatorServer) -> list[str]:
    with urllib.request.urlopen(f"{sim.url}/api/v2/alerts") as r:
        alerts = json.load(r)
    return sorted(
        f"{a['labels']['alertname']}{{{a['labels'].get('service') or a['labels'].get('pod', '')}}}" for a in alerts
    )


def rollout_undo(apps: client.AppsV1Api, name: str) -> int:
    """What `kubectl rollout undo` does: copy the previous revision's template back onto the Deployment."""
    dep = apps.read_namespaced_deployment(name, NAMESPACE)
    sets = [
        rs
        for rs in apps.list_namespaced_replica_set(NAMESPACE).items
        if any(o.uid == dep.metadata.uid for o in rs.metadata.owner_references or [])
    ]
    sets.sort(key=lambda rs: int(rs.metadata.annotations["deployment.kubernetes.io/revision"]))
    previous = sets[-2]
    template = client.ApiClient().sanitize_for_serialization(previous.spec.template)
    template["metadata"]["labels"].pop("pod-template-hash", None)
    apps.patch_namespaced_deployment(name, NAMESPACE, [{"op": "replace", "path": "/spec/template", "value": template}])
    return int(previous.metadata.annotations["deployment.kubernetes.io/revision"])


def main() -> int:
    print("Starting the embedded simulator with scenario otel-demo-bad-image ...")
    with SimulatorServer.start(resolve_scenario("otel-demo-bad-image")) as sim:
        api = client.ApiClient(sim.client_configuration())
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        print(f"listening on {sim.url}  (kubectl --server {sim.url} -n {NAMESPACE} get pods)")
        sim.advance(300)
        print("\nAfter 5 virtual minutes, product-catalog pods:")
        show_pods(sim, core)
        events = core.list_namespaced_event(NAMESPACE, field_selector="type=Warning").items
        for e in [e for e in events if e.involved_object.name.startswith(TARGET)][:3]:
            print(f"  event {e.reason}: {e.message}")
        alerts = firing(sim)
        print(f"\nFiring alerts ({len(alerts)}): {', '.join(alerts) or 'none'}")
        revision = rollout_undo(apps, TARGET)
        print(f"\nRolled deployment/{TARGET} back to revision {revision}; waiting 10 virtual minutes ...")
        sim.advance(600)
        show_pods(sim, core)
        left = firing(sim)
        print(f"Firing alerts: {', '.join(left) or 'none'}")
        if left or not alerts:
            print("demo: the incident did not behave as expected", file=sys.stderr)
            return 1
    print("\nThe orchestrator that resolves this on its own is the next milestone (see ARCHITECTURE.md).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
