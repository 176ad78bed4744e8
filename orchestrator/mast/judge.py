"""The optional MAST LLM judge: asks a second model about the modes the deterministic detectors left open.

Most MAST modes are decided from structured trace events; a few (withholding, derailment, …) need reading.
The judge gets a compact, event-addressed transcript (one line per event, `#<seq> …`) and must answer each
mode in strict JSON citing event ids. Its answers are checked, not trusted: a positive that cites no event
of the trace is dropped, an answer that is not the JSON we asked for leaves the mode undecided.

The judge must be a different model than the one that ran the agents — a model grading its own run shares
its blind spots. Heavy libraries (litellm, autogen, tiktoken) are imported on first use.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

DEFAULT_TRANSCRIPT_TOKENS = 12_000  # leaves room for the instructions and the answer in a 16k+ window
LINE_CHARS = 240  # one event's summary; longer detail belongs in trace.jsonl, not in the judge's prompt
_FIELD_CHARS = 80  # one value inside a summary

DROPPED_NOTE = "dropped: no valid evidence"

_MODE_ID = re.compile(r"^(?:FM-?)?([123])\.(\d)$", re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class JudgeFinding:
    """The judge's answer for one mode. `present` is None when undecided (bad answer, model failure);
    `dropped` marks a positive thrown out for citing no event of the trace; `note` says what we changed."""

    mode: str
    present: bool | None
    evidence: list[int] = field(default_factory=list)
    reason: str = ""
    source: str = "judge"
    dropped: bool = False
    note: str = ""


# -- the public entry points -----------------------------------------------------------------------------------


def judge_run(
    events: Sequence[Mapping[str, Any]],
    model: str,
    undecided: Sequence[str],
    base_url: str | None = None,
    agents_model: str | None = None,
    *,
    transcript_tokens: int = DEFAULT_TRANSCRIPT_TOKENS,
) -> dict[str, JudgeFinding]:
    """Ask `model` about each mode in `undecided` ("2.4" or "FM-2.4"); findings keyed by the short id.

    Raises a one-line ValueError for caller mistakes (judge == agents' model, unknown mode id). Model failures
    never raise: the modes stay undecided with the error in `note`. Safe to call inside a running event loop.
    """
    coro = judge_run_async(events, model, undecided, base_url, agents_model, transcript_tokens=transcript_tokens)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from async code (the engine): a nested asyncio.run is not allowed, so use a thread.
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="mast-judge")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


async def judge_run_async(
    events: Sequence[Mapping[str, Any]],
    model: str,
    undecided: Sequence[str],
    base_url: str | None = None,
    agents_model: str | None = None,
    *,
    transcript_tokens: int = DEFAULT_TRANSCRIPT_TOKENS,
) -> dict[str, JudgeFinding]:
    """judge_run for async callers."""
    _check_models(model, agents_model)
    modes = [_describe(mode_id) for mode_id in dict.fromkeys(_short_id(m) for m in undecided)]
    if not modes:
        return {}
    rows = [_normalise(e, i) for i, e in enumerate(events)]
    seqs = {row["seq"] for row in rows}
    text = transcript(rows, max_tokens=transcript_tokens, model=model)

    from orchestrator.models.errors import ModelError
    from orchestrator.models.litellm_client import LiteLLMClient

    client = LiteLLMClient(model, base_url=base_url)
    findings: dict[str, JudgeFinding] = {}
    failure: str | None = None
    try:
        for mode in modes:
            if failure is not None:  # the model already failed: do not pay retries again for every mode
                findings[mode["id"]] = JudgeFinding(mode["id"], None, note=failure)
                continue
            try:
                answer = await _ask(client, mode, text)
            except ModelError as exc:
                failure = f"model error: {exc}"
                findings[mode["id"]] = JudgeFinding(mode["id"], None, note=failure)
                continue
            findings[mode["id"]] = parse_answer(mode["id"], answer, seqs)
    finally:
        await client.close()
    return findings


# -- checks on the caller's input -----------------------------------------------------------------------------


def _check_models(model: str, agents_model: str | None) -> None:
    if not model or not model.strip():
        raise ValueError("judge model: empty; name a model such as openai/gpt-4o")
    if agents_model and _same_model(model, agents_model):
        raise ValueError(
            f"judge model {model} is the agents' model: the judge must be a different model than the one it grades"
        )


def _same_model(a: str, b: str) -> bool:
    """Same model, also when only one of the names carries a provider prefix ("gpt-4o" vs "openai/gpt-4o")."""
    a, b = a.strip().lower(), b.strip().lower()
    if a == b:
        return True
    if ("/" in a) != ("/" in b):
        return a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1]
    return False


def _short_id(mode: str) -> str:
    """ "FM-2.4", "fm2.4" or "2.4" → "2.4" (the key mast.json and the MAST dataset use)."""
    m = _MODE_ID.match(str(mode).strip())
    if not m:
        raise ValueError(f"undecided mode {mode!r}: not a MAST mode id (expected e.g. 2.4)")
    return f"{m[1]}.{m[2]}"


def _describe(mode_id: str) -> dict[str, str]:
    """Id, name, definition and trace signal of a mode, from the project's taxonomy."""
    from orchestrator.mast.taxonomy import mode

    try:
        found = mode(mode_id)
    except KeyError:
        raise ValueError(f"undecided mode {mode_id}: not in the MAST taxonomy (1.1-1.5, 2.1-2.6, 3.1-3.3)") from None
    return {"id": found.id, "name": found.name, "definition": found.definition, "signal": found.signal}


# -- the transcript -----------------------------------------------------------------------------------------------


def transcript(
    events: Sequence[Mapping[str, Any]], max_tokens: int = DEFAULT_TRANSCRIPT_TOKENS, model: str | None = None
) -> str:
    """One line per event, `#<seq> <kind> <role> <state>: <summary>`, cut in the middle to fit `max_tokens`.

    The head (how the run started) and the tail (how it ended) are kept; an omission line says what is missing.
    """
    from orchestrator.tokens import truncate_text

    # Injection events are the failure-prone models' ground truth: the judge must never see them.
    lines = [
        event_line(ev)
        for ev in (_normalise(e, i) for i, e in enumerate(events))  # keeps positions for seq-less events
        if ev.get("kind") != "injection"
    ]
    return truncate_text("\n".join(lines), max_tokens, model)


def event_line(event: Mapping[str, Any]) -> str:
    """The transcript line of one event (a trace.Event, its JSON form, or a flat dict)."""
    event = _normalise(event, 0)
    summarise = _SUMMARIES.get(str(event.get("kind")), _summary_generic)
    head = f"#{event['seq']} {event.get('kind') or '?'} {event.get('role') or '-'} {event.get('state') or '-'}"
    body = " ".join(summarise(event).split())
    if len(body) > LINE_CHARS:
        body = body[: LINE_CHARS - 1] + "…"
    return f"{head}: {body}" if body else head


def _normalise(event: Any, index: int) -> dict[str, Any]:
    """A flat dict for one event: trace.Event objects, their JSON (payload under "data") or flat dicts."""
    if is_dataclass(event) and not isinstance(event, type):
        event = asdict(event)
    flat = dict(event.get("data") or {}) if isinstance(event.get("data"), Mapping) else {}
    flat.update({k: v for k, v in event.items() if k != "data"})
    seq = flat.get("seq")
    flat["seq"] = seq if isinstance(seq, int) and not isinstance(seq, bool) else index + 1
    return flat


def _short(value: Any, limit: int = _FIELD_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pairs(event: Mapping[str, Any], *keys: str) -> str:
    return " ".join(f"{k}={_short(event[k])}" for k in keys if event.get(k) not in (None, "", [], {}))


def _summary_run_start(e: Mapping[str, Any]) -> str:
    incident = e.get("incident") or {}
    return f"incident {_short(incident.get('name'))}: {_short(incident.get('summary'), 120)} " + _pairs(
        {**e, "namespaces": incident.get("namespaces")}, "namespaces", "model_class", "mode", "budget"
    )


def _summary_transition(e: Mapping[str, Any]) -> str:
    rest = _pairs(e, *(k for k in e if k not in _SKIP and k not in ("source", "trigger", "dest")))
    return f"{e.get('source')} -{e.get('trigger')}-> {e.get('dest')} {rest}"


def _summary_tool_call(e: Mapping[str, Any]) -> str:
    if e.get("malformed"):
        return f"{e.get('tool')} MALFORMED args={_short(e.get('args_raw'))}"
    text = f"{e.get('tool')}({_short(e.get('args') or {}, 120)})"
    declared = e.get("declared_action") or {}
    if declared.get("tool") and declared.get("tool") != e.get("tool"):
        text += f" declared={declared.get('tool')}"
    return text


def _summary_tool_result(e: Mapping[str, Any]) -> str:
    text = f"{e.get('tool')} {e.get('status')} (call #{e.get('call_seq')})"
    if e.get("error"):
        text += f" error={_short(e['error'], 120)}"
    if e.get("write"):
        text += f" write={_short(e['write'])}"
    if e.get("result_digest"):
        text += f" digest={e['result_digest']}"  # equal digests = same answer (repetition, lost context)
    facts = e.get("facts") or []
    if facts:
        text += " facts: " + "; ".join(_short(f, 70) for f in facts[:3])
    return text


def _summary_llm_call(e: Mapping[str, Any]) -> str:
    calls = ",".join(str(c.get("name")) for c in e.get("tool_calls") or [] if isinstance(c, Mapping))
    text = f"tokens={e.get('prompt_tokens')}/{e.get('budget')}"
    if e.get("sent") is False:
        text += " NOT SENT (over budget)"
    if calls:
        text += f" calls={calls}"
    if e.get("text"):
        text += f" says={_short(e['text'], 120)}"
    return text


def _summary_agent_message(e: Mapping[str, Any]) -> str:
    return _short(e.get("text") or "", LINE_CHARS)


def _summary_prune(e: Mapping[str, Any]) -> str:
    dropped = e.get("dropped") or []
    return f"{e.get('reason', 'budget')} dropped={len(dropped)} kept={e.get('kept')} " + _pairs(
        e, "tokens_before", "tokens_after", "budget"
    )


def _summary_clarification(e: Mapping[str, Any]) -> str:
    return _pairs(e, "question", "candidates", "answer", "assumption", "read_only")


def _summary_submission(e: Mapping[str, Any]) -> str:
    content = e.get("content") or {}
    parts = [str(e.get("submission"))]
    if "verdict" in content:
        checks = content.get("checks") or []
        parts.append(f"verdict={content['verdict']} checks={len(checks)}")
        parts.append(_pairs(content, "objections"))
    if content.get("entities"):
        roots = [x.get("name") for x in content["entities"] if isinstance(x, Mapping) and x.get("contributing_factor")]
        parts.append(f"root_causes={_short(roots)}")
    if content.get("mitigations"):
        parts.append(
            f"mitigations={_short([m.get('action') for m in content['mitigations'] if isinstance(m, Mapping)])}"
        )
    if content.get("hypotheses"):
        parts.append(f"hypotheses={_short(content['hypotheses'], 120)} steps={len(content.get('steps') or [])}")
    if content.get("summary"):
        parts.append(f"summary={_short(content['summary'], 100)}")
    return " ".join(p for p in parts if p)


def _summary_verdict(e: Mapping[str, Any]) -> str:
    failed = [r.get("name") for r in e.get("results") or [] if isinstance(r, Mapping) and not r.get("passed")]
    text = (
        f"passed={e.get('passed')} proposed={e.get('proposed')} gate_passed={e.get('gate_passed')} "
        f"checks required={len(e.get('required') or [])} run={len(e.get('results') or [])}"
    )
    if failed:
        text += f" failed={_short(failed)}"
    return text + " " + _pairs(e, "objections")


def _summary_mitigation(e: Mapping[str, Any]) -> str:
    return _pairs(e, "detector", "action", "mode", "call_seq", "declared", "called")


def _summary_run_end(e: Mapping[str, Any]) -> str:
    return _pairs(e, "status", "ended_by", "reason", "steps", "tokens")


_SKIP = frozenset({"seq", "kind", "ts", "run_id", "state", "role", "model"})


def _summary_generic(e: Mapping[str, Any]) -> str:
    return _pairs(e, *(k for k in e if k not in _SKIP))


_SUMMARIES = {
    "run_start": _summary_run_start,
    "state_transition": _summary_transition,
    "agent_message": _summary_agent_message,
    "tool_call": _summary_tool_call,
    "tool_result": _summary_tool_result,
    "llm_call": _summary_llm_call,
    "context_prune": _summary_prune,
    "clarification": _summary_clarification,
    "submission": _summary_submission,
    "verifier_verdict": _summary_verdict,
    "mitigation": _summary_mitigation,
    "run_end": _summary_run_end,
}


# -- asking -------------------------------------------------------------------------------------------------------

_SYSTEM = """\
You annotate runs of a multi-agent SRE system (planner, investigator, verifier handling a Kubernetes incident)
with the MAST failure taxonomy. You receive a transcript: one line per trace event, starting with #<event id>.
Decide whether ONE failure mode is present in the run. Judge only from the transcript; when it does not show
the failure, answer present=false. A positive must cite the event ids (the numbers after #) that show it.

Answer with a single JSON object and nothing else:
{"mode": "<mode id>", "present": true or false, "evidence": [<event id>, ...], "reason": "<one or two sentences>"}"""


async def _ask(client: Any, mode: Mapping[str, str], text: str) -> Any:
    """One request for one mode; returns the model's content (a str unless it called a tool)."""
    from autogen_core.models import SystemMessage, UserMessage

    question = (
        f"Failure mode {mode['id']} — {mode['name']}: {mode['definition']}\n"
        f"How it tends to show in this system's trace: {mode['signal']}\n\n"
        f"Transcript:\n{text}\n\n"
        f'Is mode {mode["id"]} present in this run? Reply with the JSON object only, with "mode": "{mode["id"]}".'
    )
    messages = [SystemMessage(content=_SYSTEM), UserMessage(content=question, source="user")]
    json_ok = bool(getattr(client, "model_info", {}).get("json_output"))
    result = await client.create(messages, json_output=True if json_ok else None)
    return result.content


# -- checking the answer ------------------------------------------------------------------------------------------


def parse_answer(mode_id: str, content: Any, seqs: set[int]) -> JudgeFinding:
    """The finding for one mode from the model's raw content, validated against the trace's event ids."""
    if not isinstance(content, str):
        return JudgeFinding(mode_id, None, note="malformed answer: the judge called a tool instead of answering JSON")
    raw = content.strip()
    fenced = _FENCE.match(raw)
    if fenced:  # ```json … ``` is common even when asked for bare JSON; its content is still strict JSON
        raw = fenced[1]
    try:
        answer = json.loads(raw)
    except ValueError as exc:
        return JudgeFinding(mode_id, None, note=f"malformed JSON: {exc}; answer was {_short(content, 120)!r}")
    problem = _shape_problem(mode_id, answer)
    if problem:
        return JudgeFinding(mode_id, None, note=f"malformed answer: {problem}")
    cited = [_event_id(x) for x in answer.get("evidence") or []]
    valid = list(dict.fromkeys(x for x in cited if x is not None and x in seqs))
    unknown = [str(x) for x, v in zip(answer.get("evidence") or [], cited, strict=True) if v is None or v not in seqs]
    reason = str(answer.get("reason") or "")
    note = f"ignored evidence not in the trace: {', '.join(unknown)}" if unknown else ""
    if answer["present"] and not valid:
        return JudgeFinding(mode_id, False, [], reason, dropped=True, note=DROPPED_NOTE)
    return JudgeFinding(mode_id, answer["present"], valid, reason, note=note)


def _shape_problem(mode_id: str, answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"expected a JSON object, got {type(answer).__name__}"
    if not isinstance(answer.get("present"), bool):
        return f'"present" must be true or false, got {_short(answer.get("present"))}'
    if "evidence" in answer and not isinstance(answer["evidence"], list):
        return '"evidence" must be a list of event ids'
    said = answer.get("mode")
    if said is not None and (not _MODE_ID.match(str(said).strip()) or _short_id(str(said)) != mode_id):
        return f"answered for mode {_short(said)} instead of {mode_id}"
    return None


def _event_id(value: Any) -> int | None:
    """An event id as the model may write it: 12, "12" or "#12"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        return int(value.strip().lstrip("#"))
    return None


def merge_judgement(annotation: dict[str, Any], findings: Mapping[str, JudgeFinding]) -> dict[str, Any]:
    """Fill the modes the detectors left undecided (None) with the judge's answers; detectors always win."""
    for key, f in findings.items():
        if annotation["mast_annotation"].get(key) is not None:
            continue
        entry = {
            "source": "judge",
            "events": list(f.evidence),
            "detail": f.reason,
            "note": f.note,
            "dropped": f.dropped,
        }
        if f.present is not None:
            annotation["mast_annotation"][key] = 1 if f.present else 0
            entry["value"] = annotation["mast_annotation"][key]
        annotation["modes"][key] = {**annotation["modes"].get(key, {}), **entry}
    present = [k for k, v in annotation["mast_annotation"].items() if v == 1]
    annotation["distinct_modes"] = len(present)
    return annotation
