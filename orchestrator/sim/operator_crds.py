"""The Prometheus Operator's CustomResourceDefinitions, present from the start as on any cluster that runs
kube-prometheus (the Prometheus the simulator models): PrometheusRule, ServiceMonitor and PodMonitor in
monitoring.coreos.com/v1.

They are ordinary CRD objects served through the same machinery as a user's CRDs. The schemas are
compact: PrometheusRule's groups and rules are typed as the operator declares them (so a malformed rule
file is rejected by the API server, and `kubectl apply` validation knows its fields); the monitors keep
their spec as given.
"""

from __future__ import annotations

GROUP = "monitoring.coreos.com"
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_RULE = {
    "type": "object",
    "required": ["expr"],
    "properties": {
        "alert": {"type": "string"},
        "record": {"type": "string"},
        "expr": {"x-kubernetes-int-or-string": True},
        "for": {"type": "string"},
        "keep_firing_for": {"type": "string"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
    },
}
_GROUP = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "interval": {"type": "string"},
        "query_offset": {"type": "string"},
        "limit": {"type": "integer"},
        "partial_response_strategy": {"type": "string"},
        "labels": _STRING_MAP,
        "rules": {"type": "array", "items": _RULE},
    },
}
_PROMETHEUS_RULE_SPEC = {
    "type": "object",
    "properties": {"groups": {"type": "array", "items": _GROUP}},
}
_OPEN_SPEC = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _crd(kind: str, plural: str, short: str, spec_schema: dict) -> dict:
    schema = {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema,
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{GROUP}",
            "annotations": {"operator.prometheus.io/version": "0.76.0"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": [short],
                "categories": ["prometheus-operator"],
            },
            "versions": [
                {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}},
            ],
        },
    }


def operator_crds() -> list[dict]:
    return [
        _crd("PrometheusRule", "prometheusrules", "promrule", _PROMETHEUS_RULE_SPEC),
        _crd("ServiceMonitor", "servicemonitors", "smon", _OPEN_SPEC),
        _crd("PodMonitor", "podmonitors", "pmon", _OPEN_SPEC),
    ]
