"""Model → class resolution and class profiles, from the packaged classes.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator.models.classes import (
    CLASSES_FILE,
    MODEL_CLASSES,
    ClassProfile,
    ClassTableError,
    class_profile,
    class_table,
    load_class_table,
    match_class,
    resolve_class,
)


@pytest.mark.parametrize(
    ("model", "cls"),
    [
        ("builtin/playbook", "frontier"),
        ("builtin/flaky-frontier", "frontier"),
        ("builtin/flaky-mid", "mid"),
        ("builtin/flaky-open", "open"),
        ("gpt-5", "frontier"),
        ("openai/gpt-5-mini", "frontier"),
        ("openai/gpt-4o", "frontier"),
        ("azure/gpt-4o-2024-08-06", "frontier"),
        ("GPT-4O-MINI", "frontier"),
        ("anthropic/claude-sonnet-4-20250514", "frontier"),
        ("claude-3-5-haiku-latest", "frontier"),
        ("openrouter/anthropic/claude-opus-4", "frontier"),
        ("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", "frontier"),
        ("gemini/gemini-2.5-flash", "frontier"),
        ("vertex_ai/gemini-2.5-pro", "frontier"),
        ("openrouter/moonshotai/kimi-k2", "mid"),
        ("deepseek/deepseek-chat", "mid"),
        ("dashscope/qwen-max", "mid"),
        ("mistral/mistral-large-latest", "mid"),
        ("openrouter/meta-llama/llama-3.1-405b-instruct", "mid"),
        ("openai/gpt-oss-120b", "open"),
        ("groq/llama-3.3-70b-versatile", "open"),
        ("together_ai/Qwen/Qwen2.5-72B-Instruct", "open"),
        ("mistral/mistral-small-latest", "open"),
        ("gemma-2-9b-it", "open"),
        ("ollama/phi4", "open"),
        ("ollama/deepseek-r1:70b", "mid"),  # a named mid model stays mid wherever it is served
        ("someprovider/some-new-model", "mid"),  # unknown: the default
    ],
)
def test_table_resolution(model: str, cls: str) -> None:
    assert resolve_class(model) == cls
    assert resolve_class(model, "auto") == cls
    assert resolve_class(model, None) == cls


def test_provider_prefix_is_optional() -> None:
    # the same model named with and without its provider resolves the same
    assert match_class("claude-sonnet-4") == match_class("anthropic/claude-sonnet-4") == "frontier"
    assert match_class("llama-3.1-405b") == match_class("openrouter/meta-llama/llama-3.1-405b") == "mid"


def test_first_match_wins_specific_before_general() -> None:
    table = class_table()
    patterns = [p for p, _ in table]
    assert patterns.index("*qwen*max*") < patterns.index("*qwen*")
    assert patterns.index("*mistral-large*") < patterns.index("*mistral*")
    assert patterns.index("*llama-3.1-405b*") < patterns.index("*llama*")
    assert all(cls in MODEL_CLASSES for _, cls in table)
    assert ("builtin/playbook", "frontier") in table


@pytest.mark.parametrize("override", ["frontier", "mid", "open", "OPEN", " mid "])
def test_override_wins_over_table(override: str) -> None:
    assert resolve_class("openai/gpt-4o", override) == override.strip().lower()


def test_unknown_override_is_one_line_naming_allowed_values() -> None:
    with pytest.raises(ValueError) as err:
        resolve_class("openai/gpt-4o", "huge")
    message = str(err.value)
    assert "\n" not in message
    assert "'huge'" in message
    for allowed in ("auto", "frontier", "mid", "open"):
        assert allowed in message


def test_empty_model_is_rejected() -> None:
    with pytest.raises(ValueError, match="model"):
        resolve_class("  ")


def test_profiles() -> None:
    frontier, mid, open_ = (class_profile(c) for c in ("frontier", "mid", "open"))
    assert isinstance(frontier, ClassProfile)
    assert frontier.context_tokens > mid.context_tokens > open_.context_tokens
    assert frontier.max_tool_output_tokens > mid.max_tool_output_tokens > open_.max_tool_output_tokens
    for p in (frontier, mid, open_):
        assert p.max_tool_output_tokens < p.context_tokens
        assert p.stabilise_seconds > 0
        assert p.reply_tokens > 0
    with pytest.raises(AttributeError):
        frontier.context_tokens = 1  # type: ignore[misc]
    with pytest.raises(ValueError, match="allowed: frontier, mid, open"):
        class_profile("auto")


def _write(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(CLASSES_FILE.read_text())
    mutate(raw)
    path = tmp_path / "classes.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda raw: raw["patterns"].append({"pattern": "x*", "class": "huge"}), "class"),
        (lambda raw: raw["patterns"].append({"class": "mid"}), "pattern"),
        (lambda raw: raw.pop("default"), "default"),
        (lambda raw: raw["profiles"].pop("open"), "open"),
        (lambda raw: raw["profiles"]["mid"].update(context_tokens="lots"), "profiles.mid.context_tokens"),
        (lambda raw: raw["profiles"]["mid"].update(colour="red"), "colour"),
    ],
)
def test_bad_table_names_the_field(tmp_path: Path, mutate, field: str) -> None:
    with pytest.raises(ClassTableError) as err:
        load_class_table(_write(tmp_path, mutate))
    assert field in str(err.value)
    assert "\n" not in str(err.value)


def test_custom_table_drives_matching(tmp_path: Path) -> None:
    def mutate(raw):
        raw["patterns"].insert(0, {"pattern": "acme/*", "class": "open"})
        raw["default"] = "frontier"

    table = load_class_table(_write(tmp_path, mutate))
    assert match_class("acme/anything", table) == "open"
    assert match_class("unknown/model", table) == "frontier"
