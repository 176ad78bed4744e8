"""HTTP mode: the same listeners behind Bolt's request verification; a bad signature or a stale timestamp
is refused with 401 before any listener runs."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from .conftest import CHANNEL, mention, started
from .stub import SlackStub

SECRET = "test-signing-secret"  # as conftest.settings gives HTTP mode


def signed(body: str, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def command_body(text: str) -> str:
    return urlencode(
        {
            "command": "/sre-agent",
            "text": text,
            "user_id": "UASKER",
            "channel_id": CHANNEL,
            "team_id": "T1",
            "response_url": "http://127.0.0.1:9/none",
            "trigger_id": "t",
        }
    )


async def post(url: str, body: str, headers: dict[str, str], content_type: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body.encode(), headers={**headers, "Content-Type": content_type}) as resp,
    ):
        return resp.status, await resp.text()


FORM = "application/x-www-form-urlencoded"


async def test_signed_requests_are_served_and_forged_or_replayed_ones_get_401(slack: SlackStub, tmp_path: Path) -> None:
    front = await started(tmp_path, slack, socket=False, port=0)
    try:
        assert front.url is not None
        body = command_body("help")
        status, text = await post(front.url, body, signed(body), FORM)
        assert status == 200 and "investigate -n NAMESPACE" in text

        status, _ = await post(front.url, body, signed(body, secret="someone-elses-secret"), FORM)
        assert status == 401
        stale = int(time.time()) - 6 * 60  # Bolt accepts five minutes of clock skew, no more
        status, _ = await post(front.url, body, signed(body, at=stale), FORM)
        assert status == 401
        status, _ = await post(front.url, body, {}, FORM)
        assert status == 401

        # an event through the same listeners: the mention opens a thread
        event = json.dumps(mention("investigate -n otel-demo product pages fail", "2000.000100"))
        status, _ = await post(front.url, event, signed(event), "application/json")
        assert status == 200
        await slack.wait_for(lambda: slack.thread(CHANNEL, "2000.000100"))
        forged = json.dumps(mention("investigate -n otel-demo forged", "2000.000200"))
        status, _ = await post(front.url, forged, signed(forged, secret="wrong"), "application/json")
        assert status == 401
    finally:
        await front.close()
    assert not slack.thread(CHANNEL, "2000.000200")
