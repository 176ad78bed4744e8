"""Every tool call a model makes passes through here, in this order: trace the call, enforce the role's
permissions for the current state, reject a call that contradicts the model's declared action or comes with
none (when the machine asks for it), validate submissions, charge the step budget, run the tool, distil facts, trace the
result. The model always gets an answer it can read; nothing a model sends can crash the run.

After each model step, `take` says what happened (submissions, writes, whether the agent is looping) as a
`Dispatched` record, so the caller never reads or writes the dispatcher's own fields."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .facts import Ledger, facts_from
from .roles import Role, submission_errors
from .tools.errors import ToolError
from .tools.kinds import KINDS, UnknownKind, ref, resolve_kind
from .trace import Trace

# One tool answer, as sent to the model. Reads summarise (the largest in the calibrated bench is 5 KB), so
# only a runaway output (a log of megabytes on one line, say) reaches this.
MAX_TOOL_OUTPUT_CHARS = 256 * 1024


def cap_answer(text: str, ok: bool, error: str | None) -> str:
    """A tool answer over MAX_TOOL_OUTPUT_CHARS keeps its start and says so. The context trims every result
    to the class's token budget, but measuring that costs a tokeniser pass over the whole text: megabytes
    of logs would cost seconds per call."""
    if len(text) <= MAX_TOOL_OUTPUT_CHARS:
        return text
    note = f"the output was {len(text):,} characters, over the {MAX_TOOL_OUTPUT_CHARS:,}-character cap; only its start is kept"
    return json.dumps({"ok": ok, "error": error, "note": note, "start": text[: MAX_TOOL_OUTPUT_CHARS // 2]})


def signature(name: str, args: dict[str, Any]) -> str:
    """Identity of a call (tool + canonical arguments), for spotting repetitions."""
    blob = json.dumps([name, args], sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def _target_of(args: dict[str, Any]) -> str | None:
    """The entity a call is about, named as everywhere else (`ns/Kind/name`, kubectl spellings resolved)."""
    ns, kind, name = args.get("namespace"), args.get("kind"), args.get("name")
    if kind and name:
        with contextlib.suppress(ToolError):  # an unknown kind: the tool itself answers with the error
            kind = resolve_kind(kind).kind
        return ref(str(kind), ns, str(name))
    return args.get("workload") or args.get("pod") or args.get("node") or name or ns


async def _has_events(ctx: Any, kind: str, namespace: str | None, name: str) -> bool:
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    return bool(await ctx.kube.list(KINDS["Event"], namespace, field_selector=selector))


def _proposed_changes(diagnosis: dict[str, Any]) -> set[str]:
    """`namespace/Kind/name` of each object the diagnosis's mitigations would write, by the write tools'
    own declaration of what they change."""
    from .tools.registry import get

    out = set()
    for m in diagnosis.get("mitigations") or []:
        spec = get(str(m.get("action"))) if isinstance(m, dict) else None
        if spec is not None and spec.access == "write" and isinstance(m.get("args"), dict):
            out.add(spec.changed_object(m["args"]))
    return out - {""}


@dataclass
class Budget:
    steps: int
    tokens: int
    seconds: float
    used_steps: int = 0

    def exhausted(self, tokens_used: int, elapsed: float) -> str | None:
        if self.used_steps >= self.steps:
            return f"step budget of {self.steps} tool calls used up"
        if tokens_used >= self.tokens:
            return f"token budget of {self.tokens} used up ({tokens_used})"
        if elapsed >= self.seconds:
            return f"time budget of {self.seconds:.0f} s used up"
        return None


@dataclass
class StateScope:
    """What the speaking role may do in the current state."""

    role: Role
    state: str
    allowed: set[str]
    submit: str | None
    reject_mismatch: bool
    records: tuple[str, ...] = ()  # submissions recorded without ending the state
    dedupe: bool = True
    closing: bool = False  # the machine's last call for the submission: nothing else runs


@dataclass
class PastCall:
    seq: int
    digest: str
    facts_known: int  # ledger size when the result came back: "nothing new since" is a size check
    answer: str


@dataclass(frozen=True)
class Dispatched:
    """What the calls of one model step did."""

    submission: dict[str, Any] | None  # the state's own submission ({name, args, seq}), accepted
    recorded: list[dict[str, Any]]  # further submissions accepted without ending the state
    writes: list[dict[str, Any]]  # write tool results (applied, dry-run, denied or failed)
    ran: int  # calls that ran against the cluster (answers from memory, rejections and submissions do not)
    looping: bool  # the agent keeps repeating itself: the machine should move on


# A call repeated with the same result this many times, with no new fact in between, is answered from the
# last result instead of being run again (MAST FM-1.3); the machine's `loop_limit` such answers in a row (no
# call ran in between) end the state.
REPEATS_BEFORE_DEDUPE = 2


@dataclass
class Dispatcher:
    trace: Trace
    toolbox: Any  # orchestrator.tools.Toolbox
    ledger: Ledger
    budget: Budget
    # the live MAST check of a submission just traced: a refusal note, or None to accept it
    veto: Callable[[str, dict[str, Any]], str | None] | None = None
    unrun_is_free: bool = False  # steps whose calls did not run are not counted (mitigations on)
    loop_limit: int = 3  # answers from memory in a row that make a loop (the machine's option)
    scope: StateScope | None = None
    declared: Any = None  # the MeteredClient of the speaking role (for its declared action)
    dispatched_ids: set[str] = field(default_factory=set)
    history: dict[str, list[PastCall]] = field(default_factory=dict)
    dedupes_in_state: int = 0
    # what the current step did, handed over (and cleared) by `take`
    _submission: dict[str, Any] | None = field(default=None, init=False)
    _recorded: list[dict[str, Any]] = field(default_factory=list, init=False)
    _writes: list[dict[str, Any]] = field(default_factory=list, init=False)
    _ran_before: int = field(default=0, init=False)

    def enter(self, scope: StateScope, client: Any) -> None:
        self.scope, self.declared, self._submission = scope, client, None
        self.dedupes_in_state = 0
        self.history = {}  # repetition is judged within a state: after a wait or a write, reads are fresh
        self._recorded, self._writes, self._ran_before = [], [], self.budget.used_steps

    def take(self, requested: Sequence[dict[str, Any]] = (), results: Sequence[dict[str, Any]] = ()) -> Dispatched:
        """What the step just taken did; calls autogen answered itself (given here) are traced first."""
        self._trace_undispatched(requested, results)
        step = Dispatched(
            self._submission,
            self._recorded,
            self._writes,
            self.budget.used_steps - self._ran_before,
            self.looping,
        )
        self._submission, self._recorded, self._writes, self._ran_before = None, [], [], self.budget.used_steps
        return step

    @property
    def looping(self) -> bool:
        """The speaking agent keeps repeating itself: the machine should move on."""
        return self.dedupes_in_state >= self.loop_limit

    def _repeat_of(self, sig: str) -> PastCall | None:
        past = self.history.get(sig, [])
        if len(past) < REPEATS_BEFORE_DEDUPE:
            return None
        last = past[-REPEATS_BEFORE_DEDUPE:]
        same = all(p.digest == last[0].digest for p in last)
        return last[-1] if same and last[-1].facts_known == len(self.ledger.lines()) else None

    async def handle(self, name: str, args: dict[str, Any], call_id: str | None) -> str:
        scope = self.scope
        assert scope is not None, "a tool call outside an agent state"
        if call_id:
            self.dispatched_ids.add(call_id)
        declared = getattr(self.declared, "declared", None)
        call = self.trace.emit(
            "tool_call",
            tool=name,
            args=args,
            signature=signature(name, args) if isinstance(args, dict) else None,
            call_id=call_id,
            target=_target_of(args),
            declared_action={"tool": declared.tool, "target": declared.target} if declared and declared.tool else None,
        )

        def answer(ok: bool, content: dict[str, Any], error: str | None = None, **extra: Any) -> str:
            if self.unrun_is_free and not extra.get("result_digest"):
                content = {**content, "counted": False}  # it did not run: the state's steps are untouched
            self.trace.emit(
                "tool_result",
                tool=name,
                call_seq=call.seq,
                call_id=call_id,
                status="ok" if ok else extra.pop("status", "error"),
                error=error,
                **extra,
            )
            return json.dumps({"ok": ok, "error": error, **content}, default=str)

        if scope.closing and name != scope.submit:
            return answer(
                False,
                {},
                f"the step cap of {scope.state} is reached: only {scope.submit} runs now",
                status="rejected",
                reason="closing_step",
            )
        if name not in scope.allowed:
            return answer(
                False,
                {},
                f"{name} is not available to the {scope.role.name} in state {scope.state}; "
                f"available: {', '.join(sorted(scope.allowed))}",
                status="rejected",
                reason="role_permission",
            )
        said = declared.tool if declared is not None else None
        # A reply that declares nothing (no text, or no Action line) matches no call: without this, leaving
        # the text out would be the way around the check.
        if scope.reject_mismatch and said != name:
            self.trace.emit(
                "mitigation",
                mode="2.6",
                detector="declared_action_mismatch",
                action="rejected the call before it ran",
                call_seq=call.seq,
                declared=said,
                called=name,
            )
            told = (
                f"you declared 'Action: {said}' but called {name}; reconcile your plan and call the tool you declared"
                if said
                else f"you called {name} without declaring it; write 'Action: {name} <target>' in the same reply as the call"
            )
            return answer(False, {}, told, status="rejected", reason="declared_action_mismatch")
        role_subs = scope.role.submissions
        if name in role_subs:
            errors = submission_errors(role_subs[name], args)
            if errors:
                return answer(False, {}, f"{name} rejected: {'; '.join(errors[:5])}", status="invalid")
            absent = await self._absent_root(args)
            if absent is not None:
                return answer(False, {}, f"{name} rejected: {absent}", status="rejected", reason="absent_root_cause")
            recorded = {"name": name, "args": args, "seq": call.seq}
            if name == scope.submit:
                self._submission = recorded
            else:
                self._recorded.append(recorded)
            self.trace.emit(
                "submission", submission=name, content=args, call_seq=call.seq, ends_state=name == scope.submit
            )
            refusal = self.veto(name, args) if self.veto is not None else None
            if refusal is not None:
                if name == scope.submit:
                    self._submission = None
                else:
                    self._recorded.remove(recorded)
                return answer(False, {}, f"{name} refused: {refusal}", status="rejected", reason="refused_submission")
            return answer(True, {"accepted": name})
        sig = signature(name, args)
        repeat = self._repeat_of(sig) if scope.dedupe else None
        if repeat is not None:
            self.dedupes_in_state += 1
            self.trace.emit(
                "mitigation",
                mode="1.3",
                detector="repeated_call",
                action=f"answered from call #{repeat.seq} without running it again",
                call_seq=call.seq,
            )
            self.trace.emit(
                "tool_result",
                tool=name,
                call_seq=call.seq,
                call_id=call_id,
                status="deduped",
                error=None,
                same_as=repeat.seq,
            )
            note: dict[str, Any] = {
                "note": f"same as call #{repeat.seq}: this exact call already returned this result and nothing new was learnt since; use it or do something else"
            }
            if self.unrun_is_free:
                note["counted"] = False
            return json.dumps({**json.loads(repeat.answer), **note})
        self.budget.used_steps += 1
        result = await self.toolbox.call(name, args)
        facts = self.ledger.add(facts_from(name, result.ok, result.content, result.error))
        self.dedupes_in_state = 0  # a call that ran breaks the streak: a loop is answers from memory in a row
        if result.write is not None:
            self._writes.append({**result.write, "call_seq": call.seq, "state": scope.state})
        body = json.dumps(result.content, default=str)
        digest = hashlib.sha1(body.encode()).hexdigest()[:12]
        text = answer(
            result.ok,
            result.content,
            result.error,
            targets=result.targets,
            write=result.write,
            result_chars=len(body),
            result_digest=digest,
            facts=facts,
        )
        text = cap_answer(text, result.ok, result.error)
        if result.write is None:  # writes are never answered from memory
            self.history.setdefault(sig, []).append(PastCall(call.seq, digest, len(self.ledger.lines()), text))
        return text

    async def _absent_root(self, args: dict[str, Any]) -> str | None:
        """Why a root-cause entity (contributing_factor true) cannot be the root cause because the cluster
        has no such object, as one line the model can act on; None when each exists, is what a proposed
        mitigation writes, or a read cannot tell (an unreachable cluster is no reason to refuse a diagnosis)."""
        ctx = getattr(self.toolbox, "ctx", None)
        if ctx is None:
            return None
        recreated = _proposed_changes(args)
        for entity in args.get("entities") or []:
            if not isinstance(entity, dict) or not entity.get("contributing_factor"):
                continue
            if entity.get("name") in recreated:
                continue  # a deleted object the diagnosis's own mitigation puts back (restore_service, say)
            namespace, kind, name = str(entity.get("name")).split("/", 2)  # the schema's pattern holds
            try:
                try:
                    info = resolve_kind(kind)
                except UnknownKind:
                    found_kind = await ctx.discovery.find(kind)
                    if found_kind is None:
                        return f"root cause {entity['name']}: the cluster serves no kind {kind!r}; name it with its real kind"
                    info = found_kind
                if info.namespaced and not namespace:
                    continue
                obj = await ctx.kube.find(info, name, namespace if info.namespaced else None)
                # An object that is gone but whose events the cluster still serves (a preempted bare pod)
                # existed: it may be the root cause of its own disappearance.
                if obj is None and await _has_events(ctx, info.kind, namespace if info.namespaced else None, name):
                    continue
            except ToolError:
                continue
            if obj is None:
                where = f" in namespace {namespace}" if info.namespaced else ""
                return (
                    f"root cause {entity['name']} does not exist: the cluster has no {info.kind} {name!r}{where}; "
                    "name an object you have read"
                )
        return None

    def _trace_undispatched(self, requested: Sequence[dict[str, Any]], results: Sequence[dict[str, Any]]) -> None:
        """Calls autogen answered itself (arguments not JSON, unknown tool): trace them too."""
        by_id = {r["call_id"]: r for r in results}
        for req in requested:
            if req["id"] in self.dispatched_ids:
                continue
            call = self.trace.emit(
                "tool_call", tool=req["name"], args_raw=str(req["arguments"])[:500], call_id=req["id"], malformed=True
            )
            res = by_id.get(req["id"], {})
            self.trace.emit(
                "tool_result",
                tool=req["name"],
                call_seq=call.seq,
                call_id=req["id"],
                status="malformed",
                error=str(res.get("content", ""))[:300],
            )
