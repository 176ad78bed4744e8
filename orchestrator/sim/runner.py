"""Serve a simulated cluster over HTTP on loopback: in the current event loop or a background thread.

with SimulatorServer.start(scenario="scenario.yaml") as sim:
    client = kubernetes.client.ApiClient(sim.client_configuration())
    sim.advance(300)
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiohttp import web

from .clock import Clock, RealtimeClock
from .cluster import Cluster
from .server import ApiServer
from .shape import ClusterShape

T = TypeVar("T")
REALTIME_TICK_SECONDS = 1.0


def _forget_middleware_chains() -> None:
    """aiohttp caches each route's middleware chain in one process-wide LRU (1,024 entries) keyed by the
    route's handler, a bound method of the ApiServer: left there, a stopped simulator's whole cluster stays in
    memory, and every later collection walks it."""
    from aiohttp import web_app

    cached = getattr(web_app, "_cached_build_middleware", None)
    if cached is not None:
        cached.cache_clear()


class SimulatorServer:
    def __init__(self, cluster: Cluster, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cluster = cluster
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ticker: asyncio.Task | None = None
        self._stopped = threading.Event()

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        scenario: str | Path | None = None,
        clock: str = "virtual",
        seed: int = 0,
        port: int = 0,
        alert_rules: str = "library",
        alert_for_scale: float = 1.0,
        clock_lead: float = 0.0,
        shape: ClusterShape | None = None,
        system_pods: bool = False,
        images: list[str | Path] | None = None,
        freeze_heap: bool = False,
    ) -> SimulatorServer:
        """`alert_rules`/`alert_for_scale`: see Cluster (the default keeps the scenario library's timings);
        `clock_lead`: see orchestrator/sim/clock.py (for kubectl's client-side ages); `shape` (from
        command-line flags) wins over the scenario's `cluster:` block; `system_pods`: kind's kube-system;
        `images`: image catalogue files of the user's own (format: runtime/images.yaml); `freeze_heap`:
        see Cluster (`start` sets it: an embedded server's cluster lives until `stop`)."""
        from .builtin import resolve_scenario
        from .runtime.catalogue import catalogue_for, read_image_file
        from .scenario import load_scenario

        cluster = Cluster(
            RealtimeClock(lead=clock_lead) if clock == "realtime" else Clock(lead=clock_lead),
            seed=seed,
            alert_rules=alert_rules,
            alert_for_scale=alert_for_scale,
            shape=shape,
            system_pods=system_pods,
        )
        cluster.freeze_heap = freeze_heap
        for path in images or ():
            catalogue_for(cluster).add(read_image_file(path))
        if scenario is not None:  # a file, or a scenario of the library by name
            load_scenario(cluster, resolve_scenario(str(scenario)))
        return cls(cluster, port=port)

    @classmethod
    def start(cls, scenario: str | Path | None = None, **options: Any) -> SimulatorServer:
        """Create (same options as `create`) and serve from a background thread; returns once the port
        accepts connections."""
        server = cls.create(scenario, freeze_heap=True, **options)
        server.start_thread()
        return server

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ serving
    async def serve(self) -> None:
        """Start serving on the running loop (returns once listening)."""
        app = ApiServer(self.cluster).app()
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        addresses = self._runner.addresses  # of the listening sockets: port 0 becomes the one picked
        if addresses:
            self.port = addresses[0][1]
        self._loop = asyncio.get_running_loop()
        if isinstance(self.cluster.clock, RealtimeClock):
            self._ticker = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        last = self.cluster.clock.now()
        while True:
            await asyncio.sleep(REALTIME_TICK_SECONDS)
            now = self.cluster.clock.now()
            # The realtime clock already moved: reconcile for the elapsed time without moving it again.
            self.cluster.tick_realtime(now - last)
            last = now

    async def close(self) -> None:
        if self._ticker:
            self._ticker.cancel()
        if self._runner:
            await self._runner.cleanup()
        _forget_middleware_chains()

    def start_thread(self) -> None:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.serve())
            except BaseException as err:  # reported to the starting thread
                errors.append(err)
                ready.set()
                return
            ready.set()
            try:
                loop.run_until_complete(self._wait_stopped())
                loop.run_until_complete(self.close())
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="sre-agent-sim", daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        self.cluster.freeze_heap = True  # embedded: the heap is frozen after each step until `stop`
        gc.freeze()

    async def _wait_stopped(self) -> None:
        while not self._stopped.is_set():
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread:
            self._thread.join(10)
            self.cluster.freeze_heap = False
            gc.unfreeze()  # what the cluster left in cycles is collectable again

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ thread-safe calls into the loop
    def call(self, fn: Callable[[], T]) -> T:
        """Run fn on the server's loop thread (where the cluster lives) and return its result."""
        if self._loop is None or self._thread is None or threading.current_thread() is self._thread:
            return fn()

        async def wrapper() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(60)

    def advance(self, seconds: float) -> dict:
        def step() -> dict:
            self.cluster.advance(seconds)
            return self.cluster.state()

        return self.call(step)

    def state(self) -> dict:
        return self.call(self.cluster.state)

    # ------------------------------------------------------------------ client configuration
    def kubeconfig(self, context: str = "sre-agent-sim") -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {"token": "sim"}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}}],
            "current-context": context,
            "preferences": {},
        }

    def write_kubeconfig(self, path: str | Path, context: str = "sre-agent-sim") -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(yaml.safe_dump(self.kubeconfig(context), sort_keys=False))
        return p

    def client_configuration(self) -> Any:
        """A kubernetes.client.Configuration pointing at this server (few retries: it is local)."""
        from kubernetes import client

        cfg = client.Configuration()
        cfg.host = self.url
        cfg.retries = 1
        return cfg
