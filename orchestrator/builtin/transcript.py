"""What the builtin model can see in one request: the state block, the tools offered, and the tool calls it
already made in this state with their results.

The model is stateless between requests (it may be given a pruned or reset context), so everything it
decides is recomputed here from the messages in front of it. Tool results are the JSON text the engine
sends (`{"ok": .., "error": .., ...content}`); a result cut short by context pruning is salvaged up to its
last complete element rather than thrown away.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

BLOCK = re.compile(r"```sre-agent\s*\n(?P<body>.*?)\n?```", re.DOTALL)
STEP_CAP = re.compile(r"at most (?P<n>\d+) tool calls")
MISMATCH_REJECTED = "you declared 'Action:"  # how the engine answers a call that contradicts its declaration
SUBMISSIONS = ("submit_plan", "submit_diagnosis", "submit_mitigation", "submit_verdict")
# A line of the engine's analyzer findings (a system message of `- finding [confidence] ns/Kind/name: cause
# | evidence: ...` lines).
FINDING = re.compile(r"^(?:- )?finding \[(?P<confidence>low|medium|high)\] (?P<object>\S*/[^/\s]+/\S+?): (?P<rest>.*)$")
CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class AnalyzerFinding:
    """An analyzer finding as the facts state it: an object that exists, with its real kind."""

    object: str  # ns/Kind/name, or /Kind/name when cluster-scoped
    confidence: str
    cause: str
    evidence: tuple[str, ...] = ()
    explains: tuple[str, ...] = ()  # the objects whose symptoms this finding is the cause of
    owner: str | None = None  # the controller whose template makes the object (a Pod's Deployment or Job)
    # {"action", "args"[, "then": [{"action", "args"}, ...]]}: a change the analyzer derived from the cluster,
    # and the changes that complete it
    fix: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        return self.object.split("/")[1]


def _fix(text: str) -> dict[str, Any] | None:
    try:
        fix = json.loads(text) if text.strip() else None
    except ValueError:
        return None
    ok = isinstance(fix, dict) and isinstance(fix.get("action"), str) and isinstance(fix.get("args"), dict)
    return fix if ok else None


def parse_findings(facts: Sequence[Any]) -> list[AnalyzerFinding]:
    """The findings among the fact lines, strongest first (stable, so the engine's ranking breaks ties)."""
    out = []
    for line in facts:
        m = FINDING.match(str(line))
        if m is None:
            continue
        cause, _, evidence = m["rest"].partition(" | evidence: ")
        cause, _, fix_text = cause.partition(" | fix: ")
        cause, _, explains = cause.partition(" | explains: ")
        cause, _, owner = cause.partition(" | owner: ")
        lines = tuple(e.strip() for e in evidence.split("; ") if e.strip())
        symptoms = tuple(e.strip() for e in explains.split(", ") if e.strip())
        finding = AnalyzerFinding(
            m["object"],
            m["confidence"],
            cause.strip(),
            lines,
            symptoms,
            fix=_fix(fix_text),
            owner=owner.strip() or None,
        )
        out.append(finding)
    return sorted(out, key=lambda f: -CONFIDENCE_RANK[f.confidence])


@dataclass
class Observation:
    """One tool call of this state and (when it came back) its result."""

    tool: str
    args: dict[str, Any]
    call_id: str
    ok: bool | None = None  # None: no result in the context (pending or pruned)
    turn: int = 0  # which model turn of the state made the call
    counted: bool = True  # False: the engine answered without running it, so it used none of the steps
    error: str | None = None
    content: dict[str, Any] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.ok is not None


@dataclass
class Transcript:
    block: dict[str, Any]  # the state block ({} when the engine sent none)
    tools: list[str]  # names of the tools offered in this request
    observations: list[Observation]  # calls made since the state began, oldest first
    step_cap: int | None  # "at most N tool calls in this state", when the instruction says so
    calls_made: int  # model turns with tool calls since the state began
    carried: list[Observation] = field(default_factory=list)  # answered reads of the state this one continues
    finding_lines: list[str] = field(default_factory=list)  # the analyzer findings in the system messages

    @property
    def state(self) -> str:
        return str(self.block.get("state") or "")

    @property
    def role(self) -> str:
        return str(self.block.get("role") or "")

    @property
    def submission(self) -> str | None:
        """The submission tool this state expects (decides which behaviour applies)."""
        offered = [t for t in SUBMISSIONS if t in self.tools]
        if offered:
            return offered[0]
        by_role = {"planner": "submit_plan", "verifier": "submit_verdict"}
        return by_role.get(self.role)

    @property
    def namespaces(self) -> list[str]:
        incident = self.block.get("incident") or {}
        return [str(n) for n in incident.get("namespaces") or [] if n]

    @property
    def findings(self) -> list[AnalyzerFinding]:
        """The analyzer findings the engine sent, strongest first."""
        return parse_findings(self.finding_lines)

    def submitted(self) -> Observation | None:
        """The accepted submission of this state, if any."""
        for ob in reversed(self.observations):
            if ob.tool in SUBMISSIONS and ob.ok:
                return ob
        return None

    def looked_since_writes(self, writes: set[str]) -> bool:
        """A read came back ok after the last call to one of these write tools (False: no such call)."""
        last = max((i for i, o in enumerate(self.observations) if o.tool in writes), default=None)
        later = self.observations[last + 1 :] if last is not None else []
        return any(o.ok and o.tool not in writes and o.tool not in SUBMISSIONS for o in later)

    def remaining_calls(self) -> int | None:
        return None if self.step_cap is None else self.step_cap - self.calls_made


# ------------------------------------------------------------------------------------------ parsing
def _field(message: Any, name: str, default: Any = None) -> Any:
    if isinstance(message, dict):
        return message.get(name, default)
    return getattr(message, name, default)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(c for c in content if isinstance(c, str))
    return ""


def _block_of(message: Any) -> tuple[dict[str, Any], int | None] | None:
    if _field(message, "type") != "UserMessage" and not (isinstance(message, dict) and message.get("source")):
        return None
    text = _text(_field(message, "content"))
    found = list(BLOCK.finditer(text))
    if not found:
        return None
    try:
        block = json.loads(found[-1]["body"])
    except ValueError:
        block = salvage_json(found[-1]["body"]) or {}
    cap = STEP_CAP.search(text)
    return (block if isinstance(block, dict) else {}), (int(cap["n"]) if cap else None)


def tool_names(tools: Sequence[Any]) -> list[str]:
    names = []
    for t in tools or []:
        name = t.get("name") if isinstance(t, dict) else getattr(t, "name", None)
        if name is None and hasattr(t, "schema"):
            name = t.schema.get("name")
        if name:
            names.append(str(name))
    return names


def read_transcript(messages: Sequence[Any], tools: Sequence[Any]) -> Transcript:
    """Find the current state's instruction and collect the tool calls made after it."""
    blocks = [(i, parsed) for i, m in enumerate(messages) if (parsed := _block_of(m)) is not None]
    start = 0
    block: dict[str, Any] = {}
    cap: int | None = None
    if blocks:
        start, (block, cap) = blocks[-1]
        # A re-sent instruction for the same state (a reminder) does not start the state over.
        for i, (earlier, _) in reversed(blocks[:-1]):
            if earlier.get("state") != block.get("state") or earlier.get("role") != block.get("role"):
                break
            if _has_other_state_between(messages, i, start, block):
                break
            start = i
    observations, turns = _calls(messages[start + 1 :])
    # A call rejected for contradicting its own declared action never ran: reconcile by forgetting that turn
    # (it is no evidence of anything) rather than reading it as a failed read.
    counted_turns = len({o.turn for o in observations if o.counted}) + (turns - len({o.turn for o in observations}))
    observations = [o for o in observations if _ran(o)]
    carried = _carried(messages, blocks, start, block)
    findings = [
        line
        for m in messages
        if _field(m, "type") == "SystemMessage"
        for line in _text(_field(m, "content")).splitlines()
        if FINDING.match(line)
    ]
    return Transcript(block, tool_names(tools), observations, cap, counted_turns, carried, findings)


def _carried(messages: Sequence[Any], blocks: list[tuple[int, Any]], start: int, block: dict[str, Any]) -> list:
    """The answered reads of the state this one continues from, when they are still in the context."""
    source = block.get("continues_from")
    earlier = [
        i for i, (b, _) in blocks if i < start and b.get("state") == source and b.get("role") == block.get("role")
    ]
    if not source or not earlier:
        return []
    observations, _ = _calls(messages[earlier[-1] + 1 : start])
    return [o for o in observations if o.answered and o.tool not in SUBMISSIONS and _ran(o)]


def _ran(ob: Observation) -> bool:
    """False for a call the engine rejected for contradicting its declared action: it never ran."""
    return not str(ob.error or "").startswith(MISMATCH_REJECTED)


def _calls(messages: Sequence[Any]) -> tuple[list[Observation], int]:
    """The tool calls in these messages with their results, and how many model turns made them."""
    observations: list[Observation] = []
    by_id: dict[str, Observation] = {}
    turns = 0
    for m in messages:
        kind = _field(m, "type")
        content = _field(m, "content")
        if kind == "AssistantMessage" and isinstance(content, list):
            turns += 1
            for call in content:
                ob = Observation(
                    tool=str(_field(call, "name", "")),
                    args=_arguments(_field(call, "arguments", "{}")),
                    call_id=str(_field(call, "id", "") or ""),
                    turn=turns,
                )
                observations.append(ob)
                if ob.call_id:
                    by_id[ob.call_id] = ob
        elif kind == "FunctionExecutionResultMessage" and isinstance(content, list):
            for res in content:
                called = by_id.get(str(_field(res, "call_id", "") or "")) or _first_unanswered(
                    observations, str(_field(res, "name", ""))
                )
                if called is not None:
                    _answer(called, _field(res, "content", ""), bool(_field(res, "is_error", False)))
    return observations, turns


def _has_other_state_between(messages: Sequence[Any], lo: int, hi: int, block: dict[str, Any]) -> bool:
    for m in messages[lo + 1 : hi]:
        parsed = _block_of(m)
        if parsed and parsed[0].get("state") != block.get("state"):
            return True
    return False


def _first_unanswered(observations: list[Observation], name: str) -> Observation | None:
    return next((o for o in observations if not o.answered and o.tool == name), None)


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _answer(ob: Observation, text: Any, is_error: bool) -> None:
    body: Any = None
    if isinstance(text, str):
        try:
            body = json.loads(text)
        except ValueError:
            body = salvage_json(text)
    if not isinstance(body, dict):
        ob.ok, ob.error, ob.content = False, str(text)[:300] or "unreadable result", {}
        return
    ok = bool(body.get("ok", not is_error)) and not (is_error and "ok" not in body)
    ob.ok = ok
    ob.error = body.get("error")
    ob.counted = body.get("counted", True) is not False
    ob.content = {k: v for k, v in body.items() if k not in ("ok", "error", "counted")}


def salvage_json(text: str) -> Any:
    """The longest well-formed prefix of a JSON document cut short, closed at its last complete value."""
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    stack: list[str] = []
    in_string = escaped = False
    best: tuple[int, list[str]] | None = None
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            best = (i + 1, list(stack))
            if not stack:
                break
    if best is None:
        return None
    end, open_ = best
    candidate = text[start:end].rstrip().rstrip(",") + "".join(reversed(open_))
    try:
        return json.loads(candidate)
    except ValueError:
        return None
