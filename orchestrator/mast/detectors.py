"""Deterministic MAST detectors over a run's trace events (dicts as in trace.jsonl).

Every detector reads the events once, in order (`feed`), and may add findings when the run is over
(`finish`); a shared `RunView` keeps what the run has shown so far (scope, mode, verdicts, writes, calls by
seq), so a whole trace costs one pass and the same code serves post-run annotation and live detection.
A detector also says whether the trace lets its mode be decided at all (`assessable`): a mode that cannot
be decided is reported as None, never guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from .taxonomy import thresholds, write_tools

Event = dict[str, Any]
SUBMISSION_PREFIX = "submit_"
NOT_OK = ("error", "malformed", "invalid")
# A resolution claim in an agent's own words ("the incident is fixed"), unless negated just before it.
CLAIM = re.compile(r"(?<!not )(?<!n't )\b(fixed|resolved|recovered|back to normal|is healthy|are healthy)\b", re.I)
DROPPED_CALL = re.compile(r"([A-Za-z_]\w*)\((.*)$", re.S)


@dataclass(frozen=True)
class Finding:
    mode: str  # "1.3"
    rule: str  # "repeat-same-signature-3x"
    events: list[int]  # trace seqs that show it
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "rule": self.rule, "events": list(self.events), "detail": self.detail}


def _data(ev: Event) -> dict[str, Any]:
    return ev.get("data") or {}


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _roots(diagnosis: dict[str, Any]) -> frozenset[str]:
    return frozenset(
        str(e.get("name"))
        for e in diagnosis.get("entities") or []
        if isinstance(e, dict) and e.get("contributing_factor")
    )


SELF_CHECKED_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Service", "HorizontalPodAutoscaler", "Node"}


def _is_workload(target: Any) -> TypeGuard[str]:
    return isinstance(target, str) and target.count("/") >= 2


@dataclass
class RunView:
    """What the trace has shown so far; updated by `observe` before detectors see each event."""

    started: bool = False
    initial_state: str | None = None
    mode: str | None = None
    scope: set[str] = field(default_factory=set)
    given_scope: bool = False
    candidates: list[str] | None = None
    read_only: bool = False
    clarified: bool = False
    calls: dict[int, Event] = field(default_factory=dict)  # tool_call events by seq
    submission_calls: set[int] = field(default_factory=set)
    applied_since_verdict: list[str] = field(default_factory=list)  # write targets of the current round
    last_applied_seq: int | None = None
    last_verdict: Event | None = None
    last_proposal: dict[str, Any] | None = None
    llm_in_state: dict[str, int] = field(default_factory=dict)  # role -> model calls since the last transition
    declares_actions: bool = False
    submissions: int = 0
    end: Event | None = None
    transitions: int = 0
    audit: Event | None = None  # closure_audit: a run without a verifier, checked by the harness after closing
    verifierless: bool = False  # run_start mitigations=false: one agent, no verifier, no gate
    looked_since_applied: bool = False  # an ok read came back after the last applied write
    wrote_this_round: bool = False  # a write tool was called in this round (since the last verdict)

    def observe(self, ev: Event) -> None:
        kind, d = ev.get("kind"), _data(ev)
        if kind == "run_start":
            self.started = True
            self.initial_state = ev.get("state")
            self.mode = d.get("mode")
            self.scope = set((d.get("incident") or {}).get("namespaces") or [])
            self.given_scope = bool(self.scope)
            self.read_only = self.mode == "off"
            self.verifierless = d.get("mitigations") is False
        elif kind == "state_transition":
            self.transitions += 1
            self.llm_in_state = {}
            if d.get("candidates") is not None and self.candidates is None:
                self.candidates = list(d["candidates"])
            if d.get("namespaces"):
                self.scope = set(d["namespaces"])
        elif kind == "clarification":
            self.clarified = True
            chosen = d.get("answer") or d.get("assumption")
            if chosen:
                self.scope = {chosen}
            if d.get("read_only"):
                self.read_only = True
        elif kind == "llm_call":
            role = ev.get("role") or "?"
            self.llm_in_state[role] = self.llm_in_state.get(role, 0) + 1
            if d.get("declared_action"):
                self.declares_actions = True
        elif kind == "tool_call":
            self.calls[ev["seq"]] = ev
            if d.get("declared_action"):
                self.declares_actions = True
            if d.get("tool") in write_tools():
                self.wrote_this_round = True
        elif kind == "closure_audit":
            self.audit = ev
        elif kind == "submission":
            self.submissions += 1
            if d.get("call_seq") is not None:
                self.submission_calls.add(d["call_seq"])
            if d.get("submission") == "submit_verdict":
                self.last_proposal = d.get("content") or {}
        elif kind == "tool_result":
            write = d.get("write") or {}
            if write.get("mode") == "applied" and write.get("target"):
                self.applied_since_verdict.append(write["target"])
                self.last_applied_seq = ev["seq"]
                self.looked_since_applied = False
            elif d.get("status") == "ok" and not write and self.is_read_result(ev):
                self.looked_since_applied = True
        elif kind == "run_end":
            self.end = ev

    def after(self, ev: Event) -> None:
        """Bookkeeping that must happen after detectors saw the event (a verdict closes a round)."""
        if ev.get("kind") == "verifier_verdict":
            self.wrote_this_round = False
            self.last_verdict = ev
            self.applied_since_verdict = []
            self.last_proposal = None

    @property
    def ambiguous(self) -> bool:
        # The engine's own reading: no namespace given and not exactly one namespace with firing alerts.
        return not self.given_scope and (self.candidates is None or len(self.candidates) != 1)

    def call_of(self, result: Event) -> Event | None:
        seq = _data(result).get("call_seq")
        return self.calls.get(seq) if seq is not None else None

    def is_read_result(self, result: Event) -> bool:
        d = _data(result)
        return (
            not str(d.get("tool", "")).startswith(SUBMISSION_PREFIX) and d.get("call_seq") not in self.submission_calls
        )

    def namespace_of(self, call: Event) -> str | None:
        d = _data(call)
        args = d.get("args") or {}
        if isinstance(args, dict) and args.get("namespace"):
            return str(args["namespace"])
        target = d.get("target")
        return target.split("/")[0] if isinstance(target, str) and "/" in target else None


class Detector:
    mode = ""

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        return []

    def finish(self, run: RunView) -> list[Finding]:
        return []

    def assessable(self, run: RunView) -> bool:
        return run.started


class TaskSpec(Detector):
    """1.1: a write in a read-only run, a write outside scope, or a final output never repaired.

    Why: these break an explicit constraint of the incident (mode, scope, output schema) whether or not the
    action policy caught them; a denied write still shows the agent ignored the spec."""

    mode = "1.1"

    def __init__(self) -> None:
        self.writes = write_tools()
        self.flagged: set[int] = set()
        self.invalid: dict[str, list[int]] = {}

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d = ev["kind"], _data(ev)
        out: list[Finding] = []
        if kind == "tool_call" and run.read_only and d.get("tool") in self.writes:
            self.flagged.add(ev["seq"])
            out.append(
                Finding(self.mode, "write-in-read-only-run", [ev["seq"]], f"{d['tool']} called in a read-only run")
            )
        elif kind == "tool_result":
            write = d.get("write") or {}
            target = write.get("target")
            ns = target.split("/")[0] if isinstance(target, str) and "/" in target else None
            if run.read_only and write and d.get("call_seq") not in self.flagged:
                out.append(
                    Finding(
                        self.mode, "write-in-read-only-run", [ev["seq"]], f"{write.get('action')} in a read-only run"
                    )
                )
            if ns and run.scope and ns not in run.scope and write.get("mode") != "denied":
                out.append(
                    Finding(self.mode, "write-outside-scope", [ev["seq"]], f"{target} is outside {sorted(run.scope)}")
                )
            tool = str(d.get("tool", ""))
            if d.get("status") == "invalid" and tool.startswith(SUBMISSION_PREFIX):
                self.invalid.setdefault(tool, []).append(ev["seq"])
        elif kind == "submission":
            submitted = d.get("submission")
            if submitted is not None:
                self.invalid.pop(submitted, None)
        return out

    def finish(self, run: RunView) -> list[Finding]:
        return [
            Finding(
                self.mode, "invalid-submission-never-repaired", seqs, f"{tool} failed its schema and was never repaired"
            )
            for tool, seqs in self.invalid.items()
        ]


class RoleSpec(Detector):
    """1.2: an agent does another role's job (a tool outside its role, a verdict from a non-verifier, a
    diagnosis from the verifier). Why: role separation is what makes the verifier independent."""

    mode = "1.2"
    VERIFIER_MUST_NOT = ("submit_plan", "submit_diagnosis", "submit_mitigation")

    def __init__(self) -> None:
        self.flagged: set[int] = set()

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d, role = ev["kind"], _data(ev), ev.get("role")
        if kind == "tool_call":
            tool = d.get("tool")
            if tool == "submit_verdict" and role and role != "verifier":
                self.flagged.add(ev["seq"])
                return [Finding(self.mode, "verdict-by-non-verifier", [ev["seq"]], f"the {role} issued a verdict")]
            if role == "verifier" and tool in self.VERIFIER_MUST_NOT:
                self.flagged.add(ev["seq"])
                return [Finding(self.mode, "verifier-does-investigation", [ev["seq"]], f"the verifier called {tool}")]
        elif kind == "tool_result" and d.get("reason") == "role_permission" and d.get("call_seq") not in self.flagged:
            return [
                Finding(
                    self.mode,
                    "tool-outside-role",
                    [s for s in (d.get("call_seq"), ev["seq"]) if s is not None],
                    f"the {role} called {d.get('tool')}, which its role does not allow here",
                )
            ]
        return []


class StepRepetition(Detector):
    """1.3: the same call (signature) returns the same result digest >= repeat_min times with no new fact
    and no applied write in between. Why: polling whose result changes is progress, not repetition; only an
    identical answer to an identical question with nothing learned is wasted work."""

    mode = "1.3"

    def __init__(self) -> None:
        self.min = int(thresholds()["repeat_min"])
        self.epoch = 0  # bumps whenever something new is learned or changed
        self.streaks: dict[str, tuple[str, int, list[int]]] = {}  # signature -> (digest, epoch, call seqs)

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        if ev["kind"] != "tool_result":
            return []
        d = _data(ev)
        call = run.call_of(ev)
        digest = d.get("result_digest")
        out: list[Finding] = []
        sig = _data(call).get("signature") if call is not None else None
        prev = self.streaks.get(sig) if sig else None
        if d.get("status") == "deduped" and prev is not None:
            digest = prev[0]  # answered from memory: the same result again, so still a repeat
        if call is not None and digest is not None and run.is_read_result(ev):
            if prev and prev[0] == digest and prev[1] == self.epoch:
                seqs = prev[2] + [call["seq"]]
            else:
                seqs = [call["seq"]]
            if len(seqs) == self.min:
                out.append(
                    Finding(
                        self.mode,
                        f"repeat-same-signature-{self.min}x",
                        seqs,
                        f"{d.get('tool')} returned the same result {self.min} times with nothing new in between",
                    )
                )
            news = bool(d.get("facts")) or (d.get("write") or {}).get("mode") == "applied"
            if news:
                self.epoch += 1
            if sig:  # a call without a signature starts no streak
                self.streaks[sig] = (digest, self.epoch, seqs)
        return out


class HistoryLoss(Detector):
    """1.4: the agent re-fetches what pruning dropped although nothing changed and nothing gave a new reason
    (no write, verdict or clarification since). Why: information it had was lost, not that the world moved
    on. (Naming a root cause again after a failed verdict is not counted: the fix may just not have settled;
    nor is reading again after a machine that starts each state from the ledger alone moved to a new state.)

    A dropped message is matched to earlier calls by tool name and argument text (the prune report keeps the
    first 80 characters, compared without whitespace); an explicit `signature` in the report wins."""

    mode = "1.4"

    def __init__(self) -> None:
        self.reason_epoch = 0
        # (role, sig) -> (digest, call seq, epoch it was read in): a read from an earlier epoch may be redone
        self.last: dict[tuple[str, str], tuple[str | None, int, int]] = {}
        self.by_tool: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (role, tool) -> [(sig, args text)]
        self.dropped: dict[tuple[str, str], tuple[str | None, int, int]] = {}  # -> (digest, prune seq, epoch)
        self.made: dict[tuple[str, str], int] = {}  # (role, sig) -> calls made; a sig is lost once all are dropped
        self.lost: dict[tuple[str, str], int] = {}  # (role, sig) -> dropped copies
        self.fresh_per_state = False  # the machine starts every state from the ledger alone (open models)

    def _signatures(self, role: str, entry: dict[str, Any]) -> set[str]:
        if entry.get("signature"):
            return {entry["signature"]}
        sigs: set[str] = set()
        for part in str(entry.get("text", "")).split(" | "):
            m = DROPPED_CALL.match(part.strip())
            if not m:
                continue
            prefix = _compact(m[2]).rstrip(")")
            for sig, args in self.by_tool.get((role, m[1]), []):
                if args.startswith(prefix) or prefix.startswith(args):
                    sigs.add(sig)
        return sigs

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d, role = ev["kind"], _data(ev), ev.get("role") or "?"
        out: list[Finding] = []
        if kind == "tool_call" and d.get("signature"):
            args = _compact(json.dumps(d.get("args") or {}))
            self.by_tool.setdefault((role, d.get("tool", "")), []).append((d["signature"], args))
            self.made[(role, d["signature"])] = self.made.get((role, d["signature"]), 0) + 1
        elif kind == "tool_result" and run.is_read_result(ev):
            call = run.call_of(ev)
            sig = _data(call).get("signature") if call else None
            if call and sig:
                key = (role, sig)
                was = self.dropped.pop(key, None)
                if was and was[0] == d.get("result_digest") and was[2] == self.reason_epoch:
                    out.append(
                        Finding(
                            self.mode,
                            "refetch-after-prune",
                            [was[1], call["seq"]],
                            f"{d.get('tool')} re-fetched after a prune dropped it; same result, no new reason",
                        )
                    )
                self.last[key] = (d.get("result_digest"), call["seq"], self.reason_epoch)
            if (d.get("write") or {}).get("mode") == "applied":
                self.reason_epoch += 1
        elif kind == "context_prune" and d.get("reason") in ("budget", "reset"):
            for entry in d.get("dropped") or []:
                if isinstance(entry, dict):
                    for sig in self._signatures(role, entry):
                        key = (role, sig)
                        self.lost[key] = self.lost.get(key, 0) + 1
                        # an older copy dropped while a newer one is still in context loses nothing
                        if key in self.last and self.lost[key] >= self.made.get(key, 0):
                            self.dropped[key] = (self.last[key][0], ev["seq"], self.last[key][2])
        elif kind in ("clarification", "verifier_verdict"):
            self.reason_epoch += 1
        elif kind == "run_start":
            self.fresh_per_state = bool(d.get("fresh_context_per_state"))
        elif kind == "state_transition" and self.fresh_per_state:
            # A planned reset: every copy of every read is gone and reading again is the design, not a loss.
            for counts in (self.last, self.dropped, self.made, self.lost):
                counts.clear()
        return out


class Termination(Detector):
    """1.5: the run ran into its budget or a state's step cap, the machine had to force a state's submission
    (closing step), or agents kept acting after the verifier passed. Why: each means the agents did not recognise when to stop; the machine had to."""

    mode = "1.5"

    def __init__(self) -> None:
        self.passed_at: int | None = None
        self.after_pass_flagged = False
        self.last_transition: Event | None = None

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d = ev["kind"], _data(ev)
        if kind == "verifier_verdict" and d.get("passed"):
            self.passed_at = ev["seq"]
        elif kind in ("llm_call", "tool_call") and self.passed_at is not None and not self.after_pass_flagged:
            self.after_pass_flagged = True
            return [Finding(self.mode, "steps-after-pass", [self.passed_at, ev["seq"]], "an agent acted after PASS")]
        elif kind == "state_transition":
            self.last_transition = ev
        elif kind == "mitigation" and d.get("detector") == "step_cap_reached":
            return [
                Finding(
                    self.mode,
                    "submitted-only-when-forced",
                    [ev["seq"]],
                    f"{ev.get('state')} used its steps; the machine had to ask for the submission",
                )
            ]
        elif kind == "run_end" and d.get("ended_by") == "budget":
            return [Finding(self.mode, "ended-by-budget", [ev["seq"]], str(d.get("reason") or "budget used up"))]
        return []

    def finish(self, run: RunView) -> list[Finding]:
        last = self.last_transition
        if last is not None and _data(last).get("trigger") == "step_cap" and run.end is not None:
            d = _data(last)
            return [
                Finding(
                    self.mode,
                    "step-cap-ended-run",
                    [last["seq"]],
                    f"state {d.get('source')} hit its step cap; run ended",
                )
            ]
        return []


class ConversationReset(Detector):
    """2.1: the machine returns to its initial state, or a role's history is wiped after it already spoke
    in the current state. Why: a reset between states is planned (open models); one mid-state discards
    work in progress."""

    mode = "2.1"

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d = ev["kind"], _data(ev)
        if kind == "state_transition" and run.transitions > 1 and d.get("dest") == run.initial_state:
            return [Finding(self.mode, "back-to-initial-state", [ev["seq"]], f"{d.get('source')} -> {d.get('dest')}")]
        if kind == "context_prune" and d.get("reason") == "reset" and run.llm_in_state.get(ev.get("role") or "?"):
            return [
                Finding(
                    self.mode, "reset-mid-state", [ev["seq"]], f"the {ev.get('role')}'s history was wiped mid-state"
                )
            ]
        return []


class Clarification(Detector):
    """2.2: the incident is ambiguous and an agent writes or submits a diagnosis before any clarification, or a
    diagnosis names a root cause citing no evidence at all. Why: both act on a guess where a question (or
    more reading) should have come first."""

    mode = "2.2"

    def __init__(self) -> None:
        self.flagged = False

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        d = _data(ev)
        if ev["kind"] == "submission" and d.get("submission") == "submit_diagnosis":
            content = d.get("content") or {}
            guessed = [
                str(e.get("name"))
                for e in content.get("entities") or []
                if isinstance(e, dict) and e.get("contributing_factor") and not e.get("evidence")
            ]
            if guessed:
                return [Finding(self.mode, "root-cause-without-evidence", [ev["seq"]], f"no evidence for {guessed}")]
        if self.flagged or run.clarified or not run.ambiguous:
            return []
        acted = (ev["kind"] == "tool_result" and d.get("write")) or (
            ev["kind"] == "submission" and d.get("submission") == "submit_diagnosis"
        )
        if acted:
            self.flagged = True
            what = "a write" if ev["kind"] == "tool_result" else "a diagnosis"
            return [Finding(self.mode, "acted-without-clarification", [ev["seq"]], f"{what} on an ambiguous incident")]
        return []


class Derailment(Detector):
    """2.3: a large share of namespaced calls go outside the incident's scope (or several in a row), or a
    role loops on its own tool errors. Why: both are activity that no longer serves the incident (rare but diagnostic)."""

    mode = "2.3"

    def __init__(self) -> None:
        t = thresholds()
        self.share, self.min_calls, self.loop = (
            float(t["off_scope_share"]),
            int(t["off_scope_min_calls"]),
            int(t["error_loop_min"]),
        )
        self.namespaced = 0
        self.off: list[int] = []
        self.streak: list[int] = []
        self.errors: dict[str, list[int]] = {}

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d, role = ev["kind"], _data(ev), ev.get("role") or "?"
        if kind == "tool_call" and run.scope:
            ns = run.namespace_of(ev)
            if ns:
                self.namespaced += 1
                if ns not in run.scope:
                    self.off.append(ev["seq"])
                    self.streak.append(ev["seq"])
                    if len(self.streak) == self.min_calls:
                        return [
                            Finding(
                                self.mode,
                                "off-scope-streak",
                                list(self.streak),
                                f"{self.min_calls} namespaced calls in a row outside {sorted(run.scope)}",
                            )
                        ]
                else:
                    self.streak = []
        elif kind == "tool_result" and d.get("status") != "rejected":
            if d.get("status") in NOT_OK:
                streak = self.errors.setdefault(role, [])
                streak.append(ev["seq"])
                if len(streak) == self.loop:
                    return [
                        Finding(self.mode, "error-loop", list(streak), f"the {role} met {self.loop} errors in a row")
                    ]
            else:
                self.errors[role] = []
        return []

    def finish(self, run: RunView) -> list[Finding]:
        if self.namespaced >= self.min_calls and len(self.off) / self.namespaced > self.share:
            return [
                Finding(
                    self.mode,
                    "off-scope-share",
                    self.off,
                    f"{len(self.off)} of {self.namespaced} namespaced calls outside {sorted(run.scope)}",
                )
            ]
        return []


class Withholding(Detector):
    """2.4: a tool error an agent met in a state is mentioned in its hand-off from that state neither by tool
    name, error text nor the call's target. Decided conservatively (any mention clears it). Why: the next
    agent cannot weigh evidence it never hears of."""

    mode = "2.4"

    def __init__(self) -> None:
        self.errors: dict[str, list[tuple[Event, list[Any]]]] = {}

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d, role = ev["kind"], _data(ev), ev.get("role") or "?"
        if kind == "state_transition":
            self.errors = {}
        elif kind == "tool_result" and d.get("status") == "error" and run.is_read_result(ev):
            # Counted even when the error became a ledger fact: the orchestrator carrying it (the mitigation)
            # does not make the agent's hand-off complete.
            call = run.call_of(ev)
            target = _data(call).get("target") if call else None
            self.errors.setdefault(role, []).append((ev, [d.get("tool"), str(d.get("error") or "")[:40], target]))
        elif kind == "submission":
            text = json.dumps(d.get("content") or {}, default=str).lower()
            missing = [
                e for e, marks in self.errors.pop(role, []) if not any(m and str(m).lower() in text for m in marks)
            ]
            if missing:
                return [
                    Finding(
                        self.mode,
                        "tool-error-omitted-from-handoff",
                        [e["seq"] for e in missing] + [ev["seq"]],
                        f"{d.get('submission')} omits errors from {', '.join(_data(e).get('tool', '?') for e in missing)}",
                    )
                ]
        return []

    def assessable(self, run: RunView) -> bool:
        return run.started and run.submissions > 0


class IgnoredInput(Detector):
    """2.5: after a verifier FAIL the same diagnosis (root-cause set and mitigations) comes back with no new
    tool result in between. Why: the verifier's objection was neither answered with evidence nor acted on."""

    mode = "2.5"

    def __init__(self) -> None:
        self.last_key: tuple[frozenset[str], str] | None = None
        self.failed: tuple[tuple[frozenset[str], str], int] | None = None  # (diagnosis key, verdict seq)
        self.new_reads = False

    @staticmethod
    def _key(content: dict[str, Any]) -> tuple[frozenset[str], str]:
        mitigations = sorted(json.dumps(m, sort_keys=True, default=str) for m in content.get("mitigations") or [])
        return _roots(content), "|".join(mitigations)

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d = ev["kind"], _data(ev)
        if kind == "verifier_verdict" and not d.get("passed") and self.last_key is not None:
            self.failed, self.new_reads = (self.last_key, ev["seq"]), False
        elif kind == "tool_result" and d.get("status") == "ok" and run.is_read_result(ev):
            self.new_reads = True
        elif kind == "submission" and d.get("submission") == "submit_diagnosis":
            key = self._key(d.get("content") or {})
            out = []
            if self.failed and key == self.failed[0] and not self.new_reads:
                out.append(
                    Finding(
                        self.mode,
                        "same-diagnosis-after-fail",
                        [self.failed[1], ev["seq"]],
                        f"diagnosis {sorted(key[0])} resubmitted unchanged after a FAIL, with no new reads",
                    )
                )
            self.last_key, self.failed = key, None
            return out
        return []


class ReasoningAction(Detector):
    """2.6: the tool called is not the action declared in the same turn, or the dispatcher rejected the call
    as contradicting it. Only tool names are compared (declared targets are free text). Why: says X, does Y."""

    mode = "2.6"

    def __init__(self) -> None:
        self.flagged: set[int] = set()

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d = ev["kind"], _data(ev)
        if kind == "tool_call" and not d.get("malformed"):
            declared = (d.get("declared_action") or {}).get("tool")
            if declared and declared != d.get("tool"):
                self.flagged.add(ev["seq"])
                return [
                    Finding(
                        self.mode,
                        "call-differs-from-declared",
                        [ev["seq"]],
                        f"declared {declared}, called {d.get('tool')}",
                    )
                ]
        elif (
            kind == "tool_result"
            and d.get("reason") == "declared_action_mismatch"
            and d.get("call_seq") not in self.flagged
        ):
            return [Finding(self.mode, "rejected-as-mismatch", [ev["seq"]], str(d.get("error") or "mismatch rejected"))]
        return []

    def assessable(self, run: RunView) -> bool:
        return run.started and run.declares_actions


class PrematureTermination(Detector):
    """3.1: the run closes resolved without a passed verdict, or an agent claims the incident fixed and the
    run ends unresolved with no PASS after the claim. Why: declaring victory is the agent's call only after
    independent verification."""

    mode = "3.1"

    def __init__(self) -> None:
        self.claim: int | None = None

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d, role = ev["kind"], _data(ev), ev.get("role")
        if role == "verifier":
            if kind == "verifier_verdict" and d.get("passed"):
                self.claim = None
            return []
        if kind == "submission" and d.get("submission") == "submit_mitigation" and not run.wrote_this_round:
            claimed = [
                a.get("action")
                for a in (d.get("content") or {}).get("actions") or []
                if isinstance(a, dict) and a.get("result") == "applied"
            ]
            if claimed:
                return [
                    Finding(
                        self.mode,
                        "mitigation-claimed-without-write",
                        [ev["seq"]],
                        f"reported {claimed} applied; no write tool was called",
                    )
                ]
        text = ""
        if kind == "submission" and d.get("submission") != "submit_diagnosis":
            text = str((d.get("content") or {}).get("summary") or "")
        elif kind in ("agent_message", "llm_call"):
            text = str(d.get("text") or "")
        if text and CLAIM.search(text):
            self.claim = ev["seq"]
        return []

    def finish(self, run: RunView) -> list[Finding]:
        end = run.end
        if end is None:
            return []
        d = _data(end)
        resolved = d.get("status") == "resolved" or d.get("exit_code") == 0
        if run.verifierless:  # the harness's closure audit says whether "fixed" was true
            failed = run.audit is not None and not _data(run.audit).get("passed")
            may_change = not run.read_only and run.mode not in ("dry-run", "approve")
            if resolved and failed and may_change and not (run.applied_since_verdict and run.looked_since_applied):
                rule, what = (
                    ("closed-unchecked-while-failing", "changed something, never looked")
                    if run.applied_since_verdict
                    else ("closed-unchanged-while-failing", "changed nothing")
                )
                seq = run.audit["seq"]  # type: ignore[index]
                return [Finding(self.mode, rule, [seq], f"{what}, closed; the checks still fail")]
            return []
        verdict_ok = run.last_verdict is not None and _data(run.last_verdict).get("passed")
        if resolved and not verdict_ok:
            return [Finding(self.mode, "closed-without-pass", [end["seq"]], "resolved with no passed verdict")]
        if not resolved and self.claim is not None:
            return [
                Finding(
                    self.mode,
                    "claimed-resolved-without-pass",
                    [self.claim, end["seq"]],
                    "an agent declared the incident fixed; no PASS followed",
                )
            ]
        return []


class VerificationCoverage(Detector):
    """3.2 (coverage): a required check has no error-free result, an applied change is never verified, or
    the verifier proposes PASS with no evidence on any check. Why: a conclusion cannot be better than the
    checks actually run."""

    mode = "3.2"

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        kind, d = ev["kind"], _data(ev)
        if kind == "verifier_verdict":
            ran: dict[tuple[Any, Any], int] = {}
            for r in d.get("results") or []:
                if not r.get("error"):
                    ran[(r.get("name"), r.get("target"))] = ran.get((r.get("name"), r.get("target")), 0) + 1
            missing = []
            for c in d.get("required") or []:
                key = (c.get("name"), c.get("target"))
                if ran.get(key, 0) > 0:
                    ran[key] -= 1
                else:
                    missing.append(f"{key[0]}({key[1]})")
            if missing:
                return [Finding(self.mode, "required-check-not-run", [ev["seq"]], "not run: " + ", ".join(missing))]
        elif kind == "submission" and d.get("submission") == "submit_verdict":
            content = d.get("content") or {}
            checks = content.get("checks") or []
            if content.get("verdict") == "PASS" and not any(isinstance(c, dict) and c.get("evidence") for c in checks):
                return [Finding(self.mode, "pass-without-evidence", [ev["seq"]], "PASS proposed with no evidence")]
        return []

    def finish(self, run: RunView) -> list[Finding]:
        applied = run.last_applied_seq
        if run.verifierless:  # no verifier: the agent itself should have looked after its change
            if applied is not None and not run.looked_since_applied:
                return [
                    Finding(self.mode, "applied-change-never-checked", [applied], "a change was applied, then no read")
                ]
            return []
        last = run.last_verdict["seq"] if run.last_verdict else None
        if applied is not None and (last is None or last < applied):
            return [
                Finding(self.mode, "applied-change-never-verified", [applied], "a change was applied, then no verdict")
            ]
        return []


class VerificationCorrectness(Detector):
    """3.3 (correctness): PASS proposed while the code gate failed, a PASS beside a failed check, the
    checked workloads are not the remediated ones, or (no verifier) the agent looked after its change and
    closed while the harness's audit still fails. Why: verification ran but reached the wrong conclusion."""

    mode = "3.3"

    def feed(self, ev: Event, run: RunView) -> list[Finding]:
        if ev["kind"] != "verifier_verdict":
            return []
        d = _data(ev)
        if d.get("proposed") == "PASS" and d.get("gate_passed") is False:
            return [
                Finding(self.mode, "pass-contradicted-by-gate", [ev["seq"]], "the verifier said PASS; code said no")
            ]
        failed = [r.get("name") for r in d.get("results") or [] if r.get("passed") is False]
        if d.get("passed") and failed:
            return [Finding(self.mode, "pass-with-failed-check", [ev["seq"]], f"PASS beside failed {failed}")]
        if d.get("passed") or d.get("proposed") == "PASS":
            proposal = run.last_proposal or {}
            proposed = {c.get("target") for c in proposal.get("checks") or [] if isinstance(c, dict)}
            required = {t for t in (c.get("target") for c in d.get("required") or []) if _is_workload(t)}
            checked = {t for t in proposed if _is_workload(t)} or required
            remediated = set(run.applied_since_verdict)
            # The gate's required checks name what proves the remediated objects (for a deleted
            # NetworkPolicy: the workloads it blocked), so checking those is checking the right thing.
            proving = remediated | required
            # An object with no health of its own (a NetworkPolicy, Secret, ConfigMap, quota, often deleted by
            # the fix) is proven by the workloads of its namespace.
            indirect = {t.split("/")[0] for t in remediated if t.split("/")[1] not in SELF_CHECKED_KINDS}
            proving |= {t for t in checked if t.split("/")[0] in indirect}
            if remediated and checked and not proving & checked:
                return [
                    Finding(
                        self.mode,
                        "verified-target-differs",
                        [ev["seq"]],
                        f"checked {sorted(checked)}, remediated {sorted(remediated)}",
                    )
                ]
        return []

    def finish(self, run: RunView) -> list[Finding]:
        audit = run.audit
        if audit is None or _data(audit).get("passed") or not run.applied_since_verdict or not run.looked_since_applied:
            return []
        failed = [r.get("name") for r in _data(audit).get("results") or [] if r.get("passed") is False]
        return [
            Finding(
                self.mode,
                "closure-contradicted-by-cluster",
                [run.last_applied_seq or audit["seq"], audit["seq"]],
                f"checked after its change and called it fixed; still failing: {failed}",
            )
        ]

    def assessable(self, run: RunView) -> bool:
        return run.last_verdict is not None or run.audit is not None


def all_detectors() -> list[Detector]:
    """A fresh detector per mode, in mode order."""
    return [
        TaskSpec(),
        RoleSpec(),
        StepRepetition(),
        HistoryLoss(),
        Termination(),
        ConversationReset(),
        Clarification(),
        Derailment(),
        Withholding(),
        IgnoredInput(),
        ReasoningAction(),
        PrematureTermination(),
        VerificationCoverage(),
        VerificationCorrectness(),
    ]


def detect(events: list[Event]) -> tuple[list[Finding], dict[str, bool]]:
    """All findings of a finished trace, and per mode whether the trace could decide it."""
    run = RunView()
    detectors = all_detectors()
    findings: list[Finding] = []
    for ev in events:
        run.observe(ev)
        for det in detectors:
            findings.extend(det.feed(ev, run))
        run.after(ev)
    for det in detectors:
        findings.extend(det.finish(run))
    return findings, {det.mode: det.assessable(run) for det in detectors}
