"""A model call's tokens are counted one way wherever they are read: the run's budget total (MeteredClient),
the progress events (engine.events.typed) and the per-role usage in report.json (usage_by_role). Driven
through litellm against a local OpenAI-compatible server, once with the provider's usage and once without."""

from __future__ import annotations

from pathlib import Path

from autogen_core.models import SystemMessage, UserMessage

from orchestrator.agents import MeteredClient
from orchestrator.engine.events import ModelCalled, typed
from orchestrator.engine.outputs import usage_by_role
from orchestrator.models.litellm_client import LiteLLMClient
from orchestrator.trace import Trace
from tests.models.openai_stub import OpenAIStub

TASK = [SystemMessage(content="You are the investigator."), UserMessage(content="Is checkout up?", source="engine")]


async def test_the_three_readers_of_a_calls_tokens_agree(tmp_path: Path) -> None:
    script = [
        {"content": "It is up.", "usage": {"prompt_tokens": 1234, "completion_tokens": 7}},
        {"content": "Still up.", "usage": None},  # a local server that reports no usage
    ]
    trace = Trace("r1", tmp_path / "trace.jsonl", model="openai/test-model")
    trace.role = "investigator"
    with OpenAIStub(script) as stub:
        inner = LiteLLMClient("openai/test-model", base_url=stub.base_url, api_key="test", backoff=0.01)
        client = MeteredClient(inner, trace, budget_tokens=100_000, model="openai/test-model")
        await client.create(TASK)
        await client.create(TASK)
    trace.close()
    calls = trace.of_kind("llm_call")
    reported, unreported = (e.data for e in calls)
    # the provider's figure when it gave one (not our own count of the request) ...
    assert reported["provider_prompt_tokens"] == 1234 != reported["prompt_tokens"]
    # ... and the model client's own count when the server sent no usage
    assert unreported["provider_prompt_tokens"] > 0
    prompt = 1234 + unreported["provider_prompt_tokens"]
    completion = 7 + unreported["completion_tokens"]

    total = client.total_usage()
    assert (total.prompt_tokens, total.completion_tokens) == (prompt, completion)
    progress = [typed(e) for e in calls]
    assert sum(p.tokens for p in progress if isinstance(p, ModelCalled)) == prompt + completion
    usage = usage_by_role(tmp_path / "trace.jsonl")
    assert {role: (u["calls"], u["prompt_tokens"], u["completion_tokens"]) for role, u in usage.items()} == {
        "investigator": (2, prompt, completion)
    }


def test_a_call_the_provider_gave_no_figure_for_counts_the_requests_own_count(tmp_path: Path) -> None:
    trace = Trace("r2", tmp_path / "trace.jsonl", model="openai/test-model")
    trace.role = "planner"
    sent = trace.emit("llm_call", prompt_tokens=321, provider_prompt_tokens=None, completion_tokens=9, sent=True)
    trace.emit("llm_call", prompt_tokens=999_999, budget=1000, within_budget=False, sent=False)  # refused: free
    trace.close()
    progress = typed(sent)
    assert isinstance(progress, ModelCalled) and progress.tokens == 330
    assert usage_by_role(tmp_path / "trace.jsonl")["planner"] == {
        "calls": 1, "prompt_tokens": 321, "completion_tokens": 9, "cost_usd": 0.0
    }  # fmt: skip
