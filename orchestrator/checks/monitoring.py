"""rules_evaluate: Prometheus no longer reports a PrometheusRule's rule groups failing.

Prometheus names a failing group in the PrometheusRuleFailures alert's `rule_group` label (`FILE;GROUP`);
the Prometheus Operator writes each PrometheusRule to a file `<namespace>-<name>-<uid>.yaml`, so a firing
alert whose file stem starts with `<namespace>-<name>-` is about that object. Wherever the alert fires (in
the monitoring stack's namespace, not the rule's), it counts.
"""

from __future__ import annotations

from ..analyzers.monitoring import reports_on
from .alerts import describe, firing
from .registry import Context, Outcome, check
from .targets import Target
from .text import count, listed


@check("rules_evaluate", kinds={"PrometheusRule"})
def rules_evaluate(ctx: Context, target: Target | None, alert: str | None) -> Outcome:
    """No firing alert (in any namespace) reports a rule group of the PrometheusRule failing to evaluate."""
    assert target is not None
    failing = [a for a in ctx.reads.alerts() if firing(a) and reports_on(a, target.namespace, target.name)]
    value = {"failing": [describe(a) for a in failing]}
    if failing:
        return Outcome(
            False,
            value,
            f"{target}: {count(len(failing), 'alert')} report its rules failing: {listed(value['failing'])}",
        )
    return Outcome(True, value, f"{target}: no alert reports its rule groups failing")
