"""A local Slack (stub.py) and the app under test, configured as `sre-agent slack` would be: its tokens
from the environment, its cluster the embedded simulator running a built-in scenario, the built-in
model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine import RunOptions
from orchestrator.slack.app import SlackFrontEnd
from orchestrator.slack.settings import settings_from

from .stub import SlackStub

APPROVER = "UAPPROVER"
ASKER = "UASKER"
OUTSIDER = "UOUTSIDER"
CHANNEL = "C0INCIDENTS"
SCENARIO = "builtin:image"  # a bad image rollout in otel-demo
NAMESPACE = "otel-demo"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStub]:
    stub = SlackStub(usergroups={"SONCALL": [APPROVER]})
    await stub.start()
    yield stub
    await stub.close()


class Inspected:
    """What the simulator held when each run ended (read through its API before the run closed it)."""

    def __init__(self) -> None:
        self.deployments: list[dict[str, dict[str, Any]]] = []

    def __call__(self, session: Any, exit_code: int) -> None:
        from kubernetes import client

        items = client.AppsV1Api(session.api).list_namespaced_deployment(NAMESPACE).items
        self.deployments.append({d.metadata.name: session.api.sanitize_for_serialization(d) for d in items})


def settings(tmp_path: Path, stub: SlackStub, *, socket: bool = True, **flags: Any) -> Any:
    env = {"SLACK_BOT_TOKEN": "xoxb-test-bot", "SLACK_API_URL": stub.api_url}
    if socket:
        env["SLACK_APP_TOKEN"] = "xapp-1-test"
    else:
        env["SLACK_SIGNING_SECRET"] = "test-signing-secret"
    flags.setdefault("scenario", SCENARIO)
    flags.setdefault("approvers", ("SONCALL",))
    flags.setdefault("runs_dir", tmp_path / "runs")
    flags.setdefault("update_interval", 0.2)
    return settings_from(env, **flags)


async def started(tmp_path: Path, stub: SlackStub, inspected: Inspected | None = None, **flags: Any) -> SlackFrontEnd:
    s = settings(tmp_path, stub, **flags)
    options = RunOptions(runs_dir=s.runs_dir, before_close=inspected)
    front = SlackFrontEnd(s, options)
    await front.start()
    return front


def mention(text: str, ts: str, *, user: str = ASKER, channel: str = CHANNEL, thread_ts: str | None = None) -> dict:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event": event,
        "event_id": f"Ev{ts.replace('.', '')}",
        "event_time": 1,
    }


def click(action_id: str, value: str, user: str, message: Any) -> dict:
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "user": {"id": user},
        "channel": {"id": message.channel},
        "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel},
        "message": {"ts": message.ts, "thread_ts": message.thread_ts, "text": message.text},
        "trigger_id": "trigger",
        "actions": [{"type": "button", "action_id": action_id, "value": value, "block_id": "b", "action_ts": "1"}],
    }


def slash(text: str, *, user: str = ASKER, channel: str = CHANNEL) -> dict:
    return {
        "command": "/sre-agent",
        "text": text,
        "user_id": user,
        "channel_id": channel,
        "team_id": "T1",
        "api_app_id": "A1",
        "response_url": "http://127.0.0.1:9/none",
        "trigger_id": "trigger",
    }
