"""The investigations this app runs: one thread each, at most `concurrency` running at once (the rest wait
with their queue position shown), one alert group at a time (a re-posted alert joins its thread), each
cancellable, each recorded in flight so a restart can tell its thread.

A run is the engine's `run_incident` in an asyncio task; its events reach `ThreadProgress`, which keeps the
thread's one progress message up to date with at most one edit per `update_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from ..engine import RunOptions, RunResult, run_incident
from ..engine.events import RunEvent, RunStarted
from ..incident import Incident
from ..tools.policy import ActionRequest, Approval
from . import blocks
from .approvals import Approvals
from .journal import InFlight, InFlightFile
from .settings import SlackSettings
from .triggers import AlertPost
from .view import RunView

log = structlog.get_logger(__name__)


class ThreadProgress:
    """The engine's event sink for one investigation: folds events into its view and edits the progress
    message, throttled. The sink may be called from any thread; the view is only touched on the loop."""

    def __init__(self, client: Any, channel: str, ts: str, view: RunView, interval: float) -> None:
        self.client, self.channel, self.ts, self.view, self.interval = client, channel, ts, view, interval
        self.loop = asyncio.get_running_loop()
        self.last = 0.0
        self.pending: asyncio.Task[None] | None = None
        self.closed = False  # after a shutdown, the message is left as the next start finds it
        self.on_start: list[Any] = []  # called with RunStarted, once the run has its id

    def __call__(self, ev: RunEvent) -> None:
        self.loop.call_soon_threadsafe(self._apply, ev)

    def _apply(self, ev: RunEvent) -> None:
        self.view.apply(ev)
        if isinstance(ev, RunStarted):
            for hook in self.on_start:
                hook(ev)
        self.touch()

    def touch(self) -> None:
        """The view changed: edit the message now, or once the interval since the last edit has passed."""
        if self.closed:
            return
        if self.pending is None or self.pending.done():
            self.pending = self.loop.create_task(self._edit_later())

    async def _edit_later(self) -> None:
        await asyncio.sleep(max(0.0, self.last + self.interval - time.monotonic()))
        self.pending = None
        await self.edit()

    async def edit(self) -> None:
        self.last = time.monotonic()
        text, body = blocks.progress(self.view)
        try:
            await self.client.chat_update(channel=self.channel, ts=self.ts, text=text, blocks=body)
        except Exception as err:  # Slack unreachable: the run goes on, the next edit may get through
            log.warning("slack_update_failed", error=type(err).__name__)

    async def stop(self) -> None:
        """No further edit (a shutdown): one still waiting for its interval would land after the next start
        has marked the thread interrupted, and undo that."""
        self.closed = True
        if self.pending is not None:
            self.pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.pending
            self.pending = None

    async def final(self) -> None:
        """The last edit, with every event of the run applied."""
        await asyncio.sleep(0)  # events handed over with call_soon_threadsafe are applied first
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        await self.edit()


@dataclass
class Investigation:
    key: str
    incident: Incident
    channel: str
    thread_ts: str
    view: RunView
    requester: str | None = None
    alert_key: str | None = None
    progress: ThreadProgress | None = None
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    run_dir: str = ""
    ended_at: float | None = None


class Investigations:
    def __init__(
        self, client: Any, settings: SlackSettings, approvals: Approvals, options: RunOptions | None = None
    ) -> None:
        self.client, self.settings, self.approvals = client, settings, approvals
        self.options = options or RunOptions(runs_dir=settings.runs_dir)
        self.all: dict[str, Investigation] = {}
        self.queue: list[Investigation] = []
        self.running: set[str] = set()
        self.by_alert: dict[str, Investigation] = {}
        self.in_flight = InFlightFile(settings.state_file)

    # ------------------------------------------------------------------------------------------ starting

    async def start(
        self,
        incident: Incident,
        *,
        channel: str,
        thread_ts: str,
        requester: str | None = None,
        alert_key: str | None = None,
    ) -> Investigation:
        """Open the investigation's thread with its progress message, then run it or queue it."""
        key = secrets.token_hex(3)
        namespaces = incident.spec.scope.namespaces
        view = RunView(key, incident.spec.summary, namespaces[0] if namespaces else "", requester)
        inv = Investigation(key, incident, channel, thread_ts, view, requester, alert_key)
        # Known before the first await, so an alert re-posted meanwhile finds its thread.
        self.all[key] = inv
        if alert_key:
            self.by_alert[alert_key] = inv
        text, body = blocks.progress(view)
        posted = await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=body)
        inv.progress = ThreadProgress(self.client, channel, posted["ts"], view, self.settings.update_interval)
        inv.progress.on_start.append(lambda ev: self._started(inv, ev))
        if view.repeats:
            inv.progress.touch()
        self._record(inv)
        self.queue.append(inv)
        await self._pump()
        return inv

    async def alert(
        self, post: AlertPost, make_incident: Callable[[AlertPost], Incident], *, channel: str, ts: str
    ) -> Investigation | None:
        """An Alertmanager post: a new thread for a new alert group, else a count on the group's thread.
        `make_incident(post)` makes the incident (raising TriggerError when it cannot)."""
        known = self.by_alert.get(post.key)
        if known is not None and not self._expired(known):
            known.view.repeats += 1
            if known.progress is not None:
                known.progress.touch()
            return None
        if not post.firing:
            return None  # a resolved notice for a group we do not follow
        return await self.start(make_incident(post), channel=channel, thread_ts=ts, alert_key=post.key)

    def _expired(self, inv: Investigation) -> bool:
        return inv.ended_at is not None and time.monotonic() - inv.ended_at > self.settings.dedupe_window

    async def _pump(self) -> None:
        while self.queue and len(self.running) < self.settings.concurrency:
            inv = self.queue.pop(0)
            self.running.add(inv.key)
            inv.view.phase, inv.view.queue_position = "running", None
            inv.task = asyncio.create_task(self._run(inv), name=f"slack-investigation-{inv.key}")
            if inv.progress is not None:
                inv.progress.touch()
        for position, waiting in enumerate(self.queue, start=1):
            if waiting.view.queue_position != position:
                waiting.view.queue_position = position
                if waiting.progress is not None:
                    waiting.progress.touch()

    # ------------------------------------------------------------------------------------------- running

    async def _run(self, inv: Investigation) -> None:
        progress = inv.progress
        assert progress is not None

        async def approver(request: ActionRequest) -> bool | Approval:
            return await self.approvals.ask(
                request, channel=inv.channel, thread_ts=inv.thread_ts, requester=inv.requester
            )

        try:
            options = dataclasses.replace(self.options, output_dir=None)
            result = await run_incident(inv.incident, options, events=progress, approver=approver, cancel=inv.cancel)
            await progress.final()
            await self._verdict(inv, result)
        except asyncio.CancelledError:  # a shutdown: the thread stays in flight, told on the next start
            self.running.discard(inv.key)
            raise
        except Exception as err:  # the run's own errors end in its result; this is Slack or a bug
            log.exception("slack_investigation_failed", key=inv.key)
            inv.view.phase, inv.view.reason = "error", f"{type(err).__name__}: {err}"
            await progress.final()
        inv.ended_at = time.monotonic()
        self.running.discard(inv.key)
        self.in_flight.drop(inv.key)
        await self._pump()

    def _started(self, inv: Investigation, ev: RunStarted) -> None:
        inv.run_dir = str(self.options.runs_dir / ev.run_id)
        self._record(inv)

    def _record(self, inv: Investigation) -> None:
        assert inv.progress is not None
        self.in_flight.put(
            InFlight(
                inv.key, inv.channel, inv.thread_ts, inv.progress.ts, inv.view.summary, inv.view.namespace, inv.run_dir
            )
        )

    async def _verdict(self, inv: Investigation, result: RunResult) -> None:
        report, run_dir = result.to_dict(), result.output_dir
        mast = _read_json(run_dir / "mast.json")  # written with the reports; the result does not carry it
        text, body = blocks.verdict(report, mast)
        await self.client.chat_postMessage(channel=inv.channel, thread_ts=inv.thread_ts, text=text, blocks=body)
        html = run_dir / "report.html"
        if html.is_file():
            await self.client.files_upload_v2(
                channel=inv.channel,
                thread_ts=inv.thread_ts,
                file=str(html),
                filename="report.html",
                title=f"sre-agent report {report.get('run_id', inv.key)}",
            )

    # ----------------------------------------------------------------------------------- cancel, status

    def find(
        self, key: str | None = None, *, channel: str | None = None, thread_ts: str | None = None
    ) -> Investigation | None:
        if key:
            return self.all.get(key)
        for inv in self.all.values():
            if inv.channel == channel and inv.thread_ts == thread_ts:
                return inv
        return None

    async def cancel(self, inv: Investigation, by: str) -> str:
        """Stop an investigation: a queued one never starts, a running one stops at its next step."""
        if inv.view.finished:
            return f"investigation {inv.key} has already ended ({inv.view.phase})"
        if inv in self.queue:
            self.queue.remove(inv)
            inv.view.phase, inv.view.reason, inv.view.cancelled_by = "escalated", "cancelled before it started", by
            inv.ended_at = time.monotonic()
            self.in_flight.drop(inv.key)
            if inv.progress is not None:
                await inv.progress.final()
            await self._pump()
            return f"investigation {inv.key} was cancelled before it started"
        inv.cancel.set()
        inv.view.cancelling, inv.view.cancelled_by = True, by
        if inv.progress is not None:
            inv.progress.touch()
        return f"investigation {inv.key} stops at its next step"

    def status(self) -> str:
        live = [i for i in self.all.values() if not i.view.finished]
        if not live:
            return "no investigation is running or waiting"
        lines = []
        for inv in live:
            where = f"state {inv.view.state}" if inv.view.state else inv.view.phase
            if inv.view.queue_position:
                where = f"queued, position {inv.view.queue_position}"
            lines.append(
                f"• `{inv.key}` {inv.view.namespace}: {where}, {inv.view.tool_calls} tool calls — {inv.view.summary[:80]}"
            )
        return "\n".join(lines)

    # ---------------------------------------------------------------------------------------- lifecycle

    async def recover(self) -> int:
        """Tell each thread a previous process left in flight that its run was interrupted."""
        left = self.in_flight.left_over()
        for entry in left:
            where = f" Its run directory is `{entry.run_dir}`." if entry.run_dir else ""
            note = (
                f":double_vertical_bar: sre-agent restarted: investigation `{entry.key}` was interrupted and did "
                f"not finish.{where} Ask again to start a new one."
            )
            view = RunView(entry.key, entry.summary, entry.namespace, phase="interrupted", reason="sre-agent restarted")
            text, body = blocks.progress(view)
            with contextlib.suppress(Exception):
                await self.client.chat_update(channel=entry.channel, ts=entry.progress_ts, text=text, blocks=body)
            try:
                await self.client.chat_postMessage(channel=entry.channel, thread_ts=entry.thread_ts, text=note)
            except Exception as err:
                log.warning("slack_post_failed", error=type(err).__name__)
        self.in_flight.clear()
        return len(left)

    async def close(self) -> None:
        """Stop every run now (a shutdown): their threads stay in flight, to be told on the next start."""
        tasks = [i.task for i in self.all.values() if i.task is not None and not i.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for inv in self.all.values():
            if inv.progress is not None:
                await inv.progress.stop()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
