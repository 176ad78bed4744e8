"""The Incident CRD: generated from the Incident models, kept in deploy/ without drift, and served by a
cluster (the simulator) that validates Incidents against it and prints `kubectl get inc` from its columns."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from orchestrator.operator.crd import CRD_FILE, CRD_NAME, GROUP, PLURAL, VERSION, incident_crd
from orchestrator.operator.status import IncidentStatus
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.runner import SimulatorServer
from tests.run.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def test_the_deployed_crd_is_what_sre_agent_crd_prints() -> None:
    code, stdout, _ = run_cli("crd")
    assert code == 0
    assert (ROOT / CRD_FILE).read_text() == stdout, f"regenerate it: sre-agent crd > {CRD_FILE}"
    code, as_json, _ = run_cli("crd", "-o", "json")
    assert code == 0 and json.loads(as_json) == yaml.safe_load(stdout)


def test_crd_spec_is_the_incident_files_schema() -> None:
    version = incident_crd()["spec"]["versions"][0]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    remediation = spec["properties"]["remediation"]["properties"]
    assert remediation["mode"]["enum"] == ["auto", "approve", "dry-run", "off"]
    assert spec["required"] == ["summary"]
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert status["conditions"]["items"]["properties"]["type"]["enum"] == [
        "Investigating", "Mitigating", "Verifying", "Resolved", "Escalated", "NoFault", "Failed",
    ]  # fmt: skip
    assert {"diagnosis", "mitigation", "verdict", "tokens", "costUsd", "report", "pendingApproval"} <= set(status)


def test_a_bad_output_format_is_one_line() -> None:
    code, _, stderr = run_cli("crd", "-o", "xml")
    assert code == 2 and stderr == "error: -o must be yaml or json, not 'xml'\n"


@pytest.fixture
def api() -> Iterator[client.ApiClient]:
    server = SimulatorServer(Cluster())
    server.start_thread()
    try:
        with client.ApiClient(server.client_configuration()) as api_client:
            client.ApiextensionsV1Api(api_client).create_custom_resource_definition(incident_crd())
            yield api_client
    finally:
        server.stop()


def incident(name: str, **spec: object) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Incident", "metadata": {"name": name}, "spec": spec}


def test_the_cluster_validates_incidents_and_prints_their_columns(api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    custom.create_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        incident("checkout", summary="5xx on checkout", remediation={"mode": "approve"}),
    )
    with pytest.raises(ApiException) as err:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, incident("bad", summary="x", remediation={"mode": "fast"})
        )
    assert err.value.status == 422
    assert 'spec.remediation.mode: Unsupported value: "fast"' in json.loads(err.value.body)["message"]
    with pytest.raises(ApiException) as err:
        custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, incident("empty"))
    assert err.value.status == 422 and "spec.summary: Required value" in json.loads(err.value.body)["message"]

    status = IncidentStatus(tokens=1234)
    status.enter("Investigating", "Claimed")
    status.enter("Resolved", "VerifiedResolved", "the gate passed")
    body = status.dump()
    body["diagnosis"] = {"rootCauses": ["default/Deployment/web"], "summary": "bad image"}
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, "default", PLURAL, "checkout", {"status": body})
    stored = custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "checkout")["status"]
    read = IncidentStatus.read(stored)
    assert read.phase == "Resolved" and read.diagnosis and read.diagnosis.root_causes == ["default/Deployment/web"]
    assert [(c.type, c.status) for c in read.conditions] == [("Investigating", "False"), ("Resolved", "True")]

    req = urllib.request.Request(
        f"{api.configuration.host}/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}", headers={"Accept": TABLE}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        table = json.loads(resp.read())
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names == ["Name", "Phase", "Root Cause", "Mode", "Tokens", "Approval", "Reason", "Age"]
    cells = table["rows"][0]["cells"]
    assert cells[:5] == ["checkout", "Resolved", "default/Deployment/web", "approve", 1234]
    assert client.ApiextensionsV1Api(api).read_custom_resource_definition(CRD_NAME).spec.names.short_names == ["inc"]
