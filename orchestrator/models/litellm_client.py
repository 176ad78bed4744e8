"""Any litellm model (hosted providers, OpenAI-compatible local servers) behind autogen's ChatCompletionClient.

The engine's agents speak autogen messages; providers speak OpenAI-style chat JSON. This module converts one
into the other, calls `litellm.acompletion` with our own retry loop (so an error can say truthfully how many
attempts were made), and turns whatever comes back into a CreateResult — including tool calls a weak model got
wrong, which are passed through for the engine to answer with a readable error instead of crashing the run.

litellm takes seconds to import, so it is imported on first use, never at module import.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import (
    AssistantMessage,
    CreateResult,
    FinishReasons,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from orchestrator.models import text_tools
from orchestrator.models.base import TurnModel
from orchestrator.models.errors import ModelError, one_line

T = TypeVar("T")

DEFAULT_CONTEXT_WINDOW = 32_768  # when litellm does not know the model (typical of local servers): stay modest
_BACKOFF_CAP = 8.0  # seconds; longest wait between two attempts
# Text, reasoning and tool-call arguments of one reply together. The largest reply a class reserves room for
# is a few thousand tokens; a reply of megabytes is a broken server or a runaway model, never an answer.
MAX_REPLY_CHARS = 256 * 1024
TOOL_CALLS_ENV = "SRE_AGENT_TOOL_CALLS"  # text or native: how tools reach a model, whatever litellm knows
_NO_KEY = "sk-no-key-required"  # local OpenAI-compatible servers ignore the key, but the SDK insists on one
# litellm's exception text: "litellm.InternalServerError: InternalServerError: OpenAIException - <provider's words>"
_WRAPPER_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)?(?:\w+(?:Error|Exception)\s*(?:-|:)\s+)*")

# Providers that authenticate without an API key variable: local servers, or a cloud credential chain
# (AWS profiles and instance roles, Google application-default credentials) we cannot check cheaply.
_KEYLESS_PROVIDERS = frozenset(
    {"ollama", "ollama_chat", "lm_studio", "llamafile", "hosted_vllm", "bedrock", "sagemaker", "vertex_ai"}
)
# Variable groups litellm lists together when any one of them is enough.
_ALTERNATIVE_KEYS = (frozenset({"GEMINI_API_KEY", "GOOGLE_API_KEY"}),)

_FINISH_REASONS: dict[str, FinishReasons] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "function_calls",
    "function_call": "function_calls",
}

# Substrings of a model name → autogen family, most specific first (autogen changes behaviour for some families).
_FAMILIES: tuple[tuple[str, str], ...] = (
    ("gpt-5", ModelFamily.GPT_5),
    ("gpt-4.1", ModelFamily.GPT_41),
    ("gpt-41", ModelFamily.GPT_41),
    ("gpt-4.5", ModelFamily.GPT_45),
    ("gpt-45", ModelFamily.GPT_45),
    ("gpt-4o", ModelFamily.GPT_4O),
    ("gpt-4", ModelFamily.GPT_4),
    ("gpt-3.5", ModelFamily.GPT_35),
    ("gpt-35", ModelFamily.GPT_35),
    ("o4-", ModelFamily.O4),
    ("o3", ModelFamily.O3),
    ("o1", ModelFamily.O1),
    ("deepseek-r1", ModelFamily.R1),
    ("claude-3-5-haiku", ModelFamily.CLAUDE_3_5_HAIKU),
    ("claude-3-5-sonnet", ModelFamily.CLAUDE_3_5_SONNET),
    ("claude-3-7-sonnet", ModelFamily.CLAUDE_3_7_SONNET),
    ("claude-3-haiku", ModelFamily.CLAUDE_3_HAIKU),
    ("claude-3-sonnet", ModelFamily.CLAUDE_3_SONNET),
    ("claude-3-opus", ModelFamily.CLAUDE_3_OPUS),
    ("claude-sonnet-4", ModelFamily.CLAUDE_4_SONNET),
    ("claude-4-sonnet", ModelFamily.CLAUDE_4_SONNET),
    ("claude-opus-4", ModelFamily.CLAUDE_4_OPUS),
    ("claude-4-opus", ModelFamily.CLAUDE_4_OPUS),
    ("gemini-2.5-pro", ModelFamily.GEMINI_2_5_PRO),
    ("gemini-2.5-flash", ModelFamily.GEMINI_2_5_FLASH),
    ("gemini-2.0-flash", ModelFamily.GEMINI_2_0_FLASH),
    ("gemini-1.5-pro", ModelFamily.GEMINI_1_5_PRO),
    ("gemini-1.5-flash", ModelFamily.GEMINI_1_5_FLASH),
    ("llama-4-scout", ModelFamily.LLAMA_4_SCOUT),
    ("llama-4-maverick", ModelFamily.LLAMA_4_MAVERICK),
    ("llama-3.3-70b", ModelFamily.LLAMA_3_3_70B),
    ("llama-3.3-8b", ModelFamily.LLAMA_3_3_8B),
    ("open-codestral-mamba", ModelFamily.OPEN_CODESRAL_MAMBA),
    ("codestral", ModelFamily.CODESRAL),
    ("ministral", ModelFamily.MINISTRAL),
    ("pixtral", ModelFamily.PIXTRAL),
    ("mistral", ModelFamily.MISTRAL),
)


def _litellm() -> Any:
    """Import litellm offline and quietly (its cost map fetch and HF lookups otherwise hit the network)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import litellm

    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners around errors
    return litellm


# -- credentials -------------------------------------------------------------------------------------------


def check_provider(model: str) -> str:
    """The litellm provider `model` names; a one-line ModelError when it names none."""
    try:
        return str(_litellm().get_llm_provider(model)[1])
    except Exception:
        raise ModelError(
            f"model {model} names no known provider: write provider/model, e.g. openai/gpt-4o "
            "(openai/<name> for an OpenAI-compatible server given with a base URL)",
            model=model,
        ) from None


def check_credentials(model: str, base_url: str | None = None, api_key: str | None = None) -> None:
    """Raise a one-line ModelError when `model` names no provider or needs a key the environment lacks.

    A base_url (a local or proxy server) or an explicit api_key needs no environment variable.
    """
    litellm = _litellm()
    provider = check_provider(model)
    if base_url or api_key or provider in _KEYLESS_PROVIDERS:
        return
    # An exported but empty key (OPENAI_API_KEY=) is as good as none; litellm only checks presence.
    empty = {k: v for k, v in os.environ.items() if k.endswith("_KEY") and not v.strip()}
    for k in empty:
        del os.environ[k]
    try:
        missing = list(litellm.validate_environment(model=model).get("missing_keys") or [])
    except Exception:
        return  # litellm cannot tell: the first call will report the provider's own answer
    finally:
        os.environ.update(empty)
    if not missing:
        return
    if frozenset(missing) in _ALTERNATIVE_KEYS:
        raise ModelError.missing_credentials(model, sorted(missing), any_of=True)
    raise ModelError.missing_credentials(model, missing)


# -- autogen → OpenAI ----------------------------------------------------------------------------------------


def to_openai_messages(messages: Sequence[LLMMessage]) -> list[dict[str, Any]]:
    """autogen messages as OpenAI chat messages (a function-result message becomes one tool message per result)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            out.append({"role": "system", "content": message.content})
        elif isinstance(message, UserMessage):
            out.append({"role": "user", "content": _user_text(message.content)})
        elif isinstance(message, AssistantMessage):
            out.append(_assistant(message))
        elif isinstance(message, FunctionExecutionResultMessage):
            out.extend({"role": "tool", "tool_call_id": r.call_id, "content": r.content} for r in message.content)
        else:
            raise TypeError(f"cannot send a {type(message).__name__} to a model")
    return out


def _user_text(content: str | list[Any]) -> str:
    # Models here are text-only (model_info vision=False); an image is named rather than silently dropped.
    if isinstance(content, str):
        return content
    return "\n".join(part if isinstance(part, str) else "[image omitted]" for part in content)


def _assistant(message: AssistantMessage) -> dict[str, Any]:
    if isinstance(message.content, str):
        return {"role": "assistant", "content": message.content}
    calls = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name or "unnamed_tool", "arguments": _resendable_arguments(call.arguments)},
        }
        for call in message.content
    ]
    return {"role": "assistant", "content": message.thought or None, "tool_calls": calls}


def _resendable_arguments(arguments: str) -> str:
    """A JSON object string. Malformed arguments we passed through are wrapped, because some providers'
    converters (litellm's Anthropic and Gemini paths) parse history arguments and would fail the next call."""
    try:
        if isinstance(json.loads(arguments), dict):
            return arguments
    except (TypeError, ValueError):
        pass
    return json.dumps({"invalid_arguments": arguments})


def to_openai_tools(tools: Sequence[Tool | ToolSchema]) -> list[dict[str, Any]]:
    """Tools as OpenAI function tools: {"type": "function", "function": {name, description, parameters}}."""
    return [{"type": "function", "function": _function_spec(tool)} for tool in tools]


def _function_spec(tool: Tool | ToolSchema) -> dict[str, Any]:
    schema: Mapping[str, Any] = tool.schema if isinstance(tool, Tool) else tool
    spec: dict[str, Any] = {
        "name": schema["name"],
        "description": schema.get("description", ""),
        "parameters": dict(schema.get("parameters") or {"type": "object", "properties": {}}),
    }
    if schema.get("strict"):
        spec["strict"] = True
    return spec


def _tool_choice(choice: Tool | Literal["auto", "required", "none"]) -> str | dict[str, Any]:
    if isinstance(choice, str):
        return choice
    return {"type": "function", "function": {"name": choice.name}}


# -- OpenAI → autogen ----------------------------------------------------------------------------------------


def _function_call(call: Any) -> FunctionCall:
    """One tool call as a FunctionCall, as the model sent it: bad JSON and unknown names pass through."""
    function = _field(call, "function") or {}
    arguments = _field(function, "arguments")
    if isinstance(arguments, Mapping):
        arguments = json.dumps(arguments)
    elif arguments is None or not str(arguments).strip():
        arguments = "{}"  # a call without arguments means an empty object
    return FunctionCall(
        id=str(_field(call, "id") or f"call_{uuid.uuid4().hex[:24]}"),
        name=str(_field(function, "name") or ""),
        arguments=str(arguments),
    )


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _finish_reason(reason: str | None, has_calls: bool) -> FinishReasons:
    if has_calls:
        return "function_calls"  # some servers say "stop" even when they returned tool calls
    mapped = _FINISH_REASONS.get(reason or "", "unknown")
    return "stop" if mapped == "function_calls" else mapped  # "tool_calls" with no calls: treat as text


def model_family(model: str) -> str:
    """autogen's family for a model name (the part after the provider), or "unknown"."""
    name = model.lower().rsplit("/", 1)[-1]
    for marker, family in _FAMILIES:
        if name.startswith(marker) or f"-{marker}" in name or f".{marker}" in name:
            return family
    return ModelFamily.UNKNOWN


# -- the client ----------------------------------------------------------------------------------------------


class LiteLLMClient(TurnModel):
    """autogen ChatCompletionClient over `litellm.acompletion`, with usage and cost accounting.

    `model` is a litellm model string ("openai/gpt-4o", "anthropic/claude-sonnet-4-5", "ollama/llama3.1", or
    "openai/<name>" with `base_url` for an OpenAI-compatible server). Timeouts, connection failures, 429 and 5xx
    are retried `max_retries` times with exponential backoff starting at `backoff` seconds; then, like every
    other provider failure, they raise a one-line ModelError. `extra` is passed to every litellm call.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60,
        max_retries: int = 2,
        temperature: float = 0.0,
        extra: dict[str, Any] | None = None,
        *,
        backoff: float = 1.0,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__()
        self.model = self.token_model = model
        self.base_url = base_url
        self._api_key = api_key
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.temperature = temperature
        self.extra = dict(extra or {})
        self.backoff = backoff
        self.max_tokens = max_tokens
        self.text_tools: bool | None = None  # tool calls as text (text_tools.py); None: not decided yet
        self._cost_usd = 0.0
        self._context_window: int | None = None
        self._needs_placeholder: bool | None = None

    # -- calls ---------------------------------------------------------------------------------------------

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        offered = {_function_spec(t)["name"] for t in tools}
        request = self._request(messages, tools, tool_choice, json_output, extra_create_args)
        try:
            response, result = await self._complete(
                request, cancellation_token, lambda r: self._result(r, messages, offered)
            )
        except ModelError as exc:
            # A provider that refuses the request's tools: the same request again, with the tools as text.
            if not (tools and not self.text_tools and exc.status == 400 and "tool" in str(exc).lower()):
                raise
            self.text_tools = True
            request = self._request(messages, tools, tool_choice, json_output, extra_create_args)
            response, result = await self._complete(
                request, cancellation_token, lambda r: self._result(r, messages, offered)
            )
        self._account(response, result.usage)
        return result

    def uses_text_tools(self) -> bool:
        """Whether tools are described in the prompt instead of sent natively: SRE_AGENT_TOOL_CALLS=text|native
        decides; `ollama/` models (Ollama's generate API) always; else litellm's capability data for a model it
        knows (native for one it does not, until the provider refuses the tools)."""
        if self.text_tools is None:
            chosen = os.environ.get(TOOL_CALLS_ENV, "").strip().lower()
            if chosen in ("text", "native"):
                self.text_tools = chosen == "text"
            elif self.model.startswith("ollama/"):  # Ollama's generate API takes a prompt and no tools at all
                self.text_tools = True
            else:
                try:
                    info = _litellm().get_model_info(self.model)
                    self.text_tools = info.get("supports_function_calling") is False
                except Exception:  # a model litellm does not know (a local server's): try native first
                    self.text_tools = False
        return self.text_tools

    def _request(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(messages),
            "temperature": self.temperature,
            "timeout": self.timeout,
            "num_retries": 0,  # retries are ours (see _complete); this also turns off the SDK's own retries
            "drop_params": True,  # e.g. reasoning models reject temperature; drop rather than fail
        }
        if self.max_tokens:
            request["max_tokens"] = self.max_tokens
        if self.base_url:
            request["base_url"] = self.base_url
        api_key = self._api_key or self._placeholder_key()
        if api_key:
            request["api_key"] = api_key
        if tools and self.uses_text_tools():
            request["messages"] = text_tools.as_text(request["messages"], to_openai_tools(tools))
        elif tools:
            request["tools"] = to_openai_tools(tools)
            request["tool_choice"] = _tool_choice(tool_choice)
        if json_output is True:
            request["response_format"] = {"type": "json_object"}
        elif isinstance(json_output, type) and issubclass(json_output, BaseModel):
            request["response_format"] = json_output  # litellm turns a pydantic model into a JSON schema
        return {**request, **self.extra, **dict(extra_create_args)}

    async def _complete(
        self,
        request: dict[str, Any],
        cancellation_token: CancellationToken | None,
        read: Callable[[Any], CreateResult],
    ) -> tuple[Any, CreateResult]:
        """One litellm completion and its reading, with up to max_retries retries of transient failures:
        timeouts, connection failures, 429, 5xx and replies that cannot be read (a garbled or oversized
        body is often a one-off of the server or the sampling)."""
        litellm = _litellm()
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = await _linked(litellm.acompletion(**request), cancellation_token)
                return response, read(response)
            except _InvalidReply as exc:
                if attempt == attempts:
                    raise ModelError.invalid_reply(self.model, self._where(), attempt, str(exc)) from None
            except Exception as exc:
                if not _is_provider_failure(exc):
                    raise  # a bug on our side: keep the traceback
                if attempt == attempts or not _is_transient(exc):
                    raise self._error(exc, attempt) from exc
            delay = min(self.backoff * 2 ** (attempt - 1), _BACKOFF_CAP)
            await _linked(asyncio.sleep(delay), cancellation_token)
        raise AssertionError("unreachable: the loop returns or raises")

    def _where(self) -> str:
        return self.base_url or f"the {self._provider()} API"

    def _error(self, exc: Exception, attempts: int) -> ModelError:
        """The one-line ModelError for a provider failure."""
        if _in_chain(exc, _timeout_types()):
            return ModelError.timed_out(self.model, attempts, self.timeout)
        if _is_connection_failure(exc):
            return ModelError.unreachable(self.model, self._where(), attempts, _root_cause(exc))
        provider = getattr(exc, "llm_provider", None) or self._provider()
        detail = _provider_message(exc)
        status = _answered_status(exc)
        if status is not None:
            return ModelError.http_status(self.model, provider, status, detail, attempts, _is_transient(exc))
        if _is_unreadable_answer(exc):
            return ModelError.invalid_reply(self.model, self._where(), attempts, detail)
        # litellm or the SDK refused before anything was sent (no key, unknown provider, bad parameter)
        return ModelError(
            f"model {self.model}: call to {provider} not sent: {detail}", model=self.model, provider=provider
        )

    def _placeholder_key(self) -> str | None:
        """A dummy key for a base_url server when the provider's key variable is unset (servers ignore it)."""
        if not self.base_url:
            return None
        if self._needs_placeholder is None:
            try:
                missing = _litellm().validate_environment(model=self.model, api_base=self.base_url)["missing_keys"]
            except Exception:
                missing = []
            self._needs_placeholder = bool(missing)
        return _NO_KEY if self._needs_placeholder else None

    def _provider(self) -> str:
        try:
            return str(_litellm().get_llm_provider(self.model)[1])
        except Exception:
            return "unknown provider"

    def _result(
        self, response: Any, messages: Sequence[LLMMessage], offered: frozenset[str] | set[str] = frozenset()
    ) -> CreateResult:
        """The reply as a CreateResult; _InvalidReply when it has no choice or is over MAX_REPLY_CHARS (checked
        before anything counts its tokens: tokenising megabytes costs seconds, every turn it stays in context)."""
        if not getattr(response, "choices", None):
            raise _InvalidReply("the reply has no choices")
        choice = response.choices[0]
        message = choice.message
        size = _reply_chars(message)
        if size > MAX_REPLY_CHARS:
            raise _InvalidReply(f"the reply is {size:,} characters, over the {MAX_REPLY_CHARS:,}-character cap")
        text = _field(message, "content") or ""
        reasoning = _field(message, "reasoning_content") or None
        calls = [_function_call(call) for call in (_field(message, "tool_calls") or [])]
        if not calls and offered and (parsed := text_tools.parse_call(text, offered)):
            calls = [FunctionCall(id=f"call_{uuid.uuid4().hex[:24]}", name=parsed[0], arguments=json.dumps(parsed[1]))]
        content: str | list[FunctionCall] = calls if calls else text
        # With tool calls, the text beside them is the model's reasoning (and carries its "Action:" line).
        thought = (text.strip() or reasoning) if calls else reasoning
        return CreateResult(
            finish_reason=_finish_reason(_field(choice, "finish_reason"), bool(calls)),
            content=content,
            usage=self._usage(response, messages, message),
            cached=False,
            thought=thought or None,
        )

    def _usage(self, response: Any, messages: Sequence[LLMMessage], message: Any) -> RequestUsage:
        usage = getattr(response, "usage", None)
        prompt = int(_field(usage, "prompt_tokens") or 0) if usage is not None else 0
        completion = int(_field(usage, "completion_tokens") or 0) if usage is not None else 0
        if prompt > 0:
            return RequestUsage(prompt_tokens=prompt, completion_tokens=completion)
        # No real prompt is empty: the server sent no usage (litellm fills in zeros). Count ourselves so the
        # run's token budget still moves.
        from orchestrator.tokens import count_messages, count_text

        if not completion:
            completion = count_text(json.dumps(_plain(message), default=str), self.model)
        return RequestUsage(prompt_tokens=count_messages(messages, self.model), completion_tokens=completion)

    def _account(self, response: Any, usage: RequestUsage) -> None:
        self._add_usage(usage)
        try:
            cost = _litellm().completion_cost(completion_response=response)
        except Exception:
            cost = 0.0  # unknown model (local servers): no price, never a crash
        self._cost_usd += float(cost or 0.0)

    # -- accounting and capabilities -------------------------------------------------------------------------

    @property
    def cost_usd(self) -> float:
        """Dollars spent so far, per litellm's price table (0.0 for models it cannot price)."""
        return self._cost_usd

    @property
    def context_tokens(self) -> int:
        return self.context_window

    @property
    def context_window(self) -> int:
        """Input tokens the model accepts, from litellm's model table, else DEFAULT_CONTEXT_WINDOW."""
        if self._context_window is None:
            try:
                known = _litellm().get_model_info(self.model).get("max_input_tokens")
            except Exception:
                known = None
            self._context_window = int(known) if known else DEFAULT_CONTEXT_WINDOW
        return self._context_window

    @property
    def model_info(self) -> ModelInfo:
        return ModelInfo(
            vision=False,
            function_calling=True,
            json_output=True,
            family=model_family(self.model),
            structured_output=False,
        )


# -- failure classification ------------------------------------------------------------------------------------


class _InvalidReply(Exception):
    """A reply that arrived but cannot be used (no choices, over the size cap); retried like a 5xx."""


def _reply_chars(message: Any) -> int:
    size = len(str(_field(message, "content") or "")) + len(str(_field(message, "reasoning_content") or ""))
    for call in _field(message, "tool_calls") or []:
        function = _field(call, "function") or {}
        arguments = _field(function, "arguments")
        size += len(json.dumps(arguments) if isinstance(arguments, Mapping) else str(arguments or ""))
        size += len(str(_field(function, "name") or ""))
    return size


def _timeout_types() -> tuple[type[BaseException], ...]:
    import openai

    return (openai.APITimeoutError, asyncio.TimeoutError)


def _is_provider_failure(exc: BaseException) -> bool:
    """Errors from the provider or the way to it (every litellm exception derives from the openai SDK's)."""
    import openai

    return isinstance(exc, openai.OpenAIError | asyncio.TimeoutError)


def _is_connection_failure(exc: BaseException) -> bool:
    # litellm reports "connection refused" as an InternalServerError 500; the cause chain tells the truth.
    import openai

    return _in_chain(exc, (openai.APIConnectionError, ConnectionError))


def _is_transient(exc: BaseException) -> bool:
    """Worth another attempt: timeouts, connection failures, rate limits, server errors, unreadable replies."""
    if _in_chain(exc, _timeout_types()) or _is_connection_failure(exc):
        return True
    status = _answered_status(exc)
    if status is not None:
        return status == 429 or status >= 500
    return _is_unreadable_answer(exc)


def _is_unreadable_answer(exc: BaseException) -> bool:
    """A server answered 200 with a body that is not a chat completion (not JSON, `choices` of the wrong
    shape). litellm reports it as an InternalServerError with no HTTP status error behind it; what it
    refuses before sending (no key, an unknown provider, a bad parameter) it reports as other types."""
    litellm = _litellm()
    return isinstance(exc, litellm.InternalServerError | litellm.APIError | litellm.APIResponseValidationError)


def _answered_status(exc: BaseException) -> int | None:
    """The HTTP status a server really answered with. litellm also dresses local failures (a missing key, an
    unknown provider) as 400/500 errors; only a real answer has an httpx status error in its cause chain."""
    import httpx

    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and _in_chain(exc, (httpx.HTTPStatusError,)):
        return status
    return None


def _in_chain(exc: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, types):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _root_cause(exc: BaseException) -> str:
    """The innermost error's text (e.g. "Connect call failed"), which says more than litellm's wrapper."""
    current, seen = exc, {id(exc)}
    while (inner := current.__cause__ or current.__context__) is not None and id(inner) not in seen:
        current = inner
        seen.add(id(inner))
    return str(current)


def _provider_message(exc: BaseException) -> str:
    """The provider's own words, without litellm's "litellm.X: X: OpenAIException - " wrapping or JSON envelope."""
    text = _WRAPPER_PREFIX.sub("", str(getattr(exc, "message", None) or exc), count=1).strip()
    try:
        body = json.loads(text)
    except ValueError:
        return one_line(text)
    error = body.get("error", body) if isinstance(body, dict) else body
    message = error.get("message") if isinstance(error, dict) else None
    return one_line(str(message or text))


def _plain(message: Any) -> Any:
    dump = getattr(message, "model_dump", None)
    return dump() if callable(dump) else message


async def _linked(awaitable: Awaitable[T], token: CancellationToken | None) -> T:
    """Await, letting autogen's cancellation token cancel the call."""
    future = asyncio.ensure_future(awaitable)
    if token is not None:
        token.link_future(future)
    return await future
