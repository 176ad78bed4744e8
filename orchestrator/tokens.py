"""Offline token counting: the one place that knows how big a prompt is.

tiktoken normally downloads its BPE files. litellm ships the common ones (cl100k_base, o200k_base, p50k_base)
named exactly as tiktoken's cache names them (sha1 of the download URL), so pointing tiktoken's cache at that
folder makes counting work with no network. We find the folder without importing litellm (its import takes
seconds) and set the environment before tiktoken reads it.

Counts are meant as a budget's upper bound for OpenAI-style chat APIs: every text field the API sees is counted
with the model's encoding, plus a fixed framing overhead per message / call / result that is at least what the
chat format adds. Other providers tokenize differently; budgets leave headroom for that.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken
    from autogen_core.models import LLMMessage

# Keep later litellm imports offline and quick (set here because every model path counts tokens first).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_ENCODING = "o200k_base"
_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"

# Framing overheads (tokens). OpenAI's chat format wraps each message as <|start|>role<|message|>…<|end|>
# (3 tokens, +1 when a name is sent) and primes the reply with 3 more. We round up so counts stay an upper bound
# even where a provider renders tool calls/results more verbosely than plain text.
MESSAGE_OVERHEAD = 5  # start/message/end markers (3) + the role word (1) + a name marker (1)
REPLY_PRIMING = 3  # <|start|>assistant<|message|> the API adds once per request
CALL_OVERHEAD = 8  # per function call: id/type/name/arguments framing
RESULT_OVERHEAD = 6  # per function result: its own tool-role message framing + call id marker
IMAGE_TOKENS = 1105  # an upper bound for one high-detail image tile set; we rarely send images
TOOL_OVERHEAD = 12  # per tool definition, beyond its JSON schema text
TOOLS_OVERHEAD = 16  # once when any tools are offered (the tool namespace preamble)


def bundled_tokenizer_dir() -> Path | None:
    """litellm's bundled tiktoken cache folder, found without importing litellm."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        folder = Path(root) / "litellm_core_utils" / "tokenizers"
        if folder.is_dir():
            return folder
    return None


def _cache_key(name: str) -> str:
    import hashlib

    return hashlib.sha1(_BLOB_URL.format(name=name).encode()).hexdigest()


def _point_tiktoken_at_bundle() -> None:
    """Default both cache variables to the bundle; litellm copies CUSTOM_… into TIKTOKEN_CACHE_DIR on first use."""
    bundle = bundled_tokenizer_dir()
    if bundle is None:
        return
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.environ.get("CUSTOM_TIKTOKEN_CACHE_DIR", str(bundle)))
    os.environ.setdefault("CUSTOM_TIKTOKEN_CACHE_DIR", os.environ["TIKTOKEN_CACHE_DIR"])


_point_tiktoken_at_bundle()


def _seed_cache(name: str) -> None:
    """If the user pointed tiktoken's cache elsewhere, copy the bundled file in so no download is attempted."""
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR")
    bundle = bundled_tokenizer_dir()
    if not cache_dir or bundle is None:
        return
    target = Path(cache_dir) / _cache_key(name)
    source = bundle / _cache_key(name)
    if target.exists() or not source.exists():
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    except OSError:
        pass  # read-only cache: tiktoken will report its own error


def encoding_name_for(model: str | None) -> str:
    """cl100k_base for the gpt-3.5 / gpt-4 generation, o200k_base for everything else (newer and a fair default)."""
    if not model:
        return DEFAULT_ENCODING
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith(("gpt-3.5", "gpt-35", "text-embedding-ada", "text-embedding-3")):
        return "cl100k_base"
    # gpt-4, gpt-4-turbo, gpt-4-0613, gpt-4-32k — but not gpt-4o / gpt-4.1 / gpt-4.5 (o200k)
    if name == "gpt-4" or name.startswith("gpt-4-"):
        return "cl100k_base"
    return DEFAULT_ENCODING


@lru_cache(maxsize=8)
def _encoding(name: str) -> tiktoken.Encoding:
    import tiktoken

    _seed_cache(name)
    return tiktoken.get_encoding(name)


def encoding_for(model: str | None = None) -> tiktoken.Encoding:
    """The tiktoken encoding used to count tokens for `model` (cached; works offline)."""
    return _encoding(encoding_name_for(model))


MEMO_MAX_CHARS = 32 * 1024  # texts up to this long are remembered (a context re-counts the same ones each call)


def count_text(text: str, model: str | None = None) -> int:
    """Tokens in `text`. Special-token strings are counted as ordinary text (tool output may contain them)."""
    if not text:
        return 0
    name = encoding_name_for(model)
    if len(text) <= MEMO_MAX_CHARS:
        return _count_memo(name, text)
    return len(_encoding(name).encode(text, disallowed_special=()))


@lru_cache(maxsize=4096)
def _count_memo(name: str, text: str) -> int:
    # Every model call counts the whole context again (the budget, the pruning, the ledger): the messages
    # are mostly the same strings, so each is tokenised once.
    return len(_encoding(name).encode(text, disallowed_special=()))


def _count_content(content: Any, model: str | None) -> int:
    if isinstance(content, str):
        return count_text(content, model)
    total = 0
    for part in content:  # UserMessage may mix str and Image parts
        total += count_text(part, model) if isinstance(part, str) else IMAGE_TOKENS
    return total


def count_message(message: LLMMessage, model: str | None = None) -> int:
    """Tokens of one message including its framing overhead (no reply priming)."""
    if message.type == "FunctionExecutionResultMessage":
        # each result is sent as its own tool-role message: framing + call id + content (+ name for some APIs)
        return sum(
            MESSAGE_OVERHEAD
            + RESULT_OVERHEAD
            + count_text(r.call_id, model)
            + count_text(r.name, model)
            + count_text(r.content, model)
            for r in message.content
        )
    total = MESSAGE_OVERHEAD
    source = getattr(message, "source", None)
    if source:
        total += count_text(source, model)  # sent as the message's `name`
    thought = getattr(message, "thought", None)
    if thought:
        total += count_text(thought, model)
    if message.type == "AssistantMessage" and not isinstance(message.content, str):
        for call in message.content:
            total += (
                CALL_OVERHEAD
                + count_text(call.id, model)
                + count_text(call.name, model)
                + count_text(call.arguments, model)
            )
        return total
    return total + _count_content(message.content, model)


def count_messages(messages: Sequence[LLMMessage], model: str | None = None) -> int:
    """Prompt tokens for `messages`: each message's text, calls and results plus framing, plus reply priming.

    An empty list counts 0 (nothing would be sent).
    """
    if not messages:
        return 0
    return REPLY_PRIMING + sum(count_message(m, model) for m in messages)


def _tool_schema(tool: Any) -> Mapping[str, Any]:
    """Accept autogen Tool objects, ToolSchema dicts, or OpenAI-style {"type": "function", "function": {...}}."""
    schema = getattr(tool, "schema", tool)
    if isinstance(schema, Mapping) and "function" in schema and isinstance(schema["function"], Mapping):
        schema = schema["function"]
    if not isinstance(schema, Mapping):
        raise TypeError(f"cannot count tokens of tool {tool!r}: expected a Tool, ToolSchema or mapping")
    return schema


def count_tools(tools: Iterable[Any], model: str | None = None) -> int:
    """Prompt tokens spent on offering `tools`: the JSON text of each definition plus framing."""
    schemas = [_tool_schema(t) for t in tools]
    if not schemas:
        return 0
    total = TOOLS_OVERHEAD
    for schema in schemas:
        text = json.dumps({"type": "function", "function": dict(schema)}, ensure_ascii=False, default=str)
        total += TOOL_OVERHEAD + count_text(text, model)
    return total


def prompt_tokens_spent(reported: int | None, counted: int | None) -> int:
    """A sent request's prompt tokens as the run counts them (its token total, the per-role usage, the progress
    view): the provider's figure when it reported one, else our own count of the request."""
    return int(reported or counted or 0)


def omission_marker(lines: int, tokens: int) -> str:
    """The line that replaces what a truncation removed, so the model knows something is missing."""
    if lines:
        return f"… {lines:,} lines / {tokens:,} tokens omitted …"
    return f"… {tokens:,} tokens omitted …"


def truncate_text(text: str, max_tokens: int, model: str | None = None) -> str:
    """Cut the middle of `text` so that `count_text(result) <= max_tokens`, marking what was omitted.

    Whole lines are kept from the head (~60%) and the tail (~40%) when that preserves most of the budget —
    errors tend to be at the end of logs, context at the start. Otherwise (few, very long lines) tokens are
    cut instead. Returns "" when even the marker does not fit.
    """
    total = count_text(text, model)
    if total <= max_tokens:
        return text
    if max_tokens <= 0:
        return ""
    lines = text.split("\n")
    if len(lines) >= 3:
        by_lines = _truncate_lines(lines, max_tokens, total, model)
        if by_lines is not None:
            return by_lines
    return _truncate_tokens(text, max_tokens, total, model)


def _truncate_lines(lines: list[str], max_tokens: int, total: int, model: str | None) -> str | None:
    costs = [count_text(line, model) + 1 for line in lines]  # +1: the newline joining it (upper bound)
    room = max_tokens - count_text(omission_marker(len(lines), total), model) - 2
    while room > 0:
        head_room, tail_room = room * 3 // 5, room - room * 3 // 5
        head = 0
        while head < len(lines) and costs[head] <= head_room:
            head_room -= costs[head]
            head += 1
        tail_room += head_room  # what the head could not use goes to the tail
        tail = 0
        while tail < len(lines) - head and costs[-1 - tail] <= tail_room:
            tail_room -= costs[-1 - tail]
            tail += 1
        if head + tail == 0 or sum(costs[:head]) + sum(costs[len(lines) - tail :]) < room // 2:
            return None  # lines too long to keep whole: cut tokens instead
        kept = lines[:head] + lines[len(lines) - tail :]
        omitted_tokens = max(0, total - count_text("\n".join(kept), model))
        marker = omission_marker(len(lines) - head - tail, omitted_tokens)
        result = "\n".join([*lines[:head], marker, *lines[len(lines) - tail :]])
        if count_text(result, model) <= max_tokens:
            return result
        room -= max(1, room // 10)
    return None


def _truncate_tokens(text: str, max_tokens: int, total: int, model: str | None) -> str:
    encoding = encoding_for(model)
    ids = encoding.encode(text, disallowed_special=())
    room = max_tokens - count_text(omission_marker(0, total), model) - 2
    while room > 0:
        head = room * 3 // 5
        tail = room - head
        marker = omission_marker(0, len(ids) - head - tail)
        result = "\n".join(
            part for part in (encoding.decode(ids[:head]), marker, encoding.decode(ids[len(ids) - tail :])) if part
        )
        if count_text(result, model) <= max_tokens:
            return result
        room -= max(1, room // 10)
    marker = omission_marker(0, total)
    return marker if count_text(marker, model) <= max_tokens else ""
