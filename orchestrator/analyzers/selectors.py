"""Label selectors as the API server evaluates them: a Service's plain map, and LabelSelector
(matchLabels plus matchExpressions) used by workloads, NetworkPolicies, PDBs and quotas."""

from __future__ import annotations


def matches_map(selector: dict | None, labels: dict | None) -> bool:
    """A Service-style selector; an empty one selects nothing (the Service then has manual endpoints)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def matches(selector: dict | None, labels: dict | None) -> bool:
    """A LabelSelector; `{}` selects everything, a missing one (None) nothing."""
    if selector is None:
        return False
    labels = labels or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    return all(_expression(e, labels) for e in selector.get("matchExpressions") or [])


def _expression(expr: dict, labels: dict) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False  # an operator the API server would have rejected


def describe(selector: dict | None) -> str:
    """`app=a,tier in (x,y)` for evidence lines."""
    if not selector:
        return "<none>"
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return ",".join(f"{k}={v}" for k, v in selector.items())
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for e in selector.get("matchExpressions") or []:
        parts.append(f"{e.get('key')} {e.get('operator')} ({','.join(e.get('values') or [])})")
    return ",".join(parts) or "<all>"
