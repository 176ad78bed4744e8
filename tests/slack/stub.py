"""A local Slack: the Web API methods the app calls (auth.test, chat.postMessage/update/postEphemeral,
usergroups.users.list, the files upload v2 sequence, apps.connections.open) and a Socket Mode WebSocket
that delivers envelopes and records their acknowledgements. It keeps every message, edit and file so a
test can read the channel as a person would."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_USER = "UBOT"


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)  # each chat.update's text and blocks

    @property
    def shown(self) -> str:
        """The text a person sees now: the latest text and every mrkdwn text in the latest blocks."""
        latest = self.edits[-1] if self.edits else {"text": self.text, "blocks": self.blocks}
        return "\n".join([latest["text"], *_texts(latest["blocks"])])

    def button(self, action_id: str) -> dict[str, Any] | None:
        latest = self.edits[-1]["blocks"] if self.edits else self.blocks
        for block in latest:
            for el in block.get("elements") or []:
                if el.get("action_id") == action_id:
                    return el
        return None


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for b in blocks:
        if isinstance(b.get("text"), dict):
            out.append(b["text"].get("text", ""))
        for el in b.get("elements") or []:
            if isinstance(el, dict) and el.get("type") == "mrkdwn":
                out.append(el.get("text", ""))
    return out


class SlackStub:
    def __init__(self, usergroups: dict[str, list[str]] | None = None) -> None:
        self.messages: list[Message] = []
        self.ephemeral: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.usergroups = usergroups or {}
        self.seeded: dict[tuple[str, str], dict[str, Any]] = {}
        self.acks: dict[str, tuple[float, dict[str, Any]]] = {}
        self.sent: dict[str, float] = {}
        self.ws: web.WebSocketResponse | None = None
        self.connected = asyncio.Event()
        self._ts = 0
        self.url = ""

    # ---------------------------------------------------------------------------------------- server

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.runner.cleanup()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update(dict(await request.post()))
        for key in ("blocks", "files", "attachments"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        self.calls.append((method, args))
        handler: Callable[[dict[str, Any], str], dict[str, Any]] | None = getattr(
            self, "m_" + method.replace(".", "_"), None
        )
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(handler(args, auth))

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{int(time.time())}.{self._ts:06d}"

    def m_auth_test(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        if not auth.startswith("Bearer xoxb-"):
            return {"ok": False, "error": "invalid_auth"}
        return {
            "ok": True,
            "url": "https://stub.slack.test/",
            "team": "stub",
            "user": "sre-agent",
            "team_id": "T1",
            "user_id": BOT_USER,
            "bot_id": "BBOT",
        }

    def m_apps_connections_open(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        if not auth.startswith("Bearer xapp-"):
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/link"}

    def m_chat_postMessage(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        msg = Message(
            args["channel"], self._next_ts(), args.get("text", ""), args.get("thread_ts"), args.get("blocks") or []
        )
        self.messages.append(msg)
        return {"ok": True, "channel": msg.channel, "ts": msg.ts, "message": {"text": msg.text}}

    def seed(self, channel: str, ts: str, **fields: Any) -> None:
        """A message someone else posted (Alertmanager, a person), readable through conversations.replies."""
        self.seeded[(channel, ts)] = {"ts": ts, **fields}

    def m_conversations_replies(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        root = self.seeded.get((args["channel"], args["ts"]))
        if root is None:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": [root], "has_more": False}

    def m_chat_update(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        for msg in self.messages:
            if msg.channel == args["channel"] and msg.ts == args["ts"]:
                msg.edits.append({"text": args.get("text", ""), "blocks": args.get("blocks") or []})
                return {"ok": True, "channel": msg.channel, "ts": msg.ts}
        return {"ok": False, "error": "message_not_found"}

    def m_chat_postEphemeral(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        self.ephemeral.append(args)
        return {"ok": True, "message_ts": self._next_ts()}

    def m_usergroups_users_list(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        if args.get("usergroup") not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[args["usergroup"]]}

    def m_files_getUploadURLExternal(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        file_id = "F" + uuid.uuid4().hex[:8].upper()
        self.files[file_id] = {"filename": args.get("filename"), "length": int(args.get("length", 0))}
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.files:
            return web.Response(status=404)
        self.files[file_id]["content"] = await request.read()
        return web.Response(text=f"OK - {len(self.files[file_id]['content'])}")

    def m_files_completeUploadExternal(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        shared = []
        for f in args.get("files") or []:
            record = self.files.get(f["id"])
            if record is None or "content" not in record:
                return {"ok": False, "error": "file_not_uploaded"}
            record.update(channel=args.get("channel_id"), thread_ts=args.get("thread_ts"), title=f.get("title"))
            shared.append({"id": f["id"], "title": f.get("title")})
        return {"ok": True, "files": shared}

    # ----------------------------------------------------------------------------------- socket mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.ws = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        self.connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                if "envelope_id" in data:
                    self.acks[data["envelope_id"]] = (time.monotonic(), data.get("payload") or {})
        return ws

    async def send(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver an envelope (events_api, slash_commands or interactive); returns its id."""
        await asyncio.wait_for(self.connected.wait(), 10)
        assert self.ws is not None
        envelope_id = uuid.uuid4().hex
        self.sent[envelope_id] = time.monotonic()
        await self.ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
            }
        )
        return envelope_id

    async def acked(self, envelope_id: str, within: float = 3.0) -> dict[str, Any]:
        """The acknowledgement's payload; fails unless it came within `within` seconds of sending."""
        deadline = self.sent[envelope_id] + within
        while envelope_id not in self.acks:
            assert time.monotonic() < deadline, f"envelope not acknowledged within {within} s"
            await asyncio.sleep(0.02)
        at, payload = self.acks[envelope_id]
        assert at - self.sent[envelope_id] <= within
        return payload

    # ----------------------------------------------------------------------------------------- reading

    async def wait_for(self, found: Callable[[], Any], timeout: float = 180.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = found()
            if value:
                return value
            assert time.monotonic() < deadline, "timed out waiting for Slack"
            await asyncio.sleep(0.05)

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts == thread_ts]

    def with_button(self, action_id: str) -> list[Message]:
        return [m for m in self.messages if m.button(action_id) is not None]
