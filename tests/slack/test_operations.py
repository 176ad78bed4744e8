"""Alert storms, the concurrency queue, cancel, approval timeouts and restarts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from orchestrator.slack.blocks import APPROVE

from .conftest import CHANNEL, click, mention, slash, started
from .stub import SlackStub

ALERTS = "C0ALERTS"


def alert_post(ts: str, firing: int, service: str) -> dict:
    """An event for a post of Alertmanager's Slack receiver (a bot message with an attachment)."""
    text = (
        f"*Alert:* HighRequestErrorRate - `critical`\n*Description:* {service} returns errors\n*Details:*\n"
        f" • *alertname:* `HighRequestErrorRate`\n • *namespace:* `otel-demo`\n • *service:* `{service}`"
    )
    event = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "BALERTMANAGER",
        "channel": ALERTS,
        "ts": ts,
        "text": "",
        "attachments": [
            {"title": f"[FIRING:{firing}] HighRequestErrorRate otel-demo ({service} critical)", "text": text}
        ],
    }
    return {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event": event,
        "event_id": f"Ev{ts}",
        "event_time": 1,
    }


async def test_twenty_posts_of_one_alert_make_one_thread(slack: SlackStub, tmp_path: Path) -> None:
    front = await started(tmp_path, slack, alert_channels=(ALERTS,), mode="dry-run")
    try:
        for i in range(20):
            await slack.acked(await slack.send("events_api", alert_post(f"3000.{i:06d}", 1 + i % 3, "checkout")))
        other = "3001.000000"
        await slack.acked(await slack.send("events_api", alert_post(other, 1, "frontend")))
        await slack.wait_for(lambda: slack.thread(ALERTS, other))
        first = await slack.wait_for(lambda: slack.thread(ALERTS, "3000.000000"))
        await slack.wait_for(lambda: "re-posted 19×" in first[0].shown, 30)
        # a post in the channel that is not an alert starts nothing
        chatter = alert_post("3002.000000", 1, "x")
        chatter["event"]["attachments"] = [{"title": "deploy finished", "text": "all good"}]
        await slack.acked(await slack.send("events_api", chatter))
        await slack.wait_for(lambda: all(i.view.finished for i in front.investigations.all.values()), 120)
    finally:
        await front.close()
    threads = {m.thread_ts for m in slack.messages if m.channel == ALERTS}
    assert threads == {"3000.000000", other}
    incident = front.investigations.find(channel=ALERTS, thread_ts="3000.000000").incident
    assert incident.spec.scope.namespaces == ["otel-demo"]
    assert [(a.name, a.labels["service"]) for a in incident.spec.alerts] == [("HighRequestErrorRate", "checkout")]
    assert len(list((tmp_path / "runs").glob("*/report.json"))) == 2


async def test_a_mention_in_reply_to_an_alert_investigates_that_alert(slack: SlackStub, tmp_path: Path) -> None:
    front = await started(tmp_path, slack, mode="dry-run")
    try:
        alert = alert_post("3500.000000", 1, "checkout")["event"]
        slack.seed(CHANNEL, "3500.000000", **{k: v for k, v in alert.items() if k not in ("channel", "ts")})
        await slack.acked(
            await slack.send("events_api", mention("investigate", "3500.000009", thread_ts="3500.000000"))
        )
        await slack.wait_for(
            lambda: [m for m in slack.thread(CHANNEL, "3500.000000") if "*What changed*" in m.shown], 60
        )
    finally:
        await front.close()
    inc = front.investigations.find(channel=CHANNEL, thread_ts="3500.000000").incident
    assert inc.spec.scope.namespaces == ["otel-demo"] and inc.spec.summary == "checkout returns errors"
    assert [a.name for a in inc.spec.alerts] == ["HighRequestErrorRate"]


async def test_the_queue_cancel_and_a_restart_tell_their_threads(slack: SlackStub, tmp_path: Path) -> None:
    front = await started(tmp_path, slack, concurrency=1)
    try:
        await slack.acked(await slack.send("events_api", mention("investigate -n otel-demo first", "4000.000001")))
        await slack.wait_for(lambda: slack.with_button(APPROVE))  # the first run waits for a person
        await slack.acked(await slack.send("events_api", mention("investigate -n otel-demo second", "4000.000002")))
        (queued,) = await slack.wait_for(lambda: slack.thread(CHANNEL, "4000.000002"))
        await slack.wait_for(lambda: "position 1 in the queue" in queued.shown)

        status = await slack.acked(await slack.send("slash_commands", slash("status")))
        assert "queued, position 1" in status["text"] and "state " in status["text"]
        second = front.investigations.find(channel=CHANNEL, thread_ts="4000.000002")
        cancelled = await slack.acked(await slack.send("slash_commands", slash(f"cancel {second.key}")))
        assert "cancelled before it started" in cancelled["text"]
        await slack.wait_for(
            lambda: "cancelled by <@UASKER>" in queued.shown and "cancelled before it started" in queued.shown
        )
        unknown = await slack.acked(await slack.send("slash_commands", slash("cancel nope")))
        assert "no investigation 'nope'" in unknown["text"]
        bad = await slack.acked(await slack.send("slash_commands", slash("investigate -n Not_A_Namespace x")))
        assert "not a namespace name" in bad["text"]
    finally:
        await front.close()  # the first run is still waiting: a restart must tell its thread

    state = json.loads((tmp_path / "runs" / "slack-state.json").read_text())
    assert [e["thread_ts"] for e in state["inFlight"]] == ["4000.000001"] and state["inFlight"][0]["run_dir"]
    again = await started(tmp_path, slack, concurrency=1)
    await again.close()
    thread = slack.thread(CHANNEL, "4000.000001")
    assert any("was interrupted" in m.text and state["inFlight"][0]["run_dir"] in m.text for m in thread)
    assert "*interrupted*" in thread[0].shown
    assert not json.loads((tmp_path / "runs" / "slack-state.json").read_text())["inFlight"]


async def test_an_edit_still_waiting_at_a_shutdown_never_lands_after_the_restart(
    slack: SlackStub, tmp_path: Path
) -> None:
    front = await started(tmp_path, slack, update_interval=2.0)
    try:
        await slack.acked(await slack.send("events_api", mention("investigate -n otel-demo pages fail", "4100.000001")))
        await slack.wait_for(lambda: slack.with_button(APPROVE))  # the run waits for a person
        inv = front.investigations.find(channel=CHANNEL, thread_ts="4100.000001")
        assert inv is not None and inv.progress is not None
        inv.progress.touch()  # an event arrived: its edit waits out the 2 s interval
    finally:
        await front.close()
    again = await started(tmp_path, slack)
    await again.close()
    (progress, *_) = slack.thread(CHANNEL, "4100.000001")
    assert "*interrupted*" in progress.shown
    await asyncio.sleep(2.5)  # past the interval: the old edit, had it survived the shutdown, has landed
    assert "*interrupted*" in progress.shown


async def test_an_unanswered_approval_is_rejected_and_a_running_run_can_be_cancelled(
    slack: SlackStub, tmp_path: Path
) -> None:
    front = await started(tmp_path, slack, approval_timeout=0.5)
    try:
        await slack.acked(await slack.send("events_api", mention("investigate -n otel-demo pages fail", "5000.000001")))
        (request,) = await slack.wait_for(lambda: slack.with_button(APPROVE))
        await slack.wait_for(lambda: "no answer within" in request.shown)
        await slack.wait_for(
            lambda: [m for m in slack.thread(CHANNEL, "5000.000001") if "*What changed*" in m.shown], 60
        )
        # a click after the timeout decides nothing: the clicker is told so, privately, and nothing changes
        shown = request.shown
        late = await slack.send("interactive", click(APPROVE, request.button(APPROVE) or "gone", "UAPPROVER", request))
        await slack.acked(late)
        await slack.wait_for(lambda: [e for e in slack.ephemeral if "already answered" in str(e.get("text"))])
        assert request.shown == shown

        await slack.acked(await slack.send("events_api", mention("investigate -n otel-demo again", "5000.000002")))
        await slack.wait_for(
            lambda: len(slack.with_button(APPROVE)) == 1 and slack.with_button(APPROVE)[0] is not request
        )
        await slack.acked(await slack.send("events_api", mention("cancel", "5000.000003", thread_ts="5000.000002")))
        # the pending approval still holds the run; it stops at its next step once the request times out
        await slack.wait_for(
            lambda: [m for m in slack.thread(CHANNEL, "5000.000002") if "*What changed*" in m.shown], 60
        )
    finally:
        await front.close()
    reports = {json.loads(p.read_text())["ended_by"] for p in (tmp_path / "runs").glob("*/report.json")}
    assert "cancelled" in reports
    writes = [w for p in (tmp_path / "runs").glob("*/report.json") for w in json.loads(p.read_text())["writes"]]
    assert writes and all(w["mode"] == "denied" and "declined_by" not in w for w in writes)


async def test_the_message_shortcut_investigates_what_the_message_says(slack: SlackStub, tmp_path: Path) -> None:
    front = await started(tmp_path, slack, mode="off", namespace="otel-demo")
    try:
        shortcut = {
            "type": "message_action",
            "callback_id": "investigate_message",
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "user": {"id": "UASKER"},
            "channel": {"id": CHANNEL},
            "message": {"type": "message", "user": "UPERSON", "ts": "6000.000001", "text": "product pages are slow"},
            "trigger_id": "t",
            "response_url": "http://127.0.0.1:9/none",
        }
        await slack.acked(await slack.send("interactive", shortcut))
        await slack.wait_for(
            lambda: [m for m in slack.thread(CHANNEL, "6000.000001") if "*What changed*" in m.shown], 60
        )
        await slack.acked(await slack.send("events_api", mention("help", "6000.000009", thread_ts="6000.000001")))
        await slack.wait_for(lambda: [m for m in slack.thread(CHANNEL, "6000.000001") if "/sre-agent status" in m.text])
    finally:
        await front.close()
    inc = front.investigations.find(channel=CHANNEL, thread_ts="6000.000001").incident
    assert (inc.spec.summary, inc.spec.scope.namespaces, inc.spec.remediation.mode) == (
        "product pages are slow",
        ["otel-demo"],
        "off",
    )


async def test_an_alert_without_a_namespace_is_answered_once_per_group(slack: SlackStub, tmp_path: Path) -> None:
    front = await started(tmp_path, slack, alert_channels=(ALERTS,))
    try:
        for i in range(3):
            post = alert_post(f"7000.{i:06d}", 1, "checkout")
            post["event"]["attachments"][0]["text"] = "*Description:* checkout returns errors"
            await slack.acked(await slack.send("events_api", post))
        await slack.wait_for(lambda: [m for m in slack.messages if "which namespace" in m.text])
        await asyncio.sleep(0.3)  # the other two posts' tasks have long run by now
    finally:
        await front.close()
    warnings = [m for m in slack.messages if m.channel == ALERTS]
    assert len(warnings) == 1 and warnings[0].thread_ts == "7000.000000" and not front.investigations.all
