"""Tool calls for models that cannot call tools natively: the tools described in the prompt, a JSON object
in the reply taken as the call, and a clear end for a model whose replies never carry a usable call."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.models.openai_stub import OpenAIStub

from .helpers import events, root_causes, run_cli, write_incident
from .scripts import NS
from .test_knowledge import BAD_IMAGE, CULPRIT_REF, scripted

Script = Callable[[dict[str, Any]], dict[str, Any]]


def as_text(script: Script, *, native_tools: bool) -> Script:
    """The scripted model, answering every call as a fenced JSON object in its reply text. With
    `native_tools` False it also reads the tools from the prompt (the request must carry none) and the
    results from the user messages they come back in."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        if not native_tools:
            assert "tools" not in body and "tool_choice" not in body
            system = "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "system")
            section = system.split("## Tools", 1)[1]
            names = re.findall(r"^- (\w+): ", section, re.M)
            messages = [
                {"role": "tool", "content": str(m["content"]).removeprefix("Tool result:\n")}
                if m["role"] == "user" and str(m["content"]).startswith("Tool result:")
                else m
                for m in body["messages"]
            ]
            assert not [m for m in body["messages"] if m["role"] == "tool" or m.get("tool_calls")]
            body = {**body, "messages": messages, "tools": [{"function": {"name": n}} for n in names]}
        native = script(body)
        calls = native.get("tool_calls") or []
        if not calls:
            return native
        call = json.dumps({"name": calls[0]["name"], "arguments": calls[0]["arguments"]})
        return {"content": f"{native.get('content') or ''}\nI will call it now:\n```json\n{call}\n```"}

    return answer


def _run(tmp_path: Path, out: Path, script: Script, env: dict[str, str] | None = None) -> tuple[int, str, OpenAIStub]:
    inc = write_incident(tmp_path, out.name, BAD_IMAGE, scope={"namespaces": [NS]}, model="openai/stub-model")
    with OpenAIStub(script) as stub:
        code, stdout, _ = run_cli(
            "run", str(inc), "--output", str(out), "--base-url", stub.base_url, "-o", "json", env=env
        )
    return code, stdout, stub


def test_a_text_only_model_resolves_the_incident(runs_root: Path, tmp_path: Path) -> None:
    out = runs_root / "text-only"
    script = as_text(scripted(CULPRIT_REF), native_tools=False)
    code, stdout, stub = _run(tmp_path, out, script, env={"SRE_AGENT_TOOL_CALLS": "text"})
    assert code == 0, stdout
    assert root_causes(out) == {CULPRIT_REF}
    assert json.loads(stdout)["verdict"]["passed"] is True
    assert stub.requests and all("## Tools" in json.dumps(b["messages"]) for b in stub.requests)
    # Model usage per role in the reports: every request the stub answered, split prompt / completion.
    usage = json.loads((out / "report.json").read_text())["usage"]
    assert sum(u["calls"] for u in usage.values()) == len(stub.requests)
    assert {"planner", "investigator", "verifier"} <= set(usage) and all(
        u["completion_tokens"] > 0 for u in usage.values()
    )
    assert "- **Model usage:** " in (out / "report.md").read_text()
    assert "Model usage" in (out / "report.html").read_text()


def test_a_json_call_in_the_text_of_a_tool_calling_model_is_taken(runs_root: Path, tmp_path: Path) -> None:
    out = runs_root / "text-in-native"
    code, stdout, stub = _run(tmp_path, out, as_text(scripted(CULPRIT_REF), native_tools=True))
    assert code == 0, stdout
    assert all(b.get("tools") for b in stub.requests)  # offered natively all along
    applied = [
        e["data"]
        for e in events(out)
        if e["kind"] == "tool_result" and (e["data"].get("write") or {}).get("mode") == "applied"
    ]
    assert [w["tool"] for w in applied] == ["rollout_undo"]


def test_a_model_that_never_calls_a_tool_ends_with_the_reason(runs_root: Path, tmp_path: Path) -> None:
    out = runs_root / "prose-only"
    code, stdout, stub = _run(tmp_path, out, lambda body: {"content": "The pods look unhealthy; check the image."})
    report = json.loads(stdout)
    assert code == 6, report["reason"]
    assert report["reason"].startswith("model replies unusable: 3 replies in a row carried no usable tool call")
    assert "SRE_AGENT_TOOL_CALLS=text" in report["reason"]
    assert len(stub.requests) < 10


def test_an_ollama_model_without_tool_support_resolves_the_incident(runs_root: Path, tmp_path: Path) -> None:
    from tests.models.ollama_stub import OllamaStub

    out = runs_root / "ollama"
    inc = write_incident(tmp_path, out.name, BAD_IMAGE, scope={"namespaces": [NS]}, model="ollama_chat/stub-model")
    with OllamaStub(as_text(scripted(CULPRIT_REF), native_tools=False)) as stub:
        code, stdout, _ = run_cli("run", str(inc), "--output", str(out), "--base-url", stub.base_url, "-o", "json")
    assert code == 0, json.loads(stdout)["reason"]
    assert root_causes(out) == {CULPRIT_REF}
    assert stub.refused == 1  # asked once with tools, refused, then tools as text from there on


def test_an_anthropic_model_resolves_the_incident_with_native_tool_use(runs_root: Path, tmp_path: Path) -> None:
    from orchestrator.models.classes import class_profile
    from tests.models.anthropic_stub import AnthropicStub

    out = runs_root / "anthropic"
    inc = write_incident(tmp_path, out.name, BAD_IMAGE, scope={"namespaces": [NS]}, model="anthropic/claude-haiku-4-5")
    with AnthropicStub(scripted(CULPRIT_REF)) as stub:
        env = {"ANTHROPIC_API_KEY": "sk-ant-test-not-a-real-key", "SRE_AGENT_TOOL_CALLS": None}
        code, stdout, _ = run_cli(
            "run",
            str(inc),
            "--output",
            str(out),
            "--base-url",
            stub.base_url,
            "--model-class",
            "frontier",
            "-o",
            "json",
            env=env,
        )
    assert code == 0, json.loads(stdout)["reason"]
    assert root_causes(out) == {CULPRIT_REF}
    assert all(b.get("tools") for b in stub.requests)  # native tool use, not text
    assert {b.get("max_tokens") for b in stub.requests} == {class_profile("frontier").reply_tokens}
    # A model litellm prices: the cost, per role and in all, from the tokens the provider reported.
    report = json.loads((out / "report.json").read_text())
    per_role = sum(u["cost_usd"] for u in report["usage"].values())
    assert report["cost_usd"] > 0 and abs(per_role - report["cost_usd"]) < 1e-6
