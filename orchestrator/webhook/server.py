"""The HTTP side of the receiver (aiohttp): Alertmanager POSTs notifications to `/alerts`.

- `Authorization: Bearer <token>` is required: none gives 401, a wrong one 403 (compared in constant
  time), before the body is read.
- A body that is not a version-4 notification gives 400 with one line saying why.
- Notifications of one group are handled one at a time in this process (a lock per group); across
  replicas the Incident names and the API server's 409s keep them apart (`store.py`).
- A cluster that fails gives 503, so Alertmanager sends the notification again.
- `GET /healthz` answers 200 without a token, for probes.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from ..redaction import mask_text
from .payload import PayloadError, parse_notification
from .record import group_hash
from .store import IncidentStore, StoreError

MAX_BODY = 4 * 1024 * 1024  # Alertmanager's largest groups stay far below; more is not a notification
DELIVERY_KEY: web.AppKey[IncidentStore] = web.AppKey("store", IncidentStore)
TOKEN_KEY: web.AppKey[bytes] = web.AppKey("token", bytes)


class GroupLocks:
    """One lock per alert group while requests for it are in flight (forgotten when none are, so that
    the map does not grow with every group ever seen)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, group: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(group, (asyncio.Lock(), 0))
        self._locks[group] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[group]
            if users == 1:
                del self._locks[group]
            else:
                self._locks[group] = (lock, users - 1)


LOCKS_KEY: web.AppKey[GroupLocks] = web.AppKey("locks", GroupLocks)


def make_app(store: IncidentStore, token: str) -> web.Application:
    """The receiver's application; `token` is the shared secret Alertmanager sends as a bearer token."""
    if not token:
        raise ValueError("the webhook token is empty")
    app = web.Application(client_max_size=MAX_BODY)
    app[DELIVERY_KEY] = store
    app[TOKEN_KEY] = token.encode()
    app[LOCKS_KEY] = GroupLocks()
    app.router.add_post("/alerts", receive)
    app.router.add_get("/healthz", healthz)
    return app


def _refusal(request: web.Request) -> web.Response | None:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return _error(401, "a bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="sre-agent"'})
    if not hmac.compare_digest(given.strip().encode(), request.app[TOKEN_KEY]):
        return _error(403, "the bearer token is not the webhook's")
    return None


async def receive(request: web.Request) -> web.Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"the body is over the {MAX_BODY // (1024 * 1024)} MiB a notification may have")
    try:
        notification = parse_notification(body)
    except PayloadError as err:
        return _error(400, str(err))
    store = request.app[DELIVERY_KEY]
    async with request.app[LOCKS_KEY].hold(group_hash(notification.group_key)):
        try:
            delivery = await asyncio.to_thread(store.deliver, notification)
        except ValueError as err:
            return _error(400, str(err))
        except StoreError as err:
            return _error(503, str(err))
    answer: dict[str, Any] = {"action": delivery.action, "namespace": store.namespace, "incident": delivery.name}
    return web.json_response(answer)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    # Masked: a cluster's answer may quote what it was sent.
    return web.json_response({"error": mask_text(" ".join(message.split()))}, status=status, headers=headers)


async def serve(store: IncidentStore, token: str, host: str, port: int, ready: asyncio.Event | None = None) -> None:
    """Serve until cancelled; prints `listening on URL` once bound (port 0 picks a free one)."""
    runner = web.AppRunner(make_app(store, token), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        print(f"listening on http://{host}:{bound}/alerts", flush=True)
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
