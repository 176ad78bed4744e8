from __future__ import annotations

import pytest

from .builders import obj, only, run


def _dep(container: dict, volumes: list | None = None) -> dict:
    return obj(
        "Deployment",
        "web",
        spec={"template": {"spec": {"containers": [{"name": "app", **container}], "volumes": volumes or []}}},
    )


CASES = [
    (
        {"env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "a"}}}]},
        None,
        "ConfigMap gone does not exist",
    ),
    (
        {"env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "nope"}}}]},
        None,
        "ConfigMap settings has no key nope",
    ),
    (
        {"env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}}]},
        None,
        "Secret creds has no key pw",
    ),
    ({"envFrom": [{"secretRef": {"name": "absent"}}]}, None, "Secret absent does not exist"),
    ({}, [{"name": "v", "configMap": {"name": "gone"}}], "ConfigMap gone does not exist"),
    ({}, [{"name": "v", "projected": {"sources": [{"secret": {"name": "absent"}}]}}], "Secret absent does not exist"),
    ({}, [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}], "PersistentVolumeClaim data does not exist"),
]


@pytest.mark.parametrize(("container", "volumes", "cause"), CASES)
def test_missing_references(container: dict, volumes: list | None, cause: str) -> None:
    cm = obj("ConfigMap", "settings", data={"a": "1"})
    secret = obj("Secret", "creds", data={"user": "<redacted 5 bytes>"})
    objects = {
        "Deployment": [_dep(container, volumes)],
        "ConfigMap": [cm],
        "Secret": [secret],
        "PersistentVolumeClaim": [],
        "Pod": [],
    }
    f = only(run(objects, ["ConfigMap"]), "Deployment", "web")
    assert cause in f.cause and f.field.startswith("spec.template.spec.")


def test_optional_references_are_quiet() -> None:
    dep = _dep({"envFrom": [{"configMapRef": {"name": "gone", "optional": True}}]})
    assert run({"Deployment": [dep], "ConfigMap": [], "Secret": [], "Pod": []}, ["ConfigMap"]) == []


def test_unread_kinds_are_never_reported_missing() -> None:
    dep = _dep({"envFrom": [{"secretRef": {"name": "absent"}}]})
    assert run({"Deployment": [dep], "Pod": []}, ["ConfigMap"]) == []
