"""Token counting: offline, exact for text, an upper bound for chat messages and tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from autogen_core import FunctionCall
from autogen_core.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import FunctionTool

from orchestrator import tokens
from orchestrator.tokens import count_messages, count_text, count_tools, encoding_for, encoding_name_for

KNOWN = "The checkout pod is in CrashLoopBackOff after the image tag changed to 1.12.0-broken."


def openai_cookbook_count(messages: list[dict[str, str]], model: str | None = None) -> int:
    """OpenAI's published counting rule for chat messages: 3 per message, +1 per name, +3 reply priming."""
    n = 3
    for m in messages:
        n += 3
        for key, value in m.items():
            n += count_text(value, model)
            if key == "name":
                n += 1
    return n


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        (None, "o200k_base"),
        ("gpt-4o", "o200k_base"),
        ("openai/gpt-4o-mini", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("azure/gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("anthropic/claude-sonnet-4", "o200k_base"),
        ("ollama/llama3.1", "o200k_base"),
    ],
)
def test_encoding_choice(model: str | None, encoding: str) -> None:
    assert encoding_name_for(model) == encoding
    assert encoding_for(model).name == encoding


def test_count_text_matches_tiktoken() -> None:
    import tiktoken

    assert count_text(KNOWN) == len(tiktoken.get_encoding("o200k_base").encode(KNOWN))
    assert count_text(KNOWN, "gpt-4") == len(tiktoken.get_encoding("cl100k_base").encode(KNOWN))
    assert count_text("hello world") == 2
    assert count_text("") == 0


def test_count_text_tolerates_special_token_strings() -> None:
    # tool output may contain these literally; tiktoken raises on them by default
    assert count_text("log line <|endoftext|> more") > 3


def test_encodings_are_cached() -> None:
    assert encoding_for("gpt-4o") is encoding_for(None)


def test_single_message_count_is_exact_text_plus_documented_overhead() -> None:
    msg = UserMessage(content=KNOWN, source="engine")
    expected = tokens.REPLY_PRIMING + tokens.MESSAGE_OVERHEAD + count_text(KNOWN) + count_text("engine")
    assert count_messages([msg]) == expected


def test_message_counts_bound_openai_rule() -> None:
    msgs = [
        SystemMessage(content="You are the investigator."),
        UserMessage(content=KNOWN, source="engine"),
        AssistantMessage(content="I will read the pod logs.", source="investigator"),
    ]
    reference = openai_cookbook_count(
        [
            {"role": "system", "content": "You are the investigator."},
            {"role": "user", "content": KNOWN, "name": "engine"},
            {"role": "assistant", "content": "I will read the pod logs.", "name": "investigator"},
        ]
    )
    assert count_messages(msgs) >= reference
    assert count_messages([]) == 0


def test_function_calls_and_results_are_counted() -> None:
    args = json.dumps({"namespace": "otel-demo", "name": "checkout-7d9f", "tail": 200})
    call = AssistantMessage(content=[FunctionCall(id="call_1", name="pod_logs", arguments=args)], source="inv")
    empty_call = AssistantMessage(content=[FunctionCall(id="call_1", name="pod_logs", arguments="")], source="inv")
    assert count_messages([call]) - count_messages([empty_call]) == count_text(args)

    output = "Error: failed to pull image ghcr.io/open-telemetry/demo:1.12.0-broken\n" * 20
    result = FunctionExecutionResultMessage(
        content=[FunctionExecutionResult(content=output, name="pod_logs", call_id="call_1")]
    )
    empty = FunctionExecutionResultMessage(
        content=[FunctionExecutionResult(content="", name="pod_logs", call_id="call_1")]
    )
    assert count_messages([result]) - count_messages([empty]) == count_text(output)
    # two results are two tool messages: framing is paid twice
    both = FunctionExecutionResultMessage(content=[empty.content[0], empty.content[0]])
    assert count_messages([both]) > count_messages([empty])


def test_thought_is_counted() -> None:
    plain = AssistantMessage(content="done", source="p")
    thinking = AssistantMessage(content="done", thought="Because the alert cleared.", source="p")
    assert count_messages([thinking]) - count_messages([plain]) == count_text("Because the alert cleared.")


def _get_pod(namespace: str, name: str) -> str:
    """Read one pod."""
    return f"{namespace}/{name}"


def test_count_tools_accepts_tools_schemas_and_openai_dicts() -> None:
    tool = FunctionTool(_get_pod, description="Read one pod.", name="get_pod")
    by_tool = count_tools([tool])
    by_schema = count_tools([tool.schema])
    by_openai = count_tools([{"type": "function", "function": dict(tool.schema)}])
    assert by_tool == by_schema == by_openai
    schema_text = json.dumps({"type": "function", "function": dict(tool.schema)})
    assert by_tool >= count_text(schema_text)
    assert count_tools([tool, tool]) > by_tool
    assert count_tools([]) == 0
    with pytest.raises(TypeError):
        count_tools([42])


OFFLINE_SCRIPT = textwrap.dedent(
    """
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network is off in this test")

    socket.socket.connect = refuse
    socket.create_connection = refuse

    from orchestrator import tokens
    from orchestrator.tokens import count_text
    for name in ("o200k_base", "cl100k_base", "p50k_base"):
        assert tokens._encoding(name).encode("hello world"), name
    print(count_text("hello world"), count_text("hello world", "gpt-4"))
    """
)


def _run_offline(env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "TIKTOKEN" not in k and k != "DATA_GYM_CACHE_DIR"}
    env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"
    return env


def test_counting_works_with_network_off() -> None:
    assert _run_offline(_clean_env()) == "2 2"


def test_user_cache_dir_is_seeded_from_bundle(tmp_path) -> None:
    env = _clean_env()
    env["TIKTOKEN_CACHE_DIR"] = str(tmp_path / "cache")
    assert _run_offline(env) == "2 2"
    assert (tmp_path / "cache" / tokens._cache_key("o200k_base")).exists()


def test_count_text_remembers_what_it_counted() -> None:
    from orchestrator.tokens import MEMO_MAX_CHARS, _count_memo, encoding_for

    short, long = "kubectl rollout undo deployment/cart -n shop " * 10, "x y " * MEMO_MAX_CHARS
    for text in (short, long):
        assert count_text(text) == len(encoding_for(None).encode(text, disallowed_special=()))
    before = _count_memo.cache_info().hits
    assert count_text(short) == count_text(short)
    assert _count_memo.cache_info().hits >= before + 2
