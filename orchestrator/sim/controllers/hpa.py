"""HorizontalPodAutoscaler (autoscaling/v2): scales Deployments and StatefulSets on CPU/memory use.

Every 15 virtual seconds (or at once after a spec change) each HPA reads its pods' usage from the
kubelet model, proposes ceil(replicas * utilization / target) per metric, keeps the largest, applies
the default behaviour (scale-up rate limit, five-minute scale-down stabilization, min/max) and writes
the target's replicas and its own status with the conditions and events the real controller uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..clock import rfc3339
from ..objects import quantity
from ..selectors import SelectorError, selector_from_spec
from .quota import container_amount, format_quantity, is_terminal

if TYPE_CHECKING:
    from ..cluster import Cluster

SYNC_SECONDS = 15.0
TOLERANCE = 0.1
DOWNSCALE_WINDOW = 300.0
COMPONENT = "horizontal-pod-autoscaler"
SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")
DEFAULT_METRIC = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
}


@dataclass
class HpaState:
    last_sync: float
    generation: int
    recommendations: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class MetricResult:
    proposal: int
    current: dict  # a status.currentMetrics entry
    reason: str  # "cpu resource utilization (percentage of request)"


class MetricError(Exception):
    """A metric that cannot be computed; the message is the controller's."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class HorizontalPodAutoscalerController:
    def __init__(self) -> None:
        self._state: dict[str, HpaState] = {}

    def reconcile(self, cluster: Cluster) -> None:
        now = cluster.now()
        hpas = cluster.store.list(cluster.rt("HorizontalPodAutoscaler"))
        live = {h["metadata"]["uid"] for h in hpas}
        for uid in [u for u in self._state if u not in live]:
            del self._state[uid]
        for hpa in hpas:
            uid, gen = hpa["metadata"]["uid"], int(hpa["metadata"].get("generation", 1))
            state = self._state.get(uid)
            if state is not None and state.generation == gen and now - state.last_sync < SYNC_SECONDS:
                continue
            if state is None:
                state = self._state[uid] = HpaState(now, gen)
            state.last_sync, state.generation = now, gen
            self._sync(cluster, hpa, state, now)

    # ------------------------------------------------------------------ one HPA
    def _sync(self, cluster: Cluster, hpa: dict, state: HpaState, now: float) -> None:
        spec = hpa.get("spec") or {}
        ns = hpa["metadata"]["namespace"]
        ref = spec.get("scaleTargetRef") or {}
        kind, name = ref.get("kind", ""), ref.get("name", "")
        status = dict(hpa.get("status") or {})
        target = None
        if kind in SCALABLE:
            target = cluster.store.find(cluster.rt(kind), ns, name)
        if target is None:
            what = f"{kind.lower()}s.apps" if kind in SCALABLE else kind.lower()
            msg = f'{what} "{name}" not found'
            self._event(cluster, hpa, "Warning", "FailedGetScale", msg)
            _condition(
                status,
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {msg}",
                now,
            )
            self._write(cluster, hpa, status)
            return
        current = int((target.get("spec") or {}).get("replicas", 1))
        status["currentReplicas"] = int((target.get("status") or {}).get("replicas", current))
        min_r, max_r = int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 1))
        if current == 0 and min_r != 0:
            status["desiredReplicas"] = 0
            _got_scale(status, now)
            _condition(
                status,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
                now,
            )
            self._write(cluster, hpa, status)
            return
        pods = _target_pods(cluster, target)
        results: list[MetricResult] = []
        try:
            for metric in spec.get("metrics") or [DEFAULT_METRIC]:
                result = _metric(cluster, metric, pods, current)
                if result is not None:
                    results.append(result)
        except MetricError as err:
            self._metric_failed(cluster, hpa, status, err, now)
            return
        if not results:
            self._metric_failed(
                cluster, hpa, status, MetricError("FailedGetResourceMetric", "no supported metrics"), now
            )
            return
        best = max(results, key=lambda r: r.proposal)
        status["currentMetrics"] = [r.current for r in results]
        desired, stabilized, limited = self._normalize(state, best.proposal, current, min_r, max_r, now)
        _condition(
            status,
            "ScalingActive",
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {best.reason}",
            now,
        )
        _condition(status, "ScalingLimited", *limited, now)
        if desired != current:
            reason = f"{best.reason} above target" if desired > current else "All metrics below target"
            self._scale(cluster, target, desired)
            self._event(cluster, hpa, "Normal", "SuccessfulRescale", f"New size: {desired}; reason: {reason}")
            status["lastScaleTime"] = rfc3339(now)
            _condition(
                status,
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
                now,
            )
        elif stabilized:
            _condition(
                status,
                "AbleToScale",
                "True",
                "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest recent recommendation",
                now,
            )
        else:
            _condition(status, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size", now)
        status["desiredReplicas"] = desired
        self._write(cluster, hpa, status)

    def _normalize(
        self, state: HpaState, proposal: int, current: int, min_r: int, max_r: int, now: float
    ) -> tuple[int, bool, tuple[str, str, str]]:
        """Default behaviour: stabilize downscales over 5 minutes, cap upscales, clamp to [min, max]."""
        state.recommendations = [(t, r) for t, r in state.recommendations if now - t < DOWNSCALE_WINDOW]
        state.recommendations.append((now, proposal))
        desired, stabilized = proposal, False
        if proposal < current:
            desired = min(current, max(r for _, r in state.recommendations))
            stabilized = desired > proposal
        up_limit = max(2 * current, current + 4)
        if desired > max_r:
            return (
                max_r,
                stabilized,
                ("True", "TooManyReplicas", "the desired replica count is more than the maximum replica count"),
            )
        if desired < min_r:
            return (
                min_r,
                stabilized,
                ("True", "TooFewReplicas", "the desired replica count is less than the minimum replica count"),
            )
        if desired > up_limit:
            return (
                up_limit,
                stabilized,
                ("True", "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"),
            )
        return desired, stabilized, ("False", "DesiredWithinRange", "the desired count is within the acceptable range")

    # ------------------------------------------------------------------ writes
    def _metric_failed(self, cluster: Cluster, hpa: dict, status: dict, err: MetricError, now: float) -> None:
        self._event(cluster, hpa, "Warning", err.reason, err.message)
        status.pop("currentMetrics", None)  # kubectl then shows <unknown>/target
        _got_scale(status, now)
        _condition(
            status,
            "ScalingActive",
            "False",
            err.reason,
            f"the HPA was unable to compute the replica count: {err.message}",
            now,
        )
        status.setdefault("desiredReplicas", status.get("currentReplicas", 0))
        self._write(cluster, hpa, status)

    def _scale(self, cluster: Cluster, target: dict, replicas: int) -> None:
        def scale(obj: dict) -> None:
            obj.setdefault("spec", {})["replicas"] = replicas

        meta = target["metadata"]
        cluster.store.mutate(cluster.rt(target["kind"]), meta["namespace"], meta["name"], scale)

    def _write(self, cluster: Cluster, hpa: dict, status: dict) -> None:
        status["observedGeneration"] = int(hpa["metadata"].get("generation", 1))
        if status == (hpa.get("status") or {}):
            return

        def write(obj: dict) -> None:
            obj["status"] = status

        meta = hpa["metadata"]
        cluster.store.mutate(cluster.rt("HorizontalPodAutoscaler"), meta["namespace"], meta["name"], write, status=True)

    def _event(self, cluster: Cluster, hpa: dict, etype: str, reason: str, message: str) -> None:
        cluster.record_event(hpa, etype, reason, message, COMPONENT)


# ---------------------------------------------------------------------------------------- metrics
def _target_pods(cluster: Cluster, target: dict) -> list[dict]:
    try:
        selector = selector_from_spec((target.get("spec") or {}).get("selector") or {})
    except SelectorError:
        return []
    ns = target["metadata"]["namespace"]
    return [
        p
        for p in cluster.store.list(cluster.rt("Pod"), ns)
        if selector.matches(p["metadata"].get("labels") or {})
        and not is_terminal(p)
        and not p["metadata"].get("deletionTimestamp")
    ]


def _running(pod: dict) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        "running" in (cs.get("state") or {}) for cs in status.get("containerStatuses") or []
    )


def _metric(cluster: Cluster, metric: dict, pods: list[dict], current: int) -> MetricResult | None:
    """One Resource metric's replica proposal; None for metric types the simulator does not serve."""
    from .kubelet import container_usage

    if metric.get("type") != "Resource":
        return None
    res = metric.get("resource") or {}
    name, target = res.get("name", "cpu"), res.get("target") or {}
    if name not in ("cpu", "memory"):
        return None
    measured = [p for p in pods if _running(p)]
    if not measured:
        raise MetricError(
            "FailedGetResourceMetric",
            f"failed to get {name} utilization: unable to get metrics for resource {name}: no metrics returned from resource metrics API",
        )
    used = requested = 0.0
    for pod in measured:
        for c in (pod.get("spec") or {}).get("containers") or []:
            req = container_amount(c, "requests", name)
            if req is None and target.get("type", "Utilization") == "Utilization":
                raise MetricError(
                    "FailedGetResourceMetric",
                    f"failed to get {name} utilization: missing request for {name} in container {c.get('name')} of Pod {pod['metadata']['name']}",
                )
            requested += req or 0.0
            mem, cpu = container_usage(cluster, pod, c.get("name", ""))
            used += cpu if name == "cpu" else float(mem)
    average = used / len(measured)
    current_metric: dict = {
        "type": "Resource",
        "resource": {"name": name, "current": {"averageValue": format_quantity(average, name)}},
    }
    if target.get("type") == "AverageValue":
        goal = quantity(target.get("averageValue")) or 1e-9
        ratio = average / goal
        reason = f"{name} resource"
    else:
        utilization = used * 100.0 / requested if requested else 0.0
        goal = float(target.get("averageUtilization", 80)) or 1e-9
        ratio = utilization / goal
        current_metric["resource"]["current"]["averageUtilization"] = int(utilization)
        reason = f"{name} resource utilization (percentage of request)"
    proposal = current if abs(ratio - 1.0) <= TOLERANCE else math.ceil(ratio * current)
    return MetricResult(proposal, current_metric, reason)


def _got_scale(status: dict, now: float) -> None:
    _condition(
        status,
        "AbleToScale",
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
        now,
    )


def _condition(status: dict, ctype: str, value: str, reason: str, message: str, now: float) -> None:
    """Set one HPA condition; lastTransitionTime changes only when the status flips."""
    conds = [dict(c) for c in status.get("conditions") or []]
    for c in conds:
        if c.get("type") == ctype:
            if c.get("status") != value:
                c["lastTransitionTime"] = rfc3339(now)
            c.update(status=value, reason=reason, message=message)
            break
    else:
        conds.append(
            {"type": ctype, "status": value, "lastTransitionTime": rfc3339(now), "reason": reason, "message": message}
        )
    order = {"AbleToScale": 0, "ScalingActive": 1, "ScalingLimited": 2}
    status["conditions"] = sorted(conds, key=lambda c: order.get(c.get("type", ""), 9))
