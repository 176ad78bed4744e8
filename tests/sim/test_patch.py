"""Tests for orchestrator.sim.patch: RFC 7386, RFC 6902 and strategic merge patch."""

from __future__ import annotations

import copy

import pytest

from orchestrator.sim.patch import (
    STRATEGIC_KINDS,
    PatchError,
    json_merge_patch,
    json_patch,
    strategic_merge_patch,
    supports_strategic_merge,
)

# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------


def deployment() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web"},
            "finalizers": ["a.example.com/f"],
            "ownerReferences": [{"uid": "u1", "kind": "X", "name": "x"}],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "app:1",
                            "env": [
                                {"name": "A", "value": "1"},
                                {"name": "B", "value": "2"},
                            ],
                            "ports": [{"containerPort": 80, "name": "http"}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        },
                        {"name": "sidecar", "image": "proxy:1"},
                    ],
                    "volumes": [
                        {"name": "data", "emptyDir": {}},
                        {"name": "cfg", "configMap": {"name": "cfg"}},
                    ],
                    "tolerations": [{"key": "k", "operator": "Exists"}],
                },
            },
        },
        "status": {
            "conditions": [
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "True"},
            ]
        },
    }


def pod() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web"}},
        "spec": {
            "containers": [
                {"name": "app", "image": "app:1", "ports": [{"containerPort": 80}]},
                {"name": "sidecar", "image": "proxy:1"},
            ],
            "initContainers": [{"name": "init", "image": "busybox"}],
            "imagePullSecrets": [{"name": "regcred"}],
            "nodeName": "node-1",
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Ready", "status": "False"},
                {"type": "PodScheduled", "status": "True"},
            ],
        },
    }


def containers(obj: dict) -> list[dict]:
    return obj["spec"]["template"]["spec"]["containers"]


def container(obj: dict, name: str) -> dict:
    return next(c for c in containers(obj) if c["name"] == name)


# --------------------------------------------------------------------------------------
# RFC 7386 JSON merge patch
# --------------------------------------------------------------------------------------

# Appendix A of RFC 7386. Wrapped in {"x": ...} because the public function only deals
# in objects at the top level, while the RFC also covers scalar/array documents.
RFC7386_CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC7386_CASES)
def test_json_merge_patch_rfc7386_appendix(target, patch, expected):
    doc = {"x": target, "keep": 1}
    result = json_merge_patch(doc, {"x": patch})
    if patch is None:
        # A null member deletes the key rather than storing null.
        assert result == {"keep": 1}
    else:
        assert result == {"x": expected, "keep": 1}


def test_json_merge_patch_rfc7386_section3_example():
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {
        "title": "Hello!",
        "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": None},
        "tags": ["example"],
    }
    assert json_merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }


def test_json_merge_patch_does_not_mutate_or_alias():
    target = {"a": {"b": [1, 2]}, "c": {"d": 1}}
    patch = {"a": {"e": {"f": 1}}, "c": None}
    target_before, patch_before = copy.deepcopy(target), copy.deepcopy(patch)
    result = json_merge_patch(target, patch)
    assert target == target_before and patch == patch_before
    result["a"]["b"].append(3)
    result["a"]["e"]["f"] = 2
    assert target == target_before and patch == patch_before


def test_json_merge_patch_replaces_lists_wholesale():
    result = json_merge_patch(deployment(), {"metadata": {"finalizers": ["b"]}})
    assert result["metadata"]["finalizers"] == ["b"]


def test_json_merge_patch_empty_patch_is_identity():
    assert json_merge_patch(deployment(), {}) == deployment()


@pytest.mark.parametrize("bad", [["a"], "x", None, 1])
def test_json_merge_patch_requires_object_patch(bad):
    with pytest.raises(PatchError, match="must be a JSON object"):
        json_merge_patch({"a": 1}, bad)


def test_json_merge_patch_requires_object_target():
    with pytest.raises(PatchError):
        json_merge_patch([1], {"a": 1})  # type: ignore[arg-type]


def test_patch_error_is_value_error():
    assert issubclass(PatchError, ValueError)


# --------------------------------------------------------------------------------------
# RFC 6902 JSON patch
# --------------------------------------------------------------------------------------


def test_json_patch_add_object_member():  # RFC 6902 A.1
    assert json_patch({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}]) == {
        "baz": "qux",
        "foo": "bar",
    }


def test_json_patch_add_array_element():  # A.2
    result = json_patch({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}])
    assert result == {"foo": ["bar", "qux", "baz"]}


def test_json_patch_remove_object_member():  # A.3
    result = json_patch({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}])
    assert result == {"foo": "bar"}


def test_json_patch_remove_array_element():  # A.4
    result = json_patch({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}])
    assert result == {"foo": ["bar", "baz"]}


def test_json_patch_replace_value():  # A.5
    result = json_patch(
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
    )
    assert result == {"baz": "boo", "foo": "bar"}


def test_json_patch_move_value():  # A.6
    doc = {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}
    result = json_patch(doc, [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}])
    assert result == {
        "foo": {"bar": "baz"},
        "qux": {"corge": "grault", "thud": "fred"},
    }


def test_json_patch_move_array_element():  # A.7
    doc = {"foo": ["all", "grass", "cows", "eat"]}
    result = json_patch(doc, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}])
    assert result == {"foo": ["all", "cows", "eat", "grass"]}


def test_json_patch_test_success():  # A.8
    doc = {"baz": "qux", "foo": ["a", 2, "c"]}
    ops = [
        {"op": "test", "path": "/baz", "value": "qux"},
        {"op": "test", "path": "/foo/1", "value": 2},
    ]
    assert json_patch(doc, ops) == doc


def test_json_patch_test_failure():  # A.9
    with pytest.raises(PatchError, match="test failed"):
        json_patch({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}])


def test_json_patch_add_nested_member():  # A.10
    result = json_patch({"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}])
    assert result == {"foo": "bar", "child": {"grandchild": {}}}


def test_json_patch_ignores_unrecognized_members():  # A.11
    ops = [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}]
    assert json_patch({"foo": "bar"}, ops) == {"foo": "bar", "baz": "qux"}


def test_json_patch_add_to_nonexistent_target_fails():  # A.12
    with pytest.raises(PatchError, match="does not exist"):
        json_patch({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}])


def test_json_patch_escape_ordering():  # A.14
    doc = {"/": 9, "~1": 10}
    assert json_patch(doc, [{"op": "test", "path": "/~01", "value": 10}]) == doc


def test_json_patch_compare_strings_and_numbers():  # A.15
    with pytest.raises(PatchError, match="test failed"):
        json_patch({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}])


def test_json_patch_add_array_value():  # A.16
    result = json_patch({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}])
    assert result == {"foo": ["bar", ["abc", "def"]]}


def test_json_patch_slash_escape_in_annotation_key():
    obj = {"metadata": {"annotations": {"example.com/x": "1", "a~b": "2"}}}
    ops = [
        {"op": "replace", "path": "/metadata/annotations/example.com~1x", "value": "9"},
        {"op": "remove", "path": "/metadata/annotations/a~0b"},
    ]
    assert json_patch(obj, ops) == {"metadata": {"annotations": {"example.com/x": "9"}}}


def test_json_patch_append_with_dash_and_at_length():
    result = json_patch(
        {"a": [1]},
        [
            {"op": "add", "path": "/a/-", "value": 2},
            {"op": "add", "path": "/a/2", "value": 3},
        ],
    )
    assert result == {"a": [1, 2, 3]}


def test_json_patch_copy():
    doc = {"a": {"b": [1]}}
    result = json_patch(doc, [{"op": "copy", "from": "/a", "path": "/c"}])
    assert result == {"a": {"b": [1]}, "c": {"b": [1]}}
    result["c"]["b"].append(2)  # the copy must not alias the source
    assert result["a"] == {"b": [1]}


def test_json_patch_add_replaces_existing_member():
    assert json_patch({"a": 1}, [{"op": "add", "path": "/a", "value": 2}]) == {"a": 2}


def test_json_patch_null_value_is_allowed():
    assert json_patch({"a": 1}, [{"op": "replace", "path": "/a", "value": None}]) == {"a": None}
    assert json_patch({"a": None}, [{"op": "test", "path": "/a", "value": None}]) == {"a": None}


def test_json_patch_replace_root():
    assert json_patch({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}]) == {"b": 2}


def test_json_patch_test_distinguishes_bool_from_number():
    with pytest.raises(PatchError):
        json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": True}])
    # ...but ints and floats with equal values are the same JSON number.
    assert json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 1.0}]) == {"a": 1}


def test_json_patch_test_deep_equality():
    doc = {"a": {"x": [1, {"y": "z"}]}}
    assert json_patch(doc, [{"op": "test", "path": "/a", "value": {"x": [1, {"y": "z"}]}}])
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "test", "path": "/a", "value": {"x": [{"y": "z"}, 1]}}])


def test_json_patch_rollout_undo_replaces_template():
    # kubectl rollout undo sends a JSON patch replacing the whole pod template.
    old_template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "app:0"}]},
    }
    ops = [
        {"op": "replace", "path": "/spec/template", "value": old_template},
        {
            "op": "replace",
            "path": "/metadata/annotations",
            "value": {"deployment.kubernetes.io/revision": "3"},
        },
    ]
    target = deployment()
    target["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    before = copy.deepcopy(target)
    result = json_patch(target, ops)
    assert result["spec"]["template"] == old_template
    assert result["spec"]["replicas"] == 2
    assert result["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "3"}
    assert target == before
    result["spec"]["template"]["spec"]["containers"][0]["image"] = "mutated"
    assert old_template["spec"]["containers"][0]["image"] == "app:0"


def test_json_patch_is_atomic_and_does_not_mutate():
    target = {"a": [1, 2], "b": 1}
    before = copy.deepcopy(target)
    ops = [
        {"op": "add", "path": "/a/-", "value": 3},
        {"op": "remove", "path": "/b"},
        {"op": "test", "path": "/a/0", "value": 99},
    ]
    with pytest.raises(PatchError, match="operation 2"):
        json_patch(target, ops)
    assert target == before


def test_json_patch_move_same_path_is_noop():
    assert json_patch({"a": 1}, [{"op": "move", "from": "/a", "path": "/a"}]) == {"a": 1}


def test_json_patch_empty_ops():
    assert json_patch({"a": 1}, []) == {"a": 1}


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ([{"op": "frobnicate", "path": "/a"}], "unknown"),
        ([{"path": "/a"}], "unknown or missing"),
        ([{"op": "add", "value": 1}], "missing 'path'"),
        ([{"op": "add", "path": "/x"}], "missing 'value'"),
        ([{"op": "replace", "path": "/a"}], "missing 'value'"),
        ([{"op": "test", "path": "/a"}], "missing 'value'"),
        ([{"op": "move", "path": "/x"}], "missing 'from'"),
        ([{"op": "copy", "path": "/x"}], "missing 'from'"),
        ([{"op": "add", "path": "a", "value": 1}], "start with '/'"),
        ([{"op": "add", "path": "/a~2", "value": 1}], "'~' must be followed"),
        ([{"op": "add", "path": 5, "value": 1}], "string JSON pointer"),
        ([{"op": "remove", "path": "/missing"}], "does not exist"),
        ([{"op": "replace", "path": "/missing", "value": 1}], "does not exist"),
        ([{"op": "remove", "path": "/l/5"}], "out of range"),
        ([{"op": "add", "path": "/l/4", "value": 1}], "out of range"),
        ([{"op": "remove", "path": "/l/-"}], "only valid for add"),
        ([{"op": "replace", "path": "/l/01", "value": 1}], "not a valid array index"),
        ([{"op": "replace", "path": "/l/-1", "value": 1}], "not a valid array index"),
        ([{"op": "add", "path": "/l/x", "value": 1}], "not a valid array index"),
        ([{"op": "add", "path": "/a/b", "value": 1}], "parent is not"),
        ([{"op": "test", "path": "/a/b/c", "value": 1}], "traverses a scalar"),
        ([{"op": "move", "from": "/o", "path": "/o/child"}], "its own child"),
        ([{"op": "move", "from": "/missing", "path": "/x"}], "does not exist"),
        ([{"op": "copy", "from": "/missing", "path": "/x"}], "does not exist"),
        ([{"op": "remove", "path": ""}], "whole document"),
        ([{"op": "replace", "path": "", "value": [1]}], "must be a JSON object"),
        (["add"], "must be an object"),
    ],
)
def test_json_patch_errors(ops, message):
    target = {"a": 1, "l": [1, 2, 3], "o": {"k": "v"}}
    before = copy.deepcopy(target)
    with pytest.raises(PatchError, match=message):
        json_patch(target, ops)
    assert target == before


def test_json_patch_ops_must_be_list():
    with pytest.raises(PatchError, match="array of operations"):
        json_patch({"a": 1}, {"op": "add"})  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Strategic merge patch
# --------------------------------------------------------------------------------------


def test_smp_change_one_container_image_keeps_other():
    target = deployment()
    before = copy.deepcopy(target)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}
    result = strategic_merge_patch(target, patch, "Deployment")
    assert [c["name"] for c in containers(result)] == ["app", "sidecar"]
    assert container(result, "app")["image"] == "app:2"
    # Fields not mentioned in the patch item survive.
    assert container(result, "app")["env"] == before["spec"]["template"]["spec"]["containers"][0]["env"]
    assert container(result, "sidecar") == {"name": "sidecar", "image": "proxy:1"}
    assert target == before


def test_smp_is_what_kubectl_set_image_sends():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "proxy:2"}]}}}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert container(result, "sidecar")["image"] == "proxy:2"
    assert container(result, "app")["image"] == "app:1"


def test_smp_env_merge_by_name():
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "env": [
                                {"name": "B", "value": "20"},
                                {"name": "C", "value": "3"},
                            ],
                        }
                    ]
                }
            }
        }
    }
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert container(result, "app")["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "20"},
        {"name": "C", "value": "3"},
    ]


def test_smp_env_item_field_deleted_with_null():
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "env": [
                                {
                                    "name": "A",
                                    "value": None,
                                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                                }
                            ],
                        }
                    ]
                }
            }
        }
    }
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert container(result, "app")["env"][0] == {
        "name": "A",
        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
    }


def test_smp_delete_container_directive():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert [c["name"] for c in containers(result)] == ["app"]


def test_smp_delete_env_var_directive():
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "A", "$patch": "delete"}]}]}}}
    }
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert container(result, "app")["env"] == [{"name": "B", "value": "2"}]


def test_smp_delete_directive_requires_merge_key():
    patch = {"spec": {"template": {"spec": {"containers": [{"$patch": "delete"}]}}}}
    with pytest.raises(PatchError, match="merge key 'name'"):
        strategic_merge_patch(deployment(), patch, "Deployment")


def test_smp_add_new_container_appends():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "debug", "image": "busybox"}]}}}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert [c["name"] for c in containers(result)] == ["app", "sidecar", "debug"]


def test_smp_list_replace_directive():
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"$patch": "replace"},
                        {"name": "only", "image": "only:1"},
                    ]
                }
            }
        }
    }
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert containers(result) == [{"name": "only", "image": "only:1"}]


def test_smp_map_replace_directive():
    patch = {"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_smp_map_delete_directive():
    patch = {"spec": {"template": {"metadata": {"labels": {"$patch": "delete"}}}}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert "labels" not in result["spec"]["template"]["metadata"]


def test_smp_root_delete_directive_empties_object():
    assert strategic_merge_patch(deployment(), {"$patch": "delete"}, "Deployment") == {}


def test_smp_unknown_directive_rejected():
    with pytest.raises(PatchError, match="unknown \\$patch directive"):
        strategic_merge_patch(deployment(), {"spec": {"$patch": "explode"}}, "Deployment")
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "$patch": "boom"}]}}}}
    with pytest.raises(PatchError, match="unknown \\$patch directive"):
        strategic_merge_patch(deployment(), patch, "Deployment")


def test_smp_explicit_merge_directive_is_default():
    patch = {"spec": {"$patch": "merge", "replicas": 5}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert result["spec"]["replicas"] == 5
    assert "$patch" not in result["spec"]
    assert result["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_smp_retain_keys_switches_union_member():
    # kubectl apply switching RollingUpdate -> Recreate must drop rollingUpdate.
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_smp_retain_keys_on_volume_source():
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "volumes": [
                        {
                            "name": "data",
                            "$retainKeys": ["name", "persistentVolumeClaim"],
                            "persistentVolumeClaim": {"claimName": "pvc"},
                        }
                    ]
                }
            }
        }
    }
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    volumes = result["spec"]["template"]["spec"]["volumes"]
    assert volumes[0] == {"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}
    assert volumes[1] == {"name": "cfg", "configMap": {"name": "cfg"}}


def test_smp_retain_keys_validation():
    with pytest.raises(PatchError, match="list of strings"):
        strategic_merge_patch(deployment(), {"spec": {"strategy": {"$retainKeys": "type"}}}, "Deployment")
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}
    with pytest.raises(PatchError, match="not listed in \\$retainKeys"):
        strategic_merge_patch(deployment(), patch, "Deployment")


def test_smp_rollout_restart_patch():
    stamp = "2024-01-01T00:00:00Z"
    patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
    target = deployment()
    result = strategic_merge_patch(target, patch, "Deployment")
    assert result["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": stamp},
    }
    assert result["spec"]["template"]["spec"] == target["spec"]["template"]["spec"]
    assert "annotations" not in target["spec"]["template"]["metadata"]


def test_smp_scale_patch():
    result = strategic_merge_patch(deployment(), {"spec": {"replicas": 0}}, "Deployment")
    assert result["spec"]["replicas"] == 0


def test_smp_null_deletes_key():
    patch = {"metadata": {"labels": {"app": None}}, "spec": {"strategy": None}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert result["metadata"]["labels"] == {}
    assert "strategy" not in result["spec"]


def test_smp_null_inside_new_map_is_dropped():
    result = strategic_merge_patch({"a": 1}, {"b": {"c": None, "d": 1}}, "ConfigMap")
    assert result == {"a": 1, "b": {"d": 1}}


def test_smp_container_ports_merge_by_container_port():
    patch = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "ports": [
                        {"containerPort": 80, "name": "http"},
                        {"containerPort": 443, "name": "https"},
                    ],
                }
            ]
        }
    }
    result = strategic_merge_patch(pod(), patch, "Pod")
    assert result["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "name": "http"},
        {"containerPort": 443, "name": "https"},
    ]


def test_smp_volume_mounts_merge_by_mount_path():
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "volumeMounts": [
                                {"mountPath": "/data", "readOnly": True},
                                {"name": "cfg", "mountPath": "/etc/cfg"},
                            ],
                        }
                    ]
                }
            }
        }
    }
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert container(result, "app")["volumeMounts"] == [
        {"name": "data", "mountPath": "/data", "readOnly": True},
        {"name": "cfg", "mountPath": "/etc/cfg"},
    ]


def test_smp_volumes_merge_by_name():
    patch = {"spec": {"template": {"spec": {"volumes": [{"name": "extra", "emptyDir": {}}]}}}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    names = [v["name"] for v in result["spec"]["template"]["spec"]["volumes"]]
    assert names == ["data", "cfg", "extra"]


def test_smp_tolerations_are_replaced():
    patch = {"spec": {"template": {"spec": {"tolerations": [{"key": "other", "operator": "Exists"}]}}}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert result["spec"]["template"]["spec"]["tolerations"] == [{"key": "other", "operator": "Exists"}]


def test_smp_env_from_is_replaced():
    target = deployment()
    container(target, "app")["envFrom"] = [{"configMapRef": {"name": "a"}}]
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "envFrom": [{"secretRef": {"name": "s"}}]}]}}}
    }
    result = strategic_merge_patch(target, patch, "Deployment")
    assert container(result, "app")["envFrom"] == [{"secretRef": {"name": "s"}}]


def test_smp_lists_without_merge_key_are_replaced():
    target = deployment()
    container(target, "app")["args"] = ["--a", "--b"]
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["--c"]}]}}}}
    result = strategic_merge_patch(target, patch, "Deployment")
    assert container(result, "app")["args"] == ["--c"]


def test_smp_pod_init_and_ephemeral_containers():
    patch = {
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox:2"}],
            "ephemeralContainers": [{"name": "debugger", "image": "busybox"}],
        }
    }
    result = strategic_merge_patch(pod(), patch, "Pod")
    assert result["spec"]["initContainers"] == [{"name": "init", "image": "busybox:2"}]
    assert result["spec"]["ephemeralContainers"] == [{"name": "debugger", "image": "busybox"}]
    assert len(result["spec"]["containers"]) == 2


def test_smp_image_pull_secrets_merge_by_name():
    patch = {"spec": {"imagePullSecrets": [{"name": "other"}]}}
    result = strategic_merge_patch(pod(), patch, "Pod")
    assert result["spec"]["imagePullSecrets"] == [
        {"name": "regcred"},
        {"name": "other"},
    ]


def test_smp_pod_status_conditions_merge_by_type():
    patch = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    result = strategic_merge_patch(pod(), patch, "Pod")
    assert result["status"]["conditions"] == [
        {"type": "Ready", "status": "True"},
        {"type": "PodScheduled", "status": "True"},
    ]


def test_smp_deployment_status_conditions_merge_by_type():
    patch = {"status": {"conditions": [{"type": "ReplicaFailure", "status": "True"}]}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert [c["type"] for c in result["status"]["conditions"]] == [
        "Available",
        "Progressing",
        "ReplicaFailure",
    ]


def test_smp_owner_references_merge_by_uid():
    patch = {"metadata": {"ownerReferences": [{"uid": "u2", "kind": "Y", "name": "y"}]}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert [r["uid"] for r in result["metadata"]["ownerReferences"]] == ["u1", "u2"]
    patch = {"metadata": {"ownerReferences": [{"uid": "u1", "$patch": "delete"}]}}
    result = strategic_merge_patch(result, patch, "Deployment")
    assert [r["uid"] for r in result["metadata"]["ownerReferences"]] == ["u2"]


def test_smp_finalizers_merge_as_set():
    patch = {"metadata": {"finalizers": ["b.example.com/f", "a.example.com/f"]}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert result["metadata"]["finalizers"] == ["a.example.com/f", "b.example.com/f"]


def test_smp_finalizers_delete_from_primitive_list():
    target = deployment()
    target["metadata"]["finalizers"] = ["a", "b", "c"]
    patch = {
        "metadata": {
            "$deleteFromPrimitiveList/finalizers": ["b", "zzz"],
            "finalizers": ["d"],
        }
    }
    result = strategic_merge_patch(target, patch, "Deployment")
    assert result["metadata"]["finalizers"] == ["a", "c", "d"]


def test_smp_delete_from_primitive_list_must_be_list():
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}
    with pytest.raises(PatchError, match="must be a list"):
        strategic_merge_patch(deployment(), patch, "Deployment")


def test_smp_finalizers_cleared_with_null():
    result = strategic_merge_patch(deployment(), {"metadata": {"finalizers": None}}, "Deployment")
    assert "finalizers" not in result["metadata"]


def test_smp_finalizers_replace_directive():
    patch = {"metadata": {"finalizers": [{"$patch": "replace"}, "only"]}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert result["metadata"]["finalizers"] == ["only"]


def test_smp_empty_list_patch_on_merge_list_is_noop():
    result = strategic_merge_patch(deployment(), {"metadata": {"finalizers": []}}, "Deployment")
    assert result["metadata"]["finalizers"] == ["a.example.com/f"]


def test_smp_set_element_order_keyed_list():
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [
                        {"name": "sidecar"},
                        {"name": "app"},
                    ],
                    "containers": [{"name": "app", "image": "app:3"}],
                }
            }
        }
    }
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert [c["name"] for c in containers(result)] == ["sidecar", "app"]
    assert container(result, "app")["image"] == "app:3"
    assert "$setElementOrder/containers" not in result["spec"]["template"]["spec"]


def test_smp_set_element_order_keeps_unmentioned_items_in_place():
    target = deployment()
    containers(target).append({"name": "third", "image": "t"})
    patch = {
        "spec": {
            "template": {
                "spec": {
                    # "sidecar" is unmentioned, "ghost" does not exist: both harmless.
                    "$setElementOrder/containers": [
                        {"name": "third"},
                        {"name": "ghost"},
                        {"name": "app"},
                    ]
                }
            }
        }
    }
    result = strategic_merge_patch(target, patch, "Deployment")
    assert [c["name"] for c in containers(result)] == ["third", "sidecar", "app"]


def test_smp_set_element_order_primitive_list():
    target = deployment()
    target["metadata"]["finalizers"] = ["a", "b"]
    patch = {
        "metadata": {
            "$setElementOrder/finalizers": ["c", "b", "a"],
            "finalizers": ["c"],
        }
    }
    result = strategic_merge_patch(target, patch, "Deployment")
    assert result["metadata"]["finalizers"] == ["c", "b", "a"]


def test_smp_set_element_order_on_missing_field_is_ignored():
    patch = {"spec": {"$setElementOrder/nothingHere": [{"name": "x"}]}}
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert result == deployment()


def test_smp_set_element_order_must_be_list():
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": "app"}}}}
    with pytest.raises(PatchError, match="must be a list"):
        strategic_merge_patch(deployment(), patch, "Deployment")


def test_smp_keyed_list_item_without_key_rejected():
    patch = {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}
    with pytest.raises(PatchError, match="merge key 'name'"):
        strategic_merge_patch(deployment(), patch, "Deployment")


def test_smp_keyed_list_with_scalar_item_rejected():
    patch = {"spec": {"template": {"spec": {"containers": ["app"]}}}}
    with pytest.raises(PatchError, match="list of objects"):
        strategic_merge_patch(deployment(), patch, "Deployment")


def test_smp_service_ports_merge_by_port():
    service = {
        "kind": "Service",
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"port": 80, "targetPort": 8080, "name": "http"}],
        },
    }
    patch = {"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443, "name": "https"}]}}
    result = strategic_merge_patch(service, patch, "Service")
    assert result["spec"]["ports"] == [
        {"port": 80, "targetPort": 9090, "name": "http"},
        {"port": 443, "name": "https"},
    ]
    assert result["spec"]["selector"] == {"app": "web"}


def test_smp_service_selector_merges_as_map():
    service = {"spec": {"selector": {"app": "web", "tier": "fe"}}}
    result = strategic_merge_patch(service, {"spec": {"selector": {"tier": None, "v": "2"}}}, "Service")
    assert result["spec"]["selector"] == {"app": "web", "v": "2"}


@pytest.mark.parametrize("kind", ["ReplicaSet", "StatefulSet", "DaemonSet", "Job"])
def test_smp_pod_template_kinds(kind):
    target = deployment()
    target["kind"] = kind
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:9"}]}}}}
    result = strategic_merge_patch(target, patch, kind)
    assert [c["image"] for c in containers(result)] == ["app:9", "proxy:1"]


def test_smp_cronjob_job_template():
    cron = {
        "spec": {
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {"name": "a", "image": "a:1"},
                                {"name": "b", "image": "b:1"},
                            ]
                        }
                    }
                }
            }
        }
    }
    patch = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}}}}
    result = strategic_merge_patch(cron, patch, "CronJob")
    assert result["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"] == [
        {"name": "a", "image": "a:1"},
        {"name": "b", "image": "b:2"},
    ]


def test_smp_paths_are_kind_specific():
    # "spec.containers" is a merge list for a Pod but not for a Deployment, where it
    # would be a meaningless field and therefore an atomic list.
    obj = {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    patch = {"spec": {"containers": [{"name": "b", "image": "x"}]}}
    assert strategic_merge_patch(obj, patch, "Pod")["spec"]["containers"] == [
        {"name": "a"},
        {"name": "b", "image": "x"},
    ]
    assert strategic_merge_patch(obj, patch, "Deployment")["spec"]["containers"] == [{"name": "b", "image": "x"}]


def test_smp_node_status_addresses_and_conditions():
    node = {
        "status": {
            "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
            "conditions": [{"type": "Ready", "status": "True"}],
        }
    }
    patch = {
        "status": {
            "addresses": [{"type": "Hostname", "address": "n1"}],
            "conditions": [{"type": "Ready", "status": "False"}],
        }
    }
    result = strategic_merge_patch(node, patch, "Node")
    assert [a["type"] for a in result["status"]["addresses"]] == [
        "InternalIP",
        "Hostname",
    ]
    assert result["status"]["conditions"] == [{"type": "Ready", "status": "False"}]


def test_smp_node_cordon():
    node = {"spec": {"podCIDR": "10.0.0.0/24"}}
    result = strategic_merge_patch(node, {"spec": {"unschedulable": True}}, "Node")
    assert result == {"spec": {"podCIDR": "10.0.0.0/24", "unschedulable": True}}


def test_smp_does_not_mutate_or_alias_inputs():
    target = deployment()
    patch = {
        "metadata": {"labels": {"new": "x"}},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "env": [{"name": "Z", "value": "z"}]},
                        {"name": "new", "image": "n", "args": ["a"]},
                    ],
                    "tolerations": [{"key": "t"}],
                }
            }
        },
    }
    target_before, patch_before = copy.deepcopy(target), copy.deepcopy(patch)
    result = strategic_merge_patch(target, patch, "Deployment")
    assert target == target_before and patch == patch_before
    container(result, "new")["args"].append("b")
    container(result, "app")["env"][-1]["value"] = "changed"
    result["spec"]["template"]["spec"]["tolerations"][0]["key"] = "changed"
    result["spec"]["template"]["spec"]["volumes"].clear()
    assert target == target_before and patch == patch_before


def test_smp_unknown_kind_falls_back_to_merge_patch():
    obj = {"spec": {"items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}], "x": 1}}
    patch = {"spec": {"items": [{"name": "b", "v": 3}], "x": None}}
    result = strategic_merge_patch(obj, patch, "MyCustomThing")
    assert result == {"spec": {"items": [{"name": "b", "v": 3}]}}
    assert not supports_strategic_merge("MyCustomThing")


def test_smp_custom_resource_named_containers_still_replaced():
    obj = {"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "x"}]}}}}
    result = strategic_merge_patch(obj, patch, "Rollout")
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "b", "image": "x"}]


def test_smp_builtin_kinds_supported():
    for kind in (
        "Pod",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "Service",
        "ConfigMap",
        "Node",
    ):
        assert supports_strategic_merge(kind)
        assert kind in STRATEGIC_KINDS


def test_smp_configmap_data_merge():
    cm = {"data": {"a": "1", "b": "2"}}
    result = strategic_merge_patch(cm, {"data": {"b": None, "c": "3"}}, "ConfigMap")
    assert result == {"data": {"a": "1", "c": "3"}}


def test_smp_replace_directive_strips_nested_directives():
    patch = {
        "spec": {
            "template": {
                "$patch": "replace",
                "metadata": {"labels": {"app": "x", "gone": None}},
                "spec": {"containers": [{"name": "c", "$patch": "delete"}, {"name": "d"}]},
            }
        }
    }
    result = strategic_merge_patch(deployment(), patch, "Deployment")
    assert result["spec"]["template"] == {
        "metadata": {"labels": {"app": "x"}},
        "spec": {"containers": [{"name": "d"}]},
    }


def test_smp_map_value_replaces_scalar_and_list_value():
    result = strategic_merge_patch({"a": 1, "b": [1]}, {"a": {"x": 1}, "b": {"y": 2}}, "ConfigMap")
    assert result == {"a": {"x": 1}, "b": {"y": 2}}


def test_smp_requires_objects():
    with pytest.raises(PatchError):
        strategic_merge_patch({"a": 1}, ["x"], "Pod")  # type: ignore[arg-type]
    with pytest.raises(PatchError):
        strategic_merge_patch(None, {}, "Pod")  # type: ignore[arg-type]
