from __future__ import annotations

from .builders import NS, obj, only, run


def test_failed_and_released_volumes() -> None:
    failed = obj("PersistentVolume", "pv-1", ns=None, spec={}, status={"phase": "Failed", "message": "recycle failed"})
    released = obj(
        "PersistentVolume",
        "pv-2",
        ns=None,
        spec={"claimRef": {"namespace": NS, "name": "old"}},
        status={"phase": "Released"},
    )
    found = run({"PersistentVolume": [failed, released], "Event": []}, ["PersistentVolume"])
    f = only(found, "PersistentVolume", "pv-1")
    assert f.object == "/PersistentVolume/pv-1" and "recycle failed" in f.evidence[0]
    assert only(found, "PersistentVolume", "pv-2").confidence == "low"
