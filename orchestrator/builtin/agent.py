"""`builtin/playbook`: a deterministic, offline model that speaks autogen's ChatCompletionClient interface.

It reads the messages it is given like an LLM would (the state block the engine pins, the tool results
that came back) and answers with one tool call at a time, guided by the playbooks in `playbooks/`. It
decides only from those messages: never from the simulator, a scenario file or a fault id. Each answer
declares its action first (`Action: <tool> <target>`), so the engine can hold it to it.

    model = PlaybookModel()
    result = await model.create(messages, tools=tool_schemas)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import CreateResult, LLMMessage, ModelInfo, RequestUsage

from ..models.base import TurnModel
from .library import Library, load_library
from .policy import Step, decide
from .transcript import read_transcript

MODEL_NAME = "builtin/playbook"


class PlaybookModel(TurnModel):
    token_model = MODEL_NAME

    def __init__(self, playbooks_dir: Path | None = None) -> None:
        super().__init__()
        self._playbooks_dir = playbooks_dir
        self._library: Library | None = None
        self._calls = 0

    @property
    def library(self) -> Library:
        if self._library is None:
            self._library = load_library(self._playbooks_dir)
        return self._library

    # ------------------------------------------------------------------------------------ the model
    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Any] = [],  # noqa: B006 - autogen's signature
        tool_choice: Any = "auto",
        json_output: Any = None,
        extra_create_args: Mapping[str, Any] = {},  # noqa: B006 - autogen's signature
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        transcript = read_transcript(messages, tools)
        step = decide(transcript, self.library)
        self._calls += 1
        result = self._result(step)
        usage = RequestUsage(prompt_tokens=self.count_tokens(messages), completion_tokens=_completion_tokens(result))
        self._add_usage(usage)
        return result.model_copy(update={"usage": usage})

    def _result(self, step: Step) -> CreateResult:
        empty = RequestUsage(prompt_tokens=0, completion_tokens=0)
        if step.tool is None:
            return CreateResult(finish_reason="stop", content=step.text or "Done.", usage=empty, cached=False)
        thought = f"Action: {step.tool} {step.target or '-'}"
        if step.why:
            thought += f"\n{step.why}"
        call = FunctionCall(
            id=f"call_{self._calls}", name=step.tool, arguments=json.dumps(step.args, separators=(",", ":"))
        )
        return CreateResult(finish_reason="function_calls", content=[call], usage=empty, cached=False, thought=thought)

    @property
    def model_info(self) -> ModelInfo:
        return ModelInfo(
            vision=False, function_calling=True, json_output=True, family="unknown", structured_output=True
        )


def _completion_tokens(result: CreateResult) -> int:
    from ..tokens import count_text

    if isinstance(result.content, str):
        return count_text(result.content, MODEL_NAME)
    text = (result.thought or "") + "".join(c.name + c.arguments for c in result.content)
    return count_text(text, MODEL_NAME)
