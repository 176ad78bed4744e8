"""The write journal and the revert of what it recorded, through the real tools against a served simulator:
each write is journaled before and after it is sent; a revert puts the object back through the action
policy; an object whose content looks like a secret is not kept, and is left to a person."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from orchestrator.tools import ActionPolicy, Toolbox, ToolContext
from orchestrator.tools.journal import WriteJournal, journaled_writes, read_journal
from orchestrator.tools.revert import revert_write

from .conftest import NS, Cluster


def _toolbox(cluster: Cluster, journal: WriteJournal, mode: str = "auto") -> Toolbox:
    ctx = ToolContext(cluster.api, namespaces=[NS], policy=ActionPolicy(mode=mode), journal=journal)
    return Toolbox(ctx)


def _state(cluster: Cluster) -> tuple:
    apps, core = client.AppsV1Api(cluster.api), client.CoreV1Api(cluster.api)
    return (
        apps.read_namespaced_deployment("ad", NS).spec.replicas,
        core.read_namespaced_service("email", NS).metadata.labels,
        [c.image for c in apps.read_namespaced_deployment("currency", NS).spec.template.spec.containers],
    )


async def test_journaled_writes_are_reverted_through_the_policy(cluster: Cluster, tmp_path: Path) -> None:
    journal = WriteJournal(tmp_path / "journal.jsonl")
    tb = _toolbox(cluster, journal)
    before = _state(cluster)
    calls = [
        ("scale", {"kind": "Deployment", "name": "ad", "namespace": NS, "replicas": 2}),
        ("patch", {"kind": "Service", "name": "email", "namespace": NS, "patch_type": "merge",
                   "patch": {"metadata": {"labels": {"tier": "mail"}}}}),
        ("set_image", {"kind": "Deployment", "name": "currency", "namespace": NS, "container": "currency",
                       "image": "example.org/currency:v2"}),
    ]  # fmt: skip
    for tool, args in calls:
        r = await tb.call(tool, args)
        assert r.ok and r.write and r.write["mode"] == "applied", r.error
    assert _state(cluster) != before
    writes = journaled_writes(read_journal(journal.path))
    assert [(w["action"], w["outcome"]) for w in writes] == [(t, "applied") for t, _ in calls]
    assert all(w["before"] and not w["before_withheld"] for w in writes)

    # In dry-run mode a revert is validated, not applied: it is a write like any other.
    dry = _toolbox(cluster, journal, mode="dry-run").ctx
    assert {(await revert_write(dry, w))["mode"] for w in writes} == {"dry-run"}
    assert _state(cluster) != before

    ctx = _toolbox(cluster, journal).ctx
    records = [await revert_write(ctx, w) for w in reversed(writes)]
    assert [r["mode"] for r in records] == ["reverted"] * 3, records
    assert _state(cluster) == before
    assert [w["outcome"] for w in journaled_writes(read_journal(journal.path))][3:] == ["applied"] * 3
    again = [(await revert_write(ctx, w))["mode"] for w in writes]
    assert again == ["unchanged"] * 3


async def test_an_object_holding_a_secret_is_not_kept_and_is_reverted_by_hand(cluster: Cluster, tmp_path: Path) -> None:
    journal = WriteJournal(tmp_path / "journal.jsonl")
    tb = _toolbox(cluster, journal)
    target = {"kind": "Deployment", "name": "cart", "namespace": NS, "container": "cart"}
    r = await tb.call("set_env", {**target, "env_name": "API_TOKEN", "value": "plainvalue1"})
    assert r.ok, r.error
    r = await tb.call("set_image", {**target, "image": "example.org/cart:v2"})  # its object now holds the token
    assert r.ok, r.error
    text = journal.path.read_text()
    kept, write = journaled_writes(read_journal(journal.path))
    assert kept["before"] and not kept["before_withheld"]  # before set_env: no token in it
    assert write["before"] is None and write["before_withheld"] and "plainvalue1" not in text
    record = await revert_write(tb.ctx, write)
    assert record["mode"] == "by hand" and "kubectl set image deployment/cart" in record["change"]
