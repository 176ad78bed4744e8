"""PodDisruptionBudgets that block every voluntary disruption (drains, evictions), or select no pod."""

from __future__ import annotations

from .common import name_of, ns_of
from .finding import Finding
from .registry import analyzer
from .selectors import describe
from .snapshot import Scope, Snapshot


@analyzer("PodDisruptionBudget", reads={"Pod"})
def disruption_budgets(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Budgets with no disruption allowed (a drain would hang) or fewer healthy pods than they require."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        for pdb in reads.of("PodDisruptionBudget", ns):
            spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
            name = name_of(pdb)
            expected = status.get("expectedPods") or 0
            healthy, desired = status.get("currentHealthy") or 0, status.get("desiredHealthy") or 0
            allowed = status.get("disruptionsAllowed")
            line = (
                f"status.disruptionsAllowed={allowed} currentHealthy={healthy} "
                f"desiredHealthy={desired} expectedPods={expected}"
            )
            if expected and healthy < desired:
                cause = "fewer pods are healthy than the budget requires: no pod may be evicted"
                out.append(
                    Finding("PodDisruptionBudget", ns_of(pdb), name, cause, [line], "medium", "status.currentHealthy")
                )
            elif expected and allowed == 0:
                limit = (
                    f"minAvailable={spec['minAvailable']}"
                    if "minAvailable" in spec
                    else f"maxUnavailable={spec.get('maxUnavailable')}"
                )
                cause = f"the budget allows no disruption ({limit}): node drains and evictions of its pods will block"
                out.append(
                    Finding("PodDisruptionBudget", ns_of(pdb), name, cause, [line, f"spec.{limit}"], "medium", "spec")
                )
            elif reads.fetched("Pod") and not reads.pods(ns, spec.get("selector")):
                out.append(
                    Finding(
                        "PodDisruptionBudget",
                        ns_of(pdb),
                        name,
                        "the budget selects no pod",
                        [f"spec.selector={describe(spec.get('selector'))}"],
                        "low",
                        "spec.selector",
                    )
                )
    return out
