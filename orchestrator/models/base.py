"""What every model client of ours shares, whatever answers the turn (a playbook, a failure-prone wrapper,
litellm, or the engine's budget meter around any of them): one whole turn per call (a "stream" is that one
final result: the engine acts on whole turns), usage accounting, and token counting with our offline
tiktoken counter."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient, CreateResult, LLMMessage, RequestUsage

DEFAULT_CONTEXT_TOKENS = 128_000


class TurnModel(ChatCompletionClient):
    token_model: str | None = None  # the name the token counter picks an encoding by

    def __init__(self) -> None:
        self._usage_sum = RequestUsage(prompt_tokens=0, completion_tokens=0)

    @property
    def context_tokens(self) -> int:
        """What remaining_tokens measures against."""
        return DEFAULT_CONTEXT_TOKENS

    def _add_usage(self, usage: RequestUsage) -> None:
        self._usage_sum = RequestUsage(
            prompt_tokens=self._usage_sum.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self._usage_sum.completion_tokens + usage.completion_tokens,
        )

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Any] = (),
        tool_choice: Any = "auto",
        json_output: Any = None,
        extra_create_args: Mapping[str, Any] = {},  # noqa: B006 - autogen's signature
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        yield await self.create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )

    async def close(self) -> None:
        return None

    # As autogen's own clients: both are running sums; they differ only with a response cache (we have none).
    def actual_usage(self) -> RequestUsage:
        return self._usage_sum

    def total_usage(self) -> RequestUsage:
        return self._usage_sum

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Any] = ()) -> int:
        from ..tokens import count_messages, count_tools

        return count_messages(messages, self.token_model) + count_tools(tools, self.token_model)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Any] = ()) -> int:
        return self.context_tokens - self.count_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> Any:  # deprecated in autogen, still abstract
        return self.model_info
