"""The simulator's own API on the same port: `/sim/v1/...`.

POST /sim/v1/advance?seconds=N   move the virtual clock, reconciling at each step
GET  /sim/v1/state               what is installed, injected and firing
GET  /sim/v1/faults              the faults this simulator implements
POST /sim/v1/inject              inject faults: a Scenario document or {"faults": [{"id":..., "args":...}]}
POST /sim/v1/reliability         add an API-level fault rule (latency, 5xx, 403); DELETE clears them
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .errors import ApiError

if TYPE_CHECKING:
    from .cluster import Cluster


def _json(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def add_control_routes(app: web.Application, cluster: Cluster) -> None:
    async def advance(request: web.Request) -> web.Response:
        raw = request.query.get("seconds", "0")
        try:
            seconds = float(raw)
        except ValueError as err:
            raise ApiError(400, f"seconds must be a number, not {raw!r}") from err
        if seconds < 0 or seconds > 7 * 24 * 3600:
            raise ApiError(400, "seconds must be between 0 and one week")
        cluster.advance(seconds)
        return _json(cluster.state())

    async def state(request: web.Request) -> web.Response:
        return _json(cluster.state())

    async def faults(request: web.Request) -> web.Response:
        from .faults import FAULTS

        return _json({"faults": [{"id": f.id, "index": f.index, "targets": f.targets} for f in FAULTS.values()]})

    async def inject(request: web.Request) -> web.Response:
        from .scenario import ScenarioError, inject_document

        try:
            doc = await request.json()
        except ValueError as err:
            raise ApiError(400, f"the body must be JSON: {err}") from err
        try:
            injected = inject_document(cluster, doc)
        except ScenarioError as err:
            raise ApiError(400, str(err)) from err
        return _json({"injected": injected})

    async def reliability_add(request: web.Request) -> web.Response:
        rule = cluster.reliability.add(await request.json())
        return _json({"rule": rule.__dict__, "rules": cluster.reliability.describe()}, 201)

    async def reliability_clear(request: web.Request) -> web.Response:
        cluster.reliability.clear()
        return _json({"rules": []})

    async def reliability_list(request: web.Request) -> web.Response:
        return _json({"rules": cluster.reliability.describe()})

    r = app.router
    r.add_post("/sim/v1/advance", advance)
    r.add_get("/sim/v1/state", state)
    r.add_get("/sim/v1/faults", faults)
    r.add_post("/sim/v1/inject", inject)
    r.add_post("/sim/v1/reliability", reliability_add)
    r.add_delete("/sim/v1/reliability", reliability_clear)
    r.add_get("/sim/v1/reliability", reliability_list)
