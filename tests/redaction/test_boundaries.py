"""Each boundary masks in its one place: the trace (and whoever subscribes to it), structlog (a run's
engine.log.jsonl and the process's stderr, tracebacks included), a model request, the gate's check results
and one-line errors cut to length. And the simulator's ordinary output, read through every tool, is
never taken for a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog
from autogen_core import FunctionCall
from autogen_core.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    SystemMessage,
    UserMessage,
)

from orchestrator.agents import redacted
from orchestrator.logs import configure, run_logger
from orchestrator.tools.errors import one_line
from orchestrator.trace import Event, Trace
from orchestrator.verify import CheckResult, masked
from tests.tools.conftest import start_cluster
from tests.tools.test_redaction import every_read

from .canaries import every_format, leaks

CANARIES = every_format(seed=99)
GHP, XOXB, KEY, JWT = CANARIES[0], CANARIES[3], CANARIES[15], CANARIES[14]


def test_the_trace_file_and_its_subscribers_see_masks(tmp_path: Path) -> None:
    seen: list[Event] = []
    trace = Trace("run-1", tmp_path / "trace.jsonl")
    trace.subscribe(seen.append)
    trace.emit("tool_result", tool="get_logs", content={"lines": [f"auth with {GHP.text}", KEY.text]}, n=3)
    trace.emit("agent_message", text=f"the bot token is {XOXB.text}")
    trace.close()
    text = (tmp_path / "trace.jsonl").read_text()
    assert leaks(text, CANARIES) == [] and leaks(json.dumps([e.data for e in seen]), CANARIES) == []
    assert seen[0].data["content"]["lines"] == ["auth with <redacted:github-token>", "<redacted:private-key>"]
    assert seen[0].data["n"] == 3


def test_a_runs_log_masks_fields_and_tracebacks(tmp_path: Path) -> None:
    log, fh = run_logger(tmp_path / "engine.log.jsonl", run_id="run-1")
    log.info("tool_called", args={"header": f"Authorization: Basic {JWT.text}"})
    try:
        raise RuntimeError(f"upstream answered 401 for {GHP.text}")
    except RuntimeError:
        log.exception("run_crashed")
    fh.close()
    text = (tmp_path / "engine.log.jsonl").read_text()
    assert leaks(text, CANARIES) == []
    assert "RuntimeError: upstream answered 401 for <redacted:github-token>" in text


def test_the_process_log_on_stderr_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure("warning")
    structlog.get_logger("x").warning("tool_crashed", error=repr(ValueError(XOXB.text)))
    assert leaks(capsys.readouterr().err, CANARIES) == []


def test_a_model_request_is_masked_and_its_ids_kept() -> None:
    call = FunctionCall(id="call_1", name="get_logs", arguments='{"namespace": "shop"}')
    messages = [
        SystemMessage(content=f"Incident: {GHP.text}"),
        UserMessage(content=f"alert label {XOXB.text}", source="engine"),
        AssistantMessage(content=[call], source="investigator", thought=f"I saw {JWT.text}"),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(call_id="call_1", name="get_logs", content=KEY.text, is_error=False)]
        ),
    ]
    out = [redacted(m) for m in messages]
    assert leaks(json.dumps([m.model_dump() for m in out]), CANARIES) == []
    assert out[2].content == [call]  # the model's own call, as it made it
    assert out[3].content[0].call_id == "call_1" and out[3].content[0].content == "<redacted:private-key>"
    plain = UserMessage(content="list the pods", source="engine")
    assert redacted(plain) is plain  # nothing to mask: the same message, not a copy


def test_check_results_are_masked_before_they_become_objections() -> None:
    result = masked(
        CheckResult("no_pending_or_crashlooping", "shop/Deployment/web", False, {"message": GHP.text}, XOXB.text)
    )
    assert leaks(json.dumps([result.to_dict(), result.objection()]), CANARIES) == []


def test_an_error_cut_to_one_line_never_keeps_half_a_secret() -> None:
    text = "x" * 380 + " failed with " + JWT.text
    assert leaks(one_line(text), CANARIES) == []


@pytest.mark.parametrize("scenario", ["otel-demo-bad-image", "two-namespaces", "valkey-password"])
async def test_the_simulators_own_output_is_never_taken_for_a_secret(scenario: str) -> None:
    """Every read tool over every object of a cluster: the only masks are the Secret and credential-name
    ones the toolbox always made (`<redacted>`, `<redacted N bytes>`), no format fires on ordinary text."""
    c = start_cluster(scenario)
    try:
        c.advance(300)
        results = await every_read(c.toolbox())
    finally:
        c.api.close()
        c.server.stop()
    assert len(results) > 50
    text = json.dumps([r.content for r in results])  # type: ignore[attr-defined]
    assert "<redacted:" not in text
