"""A model context that never sends more tokens than the class budget allows.

Open models lose the thread when their context overflows (MAST FM-1.4), and every provider rejects a
request that is too long. `BudgetedContext` keeps what a role must not forget — its role prompt, the pinned
fact ledger and the current state's instruction — and fills the rest of the budget with the newest
conversation, dropping the oldest whole turns (a tool call always travels with its results). Every drop
and every shrink is reported so the trace shows what the model could no longer see.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import structlog
from autogen_core.model_context import ChatCompletionContext
from autogen_core.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
)
from pydantic import BaseModel, Field

from .tokens import REPLY_PRIMING, count_message, count_text, truncate_text

log = structlog.get_logger(__name__)

LEDGER_HEADER = "Fact ledger (facts established so far, oldest first):"
FINDINGS_HEADER = "Analyzer findings at intake (deterministic checks of the scope, strongest first):"
MIN_TOOL_OUTPUT_TOKENS = 64  # below this a truncated output would be little more than its omission marker


@dataclass
class PruneReport:
    """What one prune removed or shrank, for the trace's context_prune event.

    `dropped`: one summary per dropped message — index (position in the history before the prune), kind,
    tokens, first 80 chars of text. `kept`: messages returned to the model. Token counts include the tools.
    `truncated`: shrunk parts — ledger lines, the pinned instruction, the role prompt (reported again only
    when the shrink changes) — or, with reason "tool_output", the tool results cut on arrival; then the token
    counts are those of the cut results and `kept` is the number of messages stored.
    """

    dropped: list[dict[str, Any]]
    kept: int
    tokens_before: int
    tokens_after: int
    budget: int
    reason: str = "budget"  # budget | reset | tool_output
    truncated: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class BudgetedContextState(BaseModel):
    messages: list[LLMMessage] = Field(default_factory=list)
    ledger: list[str] = Field(default_factory=list)
    pinned_index: int | None = None
    prompt_length: int | None = None


@dataclass(frozen=True)
class _Turn:
    """History messages [start, end) kept or dropped together: one message, or a call with its results."""

    start: int
    end: int
    sendable: bool  # False for an orphan result, or calls missing some results (providers reject both)


def _leading_system(messages: Sequence[LLMMessage]) -> int:
    end = 0
    while end < len(messages) and isinstance(messages[end], SystemMessage):
        end += 1
    return end


def _calls(message: LLMMessage) -> list[Any]:
    if isinstance(message, AssistantMessage) and not isinstance(message.content, str):
        return list(message.content)
    return []


def _answered(calls: list[Any], results: list[FunctionExecutionResult]) -> bool:
    """Every call has its result (matched by id; by count when a model sends empty ids)."""
    ids = [c.id for c in calls]
    if all(ids):
        return set(ids) <= {r.call_id for r in results}
    return len(results) >= len(calls)


def _part_text(part: Any) -> str:
    if hasattr(part, "arguments"):  # a FunctionCall
        return f"{part.name}({part.arguments})"
    return part if isinstance(part, str) else "<image>"


def _text_of(message: LLMMessage) -> str:
    if isinstance(message, FunctionExecutionResultMessage):
        return " | ".join(f"{r.name}: {r.content}" for r in message.content)
    content = message.content
    if isinstance(content, str):
        return content
    return " | ".join(_part_text(part) for part in content)


class BudgetedContext(ChatCompletionContext):
    """Role prompt + fact ledger + pinned instruction, then the newest turns that fit `budget_tokens`.

    `get_messages()` always satisfies `count_messages(result, model) + tools_tokens <= budget_tokens`.
    The role prompt — the SystemMessages leading `initial_messages` — is always kept; later SystemMessages
    (nudges) are ordinary history. Turns that do not fit are forgotten for good, and reported once.
    `clear()` returns to the initial messages (the role prompt) rather than to nothing.
    """

    def __init__(
        self,
        budget_tokens: int,
        tools_tokens: int = 0,
        on_prune: Callable[[PruneReport], None] | None = None,
        max_tool_output_tokens: int = 1500,
        initial_messages: list[LLMMessage] | None = None,
        model: str | None = None,
    ) -> None:
        if budget_tokens <= 0:
            raise ValueError(f"budget_tokens must be positive, got {budget_tokens}")
        if max_tool_output_tokens < MIN_TOOL_OUTPUT_TOKENS:
            raise ValueError(f"max_tool_output_tokens must be at least {MIN_TOOL_OUTPUT_TOKENS}")
        super().__init__(list(initial_messages) if initial_messages else None)
        self.budget_tokens = budget_tokens
        self.tools_tokens = tools_tokens  # the engine updates it when a state offers other tools
        self.on_prune = on_prune
        self.max_tool_output_tokens = max_tool_output_tokens
        self.model = model
        self._ledger: list[str] = []
        self._findings: list[str] = []
        self._pinned: LLMMessage | None = None
        self._prompt_length = _leading_system(self._messages) if initial_messages else None
        self._last_truncated: list[dict[str, Any]] = []  # so a standing shrink is reported once, not per call

    # -- what the engine controls ---------------------------------------------------------------------

    def set_ledger(self, lines: Sequence[str]) -> None:
        """Replace the fact ledger, rendered as one SystemMessage right after the role prompt."""
        self._ledger = [str(line) for line in lines]

    @property
    def ledger(self) -> list[str]:
        return list(self._ledger)

    def set_findings(self, lines: Sequence[str]) -> None:
        """The analyzers' findings, one SystemMessage after the ledger. A head start, not evidence the model
        gathered: they are sent only when they fit beside everything else, and never cost a turn or a
        ledger line, so what is pruned stays exactly what it would be without them."""
        self._findings = [str(line) for line in lines]

    @property
    def findings(self) -> list[str]:
        return list(self._findings)

    def pin(self, message: LLMMessage) -> None:
        """Make `message` the current state's instruction, which is never pruned (the previous one may be).

        It is appended unless it already is the latest message; and when the agent adds the same
        instruction right after it was pinned, it is not stored twice.
        """
        if isinstance(message, FunctionExecutionResultMessage) or _calls(message):
            raise ValueError("only an instruction (text message) can be pinned, not a tool call or result")
        if self._index_of(message) is None:
            if self._messages and self._messages[-1] == message:
                message = self._messages[-1]
            else:
                self._messages.append(message)
        self._pinned = message

    @property
    def pinned(self) -> LLMMessage | None:
        return self._pinned

    async def add_message(self, message: LLMMessage) -> None:
        pinned_is_latest = self._pinned is not None and bool(self._messages) and self._messages[-1] is self._pinned
        if pinned_is_latest and message == self._pinned:
            return  # the agent echoing the instruction the engine has just pinned
        if isinstance(message, FunctionExecutionResultMessage):
            message = self._cap_tool_output(message)
        self._messages.append(message)

    async def get_messages(self) -> list[LLMMessage]:
        return self._fit()

    async def clear(self) -> None:
        """Back to the role prompt: history, ledger and pin are forgotten."""
        self._messages = list(self._initial_messages or [])
        self._ledger = []
        self._findings = []
        self._pinned = None
        self._prompt_length = _leading_system(self._messages) if self._messages else None

    async def reset_to_ledger(self) -> None:
        """Keep only the role prompt, the ledger and the pinned instruction (open models, between states)."""
        prompt_end, pinned_at = self._prompt_end(), self._pinned_at()
        gone = [i for i in range(prompt_end, len(self._messages)) if i != pinned_at]
        if not gone:
            return
        before = self._count(self._full_view())
        sendable = {i for t in self._turns(prompt_end) if t.sendable for i in range(t.start, t.end)}
        dropped = [self._summary(i) for i in gone if i in sendable]
        self._forget(gone)
        view = self._fit(report=False)
        self._report(PruneReport(dropped, len(view), before, self._count(view), self.budget_tokens, "reset"))

    async def save_state(self) -> Mapping[str, Any]:
        state = BudgetedContextState(
            messages=self._messages,
            ledger=self._ledger,
            pinned_index=self._pinned_at(),
            prompt_length=self._prompt_length,
        )
        return state.model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        loaded = BudgetedContextState.model_validate(state)
        self._messages = list(loaded.messages)
        self._ledger = list(loaded.ledger)
        self._prompt_length = loaded.prompt_length
        at = loaded.pinned_index
        self._pinned = self._messages[at] if at is not None and 0 <= at < len(self._messages) else None

    # -- the shape of the history ---------------------------------------------------------------------

    def _index_of(self, message: LLMMessage | None) -> int | None:
        if message is None:
            return None
        return next((i for i, m in enumerate(self._messages) if m is message), None)

    def _prompt_end(self) -> int:
        """Index just after the role prompt: the initial SystemMessages, or without initial messages the
        leading run of SystemMessages in the history."""
        if self._prompt_length is not None:
            return min(self._prompt_length, len(self._messages))
        return _leading_system(self._messages)

    def _pinned_at(self) -> int | None:
        at = self._index_of(self._pinned)
        return at if at is not None and at >= self._prompt_end() else None  # a pinned prompt is just prompt

    def _turns(self, start: int) -> list[_Turn]:
        """History from `start` as turns; a function-call message owns the result messages that follow it."""
        turns: list[_Turn] = []
        msgs, i = self._messages, start
        while i < len(msgs):
            calls = _calls(msgs[i])
            if calls:
                j, results = i + 1, list[FunctionExecutionResult]()
                while j < len(msgs) and isinstance(following := msgs[j], FunctionExecutionResultMessage):
                    results += following.content
                    j += 1
                turns.append(_Turn(i, j, sendable=_answered(calls, results)))
                i = j
            else:
                turns.append(_Turn(i, i + 1, sendable=not isinstance(msgs[i], FunctionExecutionResultMessage)))
                i += 1
        return turns

    def _render_ledger(self, lines: Sequence[str]) -> SystemMessage | None:
        if not lines:
            return None
        return SystemMessage(content="\n".join([LEDGER_HEADER, *(f"- {line}" for line in lines)]))

    def _render_findings(self) -> SystemMessage | None:
        if not self._findings:
            return None
        return SystemMessage(content="\n".join([FINDINGS_HEADER, *(f"- {line}" for line in self._findings)]))

    def _full_view(self) -> list[LLMMessage]:
        """Everything sendable, unpruned: what the model would see with an unlimited budget."""
        prompt_end = self._prompt_end()
        ledger = self._render_ledger(self._ledger)
        out = [*self._messages[:prompt_end], *([ledger] if ledger else [])]
        for turn in self._turns(prompt_end):
            if turn.sendable:
                out.extend(self._messages[turn.start : turn.end])
        return out

    # -- counting -------------------------------------------------------------------------------------

    def _cost(self, message: LLMMessage) -> int:
        return count_message(message, self.model)

    def _count(self, messages: Sequence[LLMMessage]) -> int:
        """What the budget is checked against: count_messages(messages) + tools_tokens."""
        body = sum(self._cost(m) for m in messages)
        return (REPLY_PRIMING + body if messages else 0) + self.tools_tokens

    def _summary(self, index: int) -> dict[str, Any]:
        message = self._messages[index]
        return {"index": index, "kind": message.type, "tokens": self._cost(message), "text": _text_of(message)[:80]}

    # -- fitting --------------------------------------------------------------------------------------

    def _fit(self, report: bool = True) -> list[LLMMessage]:
        if self.tools_tokens + REPLY_PRIMING > self.budget_tokens:
            raise ValueError(
                f"the offered tools alone need {self.tools_tokens} tokens, over the budget of {self.budget_tokens}"
            )
        prompt_end, pinned_at = self._prompt_end(), self._pinned_at()
        before = self._count(self._full_view())
        prompt, ledger, pinned, truncated = self._fit_fixed(prompt_end, pinned_at)
        fixed = [*prompt, *([ledger] if ledger else []), *([pinned] if pinned else [])]
        room = self.budget_tokens - self.tools_tokens - REPLY_PRIMING - sum(self._cost(m) for m in fixed)

        # Newest turns first, as one contiguous run: a gap in the middle would confuse more than it saves.
        turns = [t for t in self._turns(prompt_end) if t.start != pinned_at]
        keep_from = len(self._messages)
        for turn in reversed(turns):
            if not turn.sendable:
                continue  # never sent; forgotten with the turns around it
            cost = sum(self._cost(m) for m in self._messages[turn.start : turn.end])
            if cost > room:
                break
            room -= cost
            keep_from = turn.start

        view = [*prompt, *([ledger] if ledger else [])]
        for turn in self._turns(prompt_end):
            if turn.start == pinned_at:
                view.extend([pinned] if pinned else [])
            elif turn.sendable and turn.start >= keep_from:
                view.extend(self._messages[turn.start : turn.end])

        # Forget what fell out, except calls still waiting for their results at the very end.
        last = turns[-1] if turns else None
        gone_turns = [t for t in turns if t.end <= keep_from and not (t is last and not t.sendable)]
        dropped = [self._summary(i) for t in gone_turns if t.sendable for i in range(t.start, t.end)]
        self._forget([i for t in gone_turns for i in range(t.start, t.end)])

        after = self._count(view)
        if after > self.budget_tokens:  # impossible by construction; a request over budget is never sent
            raise AssertionError(f"context of {after} tokens exceeds its budget of {self.budget_tokens}")
        news = dropped or truncated != self._last_truncated
        if report and news and (dropped or truncated):
            self._report(PruneReport(dropped, len(view), before, after, self.budget_tokens, "budget", truncated))
        self._last_truncated = truncated
        # Findings only in room left over: the pruning above is decided without them.
        findings = self._render_findings()
        if findings is not None and after + self._cost(findings) <= self.budget_tokens:
            view.insert(len(prompt) + (1 if ledger else 0), findings)
        return view

    def _fit_fixed(
        self, prompt_end: int, pinned_at: int | None
    ) -> tuple[list[LLMMessage], SystemMessage | None, LLMMessage | None, list[dict[str, Any]]]:
        """Role prompt, ledger and pinned instruction, shrunk until they fit the budget on their own.

        Order of sacrifice: the oldest ledger lines, then the middle of the pinned instruction, then the
        middle of the role prompt (largest message first).
        """
        prompt = list(self._messages[:prompt_end])
        pinned = self._messages[pinned_at] if pinned_at is not None else None
        lines = list(self._ledger)
        truncated: list[dict[str, Any]] = []
        allowed = self.budget_tokens - self.tools_tokens - REPLY_PRIMING

        def cost() -> int:
            ledger = self._render_ledger(lines)
            parts = [*prompt, *([ledger] if ledger else []), *([pinned] if pinned else [])]
            return sum(self._cost(m) for m in parts)

        if cost() > allowed and lines:
            shed = 0
            while lines and cost() > allowed:
                lines.pop(0)
                shed += 1
            truncated.append({"part": "ledger", "lines_dropped": shed, "lines_kept": len(lines)})
        if cost() > allowed and pinned is not None:
            others = cost() - self._cost(pinned)
            pinned, note = self._shrink(pinned, allowed - others, "pinned")
            truncated.append(note)
        for message in sorted(prompt, key=self._cost, reverse=True):
            if cost() <= allowed:
                break
            at = next(i for i, m in enumerate(prompt) if m is message)
            shrunk, note = self._shrink(message, allowed - (cost() - self._cost(message)), "role_prompt")
            prompt[at : at + 1] = [shrunk] if shrunk is not None else []
            truncated.append(note)
        return prompt, self._render_ledger(lines), pinned, truncated

    def _shrink(self, message: LLMMessage, allowed: int, part: str) -> tuple[Any, dict[str, Any]]:
        """Cut the middle of a text message so it costs at most `allowed` tokens; None if not even its frame fits."""
        before = self._cost(message)
        frame = self._cost(message.model_copy(update={"content": ""}))
        if frame > allowed:
            return None, {"part": part, "tokens_before": before, "tokens_after": 0}
        text = truncate_text(_text_of(message), allowed - frame, self.model)
        shrunk = message.model_copy(update={"content": text})
        return shrunk, {"part": part, "tokens_before": before, "tokens_after": self._cost(shrunk)}

    def _forget(self, indices: Sequence[int]) -> None:
        gone = set(indices)
        if gone:
            self._messages = [m for i, m in enumerate(self._messages) if i not in gone]

    # -- tool output ----------------------------------------------------------------------------------

    def _cap_tool_output(self, message: FunctionExecutionResultMessage) -> FunctionExecutionResultMessage:
        results: list[FunctionExecutionResult] = []
        notes: list[dict[str, Any]] = []
        for result in message.content:
            content = cap_tool_output(result.content, self.max_tool_output_tokens, self.model)
            if content != result.content:
                before, after = count_text(result.content, self.model), count_text(content, self.model)
                notes.append(
                    {"call_id": result.call_id, "name": result.name, "tokens_before": before, "tokens_after": after}
                )
                result = result.model_copy(update={"content": content})
            results.append(result)
        if not notes:
            return message
        before = sum(n["tokens_before"] for n in notes)
        after = sum(n["tokens_after"] for n in notes)
        self._report(PruneReport([], len(self._messages) + 1, before, after, self.budget_tokens, "tool_output", notes))
        return message.model_copy(update={"content": results})

    def _report(self, report: PruneReport) -> None:
        log.info(
            "context_pruned",
            reason=report.reason,
            dropped=len(report.dropped),
            kept=report.kept,
            tokens_before=report.tokens_before,
            tokens_after=report.tokens_after,
            budget=report.budget,
            truncated=report.truncated,
        )
        if self.on_prune is not None:
            self.on_prune(report)


# -- cutting large tool output down to size -----------------------------------------------------------


@dataclass(frozen=True)
class _Cut:
    """How hard one pass shrinks a JSON value."""

    keep: int  # items kept at each end of a long list
    string_tokens: int  # a longer string loses its middle
    depth: int | None = None  # containers nested deeper become "{… 12 keys}" / "[… 40 items]"
    keys: int | None = None  # a wider object keeps its first keys only


# From gentlest to harshest; the first that fits wins. Lists and strings go first, structure last.
_JSON_CUTS = (
    _Cut(8, 400),
    _Cut(5, 250),
    _Cut(3, 150),
    _Cut(2, 100),
    _Cut(1, 64),
    _Cut(1, 48, depth=6),
    _Cut(1, 48, depth=5),
    _Cut(1, 48, depth=5, keys=16),
    _Cut(1, 48, depth=4, keys=12),
    _Cut(1, 48, depth=3, keys=8),
    _Cut(1, 48, depth=2, keys=6),
    _Cut(0, 48, depth=2, keys=6),
    _Cut(0, 48, depth=1, keys=4),
)
# Strings of up to 48 tokens are never cut: names, uids and image digests must stay usable as arguments.


def cap_tool_output(content: str, max_tokens: int, model: str | None = None) -> str:
    """`content` cut to at most `max_tokens` tokens.

    JSON stays valid JSON: long lists keep their first and last items around a marker saying how many
    were omitted, long strings lose their middle, and as a last resort deep or wide objects are summarised.
    Anything else keeps head and tail lines around an omission marker.
    """
    if count_text(content, model) <= max_tokens:
        return content
    stripped = content.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            value = json.loads(content)
        except ValueError:
            value = None
        if isinstance(value, dict | list):
            indent = 2 if "\n" in stripped.rstrip() else None
            for cut in _JSON_CUTS:
                text = json.dumps(_shrink_json(value, cut, cut.depth, model), ensure_ascii=False, indent=indent)
                if count_text(text, model) <= max_tokens:
                    return text
    return truncate_text(content, max_tokens, model)


def _shrink_json(value: Any, cut: _Cut, depth: int | None, model: str | None) -> Any:
    if isinstance(value, dict | list) and depth == 0:
        return f"{{… {_many(len(value), 'key')}}}" if isinstance(value, dict) else f"[… {_many(len(value), 'item')}]"
    inner = None if depth is None else depth - 1
    if isinstance(value, dict):
        items = list(value.items())
        limit = len(items) if cut.keys is None else cut.keys
        kept = {k: _shrink_json(v, cut, inner, model) for k, v in items[:limit]}
        if len(items) > limit:
            kept["…"] = f"{_many(len(items) - limit, 'more key')} omitted"
        return kept
    if isinstance(value, list):
        if len(value) <= 2 * cut.keep + 1:
            return [_shrink_json(v, cut, inner, model) for v in value]
        head = [_shrink_json(v, cut, inner, model) for v in value[: cut.keep]]
        tail = [_shrink_json(v, cut, inner, model) for v in value[len(value) - cut.keep :]] if cut.keep else []
        return [*head, f"… {len(value) - 2 * cut.keep:,} of {_many(len(value), 'item')} omitted …", *tail]
    if isinstance(value, str) and len(value) > cut.string_tokens and count_text(value, model) > cut.string_tokens:
        return truncate_text(value, cut.string_tokens, model)
    return value


def _many(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
