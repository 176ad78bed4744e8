from __future__ import annotations

from .builders import obj, run

DEFAULT = {"storageclass.kubernetes.io/is-default-class": "true"}


def test_two_defaults() -> None:
    a = obj("StorageClass", "a", ns=None, annotations=DEFAULT)
    b = obj("StorageClass", "b", ns=None, annotations=DEFAULT)
    found = run({"StorageClass": [a, b], "PersistentVolumeClaim": []}, ["StorageClass"])
    assert {f.name for f in found} == {"a", "b"}
    assert found[0].evidence == ["default classes: a, b"]
