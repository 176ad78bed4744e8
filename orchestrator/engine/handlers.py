"""One handler per state kind (machines/*.yaml `kind`). Each takes the run's state, the wiring and the state
spec, does that kind's work, and returns the machine's trigger with why: the loop fires it. A handler
never ends a run; only the machine's terminal states do."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict
from typing import Any

from ..agents import BudgetExceeded
from ..analyzers import CONTROLLED_KINDS, Scope, Snapshot, analyze, read_snapshot
from ..analyzers.rollout import revision
from ..analyzers.snapshot import parse_time
from ..dispatch import StateScope
from ..machines import StateSpec
from ..models.errors import ModelError
from ..redaction import mask_text
from ..roles import load_role
from ..verify import CheckSpec, Verdict
from .state import RunState, Step, cancelled
from .wiring import Wiring

Handler = Callable[[RunState, Wiring, StateSpec], Awaitable[Step]]
# Findings put in front of every model: medium/high confidence only, a handful, one short line each, so
# they fit beside the ledger even in the smallest class's per-call budget.
TOP_FINDINGS = 3
FINDING_EVIDENCE_CHARS = 200
ANALYSIS_TIMEOUT = 10.0  # per read; the reader also bounds pages and logs
# A rollout this recent keeps a run from ending "no fault found": a changed template is the prime suspect
# even when nothing alerts and the analyzers see nothing wrong (it may have removed a limit, say).
RECENT_CHANGE_SECONDS = 3600
# Some objects settle slower than any class's stabilisation window: an HPA scales down only after its
# 300 s scale-down stabilisation window (the Kubernetes default), so judging it sooner fails a good fix.
SETTLE_SECONDS_BY_KIND = {"HorizontalPodAutoscaler": 330}


async def intake(run: RunState, w: Wiring, st: StateSpec) -> Step:
    """Read the alert source; find the candidate targets when the incident names none."""
    res = await w.toolbox.call("get_alerts", {})
    firing = res.content.get("alerts", []) if res.ok else []
    if not run.alerts:
        scoped = [a for a in firing if not run.namespaces or a.get("labels", {}).get("namespace") in run.namespaces]
        run.alerts = [{"name": a.get("name"), "labels": a.get("labels", {})} for a in scoped]
    elif res.ok:
        names = {a.get("name") for a in firing}
        run.stale_alerts = sorted({str(a.get("name")) for a in run.alerts if a.get("name") not in names})
    run.candidates = sorted({a.get("labels", {}).get("namespace") for a in firing} - {None})
    if not run.namespaces and len(run.candidates) == 1:
        run.namespaces = list(run.candidates)
        run.assume(f"scope taken from the only namespace with firing alerts: {run.candidates[0]}")
    run.ledger.add([f"incident alert {a['name']} {a.get('labels', {})}" for a in run.alerts[:10]])
    await _first_pass(run, w, firing)
    facts = {"alerts": len(run.alerts), "stale_alerts": run.stale_alerts, "candidates": run.candidates}
    return "begin", {**facts, "healthy": run.healthy}


async def _first_pass(run: RunState, w: Wiring, firing: list[dict[str, Any]]) -> None:
    """The analyzers over the incident's scope (and the alerts firing anywhere, whose labels may name a
    cause), so every model starts from the cluster's own account of what is wrong. A failed pass is one
    trace line and leaves `run.findings` unset: the run goes on."""
    scope = run.namespaces or run.candidates
    if not scope:
        return
    try:
        result = await asyncio.to_thread(read_snapshot, w.session.api, scope, None, ANALYSIS_TIMEOUT)
        result.snapshot.alerts = list(firing)
        report = analyze(result.snapshot, Scope(tuple(scope)))
    except Exception as exc:  # unreachable or a reader bug: never the run's end, the agents can still read
        error = mask_text(f"{type(exc).__name__}: {exc}")[:300]  # masked before the cut, which could halve a secret
        w.trace.emit("analysis", namespaces=scope, error=error, findings=[])
        return
    run.findings = [f.to_dict() for f in report.findings]
    run.recent_changes = recent_rollouts(result.snapshot)
    w.trace.emit(
        "analysis",
        namespaces=scope,
        findings=run.findings,
        recent_changes=run.recent_changes,
        errors=report.errors,
        skipped=result.skipped,
    )
    run.finding_lines = [finding_line(f) for f in top_findings(run.findings)]


def recent_rollouts(reads: Snapshot) -> list[str]:
    """Workloads whose current ReplicaSet is a later revision created within RECENT_CHANGE_SECONDS and whose
    rollout has not settled, or settled but dropped a safeguard. A rollout that completed with every
    replica updated and available and weakened nothing, while no alert fires and no analyzer objects, is a
    change that worked, not a fault."""
    now = reads.time()
    if now is None:
        return []
    out = []
    for rs in reads.of("ReplicaSet"):
        created = parse_time((rs.get("metadata") or {}).get("creationTimestamp"))
        if revision(rs) >= 2 and created is not None and now - created <= RECENT_CHANGE_SECONDS:
            owner = reads.owner(rs)
            workload = reads.find(*owner) if owner else None
            if workload is not None and rollout_settled(workload) and not _dropped_safeguards(reads, rs):
                continue
            out.append("/".join(str(p or "") for p in owner) if owner else str(rs.get("metadata", {}).get("name")))
    return sorted(set(out))


SAFEGUARDS = ("resources", "livenessProbe", "readinessProbe", "startupProbe", "securityContext")


def _dropped_safeguards(reads: Snapshot, rs: dict[str, Any]) -> bool:
    """The revision before this one had limits, requests, probes or a security context that this one lacks:
    a change that worked today and weakened the workload (a removed memory limit), still a suspect."""
    owner = reads.owner(rs)
    before = next(
        (
            other
            for other in reads.of("ReplicaSet", (rs.get("metadata") or {}).get("namespace"))
            if reads.owner(other) == owner and revision(other) == revision(rs) - 1
        ),
        None,
    )
    if before is None:
        return False

    def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
        return list((((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or [])

    now = containers(rs)
    by_name = {c.get("name"): c for c in now}
    for i, old in enumerate(containers(before)):
        # The same container, by name, or by position when it was renamed.
        new = by_name.get(old.get("name")) or (now[i] if i < len(now) else {})
        for key in SAFEGUARDS:
            if old.get(key) and not new.get(key):
                return True
        for kind in ("limits", "requests"):
            if set((old.get("resources") or {}).get(kind) or {}) - set((new.get("resources") or {}).get(kind) or {}):
                return True
    return False


def rollout_settled(workload: dict[str, Any]) -> bool:
    """The controller saw the latest spec and every desired replica is updated and available."""
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    desired = spec.get("replicas", 1)
    observed = status.get("observedGeneration", 0) >= (workload.get("metadata") or {}).get("generation", 0)
    return (
        observed
        and status.get("updatedReplicas", 0) == desired
        and status.get("availableReplicas", 0) == desired
        and status.get("replicas", 0) == desired
    )


def top_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The strongest findings (already ranked by the analyzers), medium confidence and above."""
    return [f for f in findings if f.get("confidence") in ("high", "medium")][:TOP_FINDINGS]


def finding_line(f: dict[str, Any]) -> str:
    """One line of the findings message: `finding [confidence] ns/Kind/name: cause | owner: ns/Kind/name |
    explains: symptoms | fix: {...} | evidence: ...` (the built-in model parses this form, so keep it stable)."""
    evidence = "; ".join(str(e) for e in f.get("evidence") or [])
    if len(evidence) > FINDING_EVIDENCE_CHARS:
        evidence = evidence[: FINDING_EVIDENCE_CHARS - 3] + "..."
    line = f"finding [{f.get('confidence')}] {f.get('object')}: {f.get('cause')}"
    if f.get("owner") and f.get("kind") in CONTROLLED_KINDS:  # its controller's template makes it: the fix goes there
        line += f" | owner: {f['owner']}"
    if f.get("explains"):
        line += " | explains: " + ", ".join(f["explains"])
    if f.get("fix"):
        fix = {k: f["fix"][k] for k in ("action", "args")}
        if f.get("then"):  # the changes that complete it, in order
            fix["then"] = [{k: m[k] for k in ("action", "args")} for m in f["then"]]
        line += " | fix: " + json.dumps(fix, separators=(",", ":"))
    return line + (f" | evidence: {evidence}" if evidence else "")


async def clarify(run: RunState, w: Wiring, st: StateSpec) -> Step:
    question = (
        f"Incident {run.incident_name!r} names no namespace and alerts fire in "
        f"{', '.join(run.candidates) or 'no namespace'}. Which namespace is this about?"
    )
    answer = None
    if w.options.clarifier is not None:
        try:
            answer = await asyncio.wait_for(w.options.clarifier(question, run.candidates), w.options.clarify_timeout)
        except TimeoutError:
            answer = None
    if answer:
        run.namespaces = [answer]
        if not w.incident.spec.remediation.allowed_namespaces:  # writes stay inside the answered scope
            w.policy.allowed_namespaces = {answer}
        w.trace.emit("clarification", question=question, candidates=run.candidates, answer=answer)
    else:
        counts = {ns: sum(1 for a in run.alerts if a.get("labels", {}).get("namespace") == ns) for ns in run.candidates}
        guess = max(counts, key=lambda ns: counts[ns]) if counts else None
        run.namespaces = [guess] if guess else []
        run.forced_read_only = True
        w.policy.mode = "off"  # the guess is no scope to change things in: the policy holds that, not only the machine
        run.assume(f"nobody answered; assuming namespace {guess} and continuing read-only")
        w.trace.emit(
            "clarification",
            question=question,
            candidates=run.candidates,
            answer=None,
            assumption=guess,
            read_only=True,
        )
    w.toolbox.ctx.namespaces = run.namespaces
    if not w.incident.spec.alerts:  # the alerts read at intake spanned every candidate namespace
        run.alerts = [a for a in run.alerts if a.get("labels", {}).get("namespace") in run.namespaces]
    return "clarified", {"namespaces": run.namespaces}


def settle_seconds(stabilise_seconds: int, changed: Iterable[str]) -> int:
    """How long to wait after changing the objects `changed` (namespace/Kind/name or Kind/name) before
    verifying them: the model class's stabilisation window, longer for a kind that settles slowly."""
    kinds = {target.split("/")[-2] for target in changed if "/" in target}
    return max([stabilise_seconds, *(SETTLE_SECONDS_BY_KIND.get(k, 0) for k in kinds)])


def success_checks(incident: Any) -> list[CheckSpec]:
    """The checks the incident's `spec.success` adds to the gate's."""
    success = incident.spec.success
    return [CheckSpec(name=c.check, target=c.target, alert=c.alert) for c in (success.checks if success else [])]


async def wait(run: RunState, w: Wiring, st: StateSpec) -> Step:
    applied = [x["target"] for x in run.round_writes if x.get("mode") == "applied" and x.get("target")]
    seconds = settle_seconds(w.profile.stabilise_seconds, applied)
    await w.session.wait(seconds)
    return "waited", {"seconds": seconds}


async def audit(run: RunState, w: Wiring, st: StateSpec) -> Step:
    """After an unverified closure: the gate's checks, recorded for annotation only (never acted on)."""
    await wait(run, w, st)
    verdict = await _gate_verdict(run, w)  # the same checks the gate would have run
    w.trace.emit(
        "closure_audit",
        role=None,
        passed=verdict.passed,
        required=[asdict(c) for c in verdict.required],
        results=[asdict(r) for r in verdict.results],
        objections=list(verdict.objections),
    )
    return "audited", {"passed": verdict.passed}


async def gate(run: RunState, w: Wiring, st: StateSpec) -> Step:
    return await _judge(run, w, proposal=None)


async def verify(run: RunState, w: Wiring, st: StateSpec) -> Step:
    run.verify_rounds += 1
    (trigger, why), submission = await _converse(run, w, st)
    if trigger == "exhausted":
        return trigger, why
    return await _judge(run, w, submission["args"] if submission else None)


async def _gate_verdict(run: RunState, w: Wiring) -> Verdict:
    """The code gate on fresh reads, over what this round actually changed (and the incident's checks)."""
    gate = w.gate(run)
    remediated = sorted({x["target"] for x in run.round_writes if x.get("mode") == "applied" and x.get("target")})
    required = gate.required_checks(
        remediated, list((run.diagnosis or {}).get("checks") or []), success_checks(w.incident)
    )
    return await gate.evaluate(required)


async def _judge(run: RunState, w: Wiring, proposal: dict[str, Any] | None) -> Step:
    verdict = await _gate_verdict(run, w)
    agent_says = proposal.get("verdict") if proposal else None
    passed = verdict.passed and agent_says in (None, "PASS")
    objections = list(verdict.objections)
    if proposal and agent_says == "FAIL":
        objections += [f"verifier: {o}" for o in proposal.get("objections") or []] or ["verifier: FAIL"]
    if agent_says == "PASS" and not verdict.passed:
        w.live.refuse_contradicted_pass(objections)
    run.verdict = {
        "passed": passed,
        "proposed": agent_says,
        "gate_passed": verdict.passed,
        "required": [asdict(c) for c in verdict.required],
        "results": [asdict(r) for r in verdict.results],
        "objections": objections,
        "at": verdict.at,
        "advisory": list(verdict.advisory),
    }
    w.trace.emit("verifier_verdict", role="verifier", **run.verdict)
    run.objections = [] if passed else objections
    return ("passed" if passed else "failed"), {"objections": len(objections)}


async def agent(run: RunState, w: Wiring, st: StateSpec) -> Step:
    step, _ = await _converse(run, w, st)
    return step


async def _converse(run: RunState, w: Wiring, st: StateSpec) -> tuple[Step, dict[str, Any] | None]:
    """The state's role speaks, one model step at a time, until it submits, loops, runs out of steps or
    budget, or the run is cancelled. Returns the trigger and the accepted submission, if any (already
    recorded in the run's state)."""
    role = load_role(st.role or "investigator")
    speaker = w.crew.agent_for(role, st)
    allowed = set(role.read_tools) | ({st.submit} if st.submit else set()) | set(st.records)
    if st.writes:
        allowed |= set(role.write_tools)
        run.round_writes = []
    scope = StateScope(
        role,
        st.name,
        allowed,
        st.submit,
        w.machine.reject_mismatched_calls,
        records=st.records,
        dedupe=w.machine.dedupe_repeated_calls,
    )
    w.dispatcher.enter(scope, speaker.client)
    w.trace.role = role.name
    w.crew.pin_instruction(speaker, role, st)
    nudge = None
    steps = free = 0
    idle = 0  # replies in a row without a usable tool call
    try:
        while steps < st.step_cap:
            reason = w.budget_reason()
            if reason:
                return ("exhausted", {"reason": reason, "by": "budget"}), None
            if w.cancelled():
                return cancelled(st.name), None
            speaker.context.set_ledger(run.ledger.lines())
            # A head start for the diagnosis: once one exists they have served, and a verifier judges alone.
            head_start = run.diagnosis is None and role.name != "verifier"
            speaker.context.set_findings(w.crew.head_start(run) if head_start else [])
            try:
                outcome = await speaker.step(nudge)
            except ModelError as exc:
                return ("exhausted", {"reason": f"model error: {exc}", "by": "model_error"}), None
            except BudgetExceeded as exc:  # the context could not fit the class budget: never send it
                return ("exhausted", {"reason": str(exc), "by": "budget"}), None
            nudge = None
            step = w.dispatcher.take(outcome.requested, outcome.results)
            # With mitigations, a step whose calls were all answered without running (deduped, rejected,
            # refused) does not use the state's steps, up to one cap's worth: the guard costs no progress.
            if w.options.mitigations and outcome.requested and not step.ran and free < st.step_cap:
                free += 1
            else:
                steps += 1
            run.writes.extend(step.writes)
            if st.writes:
                run.round_writes = [x for x in run.writes if x.get("state") == st.name]
            if outcome.text is not None:
                w.trace.emit("agent_message", text=outcome.text[:2000])
                idle = 0 if outcome.requested else idle + 1
                if idle >= NO_CALL_LIMIT and w.crew.informed:
                    return ("exhausted", {"reason": no_call_reason(idle, outcome.text), "by": "model_error"}), None
                nudge = f"Reply with a tool call. When you are done in this state, call {st.submit}."
            else:
                idle = 0
            for rec in step.recorded:
                run.record_submission(rec["name"], rec["args"])
            step, note = w.live.after_step(step)
            nudge = note or nudge
            sub = step.submission
            if sub is not None:
                run.record_submission(sub["name"], sub["args"])
                return ("submitted", {"submission": sub["name"]}), sub
            if step.looping:
                w.live.force_out(st)
                return await w.live.closing_step(speaker, scope, st, w.dispatcher, w.budget_reason, forced="repetition")
        return await w.live.closing_step(speaker, scope, st, w.dispatcher, w.budget_reason)
    finally:
        w.trace.role = None


NO_CALL_LIMIT = 3  # replies in a row without a usable tool call before a model's state ends


def no_call_reason(replies: int, last: str) -> str:
    """Why a model that answers only in prose cannot go on, and what to do about it."""
    said = " ".join(last.split())[:120]
    return (
        f"model replies unusable: {replies} replies in a row carried no usable tool call (last: {said!r}); "
        'a model without native tool calling may answer {"name": TOOL, "arguments": {...}}: set '
        "SRE_AGENT_TOOL_CALLS=text, or choose a model that calls tools"
    )


HANDLERS: dict[str, Handler] = {
    "engine": intake,
    "clarify": clarify,
    "wait": wait,
    "audit": audit,
    "gate": gate,
    "verify": verify,
    "agent": agent,
}
