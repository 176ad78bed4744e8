"""alerts_cleared: nothing fires in Alertmanager v2 for the incident's scope.

Silenced or inhibited alerts still fire (a silence hides a symptom, it does not heal it); pending alerts
(Prometheus' `for:` not yet elapsed) have not fired. An unreachable Alertmanager fails the check: no
evidence is never a pass.
"""

from __future__ import annotations

from .registry import Context, Outcome, check
from .targets import Target
from .text import count, listed

FIRING_STATES = {"active", "suppressed", "unprocessed"}
# Labels by which an alert names the object it is about (kube-prometheus and application conventions).
OBJECT_LABELS = (
    "workload",
    "service",
    "deployment",
    "statefulset",
    "daemonset",
    "pod",
    "horizontalpodautoscaler",
    "resourcequota",
    "networkpolicy",
    "persistentvolumeclaim",
)
SHOWN_LABELS = ("namespace", "workload", "service", "pod", "node", "container", "reason")


def firing(alert: dict) -> bool:
    labels = alert.get("labels") or {}
    state = (alert.get("status") or {}).get("state", "active")
    return state in FIRING_STATES and labels.get("alertstate", "firing") == "firing"


def in_scope(labels: dict, target: Target | None, namespaces: list[str], named: bool) -> bool:
    if target is None:
        # A named alert counts wherever it fires (node alerts carry no namespace); otherwise the incident's
        # namespaces, or the whole cluster when it names none.
        return named or not namespaces or labels.get("namespace") in namespaces
    if target.is_namespace:
        return labels.get("namespace") == target.namespace
    if target.kind == "Node":
        return labels.get("node") == target.name
    return labels.get("namespace") == target.namespace and any(labels.get(k) == target.name for k in OBJECT_LABELS)


def describe(alert: dict) -> str:
    labels = alert.get("labels") or {}
    shown = ",".join(f"{k}={labels[k]}" for k in SHOWN_LABELS if k in labels)
    return f"{labels.get('alertname', '?')}{{{shown}}}"


@check("alerts_cleared", kinds={"Deployment", "StatefulSet", "DaemonSet", "Service", "Pod", "Node",
                                "HorizontalPodAutoscaler", "ResourceQuota", "NetworkPolicy",
                                "PersistentVolumeClaim"}, namespace=True, untargeted=True)  # fmt: skip
def alerts_cleared(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """No alert fires in Alertmanager for the namespace (or object, or the incident's namespaces), and
    none named `alert` when one is given."""
    if target is not None:
        scope = str(target)
    else:
        scope = "any namespace" if alert or not ctx.namespaces else ", ".join(ctx.namespaces)
    matching = [
        a
        for a in ctx.reads.alerts()
        if firing(a)
        and (alert is None or (a.get("labels") or {}).get("alertname") == alert)
        and in_scope(a.get("labels") or {}, target, ctx.namespaces, named=alert is not None)
    ]
    value = {
        "scope": scope,
        "alert": alert,
        "firing": [
            {
                "alertname": (a.get("labels") or {}).get("alertname"),
                "labels": {k: v for k, v in (a.get("labels") or {}).items() if k in SHOWN_LABELS},
                "state": (a.get("status") or {}).get("state", "active"),
                "startsAt": a.get("startsAt"),
            }
            for a in matching
        ],
    }
    if matching:
        return Outcome(
            False,
            value,
            f"{count(len(matching), 'alert')} firing in {scope}: {listed([describe(a) for a in matching])}",
        )
    return Outcome(True, value, f"{alert} not firing in {scope}" if alert else f"no alert firing in {scope}")
