"""End to end over Socket Mode: a mention starts a thread, its progress message follows the run, the
approval buttons decide the write in the simulator, the verdict and report.html reach the thread."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.slack.blocks import APPROVE, REJECT

from .conftest import APPROVER, ASKER, CHANNEL, OUTSIDER, Inspected, click, mention, started
from .stub import SlackStub


def images(deployment: dict) -> list[str]:
    return [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]


def change_sides(change: str) -> tuple[str, str]:
    """The values before and after ` -> ` in a change line, as the approval message shows it."""
    before, after = change.rsplit(" -> ", 1)
    return before.rsplit(" ", 1)[-1], after.split()[0]


async def test_a_mention_runs_in_its_thread_and_an_approved_write_is_applied(slack: SlackStub, tmp_path: Path) -> None:
    inspected = Inspected()
    front = await started(tmp_path, slack, inspected)
    try:
        root = "1000.000100"
        env = await slack.send("events_api", mention("investigate -n otel-demo product pages fail", root))
        await slack.acked(env)
        (request,) = await slack.wait_for(lambda: slack.with_button(APPROVE))
        assert request.thread_ts == root and request.channel == CHANNEL
        assert "Server-side dry run" in request.shown and "To revert" in request.shown
        approval_id = request.button(APPROVE)["value"]

        # someone outside the approvers: refused, only to them, and the request stays open
        env = await slack.send("interactive", click(APPROVE, approval_id, OUTSIDER, request))
        await slack.acked(env)
        refusal = await slack.wait_for(lambda: [e for e in slack.ephemeral if e["user"] == OUTSIDER])
        assert "may approve" in refusal[0]["text"] and "<!subteam^SONCALL>" in refusal[0]["text"]
        assert request.button(APPROVE) is not None and not request.edits

        env = await slack.send("interactive", click(APPROVE, approval_id, APPROVER, request))
        await slack.acked(env)
        await slack.wait_for(lambda: any(f.get("thread_ts") == root for f in slack.files.values()), 120)
    finally:
        await front.close()

    thread = slack.thread(CHANNEL, root)
    progress = thread[0]
    assert len(progress.edits) >= 2, "the progress message is edited as the run goes"
    assert progress.edits[0]["blocks"] != progress.edits[-1]["blocks"]
    assert ":white_check_mark: *resolved*" in progress.shown and "tool calls" in progress.shown
    assert f"approved by <@{APPROVER}>" in request.shown and request.button(APPROVE) is None
    (verdict,) = [m for m in thread if "*Root cause*" in m.shown]
    assert "*What changed*" in verdict.shown and "revert:" in verdict.shown and "*Verifier checks*" in verdict.shown
    assert "MAST:" in verdict.shown and f"approved by <@{APPROVER}>" in verdict.shown
    (report,) = [f for f in slack.files.values() if f.get("thread_ts") == root]
    assert report["channel"] == CHANNEL and report["filename"] == "report.html"
    assert report["content"].lstrip().lower().startswith(b"<!doctype html")

    # the simulator: the approved change is what the cluster now runs
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    result = json.loads((run_dir / "report.json").read_text())
    (write,) = result["writes"]
    assert write["mode"] == "applied" and write["approved_by"] == APPROVER
    assert f"approved by {APPROVER}" in (run_dir / "report.md").read_text()
    name = write["target"].split("/")[-1]
    old, new = change_sides(write["change"])
    assert new in images(inspected.deployments[-1][name]) and old not in images(inspected.deployments[-1][name])
    assert result["status"] == "resolved"
    assert not json.loads((tmp_path / "runs" / "slack-state.json").read_text())["inFlight"]
    assert not [e for e in slack.ephemeral if e["user"] in (ASKER, APPROVER)]


async def test_a_rejected_write_leaves_the_cluster_unchanged(slack: SlackStub, tmp_path: Path) -> None:
    inspected = Inspected()
    front = await started(tmp_path, slack, inspected)
    try:
        root = "1000.000200"
        await slack.acked(await slack.send("events_api", mention("investigate -n otel-demo checkout fails", root)))
        (request,) = await slack.wait_for(lambda: slack.with_button(REJECT))
        change = request.text
        await slack.acked(
            await slack.send("interactive", click(REJECT, request.button(REJECT)["value"], APPROVER, request))
        )
        await slack.wait_for(lambda: [m for m in slack.thread(CHANNEL, root) if "*What changed*" in m.shown], 120)
    finally:
        await front.close()
    assert f"rejected by <@{APPROVER}>" in request.shown
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    result = json.loads((run_dir / "report.json").read_text())
    assert result["status"] == "escalated"
    assert {w["mode"] for w in result["writes"]} == {"denied"}
    assert result["writes"][0]["declined_by"] == APPROVER
    name = result["writes"][0]["target"].split("/")[-1]
    old, new = change_sides(change)
    assert old in images(inspected.deployments[-1][name]) and new not in images(inspected.deployments[-1][name])
