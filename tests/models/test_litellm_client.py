"""LiteLLMClient against a local OpenAI-compatible server: real litellm, real HTTP, no network."""

from __future__ import annotations

import json

import pytest
from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import FunctionTool

from orchestrator import tokens
from orchestrator.models.errors import ModelError
from orchestrator.models.litellm_client import LiteLLMClient, check_credentials, model_family
from tests.models.openai_stub import OpenAIStub

MODEL = "openai/test-model"


def get_pods(namespace: str, selector: str = "") -> str:
    """List pods in a namespace."""
    return f"pods in {namespace}"


GET_PODS = FunctionTool(get_pods, description="List pods in a namespace.", name="get_pods")
SUBMIT_PLAN = {
    "name": "submit_plan",
    "description": "Submit the investigation plan.",
    "parameters": {
        "type": "object",
        "properties": {"hypotheses": {"type": "array", "items": {"type": "string"}}},
        "required": ["hypotheses"],
    },
}
TASK = [SystemMessage(content="You are the planner."), UserMessage(content="Triage the incident.", source="engine")]


def client_for(stub: OpenAIStub, model: str = MODEL, **options: object) -> LiteLLMClient:
    options.setdefault("backoff", 0.01)
    return LiteLLMClient(model, base_url=stub.base_url, api_key="test", **options)  # type: ignore[arg-type]


# -- what is sent ----------------------------------------------------------------------------------------------


async def test_conversation_and_tools_are_sent_in_openai_shape() -> None:
    history = [
        SystemMessage(content="You are the investigator."),
        UserMessage(content="Pods are crashing in otel-demo.", source="engine"),
        AssistantMessage(
            content=[FunctionCall(id="call_a", name="get_pods", arguments='{"namespace": "otel-demo"}')],
            thought="Action: get_pods otel-demo",
            source="investigator",
        ),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(call_id="call_a", name="get_pods", content='{"ok": true, "pods": []}')]
        ),
        AssistantMessage(content="No pods found.", source="investigator"),
        UserMessage(content=["Look again.", "Closer."], source="engine"),
    ]
    with OpenAIStub(["done"]) as stub:
        await client_for(stub).create(history, tools=[GET_PODS, SUBMIT_PLAN])
        sent = stub.last_request

    assert sent["model"] == "test-model"
    assert sent["messages"] == [
        {"role": "system", "content": "You are the investigator."},
        {"role": "user", "content": "Pods are crashing in otel-demo."},
        {
            "role": "assistant",
            "content": "Action: get_pods otel-demo",
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_pods", "arguments": '{"namespace": "otel-demo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": '{"ok": true, "pods": []}'},
        {"role": "assistant", "content": "No pods found."},
        {"role": "user", "content": "Look again.\nCloser."},
    ]
    functions = {tool["function"]["name"]: tool for tool in sent["tools"]}
    assert set(functions) == {"get_pods", "submit_plan"}
    assert all(tool["type"] == "function" for tool in sent["tools"])
    assert functions["submit_plan"]["function"] == SUBMIT_PLAN
    pods = functions["get_pods"]["function"]
    assert pods["description"] == "List pods in a namespace."
    assert pods["parameters"]["required"] == ["namespace"]
    assert set(pods["parameters"]["properties"]) == {"namespace", "selector"}
    assert sent["tool_choice"] == "auto"
    assert sent["temperature"] == 0.0


async def test_no_tools_sends_no_tool_fields_and_options_are_merged() -> None:
    with OpenAIStub(['{"answer": 1}', "forced"]) as stub:
        client = client_for(stub, temperature=0.3, extra={"top_p": 0.5, "seed": 7})
        await client.create(TASK, json_output=True, extra_create_args={"seed": 8})
        plain = stub.last_request
        await client.create(TASK, tools=[GET_PODS, SUBMIT_PLAN], tool_choice=GET_PODS)
        forced = stub.last_request

    assert "tools" not in plain and "tool_choice" not in plain
    assert plain["response_format"] == {"type": "json_object"}
    assert (plain["temperature"], plain["top_p"], plain["seed"]) == (0.3, 0.5, 8)
    assert forced["tool_choice"] == {"type": "function", "function": {"name": "get_pods"}}


# -- what comes back -------------------------------------------------------------------------------------------


async def test_tool_calls_become_function_calls_with_the_text_as_thought() -> None:
    script = [
        {
            "content": "Action: get_pods otel-demo",
            "tool_calls": [
                {"id": "call_1", "name": "get_pods", "arguments": {"namespace": "otel-demo"}},
                {"id": "call_2", "name": "submit_plan", "arguments": '{"hypotheses": ["bad image"]}'},
            ],
        }
    ]
    with OpenAIStub(script) as stub:
        result = await client_for(stub).create(TASK, tools=[GET_PODS, SUBMIT_PLAN])

    assert result.finish_reason == "function_calls"
    assert result.content == [
        FunctionCall(id="call_1", name="get_pods", arguments='{"namespace": "otel-demo"}'),
        FunctionCall(id="call_2", name="submit_plan", arguments='{"hypotheses": ["bad image"]}'),
    ]
    assert result.thought == "Action: get_pods otel-demo"
    assert result.cached is False


async def test_text_answer_has_stop_reason_and_no_thought() -> None:
    with OpenAIStub([{"content": "The image tag is wrong.", "finish_reason": "length"}, "Fine."]) as stub:
        client = client_for(stub)
        cut = await client.create(TASK)
        done = await client.create(TASK)

    assert (cut.finish_reason, cut.content, cut.thought) == ("length", "The image tag is wrong.", None)
    assert (done.finish_reason, done.content) == ("stop", "Fine.")


async def test_malformed_tool_calls_pass_through_and_are_resent_safely() -> None:
    script = [
        {
            "content": None,
            "tool_calls": [
                {"id": "call_x", "name": "get_pods", "arguments": '{"namespace": "otel-demo"'},
                {"id": None, "name": "restart_everything", "arguments": {"now": True}},
                {"id": None, "name": "get_pods", "arguments": ""},
            ],
        },
        "ok",
    ]
    with OpenAIStub(script) as stub:
        client = client_for(stub)
        result = await client.create(TASK, tools=[GET_PODS])
        assert isinstance(result.content, list)
        broken, unknown, empty = result.content
        # The engine answers these with readable errors; the next request must still be accepted.
        results = [FunctionExecutionResult(call_id=c.id, name=c.name, content='{"ok": false}') for c in result.content]
        history = [
            *TASK,
            AssistantMessage(content=result.content, source="planner"),
            FunctionExecutionResultMessage(content=results),
        ]
        await client.create(history, tools=[GET_PODS])
        resent = stub.last_request["messages"][2]

    assert result.finish_reason == "function_calls"
    assert result.thought is None
    assert (broken.id, broken.name, broken.arguments) == ("call_x", "get_pods", '{"namespace": "otel-demo"')
    assert (unknown.name, json.loads(unknown.arguments)) == ("restart_everything", {"now": True})
    assert empty.arguments == "{}"
    assert unknown.id and empty.id and len({broken.id, unknown.id, empty.id}) == 3
    assert resent.get("content") is None
    sent_arguments = [json.loads(call["function"]["arguments"]) for call in resent["tool_calls"]]
    assert sent_arguments[0] == {"invalid_arguments": '{"namespace": "otel-demo"'}
    assert [call["id"] for call in resent["tool_calls"]] == [broken.id, unknown.id, empty.id]


async def test_create_stream_ends_with_the_create_result() -> None:
    with OpenAIStub(["streamed"]) as stub:
        chunks = [chunk async for chunk in client_for(stub).create_stream(TASK)]

    assert len(chunks) == 1
    assert isinstance(chunks[0], CreateResult) and chunks[0].content == "streamed"


# -- failures ------------------------------------------------------------------------------------------------


async def test_timeout_retries_then_raises_one_line_model_error() -> None:
    with OpenAIStub(["never seen"] * 3, delay=2.0) as stub:
        client = client_for(stub, timeout=0.2, max_retries=2)
        with pytest.raises(ModelError) as caught:
            await client.create(TASK)
        attempts = len(stub.requests)

    assert str(caught.value) == "model openai/test-model timed out after 3 attempts (0.2 s each)"
    assert attempts == 3
    assert caught.value.retryable and caught.value.attempts == 3


async def test_server_error_is_retried_then_reported_in_one_line() -> None:
    with OpenAIStub([{"status": 500, "error": "upstream exploded\nbadly"}] * 3) as stub:
        with pytest.raises(ModelError) as caught:
            await client_for(stub, max_retries=2).create(TASK)
        attempts = len(stub.requests)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("model openai/test-model: provider openai answered HTTP 500")
    assert "after 3 attempts" in message and "upstream exploded badly" in message
    assert "Traceback" not in message and "litellm." not in message
    assert (caught.value.status, caught.value.provider, attempts) == (500, "openai", 3)


async def test_rate_limit_is_retried_and_can_recover() -> None:
    with OpenAIStub([{"status": 429}, "recovered"]) as stub:
        result = await client_for(stub).create(TASK)
        attempts = len(stub.requests)

    assert (result.content, attempts) == ("recovered", 2)


async def test_unauthorized_is_not_retried() -> None:
    with OpenAIStub([{"status": 401, "error": "Incorrect API key provided"}, "unused"]) as stub:
        with pytest.raises(ModelError) as caught:
            await client_for(stub).create(TASK)
        attempts = len(stub.requests)

    assert attempts == 1
    assert str(caught.value) == (
        "model openai/test-model: provider openai answered HTTP 401 (unauthorized, check the API key): "
        "Incorrect API key provided"
    )
    assert not caught.value.retryable


async def test_unreachable_server_names_the_address() -> None:
    with OpenAIStub() as stub:
        base_url = stub.base_url  # a port that is free again once the stub stops
    client = LiteLLMClient(MODEL, base_url=base_url, api_key="test", max_retries=1, backoff=0.01)
    with pytest.raises(ModelError) as caught:
        await client.create(TASK)

    message = str(caught.value)
    assert message.startswith(f"model openai/test-model could not reach {base_url} after 2 attempts")
    assert "\n" not in message


async def test_an_unreadable_reply_is_retried_and_can_recover() -> None:
    with OpenAIStub([{"raw": "<html>502 Bad Gateway</html>"}, "recovered"]) as stub:
        result = await client_for(stub).create(TASK)
        attempts = len(stub.requests)

    assert (result.content, attempts) == ("recovered", 2)


@pytest.mark.parametrize("body", ["not json at all", '{"choices": 5}', '{"choices": []}'])
async def test_unreadable_replies_are_an_invalid_reply_not_a_call_never_sent(body: str) -> None:
    with OpenAIStub([{"raw": body}] * 3) as stub:
        with pytest.raises(ModelError) as caught:
            await client_for(stub, max_retries=2).create(TASK)
        attempts, where = len(stub.requests), stub.base_url

    message = str(caught.value)
    assert attempts == 3 and caught.value.retryable and caught.value.attempts == 3
    assert message.startswith(f"model {MODEL}: invalid reply from {where} after 3 attempts: ")
    assert "not sent" not in message and "\n" not in message


async def test_a_reply_over_the_cap_is_refused_before_its_tokens_are_counted() -> None:
    import time

    from orchestrator.models.litellm_client import MAX_REPLY_CHARS

    huge = "y" * (20 * 1024 * 1024)  # no usage block: counting it locally would take tens of seconds
    script = [{"content": huge, "usage": None}, {"tool_calls": [{"name": "get_pods", "arguments": {"x": huge}}]}]
    with OpenAIStub(script) as stub:
        started = time.process_time()
        with pytest.raises(ModelError) as caught:
            await client_for(stub, max_retries=1).create(TASK, tools=[GET_PODS])
        cpu = time.process_time() - started  # the stub's threads too: they build and send the replies

    assert f"over the {MAX_REPLY_CHARS:,}-character cap" in str(caught.value)
    assert caught.value.attempts == 2 and cpu < 5.0


async def test_local_server_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with OpenAIStub(["served locally"]) as stub:
        result = await LiteLLMClient(MODEL, base_url=stub.base_url).create(TASK)

    assert result.content == "served locally"


async def test_a_call_refused_before_sending_is_not_retried_or_called_http() -> None:
    with OpenAIStub(["unused"]) as stub:
        client = LiteLLMClient("my-model", base_url=stub.base_url, api_key="test", backoff=0.01)
        with pytest.raises(ModelError) as caught:
            await client.create(TASK)
        attempts = len(stub.requests)

    message = str(caught.value)
    assert attempts == 0
    assert message.startswith("model my-model: call to unknown provider not sent: LLM Provider NOT provided")
    assert "\n" not in message and "HTTP" not in message and not caught.value.retryable


async def test_cancellation_token_stops_a_pending_call() -> None:
    with OpenAIStub(["late"], delay=5.0) as stub:
        token = CancellationToken()
        client = client_for(stub, timeout=30)
        import asyncio

        call = asyncio.ensure_future(client.create(TASK, cancellation_token=token))
        while not stub.requests:
            await asyncio.sleep(0.01)
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call


# -- accounting ------------------------------------------------------------------------------------------------


async def test_usage_accumulates_over_calls() -> None:
    script = [
        {"content": "one", "usage": {"prompt_tokens": 100, "completion_tokens": 7}},
        {
            "tool_calls": [{"name": "get_pods", "arguments": {}}],
            "usage": {"prompt_tokens": 150, "completion_tokens": 20},
        },
    ]
    with OpenAIStub(script) as stub:
        client = client_for(stub)
        first = await client.create(TASK)
        await client.create(TASK, tools=[GET_PODS])

    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (100, 7)
    assert client.actual_usage() == client.total_usage()
    assert (client.total_usage().prompt_tokens, client.total_usage().completion_tokens) == (250, 27)
    assert client.cost_usd == 0.0  # litellm has no price for an unknown model


async def test_cost_accumulates_for_a_priced_model() -> None:
    usage = {"prompt_tokens": 1000, "completion_tokens": 100}
    with OpenAIStub([{"content": "a", "usage": usage}, {"content": "b", "usage": usage}]) as stub:
        client = client_for(stub, model="openai/gpt-4o")
        await client.create(TASK)
        once = client.cost_usd
        await client.create(TASK)

    assert once > 0
    assert client.cost_usd == pytest.approx(2 * once)


async def test_missing_usage_is_counted_locally() -> None:
    with OpenAIStub([{"content": "no usage reported", "usage": None}]) as stub:
        client = client_for(stub)
        result = await client.create(TASK)

    assert result.usage.prompt_tokens >= tokens.count_messages(TASK, MODEL) > 0
    assert result.usage.completion_tokens > 0
    assert client.total_usage().prompt_tokens == result.usage.prompt_tokens


def test_token_counts_and_model_info() -> None:
    client = LiteLLMClient("openai/gpt-4o", api_key="unused")
    counted = client.count_tokens(TASK, tools=[GET_PODS])

    assert counted == tokens.count_messages(TASK, "openai/gpt-4o") + tokens.count_tools([GET_PODS], "openai/gpt-4o")
    assert client.count_tokens(TASK) < counted
    assert client.context_window == 128_000
    assert client.remaining_tokens(TASK, tools=[GET_PODS]) == 128_000 - counted
    assert LiteLLMClient("openai/some-local-model").context_window > 0
    info = client.model_info
    assert (info["function_calling"], info["json_output"], info["vision"], info["structured_output"]) == (
        True,
        True,
        False,
        False,
    )
    assert info["family"] == "gpt-4o"


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("anthropic/claude-sonnet-4-20250514", "claude-4-sonnet"),
        ("anthropic/claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("openai/gpt-4.1-mini", "gpt-41"),
        ("openai/o3-mini", "o3"),
        ("gemini/gemini-2.5-flash", "gemini-2.5-flash"),
        ("groq/llama-3.3-70b-versatile", "llama-3.3-70b"),
        ("ollama/deepseek-r1:14b", "r1"),
        ("mistral/mistral-large-latest", "mistral"),
        ("openai/my-finetune", "unknown"),
    ],
)
def test_model_family_from_name(model: str, family: str) -> None:
    assert model_family(model) == family


# -- credentials -----------------------------------------------------------------------------------------------


def test_missing_provider_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelError) as caught:
        check_credentials("openai/gpt-4o", None)
    assert (
        str(caught.value)
        == "model openai/gpt-4o needs OPENAI_API_KEY in the environment (or --base-url URL for a server of your own)"
    )

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    check_credentials("openai/gpt-4o", None)


def test_other_providers_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ModelError, match=r"^model anthropic/claude-sonnet-4-5 needs ANTHROPIC_API_KEY in the"):
        check_credentials("anthropic/claude-sonnet-4-5", None)
    with pytest.raises(ModelError, match=r"needs GROQ_API_KEY in the environment$"):
        check_credentials("groq/llama-3.3-70b-versatile", None)
    with pytest.raises(ModelError) as caught:
        check_credentials("gemini/gemini-2.5-flash", None)
    assert (
        str(caught.value) == "model gemini/gemini-2.5-flash needs GEMINI_API_KEY or GOOGLE_API_KEY in the environment"
    )
    monkeypatch.setenv("GOOGLE_API_KEY", "test")
    check_credentials("gemini/gemini-2.5-flash", None)


def test_local_servers_and_keyless_providers_need_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OLLAMA_API_BASE", raising=False)
    check_credentials("openai/qwen2.5-7b-instruct", "http://127.0.0.1:8000/v1")
    check_credentials("openai/gpt-4o", None, api_key="sk-explicit")
    check_credentials("ollama/llama3.1", None)
    check_credentials("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", None)


def test_model_without_provider_is_a_one_line_error() -> None:
    with pytest.raises(ModelError) as caught:
        check_credentials("my-model", "http://127.0.0.1:8000/v1")
    message = str(caught.value)
    assert message.startswith("model my-model names no known provider: write provider/model")
    assert "\n" not in message


# -- inside autogen ----------------------------------------------------------------------------------------------


async def test_autogen_agent_runs_a_tool_round_trip() -> None:
    from autogen_agentchat.agents import AssistantAgent

    script = [
        {
            "content": "Action: get_pods otel-demo",
            "tool_calls": [{"id": "call_pods", "name": "get_pods", "arguments": {"namespace": "otel-demo"}}],
        },
        "The frontend pod is missing.",
    ]
    with OpenAIStub(script) as stub:
        client = client_for(stub)
        agent = AssistantAgent(
            "investigator", model_client=client, tools=[get_pods], reflect_on_tool_use=True, system_message="Go."
        )
        result = await agent.run(task="Why is the frontend down?")
        followup = stub.requests[1]["messages"]

    assert result.messages[-1].content == "The frontend pod is missing."
    assert followup[-2]["tool_calls"][0]["function"] == {"name": "get_pods", "arguments": '{"namespace": "otel-demo"}'}
    assert followup[-1] == {"role": "tool", "tool_call_id": "call_pods", "content": "pods in otel-demo"}
    assert client.total_usage().prompt_tokens > 0


def test_how_tools_reach_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRE_AGENT_TOOL_CALLS", raising=False)
    assert LiteLLMClient("ollama/llama3").uses_text_tools()  # the generate API takes no tools
    assert not LiteLLMClient("openai/gpt-4o").uses_text_tools()  # litellm knows it calls tools
    assert not LiteLLMClient("openai/my-local-model").uses_text_tools()  # unknown: native until refused
    monkeypatch.setenv("SRE_AGENT_TOOL_CALLS", "text")
    assert LiteLLMClient("openai/gpt-4o").uses_text_tools()
