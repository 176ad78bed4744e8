"""Tests for orchestrator.sim.selectors: label and field selectors."""

from __future__ import annotations

import pytest

from orchestrator.sim.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
    selector_from_spec,
)

WEB = {"app": "web", "tier": "frontend", "env": "prod"}
DB = {"app": "db", "tier": "backend"}
NONE: dict[str, str] = {}


# --------------------------------------------------------------------------------------
# parse_label_selector
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", WEB, True),
        ("app=web", DB, False),
        ("app==web", WEB, True),
        ("app!=web", WEB, False),
        ("app!=web", DB, True),
        ("app!=web", NONE, True),  # missing label satisfies !=
        ("env!=prod", DB, True),
        ("app in (web,db)", WEB, True),
        ("app in (web,db)", DB, True),
        ("app in (cache)", WEB, False),
        ("app in (web)", NONE, False),
        ("app notin (web)", WEB, False),
        ("app notin (web)", DB, True),
        ("env notin (prod)", DB, True),  # missing label satisfies notin
        ("env", WEB, True),
        ("env", DB, False),
        ("!env", WEB, False),
        ("!env", DB, True),
        ("app=web,tier=frontend", WEB, True),
        ("app=web,tier=backend", WEB, False),
        ("app in (web,db),!env", DB, True),
        ("app in (web,db),!env", WEB, False),
        ("", WEB, True),
        ("", NONE, True),
        ("   ", WEB, True),
    ],
)
def test_label_selector_matching(selector, labels, expected):
    assert parse_label_selector(selector).matches(labels) is expected


def test_label_selector_none_labels_are_empty():
    assert parse_label_selector("").matches(None)
    assert parse_label_selector("!app").matches(None)
    assert parse_label_selector("app!=x").matches(None)
    assert not parse_label_selector("app").matches(None)
    assert not parse_label_selector("app=x").matches(None)


def test_label_selector_whitespace_tolerant():
    sel = parse_label_selector("  app = web ,  tier  in  ( frontend , backend ) , ! canary ")
    assert sel.matches(WEB)
    assert not sel.matches({**WEB, "canary": "true"})


def test_label_selector_no_space_before_paren():
    assert parse_label_selector("app in(web)").matches(WEB)
    assert parse_label_selector("app notin(db)").matches(WEB)


def test_label_selector_empty_value():
    sel = parse_label_selector("app=")
    assert sel.matches({"app": ""})
    assert not sel.matches({"app": "web"})
    assert not sel.matches(NONE)
    assert parse_label_selector("app!=").matches({"app": "web"})


def test_label_selector_empty_value_in_set():
    sel = parse_label_selector("app in (web,,db)")
    assert sel.matches({"app": ""})
    assert sel.matches({"app": "db"})
    assert parse_label_selector("app in (web,)").matches({"app": ""})


def test_label_selector_prefixed_keys_and_dotted_values():
    sel = parse_label_selector("app.kubernetes.io/name=my-app,version in (v1.2.3,v2_0)")
    assert sel.matches({"app.kubernetes.io/name": "my-app", "version": "v2_0"})
    assert not sel.matches({"app.kubernetes.io/name": "my-app", "version": "v3"})


def test_label_selector_keywords_usable_as_key_and_value():
    assert parse_label_selector("in=notin").matches({"in": "notin"})
    assert parse_label_selector("notin in (in)").matches({"notin": "in"})


def test_label_selector_greater_and_less_than():
    assert parse_label_selector("replicas>2").matches({"replicas": "3"})
    assert not parse_label_selector("replicas>2").matches({"replicas": "2"})
    assert parse_label_selector("replicas<2").matches({"replicas": "1"})
    assert not parse_label_selector("replicas<2").matches({"replicas": "abc"})
    assert not parse_label_selector("replicas<2").matches(NONE)


def test_label_selector_is_hashable_and_comparable():
    a = parse_label_selector("app in (db,web)")
    b = parse_label_selector("app in (web,db,web)")
    assert a == b and hash(a) == hash(b)
    assert isinstance(a, LabelSelector)


def test_label_selector_str_roundtrip():
    text = "app=web,tier!=db,env in (dev,prod),x notin (y),has,!gone,n>3"
    sel = parse_label_selector(text)
    assert str(sel) == text
    assert parse_label_selector(str(sel)) == sel


def test_label_selector_empty_property():
    assert parse_label_selector("").empty
    assert not parse_label_selector("a").empty


@pytest.mark.parametrize(
    "bad",
    [
        "app=web,",
        ",app=web",
        "app=web,,tier=fe",
        "app in ()",
        "app in (web",
        "app in web",
        "app notin",
        "app in (a b)",
        "app web",
        "app=web tier=fe",
        "app=a=b",
        "!",
        "!app=web",
        "=web",
        "app!web",
        "(app)",
        "app >",
        "app > x",
        "app < 1.5",
        "-app=web",
        "app=-web",
        "app=" + "x" * 64,
        "a" * 64,
        "Bad_Prefix/app=web",
        "/app=web",
        "example.com/=web",
        "a/b/c=d",
        "app=w@b",
        "app in (w@b)",
    ],
)
def test_label_selector_syntax_errors(bad):
    with pytest.raises(SelectorError):
        parse_label_selector(bad)


def test_label_selector_error_message_is_clear():
    with pytest.raises(SelectorError, match=r"invalid label selector 'app in \(\)'.*at least one value"):
        parse_label_selector("app in ()")
    with pytest.raises(SelectorError, match="expected label key, found end of input"):
        parse_label_selector("app=web,")
    with pytest.raises(SelectorError, match="position 4"):
        parse_label_selector("app web")


def test_label_selector_equals_empty_then_more_terms():
    # "a==,b" parses as a=="" and b exists.
    sel = parse_label_selector("a==,b")
    assert sel.matches({"a": "", "b": "x"})
    assert not sel.matches({"a": "x", "b": "x"})


def test_selector_error_is_value_error():
    assert issubclass(SelectorError, ValueError)


def test_label_selector_rejects_non_string():
    with pytest.raises(SelectorError):
        parse_label_selector(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# selector_from_spec
# --------------------------------------------------------------------------------------


def test_spec_match_labels():
    sel = selector_from_spec({"matchLabels": {"app": "web"}})
    assert sel.matches(WEB)
    assert not sel.matches(DB)


def test_spec_match_expressions():
    sel = selector_from_spec(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "env", "operator": "Exists"},
                {"key": "canary", "operator": "DoesNotExist", "values": []},
            ],
        }
    )
    assert sel.matches(WEB)
    assert not sel.matches({**WEB, "canary": "1"})
    assert not sel.matches({**WEB, "env": "dev"})
    assert not sel.matches({"app": "web", "tier": "frontend"})


def test_spec_only_match_expressions():
    sel = selector_from_spec({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]})
    assert sel.matches(DB) and not sel.matches(WEB)


@pytest.mark.parametrize(
    "spec",
    [None, {}, {"matchLabels": {}}, {"matchLabels": None, "matchExpressions": None}],
)
def test_spec_empty_selects_everything(spec):
    sel = selector_from_spec(spec)
    assert sel.empty
    assert sel.matches(WEB) and sel.matches(NONE) and sel.matches(None)


def test_spec_plain_service_selector():
    sel = selector_from_spec({"app": "web", "tier": "frontend"})
    assert sel.matches(WEB)
    assert not sel.matches({"app": "web"})


def test_spec_plain_selector_with_key_named_match_labels():
    # A Service selector whose label is literally "matchLabels" is still a label map.
    sel = selector_from_spec({"matchLabels": "x"})
    assert sel.matches({"matchLabels": "x"})


def test_spec_equivalent_to_string_form():
    spec = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}],
    }
    assert selector_from_spec(spec) == parse_label_selector("app=web,tier in (be,fe)")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            "operator 'Gt'",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "in", "values": ["1"]}]},
            "operator 'in'",
        ),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "non-empty"),
        (
            {"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]},
            "non-empty",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            "must be empty",
        ),
        ({"matchExpressions": [{"operator": "Exists"}]}, "key must be a string"),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": "x"}]},
            "list of strings",
        ),
        ({"matchExpressions": ["a"]}, "must be an object"),
        ({"matchLabels": {"app": 1}}, "string to a string"),
        ({"app": 1}, "string to a string"),
        ({"matchLabels": {"bad key": "x"}}, "invalid label key"),
        ({"matchLabels": {"app": "bad value"}}, "invalid label value"),
    ],
)
def test_spec_errors(spec, message):
    with pytest.raises(SelectorError, match=message):
        selector_from_spec(spec)


def test_spec_rejects_non_mapping():
    with pytest.raises(SelectorError):
        selector_from_spec(["app"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# parse_field_selector
# --------------------------------------------------------------------------------------

POD = {
    "metadata": {"name": "web-1", "namespace": "default"},
    "spec": {"nodeName": "node-1"},
    "status": {"phase": "Running"},
}
PENDING = {
    "metadata": {"name": "web-2", "namespace": "other"},
    "spec": {},
    "status": {"phase": "Pending"},
}
EVENT = {
    "metadata": {"name": "ev", "namespace": "default"},
    "involvedObject": {
        "kind": "Pod",
        "name": "web-1",
        "namespace": "default",
        "uid": "abc",
    },
    "type": "Warning",
    "reason": "BackOff",
}


@pytest.mark.parametrize(
    ("selector", "obj", "expected"),
    [
        ("metadata.name=web-1", POD, True),
        ("metadata.name==web-1", POD, True),
        ("metadata.name!=web-1", POD, False),
        ("metadata.name!=web-1", PENDING, True),
        ("metadata.namespace=default", POD, True),
        ("metadata.namespace=default", PENDING, False),
        ("spec.nodeName=node-1", POD, True),
        ("spec.nodeName=", PENDING, True),  # missing field compares as ""
        ("spec.nodeName!=", POD, True),
        ("spec.nodeName!=", PENDING, False),
        ("status.phase=Running", POD, True),
        ("status.phase!=Running", PENDING, True),
        ("status.phase=Running,spec.nodeName=node-1", POD, True),
        ("status.phase=Running,spec.nodeName=node-2", POD, False),
        ("status.phase!=Succeeded,status.phase!=Failed", POD, True),
        ("involvedObject.kind=Pod,involvedObject.name=web-1", EVENT, True),
        ("involvedObject.namespace=default,involvedObject.uid=abc", EVENT, True),
        ("involvedObject.uid=xyz", EVENT, False),
        ("type=Warning,reason=BackOff", EVENT, True),
        ("type=Normal", EVENT, False),
        ("", POD, True),
        ("no.such.field=", POD, True),
        ("metadata.name.deeper=x", POD, False),  # traversing a scalar is "missing"
    ],
)
def test_field_selector_matching(selector, obj, expected):
    assert parse_field_selector(selector).matches(obj) is expected


def test_field_selector_value_formatting():
    node = {"spec": {"unschedulable": True}, "status": {"count": 3, "obj": {"a": 1}}}
    assert parse_field_selector("spec.unschedulable=true").matches(node)
    assert parse_field_selector("spec.unschedulable!=false").matches(node)
    assert parse_field_selector("status.count=3").matches(node)
    assert parse_field_selector("status.obj=").matches(node)
    assert parse_field_selector("spec.unschedulable=false").matches({"spec": {"unschedulable": False}})
    assert parse_field_selector("spec.x=").matches({"spec": {"x": None}})


def test_field_selector_fields():
    sel = parse_field_selector("metadata.name=a,status.phase!=Running,metadata.name!=b")
    assert sel.fields == frozenset({"metadata.name", "status.phase"})
    assert parse_field_selector("").fields == frozenset()


def test_field_selector_empty():
    assert parse_field_selector("").empty
    assert isinstance(parse_field_selector(""), FieldSelector)
    assert not parse_field_selector("a=b").empty


def test_field_selector_skips_empty_terms_and_whitespace():
    sel = parse_field_selector(" metadata.name = web-1 ,, status.phase=Running,")
    assert sel.fields == frozenset({"metadata.name", "status.phase"})
    assert sel.matches(POD)


def test_field_selector_escapes():
    obj = {"metadata": {"name": "a,b=c\\d"}}
    sel = parse_field_selector(r"metadata.name=a\,b\=c\\d")
    assert len(sel.requirements) == 1
    assert sel.requirements[0].value == "a,b=c\\d"
    assert sel.matches(obj)
    assert parse_field_selector(str(sel)) == sel


def test_field_selector_value_may_contain_operator_characters_after_first():
    sel = parse_field_selector("reason=a=b")
    assert sel.requirements[0].value == "a=b"
    assert parse_field_selector("reason!=x!=y").requirements[0].operator == "!="


def test_field_selector_str():
    assert str(parse_field_selector("a=b,c!=d,e==f")) == "a=b,c!=d,e=f"


@pytest.mark.parametrize(
    "bad",
    [
        "metadata.name",
        "=x",
        "!=x",
        "a b=c",
        "metadata.name=a\\x",
        "metadata.name=a\\",
        "ok=1,broken",
    ],
)
def test_field_selector_errors(bad):
    with pytest.raises(SelectorError, match="invalid field selector term"):
        parse_field_selector(bad)


def test_field_selector_rejects_non_string():
    with pytest.raises(SelectorError):
        parse_field_selector(5)  # type: ignore[arg-type]
