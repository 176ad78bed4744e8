"""The Slack app: slack_bolt's AsyncApp with one set of listeners, reached over Socket Mode (an app token;
no public URL) or HTTP (a signing secret; Bolt checks each request's signature and refuses a timestamp
older than five minutes with 401). Every listener acknowledges first and leaves the work to a task, so
Slack's three seconds are never at stake."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from ..engine import RunOptions
from ..incident import Incident
from . import blocks
from .approvals import Approvals
from .incidents import incident_for
from .investigations import Investigations
from .settings import SlackSettings
from .triggers import AlertPost, Command, TriggerError, parse_alert, parse_command, plain

log = structlog.get_logger(__name__)
EVENTS_PATH = "/slack/events"  # events, slash commands and interactivity all come here in HTTP mode
SHORTCUT = "investigate_message"  # the message shortcut's callback id (see the manifest)


class SlackFrontEnd:
    """`sre-agent slack`: start() connects (Socket Mode) or listens (HTTP), close() stops."""

    def __init__(self, settings: SlackSettings, options: RunOptions | None = None) -> None:
        self.settings = settings
        kwargs: dict[str, Any] = {"token": settings.bot_token}
        if settings.api_url:
            kwargs["base_url"] = settings.api_url.rstrip("/") + "/"
        self.client = AsyncWebClient(**kwargs)
        self.approvals = Approvals(self.client, settings)
        self.investigations = Investigations(self.client, settings, self.approvals, options)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.signing_secret or "",
            # Socket Mode requests carry no signature: only HTTP requests are verified.
            request_verification_enabled=not settings.socket_mode,
        )
        self.tasks: set[asyncio.Task[Any]] = set()
        self.refused_alerts: set[str] = set()  # alert groups that could not become an incident
        self._socket: Any = None
        self._runner: Any = None
        self.url: str | None = None  # HTTP mode: where Slack posts
        self._listen()

    # ---------------------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        await self.investigations.recover()
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token, web_client=self.client)
            await self._socket.connect_async()
            return
        from aiohttp import web
        from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

        async def handle(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))

        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, handle)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "0.0.0.0", self.settings.port)
        await site.start()
        port = self._runner.addresses[0][1] if self._runner.addresses else self.settings.port
        self.url = f"http://127.0.0.1:{port}{EVENTS_PATH}"

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.investigations.close()
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        with contextlib.suppress(Exception):
            session = getattr(self.client, "session", None)
            if session is not None:
                await session.close()

    def _later(self, work: Any) -> None:
        """Run `work` (a coroutine) after the listener returned, so the request is answered first."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slack_listener_failed", error=repr(task.exception()))

    # ---------------------------------------------------------------------------------------- listeners

    def _listen(self) -> None:
        app = self.app
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.command("/sre-agent")(self._on_command)
        app.action(blocks.APPROVE)(self._on_approve)
        app.action(blocks.REJECT)(self._on_reject)
        app.action(blocks.CANCEL)(self._on_cancel_button)
        app.shortcut(SHORTCUT)(self._on_shortcut)

    async def _on_mention(self, event: dict[str, Any]) -> None:
        channel, user = event.get("channel", ""), event.get("user")
        thread_ts = event.get("thread_ts") or event.get("ts", "")
        in_reply = thread_ts != event.get("ts")
        self._later(self._mentioned(event.get("text", ""), channel, thread_ts, user, in_reply))

    async def _mentioned(self, text: str, channel: str, thread_ts: str, user: str | None, in_reply: bool) -> None:
        async def reply(message: str) -> None:
            await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message)

        try:
            command = parse_command(text)
        except TriggerError as err:
            await reply(f":warning: {err}")
            return
        if command.verb == "cancel":
            inv = self.investigations.find(command.target, channel=channel, thread_ts=thread_ts)
            await reply(await self.investigations.cancel(inv, user or "") if inv else "no investigation here to cancel")
            return
        if command.verb != "investigate":
            await reply(self._answer(command))
            return
        current = self.investigations.find(channel=channel, thread_ts=thread_ts)
        if current is not None and not current.view.finished:
            await reply(f"investigation `{current.key}` is already under way in this thread")
            return
        alerts: list[dict[str, Any]] | None = None
        if in_reply and (command.namespace is None or not command.summary):
            command, alerts = await self._from_parent(command, channel, thread_ts)
        await self._investigate(command, channel=channel, thread_ts=thread_ts, user=user, reply=reply, alerts=alerts)

    async def _from_parent(
        self, command: Command, channel: str, thread_ts: str
    ) -> tuple[Command, list[dict[str, Any]] | None]:
        """A mention in reply to a message: what the mention leaves out comes from the message it answers
        (an alert's namespace, description and labels, or a person's words)."""
        try:
            replies = await self.client.conversations_replies(channel=channel, ts=thread_ts, limit=1)
            parent = (replies.get("messages") or [{}])[0]
        except Exception as err:  # no history scope, or the message is gone: the mention stands alone
            log.warning("slack_parent_unreadable", error=type(err).__name__)
            return command, None
        post = parse_alert(parent)
        if post is not None:
            return (
                Command("investigate", command.namespace or post.namespace, command.summary or post.summary),
                post.alerts,
            )
        return Command("investigate", command.namespace, command.summary or plain(parent.get("text", ""))), None

    async def _investigate(
        self,
        command: Command,
        *,
        channel: str,
        thread_ts: str,
        user: str | None,
        reply: Callable[[str], Awaitable[None]],
        alerts: list[dict[str, Any]] | None = None,
    ) -> None:
        try:
            incident = self._incident(command, alerts)
        except TriggerError as err:
            await reply(f":warning: {err}")
            return
        await self.investigations.start(incident, channel=channel, thread_ts=thread_ts, requester=user)

    def _incident(self, command: Command, alerts: list[dict[str, Any]] | None = None) -> Incident:
        return incident_for(
            self.settings, namespace=command.namespace, summary=command.summary, name_hint=command.summary[:30],
            alerts=alerts,
        )  # fmt: skip

    def _answer(self, command: Command) -> str:
        return self.investigations.status() if command.verb == "status" else blocks.HELP

    async def _on_message(self, event: dict[str, Any]) -> None:
        channel = event.get("channel", "")
        if channel not in self.settings.alert_channels or event.get("thread_ts") not in (None, event.get("ts")):
            return  # not an alert channel, or a reply in a thread
        if event.get("subtype") not in (None, "bot_message"):
            return  # edits, deletions, joins
        post = parse_alert(event)
        if post is not None:
            self._later(self._alerted(post, channel, event.get("ts", "")))

    async def _alerted(self, post: AlertPost, channel: str, ts: str) -> None:
        try:
            await self.investigations.alert(post, self._alert_incident, channel=channel, ts=ts)
        except TriggerError as err:
            if post.key not in self.refused_alerts:  # said once per alert group, not once per re-post
                self.refused_alerts.add(post.key)
                await self.client.chat_postMessage(channel=channel, thread_ts=ts, text=f":warning: {err}")

    def _alert_incident(self, post: AlertPost) -> Incident:
        return incident_for(
            self.settings, namespace=post.namespace, summary=post.summary, name_hint=post.alertname, alerts=post.alerts
        )

    async def _on_command(self, ack: Any, command: dict[str, Any]) -> None:
        try:
            parsed = parse_command(command.get("text", ""))
        except TriggerError as err:
            await ack(f":warning: {err}")
            return
        user, channel = command.get("user_id"), command.get("channel_id", "")
        if parsed.verb == "cancel":
            inv = self.investigations.find(parsed.target)
            if inv is None:
                await ack(f"no investigation {parsed.target!r}: `/sre-agent status` lists them")
                return
            await ack(await self.investigations.cancel(inv, user or ""))
            return
        if parsed.verb != "investigate":
            await ack(self._answer(parsed))
            return
        await ack(f"starting an investigation: {parsed.summary or '(no summary)'}")
        self._later(self._command_investigation(parsed, channel, user))

    async def _command_investigation(self, parsed: Command, channel: str, user: str | None) -> None:
        async def tell(message: str) -> None:
            await self.client.chat_postEphemeral(channel=channel, user=user or "", text=message)

        try:  # made before a thread is opened for it
            incident = self._incident(parsed)
        except TriggerError as err:
            await tell(f":warning: {err}")
            return
        root = await self.client.chat_postMessage(
            channel=channel, text=f"{blocks.mention(user or '')} asked: investigate {blocks.esc(parsed.summary)}"
        )
        await self.investigations.start(incident, channel=channel, thread_ts=root["ts"], requester=user)

    async def _on_approve(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        self._later(self._answered(body, action, True))

    async def _on_reject(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        self._later(self._answered(body, action, False))

    async def _answered(self, body: dict[str, Any], action: dict[str, Any], approve: bool) -> None:
        user = (body.get("user") or {}).get("id", "")
        refusal = await self.approvals.answer(str(action.get("value", "")), user, approve)
        if refusal is not None:
            channel = (body.get("channel") or {}).get("id", "")
            thread_ts = (body.get("message") or {}).get("thread_ts")
            await self.client.chat_postEphemeral(channel=channel, user=user, text=refusal, thread_ts=thread_ts)

    async def _on_cancel_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        inv = self.investigations.find(str(action.get("value", "")))
        if inv is not None:
            self._later(self.investigations.cancel(inv, (body.get("user") or {}).get("id", "")))

    async def _on_shortcut(self, ack: Any, shortcut: dict[str, Any]) -> None:
        await ack()
        message = shortcut.get("message") or {}
        channel = (shortcut.get("channel") or {}).get("id", "")
        user = (shortcut.get("user") or {}).get("id")
        thread_ts = message.get("thread_ts") or message.get("ts", "")

        async def reply(text: str) -> None:
            await self.client.chat_postEphemeral(channel=channel, user=user or "", text=text)

        post = parse_alert(message)
        if post is not None:
            command = Command("investigate", post.namespace, post.summary)
            alerts: list[dict[str, Any]] | None = post.alerts
        else:
            try:
                command = parse_command(message.get("text", ""))
            except TriggerError as err:
                await reply(f":warning: {err}")
                return
            command = Command("investigate", command.namespace, command.summary or plain(message.get("text", "")))
            alerts = None
        self._later(
            self._investigate(command, channel=channel, thread_ts=thread_ts, user=user, reply=reply, alerts=alerts)
        )


async def serve(settings: SlackSettings, options: RunOptions | None = None) -> None:
    """Run the app until cancelled (Ctrl-C)."""
    front = SlackFrontEnd(settings, options)
    await front.start()
    try:
        await asyncio.Event().wait()
    finally:
        await front.close()
