"""deploy/: both kustomize overlays and the Helm chart render; every object they render is a valid object of
its Kubernetes kind; the chart renders what kustomize does for the same settings; the RBAC is least
privilege; and every container's command line is one the sre-agent CLI accepts."""

from __future__ import annotations

import copy
import json
import re
from typing import Any, get_args

import pytest
import typer.main

from orchestrator.cli import app
from orchestrator.incident import RemediationMode
from orchestrator.operator.crd import incident_crd
from orchestrator.tools.kinds import GROUPS, KINDS
from orchestrator.webhook.record import load_template

from .manifests import CHART, OVERLAYS, SchemaError, chart_crds, check_schema, helm_template, key, kustomize

VALUE_SETS: list[dict[str, Any]] = [
    {},
    {"executor": "job"},
    {
        "model": {"name": "openai/gpt-4o", "baseUrl": "http://llm.internal:8000/v1", "apiKeySecret": "llm-keys"},
        "executor": "job",
        "job": {"ttlSeconds": 600, "resources": {"limits": {"memory": "1Gi"}}},
        "allowedNamespaces": ["shop", "payments"],
        "remediation": {"mode": "off"},
        "concurrency": 8,
        "webhook": {"replicas": 3, "tokenSecret": {"name": "am-token", "key": "token"}},
        "resources": {"operator": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "4Gi"}}},
    },
]


def by_key(objs: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {key(o): o for o in objs}


def deployment(objs: list[dict[str, Any]], component: str) -> dict[str, Any]:
    (dep,) = [o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"].endswith(f"-{component}")]
    return dep


def template_text(objs: list[dict[str, Any]]) -> str:
    (cm,) = [o for o in objs if o["kind"] == "ConfigMap"]
    return str(cm["data"]["incident.yaml"])


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {overlay: kustomize(overlay) for overlay in OVERLAYS}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_valid_objects(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    objs = rendered[overlay]
    for obj in objs:
        check_schema(obj)
    kinds = {o["kind"] for o in objs}
    assert {"CustomResourceDefinition", "Namespace", "Deployment", "Service", "ServiceAccount"} <= kinds
    assert {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap"} <= kinds
    (crd,) = [o for o in objs if o["kind"] == "CustomResourceDefinition"]
    assert crd == incident_crd()
    args = deployment(objs, "operator")["spec"]["template"]["spec"]["containers"][0]["args"]
    executor = args[args.index("--executor") + 1] if "--executor" in args else "in-process"
    assert executor == {"in-process": "in-process", "job-executor": "job"}[overlay]
    assert ("Role", "sre-agent", "sre-agent-jobs") in by_key(objs) if overlay == "job-executor" else True


@pytest.mark.parametrize("values", VALUE_SETS, ids=["defaults", "job", "custom"])
def test_the_chart_renders_valid_objects(values: dict[str, Any]) -> None:
    objs = helm_template(values)
    for obj in objs + chart_crds():
        check_schema(obj)
    assert chart_crds() == [incident_crd()]
    # The incident template the webhook is given is a valid incident with the chosen settings.
    spec = _template_spec(template_text(objs))
    assert spec["model"] == values.get("model", {}).get("name", "builtin/playbook")
    assert spec["remediation"]["mode"] == values.get("remediation", {}).get("mode", "approve")
    allowed = values.get("allowedNamespaces", ["default"])
    assert spec["remediation"]["allowedNamespaces"] == allowed
    bindings = [o for o in objs if o["kind"] == "RoleBinding" and o["roleRef"]["name"] == "sre-agent-write"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == sorted(allowed)


def test_helm_lint_finds_no_error() -> None:
    import helm_python

    result = helm_python.lint(str(CHART))
    assert result["errors"] == []
    assert all(m["severity"] < 2 for m in result["messages"]), result["messages"]  # info only (an icon)


@pytest.mark.parametrize(("values", "overlay"), [({}, "in-process"), ({"executor": "job"}, "job-executor")])
def test_the_chart_renders_what_kustomize_renders(
    rendered: dict[str, list[dict[str, Any]]], values: dict[str, Any], overlay: str
) -> None:
    from_chart = by_key(helm_template(values) + chart_crds())
    from_kustomize = by_key(rendered[overlay])
    # Helm leaves the release's namespace to `helm install --create-namespace`; everything else overlaps.
    assert set(from_kustomize) - set(from_chart) == {("Namespace", "", "sre-agent")}
    assert set(from_chart) <= set(from_kustomize)
    for k, obj in from_chart.items():
        assert obj == from_kustomize[k], k


def test_the_validator_rejects_what_the_api_server_would() -> None:
    (dep,) = [
        o for o in kustomize("in-process") if o["metadata"]["name"] == "sre-agent-webhook" and o["kind"] == "Deployment"
    ]
    check_schema(dep)
    misspelled = copy.deepcopy(dep)
    misspelled["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    with pytest.raises(SchemaError, match=r"securityContxt"):
        check_schema(misspelled)
    unnamed = copy.deepcopy(dep)
    del unnamed["spec"]["template"]["spec"]["containers"][0]["name"]
    with pytest.raises(SchemaError, match="name"):
        check_schema(unnamed)
    wrong_type = copy.deepcopy(dep)
    wrong_type["spec"]["replicas"] = "2"
    with pytest.raises(SchemaError, match="replicas"):
        check_schema(wrong_type)
    with pytest.raises(SchemaError, match="not a kind of the Kubernetes API"):
        check_schema({**dep, "kind": "Deploymnet"})


# ================================================================================================ RBAC
def rules(objs: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    (role,) = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    return list(role["rules"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_role_reaches_secrets_or_grants_everything(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    roles = [o for o in rendered[overlay] if o["kind"] in ("Role", "ClusterRole")]
    assert len(roles) >= 4
    for role in roles:
        for rule in role["rules"]:
            assert "secrets" not in rule["resources"], role["metadata"]["name"]
            assert "*" not in rule["resources"] + rule["verbs"] + rule["apiGroups"], role["metadata"]["name"]


def test_the_read_role_reads_every_kind_the_tools_know_but_secrets(rendered: dict[str, list[dict[str, Any]]]) -> None:
    read = rules(rendered["in-process"], "ClusterRole", "sre-agent-read")
    assert {v for r in read for v in r["verbs"]} == {"get", "list", "watch"}
    readable = {(g, res) for r in read for g in r["apiGroups"] for res in r["resources"]}
    for info in KINDS.values():
        lower = info.kind.lower()
        names = {lower, f"{lower}s", f"{lower}es", f"{lower[:-1]}ies", *info.aliases}
        covered = any((GROUPS[info.api], name) in readable for name in names)
        assert covered == (info.kind != "Secret"), info.kind
    assert ("", "pods/log") in readable


def test_writes_are_bound_per_namespace_and_never_to_rbac_or_the_cluster(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objs = rendered["in-process"]
    write = rules(objs, "ClusterRole", "sre-agent-write")
    groups = {g for r in write for g in r["apiGroups"]}
    assert "rbac.authorization.k8s.io" not in groups
    resources = {res for r in write for res in r["resources"]}
    assert not resources & {"nodes", "namespaces", "persistentvolumes", "priorityclasses", "serviceaccounts"}
    refs = [o for o in objs if o.get("roleRef", {}).get("name") == "sre-agent-write"]
    assert refs and all(o["kind"] == "RoleBinding" for o in refs)
    webhook = rules(objs, "Role", "sre-agent-webhook")
    assert [(r["apiGroups"], r["resources"]) for r in webhook] == [(["sre-agent.dev"], ["incidents"])]
    assert "delete" not in webhook[0]["verbs"]


# ================================================================================================ pods
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_non_root_on_a_read_only_root(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    deployments = [o for o in rendered[overlay] if o["kind"] == "Deployment"]
    assert deployments
    for dep in deployments:
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"])  # the one place left to write
            for env in c.get("env", []):
                # Credentials only by reference to a Secret, never as a value in the manifests.
                if any(word in env["name"] for word in ("KEY", "TOKEN", "PASSWORD", "SECRET")):
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"], env


def test_the_template_in_the_base_is_a_valid_incident(rendered: dict[str, list[dict[str, Any]]]) -> None:
    spec = _template_spec(template_text(rendered["in-process"]))
    assert spec["cluster"] == {"inCluster": True}


def _template_spec(text: str) -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "incident.yaml"
        path.write_text(text)
        return load_template(path)


@pytest.mark.parametrize("source", [*OVERLAYS, "chart-defaults", "chart-job", "chart-custom"])
def test_every_container_command_is_one_the_cli_accepts(rendered: dict[str, list[dict[str, Any]]], source: str) -> None:
    charts = dict(zip(["chart-defaults", "chart-job", "chart-custom"], VALUE_SETS, strict=True))
    objs = rendered[source] if source in rendered else helm_template(charts[source])
    group = typer.main.get_command(app)
    for dep in (o for o in objs if o["kind"] == "Deployment"):
        for container in dep["spec"]["template"]["spec"]["containers"]:
            args = [a.replace("$(POD_NAMESPACE)", "sre-agent") for a in container["args"]]
            command: Any = group
            ctx = group.make_context("sre-agent", [], resilient_parsing=True)
            while hasattr(command, "get_command"):  # walk the sub-commands the args name
                sub = command.get_command(ctx, args[0])
                assert sub is not None, f"{dep['metadata']['name']}: sre-agent has no command {args[0]!r}"
                command, args = sub, args[1:]
            # Parsing is what the container's start would do first: an unknown flag fails here.
            command.make_context(command.name, list(args), parent=ctx)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"remediation": {"mode": False}}, "/remediation/mode"),  # `mode: off` unquoted is YAML's false
        ({"executor": "jobs"}, "/executor"),
        ({"concurency": 3}, "additional properties 'concurency' not allowed"),
        ({"allowedNamespaces": ["Shop"]}, "/allowedNamespaces/0"),
    ],
)
def test_the_chart_refuses_values_it_cannot_honour(values: dict[str, Any], reason: str) -> None:
    import helm_python

    with pytest.raises(helm_python.HelmValuesError, match=re.escape(reason)):
        helm_template(values)


def test_the_charts_remediation_modes_are_the_incidents() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["properties"]["remediation"]["properties"]["mode"]["enum"] == list(get_args(RemediationMode))
