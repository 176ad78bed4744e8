"""`sre-agent operator run`: kopf watches Incidents; each one not yet claimed joins a queue that a fixed
number of workers drain (the concurrency limit); a worker claims it (its status, written only if nobody
wrote first), runs it and writes the outcome.

Restart-safe, with any number of replicas: a claim names its holder and is renewed on a heartbeat; a sweep
(every `sweep_seconds`) takes over claims whose heartbeat stopped for `lease_seconds` (the executor then
finishes the run without repeating its writes) and moves a run past its deadline to Failed, saying why. A
replica only ever runs what it claimed, so kopf runs standalone (no peering object is needed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from .claims import JOB_HOLDER, JOB_START_SECONDS, LEASE_SECONDS, holder_name, is_overdue, is_stale, new_run_id
from .claims import budget_seconds as claim_budget
from .claims import claimed as claim_status
from .crd import GROUP, PLURAL, VERSION
from .executor import ExecutorSettings, execute
from .incidents import IncidentApi, Ref, scope_of
from .jobs import JobTemplate, job_manifest, job_name
from .status import Claim, IncidentStatus, now_iso

log = logging.getLogger(__name__)

CONFIRM_ROUNDS = 20  # of listing the rival claims before a pending claim is withdrawn
CONFIRM_WAIT_SECONDS = 0.25


@dataclass
class OperatorConfig:
    """What `sre-agent operator run` was told."""

    executor: ExecutorSettings
    namespaces: list[str] | None = None  # None: every namespace
    concurrency: int = 2
    lease_seconds: float = LEASE_SECONDS
    sweep_seconds: float = 15.0
    grace_seconds: float = 600.0  # beyond an Incident's budget.seconds before its deadline
    jobs: JobTemplate | None = None  # the Job executor; None: runs in this process
    job_start_seconds: float = JOB_START_SECONDS
    holder: str = field(default_factory=holder_name)


class Controller:
    """The queue, the workers, the claims and the sweep of one operator process."""

    def __init__(self, config: OperatorConfig, api: IncidentApi) -> None:
        self.config = config
        self.api = api
        self.queue: asyncio.Queue[Ref] = asyncio.Queue()
        self.queued: set[tuple[str, str]] = set()
        self.running: dict[tuple[str, str], asyncio.Event] = {}  # key → the run's cancel event
        self.overdue: set[tuple[str, str]] = set()
        self.waiting: dict[tuple[str, str], Ref] = {}  # deferred while another run holds their namespaces
        self.reserved: dict[str, tuple[str, str]] = {}  # namespace → the Incident a worker here runs in it

    # -- what to do about an Incident -------------------------------------------------------------------
    def observe(self, obj: dict[str, Any]) -> None:
        """Queue an Incident that needs a run (unclaimed, or its holder's heartbeat stopped)."""
        ref = Ref.of(obj)
        key = (ref.namespace, ref.name)
        status = IncidentStatus.read(obj.get("status"))
        if status.terminal or key in self.running or key in self.queued:
            return
        if status.claim is None or self._stale(status.claim):
            self.queued.add(key)
            self.queue.put_nowait(ref)

    def forget(self, obj: dict[str, Any]) -> None:
        """The Incident was deleted: stop its run, if it is ours."""
        ref = Ref.of(obj)
        cancel = self.running.get((ref.namespace, ref.name))
        if cancel is not None:
            cancel.set()

    def _stale(self, claim: Claim) -> bool:
        return is_stale(claim, self.config.holder, self.config.lease_seconds, self.config.job_start_seconds)

    # -- workers -------------------------------------------------------------------------------------------
    async def worker(self) -> None:
        while True:
            ref = await self.queue.get()
            key = (ref.namespace, ref.name)
            try:
                await self._work(ref)
            except Exception:  # one Incident's trouble must not stop the worker
                log.exception("incident %s", ref)
            finally:
                self.queued.discard(key)
                self._release(key)
                ran = self.running.pop(key, None) is not None
                self.overdue.discard(key)
            if ran:  # what waited on this run's namespaces may go now
                waiting, self.waiting = self.waiting, {}
                for other in waiting.values():
                    if (other.namespace, other.name) not in self.queued:
                        self.queued.add((other.namespace, other.name))
                        self.queue.put_nowait(other)

    async def _work(self, ref: Ref) -> None:
        from kubernetes.client.rest import ApiException

        try:
            obj = await asyncio.to_thread(self.api.get, ref)
        except ApiException as err:
            if err.status == 404:
                return  # deleted while queued
            raise
        status = IncidentStatus.read(obj.get("status"))
        if status.terminal or (status.claim is not None and not self._stale(status.claim)):
            return
        key = (ref.namespace, ref.name)
        blocker = self._reserve(key, scope_of(obj)) or next((str(r) for r, _ in await self._rivals(obj)), None)
        if blocker is not None:
            self._release(key)
            self.waiting[key] = ref
            reason = f"waiting: Incident {blocker} is being worked on in the same namespace"
            if status.reason != reason:
                status.reason = reason
                await asyncio.to_thread(self.api.write_status, ref, status)
            return
        previous = status.claim.run_id if status.claim is not None else None
        if self.config.jobs is not None:
            await self._start_job(obj, status, previous)
            return
        claimed = claim_status(obj, status, self.config.holder, self.config.grace_seconds)
        stored = await self._claim(obj, status, claimed)
        if stored is None:
            self.waiting[key] = ref
            return
        cancel = asyncio.Event()
        self.running[key] = cancel
        run_id = claimed.claim.run_id if claimed.claim is not None else ""
        verb = f"taken over from run {previous}" if previous else "claimed"
        with contextlib.suppress(Exception):
            await asyncio.to_thread(
                self.api.post_event, stored, "Claimed", f"{verb} by {self.config.holder} as run {run_id}"
            )
        await execute(self.api, stored, claimed, self.config.executor, previous_run=previous, cancel=cancel,
                      overdue=lambda: key in self.overdue)  # fmt: skip

    async def _claim(
        self, obj: dict[str, Any], status: IncidentStatus, claimed: IncidentStatus
    ) -> dict[str, Any] | None:
        """Write `claimed` (a pending claim) if `obj` is still the stored version, then confirm it unless
        another Incident on the same namespaces was claimed first; the stored object, or None (withdrawn,
        or someone else claimed this one)."""
        from kubernetes.client.rest import ApiException

        assert claimed.claim is not None
        claimed.claim.confirmed = False
        try:
            stored = await asyncio.to_thread(self.api.replace_status, obj, claimed)
        except ApiException as err:
            if err.status in (404, 409):
                return None  # deleted, or another replica claimed it first
            raise
        mine = claimed.claim.run_id
        for _ in range(CONFIRM_ROUNDS):
            rivals = [claim for _, claim in await self._rivals(stored)]
            # A confirmed rival, or a pending one that sorts first, wins; a pending one that sorts after
            # this claim either sees it and withdraws or confirms: wait for it to do either.
            if any(c.confirmed or c.run_id < mine for c in rivals):
                break
            if not rivals:
                claimed.claim.confirmed = True
                try:
                    return await asyncio.to_thread(self.api.replace_status, stored, claimed)
                except ApiException as err:
                    if err.status in (404, 409):
                        return None
                    raise
            await asyncio.sleep(CONFIRM_WAIT_SECONDS)
        with contextlib.suppress(ApiException):  # withdraw: the Incident is as it was before the claim
            await asyncio.to_thread(self.api.write_status, Ref.of(stored), status)
        return None

    async def _rivals(self, obj: dict[str, Any]) -> list[tuple[Ref, Claim]]:
        """The other Incidents with a live claim on one of this one's namespaces, and their claims: two runs
        changing the same namespace at once would undo each other's fixes, so one waits for the other."""
        ref, mine = Ref.of(obj), scope_of(obj)
        found = []
        for other in await asyncio.to_thread(self.api.list, self.config.namespaces):
            theirs = Ref.of(other)
            if (theirs.namespace, theirs.name) == (ref.namespace, ref.name) or not scope_of(other) & mine:
                continue
            status = IncidentStatus.read(other.get("status"))
            if not status.terminal and status.claim is not None and not self._stale(status.claim):
                found.append((theirs, status.claim))
        return found

    def _reserve(self, key: tuple[str, str], namespaces: set[str]) -> str | None:
        """Hold `namespaces` for `key` in this process (no await between the check and the hold, so two of
        its workers never both pass); the Incident holding one of them instead, if any."""
        for ns in sorted(namespaces):
            holder = self.reserved.get(ns)
            if holder is not None and holder != key:
                return f"{holder[0]}/{holder[1]}"
        for ns in namespaces:
            self.reserved[ns] = key
        return None

    def _release(self, key: tuple[str, str]) -> None:
        for ns in [ns for ns, holder in self.reserved.items() if holder == key]:
            del self.reserved[ns]

    async def _start_job(self, obj: dict[str, Any], status: IncidentStatus, previous: str | None) -> None:
        """Claim the Incident for a Job and create the Job; its pod runs and records the Incident."""
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        assert self.config.jobs is not None
        ref = Ref.of(obj)
        run_id = new_run_id()
        holder = f"{JOB_HOLDER}{job_name(ref, run_id)}"
        claimed = claim_status(obj, status, holder, self.config.grace_seconds, executor="job", run_id=run_id)
        budget = claim_budget(obj) + self.config.grace_seconds
        job = job_manifest(ref, run_id, previous, self.config.executor.target, self.config.jobs, int(budget))
        stored = await self._claim(obj, status, claimed)
        if stored is None:
            return
        batch: Any = client.BatchV1Api(self.api.api)
        try:
            await asyncio.to_thread(batch.create_namespaced_job, self.config.jobs.namespace, job)
        except ApiException as err:
            claimed.enter("Failed", "JobNotCreated", f"the Job for run {run_id} was not created: HTTP {err.status} "
                          f"{err.reason}")  # fmt: skip
            await asyncio.to_thread(self.api.write_status, ref, claimed)
            return
        verb = f"taken over from run {previous}" if previous else "claimed"
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.api.post_event, stored, "JobCreated",
                                    f"{verb} for Job {self.config.jobs.namespace}/{job['metadata']['name']}")  # fmt: skip

    # -- the sweep: missed events, stale claims, deadlines ------------------------------------------------
    async def sweep(self) -> None:
        while True:
            try:
                items = await asyncio.to_thread(self.api.list, self.config.namespaces)
                for obj in items:
                    await self._sweep_one(obj)
            except Exception as err:  # the API server away for a while: the next sweep tries again
                log.warning("sweep failed: %s", err)
            await asyncio.sleep(self.config.sweep_seconds)

    async def _sweep_one(self, obj: dict[str, Any]) -> None:
        status = IncidentStatus.read(obj.get("status"))
        if status.terminal:
            return
        ref = Ref.of(obj)
        key = (ref.namespace, ref.name)
        if is_overdue(status.claim):
            if key in self.running:
                self.overdue.add(key)
                self.running[key].set()  # the executor writes Failed once the run stops
            elif status.claim is not None and self._stale(status.claim):
                status.enter("Failed", "DeadlinePassed", f"run {status.claim.run_id} of {status.claim.holder} did "
                             f"not end by its deadline {status.claim.deadline}")  # fmt: skip
                status.finished_at = now_iso()
                await asyncio.to_thread(self.api.write_status, ref, status)
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.api.post_event, obj, "Failed", status.reason, True)
            return
        self.observe(obj)


async def serve(config: OperatorConfig, api: Any, *, stop: threading.Event | asyncio.Event | None = None,
                ready: threading.Event | None = None) -> None:  # fmt: skip
    """Run the operator until `stop` is set (or forever)."""
    import kopf

    incidents = IncidentApi(api)
    controller = Controller(config, incidents)
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return connection_info(api)

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
    async def on_event(event: Any, body: Any, **_: Any) -> None:  # async: kopf runs it in the loop, not a thread
        obj = dict(body)
        if event.get("type") == "DELETED":
            controller.forget(obj)
        else:
            controller.observe(obj)

    settings = kopf.OperatorSettings()
    settings.posting.enabled = False  # the Events on Incidents are ours, one per state change
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="operator.sre-agent.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="operator.sre-agent.dev")
    settings.watching.server_timeout = 60
    tasks = [asyncio.create_task(controller.worker()) for _ in range(max(1, config.concurrency))]
    tasks.append(asyncio.create_task(controller.sweep()))
    try:
        await kopf.operator(
            registry=registry,
            settings=settings,
            standalone=True,
            clusterwide=config.namespaces is None,
            namespaces=config.namespaces or (),
            stop_flag=stop,
            ready_flag=ready,
        )
    finally:
        for task in tasks:
            task.cancel()
        for cancel in controller.running.values():
            cancel.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def connection_info(api: Any) -> Any:
    """kopf's ConnectionInfo for the kubernetes client's configuration (kubeconfig or in-cluster)."""
    import kopf

    cfg = api.configuration
    auth = (cfg.api_key or {}).get("authorization") or (cfg.api_key or {}).get("BearerToken") or ""
    prefix = (cfg.api_key_prefix or {}).get("authorization") or ""
    scheme, _, token = (f"{prefix} {auth}".strip() if prefix else auth).partition(" ")
    return kopf.ConnectionInfo(
        server=cfg.host,
        ca_path=cfg.ssl_ca_cert or None,
        insecure=not cfg.verify_ssl,
        scheme=scheme or None,
        token=token or None,
        certificate_path=cfg.cert_file or None,
        private_key_path=cfg.key_file or None,
    )
