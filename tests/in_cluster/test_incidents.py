"""An Incident object becomes the engine's Incident: the operator's cluster and alert source fill in what
the object leaves out, its own namespace is the default scope, and the operator's write namespaces bound it."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.operator.incidents import Ref, Refused, Target, engine_incident, scope_of


def obj(namespace: str = "shop", **spec: object) -> dict:
    return {"apiVersion": "sre-agent.dev/v1alpha1", "kind": "Incident",
            "metadata": {"name": "checkout", "namespace": namespace, "labels": {"team": "pay"}},
            "spec": {"summary": "checkout fails", **spec}}  # fmt: skip


def test_the_operators_cluster_and_alert_source_fill_the_gaps(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    target = Target(kubeconfig=kubeconfig, alertmanager="http://am:9093", write_namespaces=("shop",))
    incident = engine_incident(obj(remediation={"allowedNamespaces": ["shop", "payments"]}), target)
    assert incident.metadata.name == "checkout" and incident.metadata.labels == {"team": "pay"}
    assert incident.spec.scope.namespaces == ["shop"] and scope_of(obj()) == {"shop"}
    assert incident.spec.cluster.kubeconfig == kubeconfig.resolve() and incident.spec.cluster.simulate is None
    assert (
        incident.spec.observability.alertmanager == "http://am:9093" and incident.spec.observability.prometheus is None
    )
    assert incident.spec.remediation.allowed_namespaces == ["shop"]  # payments is not the operator's to write
    inside = engine_incident(obj(observability={"alertmanager": "http://mine:9093"}), Target(in_cluster=True))
    assert inside.spec.cluster.in_cluster and inside.spec.observability.alertmanager == "http://mine:9093"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"cluster": {"kubeconfig": "/etc/kubernetes/admin.conf"}}, "spec.cluster.kubeconfig names a file"),
        ({"cluster": {"context": "prod"}}, "spec.cluster.context names a file or context"),
        ({"remediation": {"mode": "fast"}}, "spec.remediation.mode: 'fast' is not one of"),
        ({"model": "builtin/nope"}, "spec.model: unknown built-in model 'builtin/nope'"),
    ],
)
def test_what_the_operator_will_not_run_is_one_line(spec: dict, message: str) -> None:
    with pytest.raises(Refused) as err:
        engine_incident(obj(**spec), Target())
    assert message in str(err.value) and "\n" not in str(err.value)


def test_refs_parse_as_namespace_slash_name() -> None:
    assert str(Ref.parse("shop/checkout")) == "shop/checkout"
    for bad in ("checkout", "/checkout", "shop/", "a/b/c"):
        with pytest.raises(ValueError):
            Ref.parse(bad)
