"""The Incident spec: valid documents, every kind of mistake with its field path and line, the JSON
schema (and its CRD flavour), and the example incidents run against the embedded simulator."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from orchestrator.bench.suite import BUILTIN_SUITE
from orchestrator.cluster import example_incident, load_checked_incident, parse_checked_incident
from orchestrator.incident import (
    ACTIONS,
    CHECKS,
    FieldError,
    Incident,
    IncidentError,
    incident_schema,
    load_incident,
    name_part,
    parse_incident,
)
from orchestrator.sim import Cluster, load_scenario, resolve_scenario
from orchestrator.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "incidents"
PAGE_WITHIN = 600  # virtual seconds the engine waits for the first alert before paging

HEADER = """\
apiVersion: sre-agent.dev/v1alpha1
kind: Incident
metadata:
  name: checkout-errors
"""

MINIMAL = (
    HEADER
    + """\
spec:
  summary: Checkout fails with 5xx
"""
)

# A scenario small enough to write inline: our own format, one known fault.
SCENARIO = """\
apiVersion: sim.sre-agent.dev/v1alpha1
kind: Scenario
metadata: {name: tiny}
spec:
  applications: [{name: opentelemetry-demo}]
  faults:
    - id: scaled-to-zero-kubernetes-workload
      args: {kubernetesObject: {apiVersion: apps/v1, kind: Deployment, metadata: {name: ad, namespace: otel-demo}}}
"""

FULL = """\
apiVersion: sre-agent.dev/v1alpha1
kind: Incident
metadata:
  name: checkout-errors
  labels: {team: shop}
  annotations: {pager: "PD-123"}
spec:
  summary: "Checkout fails with 5xx; product-catalog pods not ready"
  alerts:
    - name: KubePodNotReady
      labels: {namespace: otel-demo}
  scope:
    namespaces: [otel-demo]
  cluster:
    simulate:
      scenario: ../scenarios/tiny.yaml
      seed: 7
  observability:
    alertmanager: http://alertmanager.monitoring:9093/
    prometheus: https://prometheus.example.com/prom
  model: openai/gpt-4o
  modelClass: frontier
  remediation:
    mode: approve
    allowedActions: [rollout_undo, scale]
    allowedNamespaces: [otel-demo, shared]
  budget:
    steps: 30
    tokens: 100000
    seconds: 600
  success:
    checks:
      - check: alerts_cleared
        target: otel-demo/Deployment/frontend
        alert: HighRequestErrorRate
      - check: node_schedulable
        target: Node/worker-1
"""


def write(directory: Path, text: str, name: str = "incident.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def errors_of(text: str, base_dir: Path | None = None) -> list[tuple[str, int | None, str]]:
    """Every error `validate` reports: the spec's, and whether a simulated cluster's scenario loads."""
    with pytest.raises(IncidentError) as info:
        parse_checked_incident(text, "incident.yaml", base_dir)
    return [(e.path, e.line, e.message) for e in info.value.errors]


def spec_with(body: str) -> str:
    """The header plus a spec whose summary is given and whose other fields are `body` (indented 2)."""
    return HEADER + "spec:\n  summary: Checkout fails\n" + textwrap.indent(textwrap.dedent(body), "  ")


@pytest.fixture
def incident_dir(tmp_path: Path) -> Path:
    """tmp/incidents/ next to tmp/scenarios/tiny.yaml, as the examples are laid out."""
    write(tmp_path / "scenarios", SCENARIO, "tiny.yaml")
    return tmp_path / "incidents"


# ============================================================================================ valid
def test_minimal_document_gets_the_defaults() -> None:
    inc = parse_incident(MINIMAL)
    spec = inc.spec
    assert (inc.api_version, inc.kind, inc.name) == ("sre-agent.dev/v1alpha1", "Incident", "checkout-errors")
    assert spec.summary == "Checkout fails with 5xx"
    assert spec.alerts == [] and spec.scope.namespaces == [] and spec.success.checks == []
    assert (spec.model, spec.model_class) == ("builtin/playbook", "auto")
    assert spec.remediation.mode == "auto"
    from orchestrator.tools.registry import write_names

    assert spec.remediation.allowed_actions == list(write_names())  # every write tool, in toolbox order
    assert spec.remediation.allowed_namespaces == []
    assert spec.remediation.allowed_cluster_objects == [] and not spec.remediation.allow_faulted_objects
    assert spec.remediation.max_objects_changed == 5
    assert (spec.budget.steps, spec.budget.tokens, spec.budget.seconds) == (60, 400_000, 900)
    # No cluster given: kubectl's default kubeconfig and current context.
    assert spec.cluster.mode == "kubeconfig"
    assert (spec.cluster.kubeconfig, spec.cluster.context, spec.cluster.in_cluster) == (None, None, False)
    assert spec.cluster.simulate is None
    assert (spec.observability.alertmanager, spec.observability.prometheus) == (None, None)


def test_full_document_reads_into_snake_case_attributes(incident_dir: Path) -> None:
    inc = load_incident(write(incident_dir, FULL))
    spec = inc.spec
    assert inc.metadata.labels == {"team": "shop"} and inc.metadata.annotations == {"pager": "PD-123"}
    assert [(a.name, a.labels) for a in spec.alerts] == [("KubePodNotReady", {"namespace": "otel-demo"})]
    assert spec.cluster.mode == "simulate"
    assert spec.cluster.simulate.scenario == (incident_dir.parent / "scenarios" / "tiny.yaml").resolve()
    assert spec.cluster.simulate.seed == 7
    assert spec.observability.alertmanager == "http://alertmanager.monitoring:9093"  # no trailing slash to join on
    assert spec.observability.prometheus == "https://prometheus.example.com/prom"
    assert (spec.model, spec.model_class) == ("openai/gpt-4o", "frontier")
    assert spec.remediation.mode == "approve"
    assert spec.remediation.allowed_actions == ["rollout_undo", "scale"]
    assert spec.remediation.allowed_namespaces == ["otel-demo", "shared"]
    assert (spec.budget.steps, spec.budget.tokens, spec.budget.seconds) == (30, 100_000, 600)
    assert [(c.check, c.target, c.alert) for c in spec.success.checks] == [
        ("alerts_cleared", "otel-demo/Deployment/frontend", "HighRequestErrorRate"),
        ("node_schedulable", "Node/worker-1", None),
    ]


def test_allowed_namespaces_default_to_the_scope() -> None:
    inc = parse_incident(spec_with("scope: {namespaces: [otel-demo, book-info]}\n"))
    assert inc.spec.remediation.allowed_namespaces == ["otel-demo", "book-info"]


def test_to_yaml_dict_is_camel_case_and_round_trips(incident_dir: Path) -> None:
    inc = load_incident(write(incident_dir, FULL))
    data = inc.to_yaml_dict()
    assert data["apiVersion"] == "sre-agent.dev/v1alpha1"
    assert data["spec"]["modelClass"] == "frontier"
    assert data["spec"]["remediation"]["allowedActions"] == ["rollout_undo", "scale"]
    assert data["spec"]["cluster"]["inCluster"] is False
    assert data["spec"]["cluster"]["simulate"]["scenario"] == str(incident_dir.parent / "scenarios" / "tiny.yaml")
    assert parse_incident(yaml.safe_dump(data)) == inc


def test_python_names_are_accepted_too() -> None:
    inc = Incident.model_validate(
        {
            "api_version": "sre-agent.dev/v1alpha1",
            "kind": "Incident",
            "metadata": {"name": "x"},
            "spec": {"summary": "s", "model_class": "mid", "cluster": {"in_cluster": True}},
        }
    )
    assert (inc.spec.model_class, inc.spec.cluster.mode) == ("mid", "in-cluster")


def test_kubeconfig_paths_expand_home_and_resolve_from_the_incident_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = parse_incident(spec_with("cluster: {kubeconfig: ~/.kube/prod, context: prod}\n"))
    assert home.spec.cluster.kubeconfig == (tmp_path / "home" / ".kube" / "prod").resolve()
    assert (home.spec.cluster.mode, home.spec.cluster.context) == ("kubeconfig", "prod")
    relative = load_incident(write(tmp_path / "ops", spec_with("cluster: {kubeconfig: kube/config}\n")))
    assert relative.spec.cluster.kubeconfig == (tmp_path / "ops" / "kube" / "config").resolve()


def test_in_cluster_target() -> None:
    inc = parse_incident(spec_with("cluster: {inCluster: true}\n"))
    assert inc.spec.cluster.mode == "in-cluster" and inc.spec.cluster.kubeconfig is None


def test_relative_scenario_resolves_from_the_incident_file_not_the_cwd(
    incident_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "a" / "b"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    path = write(incident_dir, FULL)
    scenario = (tmp_path / "scenarios" / "tiny.yaml").resolve()
    assert load_incident(path).spec.cluster.simulate.scenario == scenario
    relative = Path("..") / ".." / "incidents" / "incident.yaml"
    assert load_incident(relative).spec.cluster.simulate.scenario == scenario
    assert parse_incident(FULL, base_dir=incident_dir).spec.cluster.simulate.scenario == scenario
    # From text with no directory: relative to the cwd, where there is no such file.
    missing = (tmp_path / "a" / "scenarios" / "tiny.yaml").resolve()
    assert errors_of(FULL) == [("spec.cluster.simulate.scenario", 16, f"no such scenario file: {missing}")]


def test_builtin_scenario_stays_a_name() -> None:
    inc = parse_incident(spec_with("cluster: {simulate: {scenario: 'builtin:otel-demo-bad-image'}}\n"))
    assert inc.spec.cluster.simulate.scenario == "builtin:otel-demo-bad-image"


def test_unquoted_off_is_the_off_mode() -> None:
    # YAML 1.1 reads `off` as false; the person meant the remediation mode.
    assert parse_incident(spec_with("remediation: {mode: off}\n")).spec.remediation.mode == "off"


def test_class_constructors() -> None:
    assert Incident.from_text(MINIMAL) == parse_incident(MINIMAL)
    assert Incident.from_file(EXAMPLES / "demo.yaml").name == "demo"


# ============================================================================================ errors
def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(IncidentError) as info:
        load_incident(path)
    assert info.value.errors == [FieldError("", None, "cannot read the file: No such file or directory")]
    assert str(info.value) == f"{path}: cannot read the file: No such file or directory"


def test_not_yaml_names_the_line_of_the_syntax_error() -> None:
    text = HEADER + "spec:\n  summary: [unclosed\n  model: x\n"
    assert errors_of(text) == [
        ("", 7, "not valid YAML: while parsing a flow sequence; expected ',' or ']', but got ':'")
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- a\n- b\n", 1, "an Incident must be a mapping, got a list"),
        ("\n\njust words\n", 3, "an Incident must be a mapping, got the string 'just words'"),
        ("# nothing here\n", None, "the document is empty; expected an Incident"),
    ],
)
def test_not_a_mapping(text: str, line: int | None, message: str) -> None:
    assert errors_of(text) == [("", line, message)]


def test_wrong_api_version_and_kind_are_reported_alone() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: []}\n"
    assert errors_of(text) == [
        ("apiVersion", 1, "must be sre-agent.dev/v1alpha1, not 'v1'"),
        ("kind", 2, "must be Incident, not 'Pod'"),
    ]


def test_a_scenario_passed_as_an_incident_gets_a_hint() -> None:
    (scenario,) = [e for e in errors_of(SCENARIO) if e[0] == "kind"]
    assert "spec.cluster.simulate.scenario" in scenario[2]


def test_unknown_fields_are_named_at_every_level() -> None:
    text = """\
        apiVersion: sre-agent.dev/v1alpha1
        kind: Incident
        metadata:
          name: x
          namespace: default
        spec:
          summary: s
          severity: high
          cluster:
            inClster: true
          success:
            checks:
              - check: alerts_cleared
                threshold: 3
        status: {}
        """
    errors = errors_of(textwrap.dedent(text))
    assert [(path, line) for path, line, _ in errors] == [
        ("metadata.namespace", 5),
        ("spec.severity", 8),
        ("spec.cluster.inClster", 10),
        ("spec.success.checks[0].threshold", 14),
        ("status", 15),
    ]
    messages = dict((path, message) for path, _, message in errors)
    assert messages["spec.cluster.inClster"] == (
        "unknown field; did you mean inCluster? (allowed here: kubeconfig, context, inCluster, simulate)"
    )
    assert messages["status"] == "unknown field (allowed here: apiVersion, kind, metadata, spec)"
    assert messages["spec.success.checks[0].threshold"] == "unknown field (allowed here: check, target, alert)"


def test_bad_enum_values_list_the_allowed_ones() -> None:
    text = spec_with(
        """\
        modelClass: huge
        remediation:
          mode: fast
          allowedActions:
            - scale
            - reboot
        success:
          checks: [{check: looks_fine}]
        """
    )
    assert errors_of(text) == [
        ("spec.modelClass", 7, "'huge' is not one of: auto, frontier, mid, open"),
        ("spec.remediation.mode", 9, "'fast' is not one of: auto, approve, dry-run, off"),
        ("spec.remediation.allowedActions[1]", 12, f"'reboot' is not one of: {', '.join(ACTIONS)}"),
        ("spec.success.checks[0].check", 14, f"'looks_fine' is not one of: {', '.join(CHECKS)}"),
    ]


def test_cluster_objects_are_allowed_by_kind_and_name_and_faulted_ones_only_on_a_simulator() -> None:
    good = parse_incident(
        spec_with("remediation: {allowedClusterObjects: [Node/worker-1, Namespace/shop], maxObjectsChanged: 2}\n")
    )
    assert good.spec.remediation.allowed_cluster_objects == ["Node/worker-1", "Namespace/shop"]
    assert good.spec.remediation.max_objects_changed == 2
    text = spec_with(
        """\
        remediation:
          allowedClusterObjects: [Node/worker-1, ClusterRole/admin, worker-2, otel-demo/Deployment/ad]
          maxObjectsChanged: 0
        """
    )
    kinds = (
        "Node, Namespace, PriorityClass, IngressClass, PersistentVolume, StorageClass, ClusterRole, ClusterRoleBinding"
    )
    hint = f"must name a cluster-scoped object as Kind/name, Kind one of {kinds}, e.g. Node/worker-1"
    assert errors_of(text) == [  # ClusterRole/admin is one: the tools can patch RBAC objects
        ("spec.remediation.allowedClusterObjects[2]", 8, f"{hint}, not 'worker-2'"),
        ("spec.remediation.allowedClusterObjects[3]", 8, f"{hint}, not 'otel-demo/Deployment/ad'"),
        ("spec.remediation.maxObjectsChanged", 9, "must be at least 1, got 0"),
    ]
    real = spec_with("remediation: {allowFaultedObjects: true}\n")  # no simulator: no scenario, no faults
    assert errors_of(real) == [
        ("spec.remediation", 7, "allowFaultedObjects needs cluster.simulate: only a scenario has faults")
    ]


def test_wrong_types() -> None:
    text = HEADER + textwrap.dedent(
        """\
        spec:
          summary: 42
          alerts: {name: X}
          scope:
            namespaces: otel-demo
          cluster:
            inCluster: "yes"
          budget: {steps: "60", seconds: 1.5}
          success: []
        """
    )
    assert errors_of(text) == [
        ("spec.summary", 6, "must be a string, got the number 42"),
        ("spec.alerts", 7, "must be a list, got a mapping"),
        ("spec.scope.namespaces", 9, "must be a list, got the string 'otel-demo'"),
        ("spec.cluster.inCluster", 11, "must be true or false, got the string 'yes'"),
        ("spec.budget.steps", 12, "must be an integer, got the string '60'"),
        ("spec.budget.seconds", 12, "must be an integer, got the number 1.5"),
        ("spec.success", 13, "must be a mapping, got a list"),
    ]


def test_missing_required_fields_point_at_their_parent() -> None:
    text = "apiVersion: sre-agent.dev/v1alpha1\nkind: Incident\nmetadata:\n  labels: {}\nspec:\n  summary:\n"
    assert errors_of(text) == [
        ("metadata.name", 3, "required"),
        ("spec.summary", 6, "must be a string, got nothing (null)"),
    ]
    assert errors_of("kind: Incident\n") == [
        ("apiVersion", 1, "required"),
        ("metadata", 1, "required"),
        ("spec", 1, "required"),
    ]


def test_value_rules() -> None:
    text = """\
        apiVersion: sre-agent.dev/v1alpha1
        kind: Incident
        metadata:
          name: Checkout_Errors
          labels: {tier: 1}
        spec:
          summary: "   "
          scope: {namespaces: [otel-demo, Prod]}
          observability:
            prometheus: prometheus:9090
          budget:
            tokens: 0
          success:
            checks: [{check: alerts_cleared, target: frontend}]
        """
    errors = errors_of(textwrap.dedent(text))
    assert [(path, line) for path, line, _ in errors] == [
        ("metadata.name", 4),
        ("metadata.labels.tier", 5),
        ("spec.summary", 7),
        ("spec.scope.namespaces[1]", 8),
        ("spec.observability.prometheus", 10),
        ("spec.budget.tokens", 12),
        ("spec.success.checks[0].target", 14),
    ]
    messages = [message for _, _, message in errors]
    assert messages[0].startswith("must be a DNS-1123 label") and messages[0].endswith("not 'Checkout_Errors'")
    assert messages[1] == "must be a string, got the number 1"
    assert messages[2] == "must not be empty"
    assert messages[3].startswith("must be a DNS-1123 label")
    assert messages[4].startswith("must be an http:// or https:// URL")
    assert messages[5] == "must be at least 1, got 0"
    assert messages[6].startswith("must name an object as namespace/Kind/name")


def test_several_errors_are_all_reported_each_with_its_line() -> None:
    text = """\
        apiVersion: sre-agent.dev/v1alpha1
        kind: Incident
        metadata:
          name: x
        spec:
          summary: s
          modelClass: huge
          remediation:
            mode: fast
          budget:
            steps: lots
          color: red
        """
    with pytest.raises(IncidentError) as info:
        parse_incident(textwrap.dedent(text), "incident.yaml")
    assert str(info.value).splitlines() == [
        "incident.yaml:7: spec.modelClass: 'huge' is not one of: auto, frontier, mid, open",
        "incident.yaml:9: spec.remediation.mode: 'fast' is not one of: auto, approve, dry-run, off",
        "incident.yaml:11: spec.budget.steps: must be an integer, got the string 'lots'",
        "incident.yaml:12: spec.color: unknown field (allowed here: summary, alerts, scope, "
        "cluster, observability, model, modelClass, remediation, budget, success)",
    ]


def test_duplicate_keys_are_errors() -> None:
    text = spec_with("budget:\n  steps: 5\nbudget:\n  steps: 6\n")
    assert errors_of(text) == [("spec.budget", 9, "given twice (first at line 7); the last one would win")]


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        (
            "kubeconfig: ~/kc\nsimulate: {scenario: 'builtin:otel-demo-bad-image'}\n",
            "simulate cannot be combined with kubeconfig: give exactly one target",
        ),
        (
            "inCluster: true\nsimulate: {scenario: 'builtin:otel-demo-bad-image'}\n",
            "simulate cannot be combined with inCluster: give exactly one target",
        ),
        (
            "inCluster: true\ncontext: prod\n",
            "inCluster: true cannot be combined with context: give exactly one target",
        ),
    ],
)
def test_cluster_targets_are_exclusive(cluster: str, message: str) -> None:
    text = spec_with("cluster:\n" + textwrap.indent(cluster, "  "))
    assert errors_of(text) == [("spec.cluster", 7, message)]


def test_scenario_problems_are_reported_at_the_scenario_field(tmp_path: Path) -> None:
    unknown = spec_with("cluster: {simulate: {scenario: 'builtin:nope'}}\n")
    ((path, line, message),) = errors_of(unknown)
    assert (path, line) == ("spec.cluster.simulate.scenario", 7)
    assert message.startswith("no built-in scenario 'nope' (built-in: ") and "otel-demo-bad-image" in message

    bad_fault = SCENARIO.replace("scaled-to-zero-kubernetes-workload", "melted-kubernetes-workload")
    write(tmp_path, bad_fault, "bad.yaml")
    ((path, line, message),) = errors_of(spec_with("cluster: {simulate: {scenario: bad.yaml}}\n"), tmp_path)
    assert (path, line) == ("spec.cluster.simulate.scenario", 7)
    assert message.startswith("unknown fault id 'melted-kubernetes-workload'")

    write(tmp_path, "apiVersion: v1\nkind: ConfigMap\n", "not-a-scenario.yaml")
    ((_, _, message),) = errors_of(spec_with("cluster: {simulate: {scenario: not-a-scenario.yaml}}\n"), tmp_path)
    assert "not a scenario" in message


def test_error_lines_survive_anchors_and_merge_keys() -> None:
    text = spec_with("budget: &b {steps: 0}\nsuccess:\n  <<: {checks: [{check: nope}]}\n")
    assert errors_of(text) == [
        ("spec.budget.steps", 7, "must be at least 1, got 0"),
        ("spec.success.checks[0].check", 8, f"'nope' is not one of: {', '.join(CHECKS)}"),
    ]


def test_yaml_source_lines() -> None:
    doc = load_yaml("a:\n  - x\n  - {b: 1,\n     c: 2}\nd: 3\n")
    assert doc.data == {"a": ["x", {"b": 1, "c": 2}], "d": 3}
    assert [doc.line_of(p) for p in [("a",), ("a", 0), ("a", 1), ("a", 1, "c"), ("d",)]] == [1, 2, 3, 4, 5]
    assert doc.line_of(("a", 1, "missing")) == 3  # a field that is not there: its parent's line


# ============================================================================================ schema
def _walk(node: object, path: str = "") -> list[tuple[str, dict]]:
    if isinstance(node, list):
        return [x for i, n in enumerate(node) for x in _walk(n, f"{path}[{i}]")]
    if not isinstance(node, dict):
        return []
    return [(path, node)] + [x for k, v in node.items() for x in _walk(v, f"{path}/{k}")]


def _documents(tmp_path: Path) -> list[dict]:
    write(tmp_path / "scenarios", SCENARIO, "tiny.yaml")
    texts = [MINIMAL, FULL, spec_with("cluster: {kubeconfig: ~, context: ~}\nremediation: {allowedNamespaces: ~}\n")]
    texts += [p.read_text() for p in sorted(EXAMPLES.glob("*.yaml"))]
    for text in texts:  # every document is one the loader accepts
        parse_incident(text, base_dir=tmp_path / "incidents" if text is FULL else EXAMPLES)
    return [yaml.safe_load(t) for t in texts]


def test_schema_is_inlined_camel_case_and_describes_remediation() -> None:
    schema = incident_schema()
    assert not [path for path, node in _walk(schema) if "$ref" in node or "$defs" in node]
    spec = schema["properties"]["spec"]["properties"]
    assert spec["remediation"]["properties"]["mode"]["enum"] == ["auto", "approve", "dry-run", "off"]
    assert spec["remediation"]["properties"]["allowedActions"]["items"]["enum"] == list(ACTIONS)
    assert spec["modelClass"]["enum"] == ["auto", "frontier", "mid", "open"]
    assert "inCluster" in spec["cluster"]["properties"]
    assert spec["success"]["properties"]["checks"]["items"]["properties"]["check"]["enum"] == list(CHECKS)
    assert schema["required"] == ["apiVersion", "kind", "metadata", "spec"]


def test_schema_accepts_every_valid_document_and_rejects_unknown_fields(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(incident_schema())
    for doc in _documents(tmp_path):
        assert not list(validator.iter_errors(doc)), doc["metadata"]["name"]
    bad = yaml.safe_load(spec_with("color: red\n"))
    assert [e.validator for e in validator.iter_errors(bad)] == ["additionalProperties"]


def test_crd_schema_is_structural(tmp_path: Path) -> None:
    schema = incident_schema(crd=True)
    assert schema["type"] == "object" and schema["properties"]["metadata"] == {"type": "object"}
    for path, node in _walk(schema):
        if path.endswith("/properties") or path.endswith("/enum"):
            continue  # a map of property names, not a schema node
        assert not {"$ref", "$defs", "$schema", "anyOf", "oneOf", "allOf", "not", "const"} & set(node), path
        if node.get("x-kubernetes-preserve-unknown-fields") is True and "type" not in node:
            continue  # a field of several forms (spec.model): structural without a type, checked on read
        assert isinstance(node.get("type"), str) and node["type"] != "null", path
        assert not ("properties" in node and "additionalProperties" in node), path
    cluster = schema["properties"]["spec"]["properties"]["cluster"]["properties"]
    assert cluster["simulate"]["nullable"] is True and cluster["simulate"]["type"] == "object"
    validator = jsonschema.Draft202012Validator(schema)
    for doc in _documents(tmp_path):
        if "null" not in yaml.safe_dump(doc):  # OpenAPI's nullable is not JSON Schema's
            assert not list(validator.iter_errors(doc)), doc["metadata"]["name"]


# ============================================================================================ examples
# Incident file -> the ITBench fault its scenario injects and the object it targets.
FAMILIES = {
    "image": ("nonexistent-kubernetes-workload-container-image", "otel-demo/Deployment/product-catalog"),
    "crash": ("invalid-kubernetes-workload-container-command", "otel-demo/Deployment/product-catalog"),
    "oom": ("insufficient-kubernetes-workload-container-resources", "otel-demo/Deployment/postgresql"),
    "startup": ("hanging-kubernetes-workload-init-container", "otel-demo/Deployment/email"),
    "config": ("modified-kubernetes-workload-container-environment-variable", "otel-demo/Deployment/shipping"),
    "scheduling": ("cordoned-kubernetes-worker-node", "otel-demo/Deployment/ad"),
    "quota": ("insufficient-kubernetes-resource-quota", "otel-demo/Deployment/ad"),
    "scale": ("scaled-to-zero-kubernetes-workload", "otel-demo/Deployment/accounting"),
    "hpa": ("misconfigured-kubernetes-horizontal-pod-autoscaler", "otel-demo/Deployment/frontend"),
    "network-policy": ("ingress-port-blocking-network-policy", "otel-demo/Deployment/frontend"),
    "service-port": ("modified-target-port-kubernetes-service", "otel-demo/Service/ad"),
    "service-selector": ("invalid-kubernetes-service-selector", "book-info/Service/details"),
    "deleted-service": ("deleted-kubernetes-service", "otel-demo/Service/product-catalog"),
}
# Words that would give the cause away: a summary carries the symptom only.
CAUSE_WORDS = {
    "image": ("image",),
    "crash": ("command", "entrypoint"),
    "oom": ("memory", "oom"),
    "startup": ("init",),
    "config": ("env", "quote_addr", "variable"),
    "scheduling": ("cordon", "node"),
    "quota": ("quota",),
    "scale": ("zero", "scaled", "replica"),
    "hpa": ("cpu", "target", "misconfigured"),
    "network-policy": ("policy", "ingress", "blocked"),
    "service-port": ("port",),
    "service-selector": ("selector", "label"),
    "deleted-service": ("deleted", "removed"),
}
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
MODE_EXAMPLES = {"demo": "auto", "dry-run": "dry-run", "investigate-only": "off"}


def test_every_family_and_mode_has_an_example() -> None:
    # A family's example incident comes from its scenario (`builtin:NAME`); the files show the modes.
    assert set(FAMILIES) == set(BUILTIN_SUITE)
    assert {p.stem for p in EXAMPLE_FILES} == set(MODE_EXAMPLES)
    modes = {p.stem: load_incident(p).spec.remediation.mode for p in EXAMPLE_FILES}
    assert modes == MODE_EXAMPLES
    assert load_incident(EXAMPLES / "demo.yaml").spec.cluster.simulate.scenario == "builtin:image"
    for family in FAMILIES:
        inc = load_checked_incident(f"builtin:{family}")
        assert inc == example_incident(family) and inc.name == family
        # made from its scenario, it may undo what the faults changed outside any namespace (a cordoned Node)
        assert inc.spec.remediation.allow_faulted_objects and inc.spec.remediation.allowed_cluster_objects == []


def _example(name: str) -> Any:
    path = EXAMPLES / f"{name}.yaml"
    return load_checked_incident(path if path.is_file() else f"builtin:{name}")


@pytest.mark.parametrize("name", [*FAMILIES, *MODE_EXAMPLES])
def test_example_loads_and_gives_only_what_on_call_has(name: str) -> None:
    inc = _example(name)
    scenario = _scenario_file(inc)
    assert scenario.parent.name in BUILTIN_SUITE and (scenario.parent / "groundtruth.yaml").is_file()
    assert yaml.safe_load(scenario.read_text())["apiVersion"] == "itbench.io/v2"
    assert len(inc.spec.scope.namespaces) == 1
    assert inc.spec.success.checks == []  # the verifier's checks come from the playbook, not a hint
    lowered = inc.spec.summary.lower()
    assert not [w for w in CAUSE_WORDS.get(name, ()) if w in lowered], inc.spec.summary


@pytest.mark.parametrize("family", FAMILIES)
def test_example_scenario_injects_its_fault_and_pages(family: str) -> None:
    inc = example_incident(family)
    cluster = Cluster()
    load_scenario(cluster, _scenario_file(inc))
    assert [(r["id"], r["target"]) for r in cluster.injected] == [FAMILIES[family]]
    assert all(r["changes"] for r in cluster.injected)
    # The fault shows: an alert fires in the incident's namespace, as the engine waits for before paging.
    (namespace,) = inc.spec.scope.namespaces
    waited = 0
    while waited < PAGE_WITHIN and not _firing_in(cluster, namespace):
        cluster.advance(30)
        waited += 30
    assert _firing_in(cluster, namespace), f"{family}: no alert in {namespace} within {PAGE_WITHIN}s"


def test_a_builtin_name_without_an_example_is_one_error() -> None:
    with pytest.raises(IncidentError) as info:
        load_checked_incident("builtin:healthy-otel-demo")
    assert [e.message for e in info.value.errors] == [
        "scenario healthy-otel-demo has no example incident: no sim.sre-agent.dev/summary annotation"
    ]
    with pytest.raises(IncidentError) as info:
        load_checked_incident("builtin:nope")
    assert info.value.errors[0].message.startswith("no built-in scenario 'nope' (built-in: ")


def _scenario_file(inc: Any) -> Path:
    ref = inc.spec.cluster.simulate.scenario
    assert isinstance(ref, str) and ref.startswith("builtin:"), ref
    return resolve_scenario(ref.removeprefix("builtin:")).resolve()


def _firing_in(cluster: Cluster, namespace: str) -> list[str]:
    return [
        a.labels["alertname"] for a in cluster.observability.alerts.firing() if a.labels.get("namespace") == namespace
    ]


def test_validate_takes_a_family_by_name() -> None:
    from tests.run.helpers import run_cli

    assert run_cli("validate", "builtin:oom")[:2] == (0, "builtin:oom: valid Incident oom\n")
    code, _, stderr = run_cli("validate", "builtin:nope")
    assert code == 2 and stderr.startswith("error: builtin:nope: no built-in scenario 'nope' (built-in: ")


def test_name_part_keeps_what_a_name_may_hold() -> None:
    assert name_part("Checkout fails!") == "checkout-fails"
    assert name_part("a" * 39 + "-b") == "a" * 39  # cut at the limit, no '-' left at the end
    assert name_part("KubePodCrashLooping-TargetDown", 10) == "kubepodcra"
    assert name_part("!!!") == ""
