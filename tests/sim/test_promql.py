"""Tests for the simulator's PromQL subset (orchestrator.sim.promql)."""

from __future__ import annotations

import math

import pytest

from orchestrator.sim.promql import (
    Aggregate,
    Binary,
    HistorySource,
    MatrixSelector,
    PromQLError,
    Sample,
    StaticSource,
    VectorSelector,
    evaluate,
    format_value,
    instant_inputs,
    parse,
    parse_duration,
    to_prometheus_json,
)

NOW = 10_000.0


def mk(name: str, value: float, **labels: str) -> Sample:
    return Sample(name, labels, value)


def as_set(result) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
    assert isinstance(result, list)
    return {(s.name, tuple(sorted(s.labels.items())), s.value) for s in result}


def by_label(result, label: str) -> dict[str, float]:
    out = {s.labels.get(label, ""): s.value for s in result}
    assert len(out) == len(result), "label does not identify the series"
    return out


@pytest.fixture
def src() -> StaticSource:
    return StaticSource(
        [
            mk("up", 1, job="api", instance="a:80"),
            mk("up", 0, job="api", instance="b:80"),
            mk("up", 1, job="db", instance="c:5432"),
            mk("http_requests_total", 100, service="cart", code="200"),
            mk("http_requests_total", 50, service="checkout", code="200"),
            mk("http_requests_total", 10, service="cart", code="500"),
            mk("http_errors_total", 5, service="cart"),
            mk("http_errors_total", 0, service="checkout"),
            mk("http_requests_sum", 200, service="cart"),
            mk("http_requests_sum", 50, service="checkout"),
            mk("http_requests_sum", 10, service="search"),
            mk("node_memory_free", 2.0, node="n1"),
            mk("node_memory_free", 8.0, node="n2"),
        ],
        now=NOW,
    )


# ---------------------------------------------------------------------------
# selectors
# ---------------------------------------------------------------------------


def test_plain_selector(src):
    res = evaluate("up", src)
    assert len(res) == 3
    assert all(s.name == "up" for s in res)
    assert evaluate("does_not_exist", src) == []


def test_equality_matcher(src):
    assert by_label(evaluate('up{job="api"}', src), "instance") == {
        "a:80": 1,
        "b:80": 0,
    }


def test_not_equal_matcher(src):
    assert by_label(evaluate('up{job!="api"}', src), "instance") == {"c:5432": 1}


def test_regex_matcher_is_anchored(src):
    assert len(evaluate('up{instance=~"a:80|c:5432"}', src)) == 2
    # Anchored: "a" alone does not match "a:80".
    assert evaluate('up{instance=~"a"}', src) == []
    assert len(evaluate('up{instance=~"a.*"}', src)) == 1


def test_negative_regex_matcher(src):
    assert by_label(evaluate('up{instance!~"a.*|b.*"}', src), "instance") == {"c:5432": 1}


def test_missing_label_matches_empty_string(src):
    assert len(evaluate('up{zone=""}', src)) == 3
    assert evaluate('up{zone!=""}', src) == []
    assert len(evaluate('up{zone=~"|eu"}', src)) == 3


def test_multiple_matchers_and_trailing_comma(src):
    res = evaluate('up{job="api", instance!="a:80",}', src)
    assert as_set(res) == {("up", (("instance", "b:80"), ("job", "api")), 0.0)}


def test_name_matchers(src):
    assert len(evaluate('{__name__="up"}', src)) == 3
    res = evaluate('{__name__=~"http_.*_total", service="cart"}', src)
    assert {s.name for s in res} == {"http_requests_total", "http_errors_total"}
    assert len(res) == 3
    res = evaluate('{__name__!~"up|node_.*|http_.*", service!=""}', src)
    assert res == []


def test_string_quotes_and_escapes(src):
    assert len(evaluate("up{job='api'}", src)) == 2
    assert len(evaluate("up{job=`api`}", src)) == 2
    assert len(evaluate('up{instance=~"a\\\\:80|c:.*"}', src)) == 2


def test_sample_values_are_floats():
    s = Sample("x", {}, 3)
    assert isinstance(s.value, float)
    assert s.metric == {"__name__": "x"}
    assert hash(s) == hash(Sample("x", {}, 3.0))


def test_plain_sample_list_is_accepted_as_source():
    assert evaluate("x > 1", [mk("x", 1), mk("x", 2, a="b")]) == [mk("x", 2, a="b")]


# ---------------------------------------------------------------------------
# literals, arithmetic, precedence
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("2 ^ 3 ^ 2", 512.0),  # right associative
        ("-2 ^ 2", -4.0),  # unary minus binds looser than ^
        ("10 - 4 - 3", 3.0),  # left associative
        ("7 % 4", 3.0),
        ("1 / 0", math.inf),
        ("1.5e3", 1500.0),
        ("0x10", 16.0),
        ("3 > bool 2", 1.0),
        ("3 < bool 2", 0.0),
        ("2 == bool 2 + 0", 1.0),
        ("1 + 1 > bool 1", 1.0),
    ],
)
def test_scalar_arithmetic(src, expr, expected):
    assert evaluate(expr, src) == expected


def test_scalar_nan_and_inf(src):
    assert math.isnan(evaluate("0 / 0", src))
    assert math.isnan(evaluate("NaN", src))
    assert evaluate("-Inf", src) == -math.inf


def test_vector_scalar_arithmetic_drops_name(src):
    res = evaluate("node_memory_free * 2 + 1", src)
    assert as_set(res) == {
        ("", (("node", "n1"),), 5.0),
        ("", (("node", "n2"),), 17.0),
    }
    res = evaluate("10 - node_memory_free", src)
    assert by_label(res, "node") == {"n1": 8.0, "n2": 2.0}


def test_unary_minus_on_vector(src):
    assert by_label(evaluate("-node_memory_free", src), "node") == {
        "n1": -2.0,
        "n2": -8.0,
    }


# ---------------------------------------------------------------------------
# comparisons: filter vs bool
# ---------------------------------------------------------------------------


def test_comparison_filters_and_keeps_name(src):
    res = evaluate("up == 0", src)
    assert as_set(res) == {("up", (("instance", "b:80"), ("job", "api")), 0.0)}
    res = evaluate("node_memory_free > 4", src)
    assert res == [mk("node_memory_free", 8.0, node="n2")]


def test_comparison_with_scalar_on_left_keeps_vector_value(src):
    res = evaluate("4 < node_memory_free", src)
    assert res == [mk("node_memory_free", 8.0, node="n2")]


def test_comparison_bool_returns_all_with_0_1(src):
    res = evaluate("node_memory_free > bool 4", src)
    assert as_set(res) == {("", (("node", "n1"),), 0.0), ("", (("node", "n2"),), 1.0)}


def test_vector_vector_comparison_filter_and_bool(src):
    res = evaluate("http_requests_sum > http_errors_total", src)
    # filter keeps the left-hand value and name
    assert by_label(res, "service") == {"cart": 200.0, "checkout": 50.0}
    assert {s.name for s in res} == {"http_requests_sum"}
    res = evaluate("http_errors_total >= bool http_requests_sum", src)
    assert by_label(res, "service") == {"cart": 0.0, "checkout": 0.0}
    assert {s.name for s in res} == {""}


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("==", {"n1"}),
        ("!=", {"n2"}),
        (">=", {"n1", "n2"}),
        ("<=", {"n1"}),
        ("<", set()),
        (">", {"n2"}),
    ],
)
def test_all_comparison_operators(src, op, expected):
    res = evaluate(f"node_memory_free {op} 2", src)
    assert {s.labels["node"] for s in res} == expected


# ---------------------------------------------------------------------------
# aggregations
# ---------------------------------------------------------------------------


def test_sum_by(src):
    res = evaluate("sum by (job) (up)", src)
    assert as_set(res) == {("", (("job", "api"),), 1.0), ("", (("job", "db"),), 1.0)}


def test_grouping_clause_after_arguments(src):
    assert as_set(evaluate("sum(up) by (job)", src)) == as_set(evaluate("sum by (job) (up)", src))


def test_sum_without(src):
    res = evaluate("sum without (code) (http_requests_total)", src)
    assert by_label(res, "service") == {"cart": 110.0, "checkout": 50.0}
    assert all(set(s.labels) == {"service"} for s in res)


def test_sum_all_and_other_aggregations(src):
    assert as_set(evaluate("sum(up)", src)) == {("", (), 2.0)}
    assert evaluate("count(up)", src)[0].value == 3
    assert evaluate("avg(node_memory_free)", src)[0].value == 5.0
    assert evaluate("max(node_memory_free)", src)[0].value == 8.0
    assert evaluate("min(node_memory_free)", src)[0].value == 2.0
    assert evaluate("group(up)", src)[0].value == 1.0
    assert evaluate("stddev(node_memory_free)", src)[0].value == 3.0
    assert evaluate("stdvar(node_memory_free)", src)[0].value == 9.0
    assert evaluate("quantile(0.5, node_memory_free)", src)[0].value == 5.0
    assert evaluate("count by (job) (up)", src)[0].labels == {"job": "api"}


def test_aggregation_by_missing_label_groups_as_empty(src):
    res = evaluate("sum by (zone) (up)", src)
    assert as_set(res) == {("", (), 2.0)}


def test_aggregation_of_empty_vector(src):
    assert evaluate("sum(nothing)", src) == []


def test_topk_bottomk(src):
    res = evaluate("topk(1, http_requests_sum)", src)
    assert res == [mk("http_requests_sum", 200, service="cart")]
    res = evaluate("bottomk(2, http_requests_sum)", src)
    assert [s.labels["service"] for s in res] == ["search", "checkout"]
    res = evaluate("topk by (service) (1, http_requests_total)", src)
    assert by_label(res, "service") == {"cart": 100.0, "checkout": 50.0}
    assert all(s.name == "http_requests_total" for s in res)


def test_keywords_are_case_insensitive(src):
    assert as_set(evaluate("SUM BY (job) (up)", src)) == as_set(evaluate("sum by (job) (up)", src))


# ---------------------------------------------------------------------------
# vector matching
# ---------------------------------------------------------------------------


def test_error_ratio_per_service(src):
    res = evaluate("http_errors_total / http_requests_sum", src)
    assert as_set(res) == {
        ("", (("service", "cart"),), 0.025),
        ("", (("service", "checkout"),), 0.0),
    }


def test_error_ratio_with_sum_by_on_both_sides(src):
    res = evaluate(
        'sum by (service) (http_requests_total{code=~"5.."}) / sum by (service) (http_requests_total)',
        src,
    )
    assert as_set(res) == {("", (("service", "cart"),), 10 / 110)}


def test_on_and_ignoring(src):
    res = evaluate('http_requests_total{code="500"} / on(service) http_requests_sum', src)
    assert as_set(res) == {("", (("service", "cart"),), 0.05)}
    res = evaluate('http_requests_total{code="500"} / ignoring(code) http_requests_sum', src)
    assert as_set(res) == {("", (("service", "cart"),), 0.05)}


def test_group_left_copies_labels_from_one_side():
    src = StaticSource(
        [
            mk("container_cpu", 2, namespace="a", pod="p1", container="c1"),
            mk("container_cpu", 3, namespace="a", pod="p1", container="c2"),
            mk("container_cpu", 5, namespace="b", pod="p2", container="c1"),
            mk("kube_pod_info", 1, namespace="a", pod="p1", node="n1"),
            mk("kube_pod_info", 1, namespace="b", pod="p2", node="n2"),
        ],
        now=NOW,
    )
    res = evaluate("container_cpu * on(namespace, pod) group_left(node) kube_pod_info", src)
    assert as_set(res) == {
        (
            "",
            (("container", "c1"), ("namespace", "a"), ("node", "n1"), ("pod", "p1")),
            2.0,
        ),
        (
            "",
            (("container", "c2"), ("namespace", "a"), ("node", "n1"), ("pod", "p1")),
            3.0,
        ),
        (
            "",
            (("container", "c1"), ("namespace", "b"), ("node", "n2"), ("pod", "p2")),
            5.0,
        ),
    }
    res = evaluate("kube_pod_info * on(namespace, pod) group_right(node) container_cpu", src)
    assert {s.labels["node"] for s in res} == {"n1", "n2"}
    assert len(res) == 3
    assert sorted(s.value for s in res) == [2.0, 3.0, 5.0]


def test_many_to_one_without_group_modifier_is_an_error():
    src = StaticSource(
        [
            mk("a", 1, pod="p", c="1"),
            mk("a", 1, pod="p", c="2"),
            mk("b", 1, pod="p"),
        ]
    )
    with pytest.raises(PromQLError, match="many-to-one matching must be explicit"):
        evaluate("a * on(pod) b", src)
    with pytest.raises(PromQLError, match="many-to-many matching not allowed"):
        evaluate("b * on(pod) a", src)


def test_and_or_unless(src):
    res = evaluate("up and up == 1", src)
    assert {s.labels["instance"] for s in res} == {"a:80", "c:5432"}
    res = evaluate('up unless on(job) up{job="db"}', src)
    assert {s.labels["instance"] for s in res} == {"a:80", "b:80"}
    res = evaluate("up unless up == 0", src)
    assert {s.labels["instance"] for s in res} == {"a:80", "c:5432"}
    res = evaluate("http_errors_total or http_requests_sum", src)
    assert {(s.name, s.labels["service"]) for s in res} == {
        ("http_errors_total", "cart"),
        ("http_errors_total", "checkout"),
        ("http_requests_sum", "search"),
    }
    res = evaluate('http_errors_total and ignoring(code) http_requests_total{code="500"}', src)
    assert res == [mk("http_errors_total", 5, service="cart")]


def test_or_precedence_is_lowest(src):
    # 'and' binds tighter than 'or'
    res = evaluate('up{job="db"} or up{job="api"} and up == 1', src)
    assert {s.labels["instance"] for s in res} == {"c:5432", "a:80"}


def test_absent_alert_pattern(src):
    res = evaluate('absent(up{job="missing"})', src)
    assert as_set(res) == {("", (("job", "missing"),), 1.0)}
    assert evaluate('absent(up{job="api"})', src) == []
    res = evaluate('up{job="missing"} or vector(0)', src)
    assert as_set(res) == {("", (), 0.0)}


def test_functions(src):
    assert evaluate("abs(-node_memory_free)", src)[0].value == 2.0
    assert by_label(evaluate("clamp_min(node_memory_free, 3)", src), "node") == {
        "n1": 3.0,
        "n2": 8.0,
    }
    assert by_label(evaluate("clamp_max(node_memory_free, 3)", src), "node") == {
        "n1": 2.0,
        "n2": 3.0,
    }
    assert evaluate("scalar(sum(up))", src) == 2.0
    assert math.isnan(evaluate("scalar(up)", src))
    assert as_set(evaluate("vector(3)", src)) == {("", (), 3.0)}
    assert evaluate("time()", src) == NOW
    assert evaluate("sum(up) / scalar(count(up))", src)[0].value == pytest.approx(2 / 3)
    res = evaluate("sort_desc(http_requests_sum)", src)
    assert [s.value for s in res] == [200.0, 50.0, 10.0]


def test_label_replace(src):
    res = evaluate('label_replace(up{job="db"}, "host", "$1", "instance", "(.*):.*")', src)
    assert res[0].labels == {"job": "db", "instance": "c:5432", "host": "c"}
    assert res[0].name == "up"


def test_histogram_quantile():
    buckets = [("0.1", 50), ("0.5", 90), ("1", 100), ("+Inf", 100)]
    src = StaticSource([mk("lat_bucket", v, le=le, service="cart") for le, v in buckets], now=NOW)
    res = evaluate("histogram_quantile(0.5, lat_bucket)", src)
    assert as_set(res) == {("", (("service", "cart"),), 0.1)}
    res = evaluate("histogram_quantile(0.7, sum by (le) (lat_bucket))", src)
    assert res[0].value == pytest.approx(0.1 + 0.4 * (20 / 40))


def test_duplicate_labelsets_after_dropping_name_is_an_error(src):
    with pytest.raises(PromQLError, match="same labelset"):
        evaluate('{__name__=~"http_.*_sum|http_errors_total"} * 2', src)


# ---------------------------------------------------------------------------
# kube-prometheus style rule
# ---------------------------------------------------------------------------

KUBE_POD_NOT_READY = (
    "sum by (namespace, pod) ("
    "  max by (namespace, pod) ("
    '    kube_pod_status_phase{phase=~"Pending|Unknown"}'
    "  ) * on(namespace, pod) group_left(owner_kind) topk by (namespace, pod) ("
    '    1, max by (namespace, pod, owner_kind) (kube_pod_owner{owner_kind!="Job"})'
    "  )"
    ") > 0"
)


def _pod(namespace: str, pod: str, phase: str, owners: list[str]) -> list[Sample]:
    out = [
        mk(
            "kube_pod_status_phase",
            1.0 if p == phase else 0.0,
            namespace=namespace,
            pod=pod,
            phase=p,
            job="kube-state-metrics",
        )
        for p in ("Pending", "Running", "Succeeded", "Failed", "Unknown")
    ]
    out += [
        mk(
            "kube_pod_owner",
            1.0,
            namespace=namespace,
            pod=pod,
            owner_kind=kind,
            owner_name=f"{pod}-owner-{kind.lower()}",
            job="kube-state-metrics",
        )
        for kind in owners
    ]
    return out


def test_kube_pod_not_ready_rule():
    samples = (
        _pod("shop", "cart-1", "Pending", ["ReplicaSet"])
        + _pod("shop", "cart-2", "Running", ["ReplicaSet"])
        + _pod("shop", "migrate-1", "Pending", ["Job"])
        + _pod("db", "pg-0", "Unknown", ["StatefulSet"])
        + _pod("db", "pg-1", "Pending", ["StatefulSet", "ReplicaSet"])
        + _pod("db", "orphan", "Pending", [])
    )
    res = evaluate(KUBE_POD_NOT_READY, StaticSource(samples, now=NOW))
    assert as_set(res) == {
        ("", (("namespace", "shop"), ("pod", "cart-1")), 1.0),
        ("", (("namespace", "db"), ("pod", "pg-0")), 1.0),
        ("", (("namespace", "db"), ("pod", "pg-1")), 1.0),
    }


def test_kube_rule_parses_to_expected_shape():
    node = parse(KUBE_POD_NOT_READY)
    assert isinstance(node, Binary) and node.op == ">"
    assert isinstance(node.lhs, Aggregate) and node.lhs.grouping == ("namespace", "pod")
    inner = node.lhs.expr
    assert isinstance(inner, Binary) and inner.op == "*"
    assert inner.matching is not None
    assert inner.matching.card == "many-to-one"
    assert inner.matching.on and inner.matching.labels == ("namespace", "pod")
    assert inner.matching.include == ("owner_kind",)
    assert isinstance(inner.rhs, Aggregate) and inner.rhs.op == "topk"


# ---------------------------------------------------------------------------
# range functions over history
# ---------------------------------------------------------------------------


@pytest.fixture
def history() -> HistorySource:
    """Scrapes every 15s for 10 minutes ending at t=600."""
    h = HistorySource(retention=3600)
    for i in range(41):
        t = i * 15.0
        h.add(
            t,
            [
                # counter growing 1/s
                mk("requests_total", t, service="cart"),
                # counter growing 2/s that restarts from 0 at t=435 (sees 30 at 450)
                mk("requests_total", 2 * t if t < 450 else 2 * (t - 435), service="pay"),
                # gauge with a spike at t=510
                mk("queue_depth", 50.0 if t == 510 else 5.0, queue="q1"),
                # gauge that flips between 0 and 1 every minute
                mk("leader", float((i // 4) % 2), pod="x"),
            ],
        )
    return h


def test_history_source_basics(history):
    assert history.now == 600.0
    assert len(history) == 41
    assert history.at(607)[0].value == 600.0  # latest scrape <= ts
    assert history.at(-1) == []
    assert history.at(600 + 301) == []  # older than the lookback
    assert evaluate("requests_total", history, ts=300)[0].value == 300.0


def test_rate_and_increase(history):
    res = evaluate('rate(requests_total{service="cart"}[5m])', history)
    assert len(res) == 1
    assert res[0].labels == {"service": "cart"}
    assert res[0].value == pytest.approx(1.0)
    res = evaluate('increase(requests_total{service="cart"}[5m])', history)
    assert res[0].value == pytest.approx(300.0)
    assert res[0].name == ""


def test_rate_handles_counter_reset(history):
    res = evaluate('increase(requests_total{service="pay"}[5m])', history)
    assert res[0].value == pytest.approx(600.0)
    res = evaluate("sum by (service) (rate(requests_total[5m]))", history)
    assert by_label(res, "service") == {
        "cart": pytest.approx(1.0),
        "pay": pytest.approx(2.0),
    }


def test_rate_needs_two_points(history):
    assert evaluate("rate(requests_total[10s])", history) == []
    assert evaluate("rate(requests_total[5m])", StaticSource([mk("x", 1)])) == []


def test_over_time_functions(history):
    assert evaluate("max_over_time(queue_depth[5m])", history)[0].value == 50.0
    assert evaluate("min_over_time(queue_depth[5m])", history)[0].value == 5.0
    avg = evaluate("avg_over_time(queue_depth[5m])", history)[0].value
    assert avg == pytest.approx((19 * 5 + 50) / 20)
    # the spike is older than one minute
    assert evaluate("max_over_time(queue_depth[1m])", history)[0].value == 5.0
    assert evaluate("max_over_time(queue_depth[1m] offset 1m30s)", history)[0].value == 50.0
    assert evaluate("count_over_time(queue_depth[5m])", history)[0].value == 20.0


def test_changes(history):
    # leader flips every 60s: in (300, 600] it changes at 360, 420, 480, 540, 600
    assert evaluate("changes(leader[5m])", history)[0].value == 5.0
    assert evaluate("changes(queue_depth[5m])", history)[0].value == 2.0


def test_alert_style_expression_over_history(history):
    res = evaluate("max_over_time(queue_depth[5m]) > 10", history)
    assert as_set(res) == {("", (("queue", "q1"),), 50.0)}
    assert evaluate("max_over_time(queue_depth[5m]) > 100", history) == []


def test_history_retention_prunes_old_scrapes():
    h = HistorySource(retention=60)
    for t in range(0, 300, 15):
        h.add(t, [mk("x", t)])
    assert h.timestamps()[0] >= h.now - 60
    assert evaluate("count_over_time(x[10m])", h)[0].value == len(h.timestamps())


# ---------------------------------------------------------------------------
# parse errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "fragment", "position"),
    [
        ('up{job="api"', "expected ',' or '}'", 12),
        ("up{job=api}", "expected string label value", 7),
        ('up{job~"x"}', "unexpected character", 6),
        ("sum(up", "expected ')'", 6),
        ("rate(up)", "must be a range vector", 5),
        ("up[5m]", "only allowed as a function argument", 0),
        ("1 > 2", "bool modifier", 2),
        ("up + ", "unexpected end of input", 5),
        ("nosuchfn(up)", "unknown function", 0),
        ("{}", "at least one non-empty matcher", 0),
        ('{job=""}', "at least one non-empty matcher", 0),
        ('up{job=~"("}', "invalid regular expression", 8),
        ("up * bool up", "bool modifier can only be used on comparison", 5),
        ("up and 1", "set operator", 3),
        ("abs(up, 2)", "expects 1 argument", 0),
        ("clamp_min(up, up)", "must be a scalar", 14),
        ("rate(up[5x])", "expected ']'", 9),
        ("rate(up[x])", "expected a duration", 8),
        ("", "empty expression", 0),
        ("up )", "unexpected ')'", 3),
        ("sum by (job) (up) by (job)", "given twice", 0),
        ("up + on(job) 1", "vector matching", 3),
        ('up{job="a\\d"}', "unknown escape sequence", 9),
    ],
)
def test_parse_errors_name_position(expr, fragment, position):
    with pytest.raises(PromQLError) as excinfo:
        parse(expr)
    err = excinfo.value
    assert isinstance(err, ValueError)
    assert fragment in str(err)
    assert err.position == position
    assert f"position {position}" in str(err)


def test_parse_is_cached():
    assert parse("sum(rate(x[5m]))") is parse("sum(rate(x[5m]))")


def test_parse_produces_selector_nodes():
    node = parse('rate(x{a="b"}[1h30m] offset 5m)')
    arg = node.args[0]
    assert isinstance(arg, MatrixSelector)
    assert arg.range == 5400.0
    assert isinstance(arg.selector, VectorSelector)
    assert arg.selector.name == "x"
    assert arg.selector.offset == 300.0
    assert parse_duration("1d") == 86400.0


def test_comments_and_whitespace(src):
    expr = """
    # ratio of errors
    sum by (service) (http_errors_total)   # numerator
      /
    sum by (service) (http_requests_sum)
    """
    assert len(evaluate(expr, src)) == 2


# ---------------------------------------------------------------------------
# JSON output
# ---------------------------------------------------------------------------


def test_to_prometheus_json_vector(src):
    res = evaluate('up{instance="a:80"}', src)
    assert to_prometheus_json(res, ts=NOW) == {
        "resultType": "vector",
        "result": [
            {
                "metric": {"__name__": "up", "job": "api", "instance": "a:80"},
                "value": [NOW, "1"],
            }
        ],
    }
    res = evaluate("sum(up)", src)
    assert to_prometheus_json(res, ts=NOW)["result"] == [{"metric": {}, "value": [NOW, "2"]}]


def test_to_prometheus_json_scalar(src):
    assert to_prometheus_json(evaluate("1 / 4", src), ts=5) == {
        "resultType": "scalar",
        "result": [5.0, "0.25"],
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (-3.0, "-3"),
        (1e-05, "0.00001"),
        (1e22, "10000000000000000000000"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


# ---------------------------------------------------------------------------
# large inputs (speed is measured by `sre-agent bench sim`, not here)
# ---------------------------------------------------------------------------


def test_selectors_over_20k_samples_select_exactly():
    samples = [
        Sample(
            f"metric_{i % 20}",
            {"namespace": f"ns{i % 10}", "pod": f"pod-{i}", "phase": ("Running", "Pending")[i % 2]},
            float(i),
        )
        for i in range(20_000)
    ]
    src = StaticSource(samples, now=NOW)
    assert len(evaluate('metric_3{namespace="ns3"}', src)) == 1000
    pending = evaluate('{__name__=~"metric_1.*", phase=~"Pend.*"}', src)
    assert pending and all(s.labels["phase"] == "Pending" for s in pending)
    assert all(not s.labels["pod"].startswith("pod-1") for s in evaluate('metric_7{pod!~"pod-1.*"}', src))


def test_instant_inputs_are_the_named_selectors_of_an_expression_that_reads_nothing_else() -> None:
    expr = parse('max by (pod) ((a{x="1"} == 1) or on (pod) b * on (pod) group_left (w) c offset 1m) > 0')
    assert [(s.name, s.offset) for s in instant_inputs(expr) or ()] == [("a", 0.0), ("b", 0.0), ("c", 60.0)]
    assert instant_inputs(parse("-(x + 1)")) == (VectorSelector("x"),)
    assert instant_inputs(parse("1 > bool 0")) == ()
    for moving in ("rate(x[5m])", "time() - x", '{job="x"}', '{__name__=~"x|y"}', "topk(scalar(y), x)", "absent(x)"):
        assert instant_inputs(parse(moving)) is None, moving
