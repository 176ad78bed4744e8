from __future__ import annotations

import pytest

from .builders import event, obj, only, run


@pytest.mark.parametrize(
    ("spec", "events", "cause"),
    [
        ({"storageClassName": "fast"}, [], "StorageClass fast does not exist"),
        ({}, [], "no default one"),
        (
            {"storageClassName": "std"},
            [event("PersistentVolumeClaim", "data", "ProvisioningFailed", "quota exceeded")],
            "provisioner fails",
        ),
    ],
)
def test_pending_claims(spec: dict, events: list, cause: str) -> None:
    pvc = obj("PersistentVolumeClaim", "data", spec=spec, status={"phase": "Pending"})
    sc = obj("StorageClass", "std", ns=None)
    f = only(
        run(
            {"PersistentVolumeClaim": [pvc], "StorageClass": [sc], "PersistentVolume": [], "Event": events},
            ["PersistentVolumeClaim"],
        ),
        "PersistentVolumeClaim",
        "data",
    )
    assert cause in f.cause and "status.phase=Pending" in f.evidence


def test_bound_claim_is_quiet() -> None:
    pvc = obj("PersistentVolumeClaim", "data", spec={}, status={"phase": "Bound"})
    assert run({"PersistentVolumeClaim": [pvc], "Event": []}, ["PersistentVolumeClaim"]) == []
