"""Thin adapters between the engine and autogen-agentchat (kept thin: 0.7 is in maintenance mode).

- `AgentTool` exposes one of our tools (or a submission) to an AssistantAgent with our JSON schema and
  hands every call to the engine's dispatcher, which traces it, checks it and runs it.
- `MeteredClient` wraps any ChatCompletionClient: it masks secrets in every message it sends (the last
  boundary before a model), counts each request's tokens against the class budget, records an llm_call
  event, and remembers the action the model declared for the call that follows, so a mismatched call can
  be rejected before it runs.
- `RoleAgent` is one role's AssistantAgent plus its budgeted context, stepped one model call at a time.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import TextMessage, ToolCallExecutionEvent, ToolCallRequestEvent
from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient, CreateResult, LLMMessage, ModelInfo, RequestUsage
from autogen_core.tools import BaseTool, ToolSchema
from pydantic import BaseModel

from .context import FINDINGS_HEADER
from .models.base import TurnModel
from .redaction import mask_text
from .tokens import count_message, prompt_tokens_spent
from .trace import Trace

Handler = Callable[[str, dict[str, Any], str | None], Awaitable[str]]
ACTION_LINE = re.compile(r"^\s*Action:\s*(?P<tool>[A-Za-z_][\w]*)\s*(?P<target>\S*)", re.MULTILINE)


class _AnyArgs(BaseModel):
    model_config = {"extra": "allow"}


# Any, not str: autogen bounds a tool's return type to pydantic models, yet every tool here answers in text.
class AgentTool(BaseTool[_AnyArgs, Any]):
    """A tool whose schema is our JSON schema and whose calls go to the engine's dispatcher."""

    def __init__(self, name: str, description: str, parameters: dict[str, Any], handler: Handler) -> None:
        super().__init__(_AnyArgs, str, name, description)
        self._parameters = parameters
        self._handler = handler

    @property
    def schema(self) -> ToolSchema:
        return ToolSchema(name=self.name, description=self.description, parameters=self._parameters)  # type: ignore[typeddict-item]

    async def run(self, args: _AnyArgs, cancellation_token: CancellationToken) -> str:
        return await self._handler(self.name, args.model_dump(), None)

    async def run_json(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> str:
        return await self._handler(self.name, dict(args), call_id)


@dataclass
class Declared:
    """What the model said it would do in the turn that produced the pending tool calls."""

    tool: str | None = None
    target: str | None = None
    text: str = ""


def _tool_name(tool: Any) -> str:
    return tool.get("name", "") if isinstance(tool, dict) else getattr(tool, "name", "")


class BudgetExceeded(RuntimeError):
    """A request that would exceed the class's per-call token budget (never sent)."""


class MeteredClient(TurnModel):
    """Any model client, held to the class's per-call token budget and traced call by call."""

    def __init__(self, inner: ChatCompletionClient, trace: Trace, budget_tokens: int, model: str) -> None:
        super().__init__()
        self.inner = inner
        self.trace = trace
        self.budget_tokens = budget_tokens
        self.token_model = model
        self.declared = Declared()
        self.calls = 0
        self.offer_only: set[str] | None = None  # the machine's closing step offers only the submission
        self.findings_tokens = 0  # of the engine's analyzer findings in the requests sent (see Crew.budget_used)

    @property
    def context_tokens(self) -> int:
        return self.budget_tokens

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Any] = (),
        tool_choice: Any = "auto",
        json_output: Any = None,
        extra_create_args: Mapping[str, Any] = {},  # noqa: B006 - autogen's signature
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        if self.offer_only is not None:
            tools = [t for t in tools if _tool_name(t) in self.offer_only]
            if tools:
                tool_choice = "required"  # the closing step: a reply without the submission is wasted
        messages = [redacted(m) for m in messages]
        counted = self.count_tokens(messages, tools=tools)
        if counted > self.budget_tokens:
            self.trace.emit(
                "llm_call", prompt_tokens=counted, budget=self.budget_tokens, within_budget=False, sent=False
            )
            raise BudgetExceeded(f"request of {counted} tokens exceeds the per-call budget of {self.budget_tokens}")
        spent = getattr(self.inner, "cost_usd", None)  # a provider's client keeps what its calls cost
        result = await self.inner.create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )
        usage = result.usage or RequestUsage(prompt_tokens=0, completion_tokens=0)
        self.calls += 1
        self.findings_tokens += sum(count_message(m, self.token_model) for m in messages if _is_findings(m))
        self._add_usage(RequestUsage(prompt_tokens_spent(usage.prompt_tokens, counted), usage.completion_tokens))
        text = result.thought or (result.content if isinstance(result.content, str) else "") or ""
        m = ACTION_LINE.search(text)
        self.declared = Declared(m["tool"] if m else None, (m["target"] or None) if m else None, text)
        calls = [] if isinstance(result.content, str) else [{"name": c.name, "id": c.id} for c in result.content]
        self.trace.emit(
            "llm_call",
            prompt_tokens=counted,
            provider_prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            budget=self.budget_tokens,
            within_budget=True,
            sent=True,
            finish_reason=result.finish_reason,
            tool_calls=calls,
            declared_action={"tool": self.declared.tool, "target": self.declared.target} if m else None,
            text=text[:500],
            **(
                {"cost_usd": round(float(getattr(self.inner, "cost_usd", 0.0)) - spent, 8)} if spent is not None else {}
            ),
        )
        return result

    async def close(self) -> None:
        await self.inner.close()

    @property
    def model_info(self) -> ModelInfo:
        return self.inner.model_info


@dataclass
class StepOutcome:
    """One model call and the tool calls it made, as the engine needs them."""

    requested: list[dict[str, Any]] = field(default_factory=list)  # {id, name, arguments}
    results: list[dict[str, Any]] = field(default_factory=list)  # {call_id, name, content, is_error}
    text: str | None = None  # a plain-text reply (no tool call)


class RoleAgent:
    """One role's AssistantAgent, stepped one model call (plus its tool calls) at a time."""

    def __init__(
        self, role: str, client: MeteredClient, context: Any, tools: list[AgentTool], name: str | None = None
    ) -> None:
        self.role = role
        self.client = client
        self.context = context
        self.agent = AssistantAgent(
            name=name or role,
            model_client=client,
            tools=list(tools),
            model_context=context,
            system_message=None,  # the system prompt lives in the budgeted context, so it is counted
            reflect_on_tool_use=False,
            max_tool_iterations=1,
        )

    async def step(self, message: str | None = None) -> StepOutcome:
        msgs = [TextMessage(content=message, source="engine")] if message else []
        response = await self.agent.on_messages(msgs, CancellationToken())
        out = StepOutcome()
        for ev in response.inner_messages or []:
            if isinstance(ev, ToolCallRequestEvent):
                out.requested += [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in ev.content]
            elif isinstance(ev, ToolCallExecutionEvent):
                out.results += [
                    {"call_id": r.call_id, "name": r.name, "content": r.content, "is_error": bool(r.is_error)}
                    for r in ev.content
                ]
        if not out.requested and isinstance(response.chat_message, TextMessage):
            out.text = response.chat_message.content
        return out

    async def closing_step(self, message: str, submission: str) -> StepOutcome:
        """The machine's last call in a state: the model is offered only `submission`."""
        self.client.offer_only = {submission}
        try:
            return await self.step(message)
        finally:
            self.client.offer_only = None


def redacted(message: LLMMessage) -> LLMMessage:
    """The message with secrets masked in its text and in the tool results it carries (a model's own tool
    calls are left as it made them)."""
    update: dict[str, Any] = {}
    content = getattr(message, "content", None)
    if isinstance(content, str):
        if (masked := mask_text(content)) != content:
            update["content"] = masked
    elif isinstance(content, list):
        items = [_redacted_item(x) for x in content]
        if any(a is not b for a, b in zip(items, content, strict=True)):
            update["content"] = items
    thought = getattr(message, "thought", None)
    if isinstance(thought, str) and (masked := mask_text(thought)) != thought:
        update["thought"] = masked
    return message.model_copy(update=update) if update else message


def _redacted_item(item: Any) -> Any:
    if isinstance(item, str):
        masked = mask_text(item)
        return item if masked == item else masked
    text = getattr(item, "content", None)
    if isinstance(text, str) and hasattr(item, "call_id"):  # a FunctionExecutionResult: a tool's answer
        masked = mask_text(text)
        return item if masked == text else item.model_copy(update={"content": masked})
    return item


def _is_findings(message: LLMMessage) -> bool:
    content = getattr(message, "content", None)
    return getattr(message, "type", "") == "SystemMessage" and str(content).startswith(FINDINGS_HEADER)
