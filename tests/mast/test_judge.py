"""The MAST LLM judge against a local OpenAI-compatible server: real litellm, real HTTP, traces built by hand."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from orchestrator.mast.judge import DROPPED_NOTE, JudgeFinding, event_line, judge_run, judge_run_async, transcript
from orchestrator.tokens import count_text
from orchestrator.trace import Trace
from tests.models.openai_stub import OpenAIStub

JUDGE = "openai/judge"
AGENTS = "openai/agents-model"


def small_trace() -> list[dict[str, Any]]:
    """An investigator that saw a crash-looping pod, then handed off a diagnosis that never mentions it."""
    trace = Trace("run-1", None, model=AGENTS)
    trace.state = "intake"
    trace.emit(
        "run_start",
        incident={"name": "checkout-down", "summary": "checkout fails", "namespaces": ["otel-demo"]},
        model=AGENTS,
        model_class="mid",
        mode="auto",
    )
    trace.state = "investigate"
    trace.emit("state_transition", source="intake", trigger="begin", dest="investigate")
    call = trace.emit(
        "tool_call",
        role="investigator",
        tool="get_pods",
        args={"namespace": "otel-demo"},
        signature="get_pods(namespace=otel-demo)",
        call_id="c1",
        target=None,
        declared_action=None,
    )
    trace.emit(
        "tool_result",
        role="investigator",
        tool="get_pods",
        call_seq=call.seq,
        call_id="c1",
        status="ok",
        error=None,
        facts=["otel-demo/Pod/cart-7d9 CrashLoopBackOff restarts=12"],
    )
    sub = trace.emit(
        "submission",
        role="investigator",
        submission="submit_diagnosis",
        content={
            "summary": "checkout image is bad",
            "entities": [{"name": "otel-demo/Deployment/checkout", "contributing_factor": True}],
            "mitigations": [{"action": "rollback_deployment", "args": {}}],
        },
        call_seq=7,
    )
    trace.state = "escalated"
    trace.emit("run_end", status="escalated", ended_by="step_cap", reason="verifier failed", steps=3, tokens=900)
    assert sub.seq == 5
    return [json.loads(e.to_json()) for e in trace.events]


def answer(mode: str, present: bool, evidence: list[Any], reason: str = "because") -> str:
    return json.dumps({"mode": mode, "present": present, "evidence": evidence, "reason": reason})


def asked_mode(body: dict[str, Any]) -> str:
    """The mode a judge request asks about (its last user message names it)."""
    text = body["messages"][-1]["content"]
    return re.search(r"Is mode (\d\.\d) present", text)[1]


def test_valid_positive_is_kept_with_its_evidence() -> None:
    events = small_trace()
    with OpenAIStub(
        [answer("2.4", True, [4, 5], "the crash loop found in #4 is missing from the hand-off #5")]
    ) as stub:
        findings = judge_run(events, JUDGE, ["2.4"], base_url=stub.base_url, agents_model=AGENTS)
        request = stub.last_request
    assert findings == {
        "2.4": JudgeFinding(
            "2.4", True, [4, 5], "the crash loop found in #4 is missing from the hand-off #5", "judge", False
        )
    }
    prompt = request["messages"][-1]["content"]
    assert "#4 tool_result investigator investigate: get_pods ok (call #3)" in prompt
    assert "CrashLoopBackOff" in prompt
    assert "Information withholding" in prompt  # the taxonomy's name for the mode asked about
    assert request["response_format"] == {"type": "json_object"}
    assert request["model"] == "judge"


def test_positive_citing_events_not_in_the_trace_is_dropped() -> None:
    events = small_trace()
    with OpenAIStub([answer("2.4", True, [42, "#99"])]) as stub:
        findings = judge_run(events, JUDGE, ["FM-2.4"], base_url=stub.base_url, agents_model=AGENTS)
    finding = findings["2.4"]
    assert finding.present is False
    assert finding.dropped is True
    assert finding.evidence == []
    assert finding.note == DROPPED_NOTE


def test_partly_bogus_evidence_keeps_the_valid_ids_and_notes_the_rest() -> None:
    events = small_trace()
    with OpenAIStub([answer("2.3", True, ["#3", 77])]) as stub:
        finding = judge_run(events, JUDGE, ["2.3"], base_url=stub.base_url)["2.3"]
    assert (finding.present, finding.evidence, finding.dropped) == (True, [3], False)
    assert "77" in finding.note


@pytest.mark.parametrize(
    "reply",
    [
        '{"mode": "2.4", "present": tru',  # cut off
        "Yes, mode 2.4 is present (see #4).",  # prose
        '{"mode": "2.4", "present": "yes", "evidence": [4]}',  # not a boolean
        '{"mode": "1.3", "present": true, "evidence": [4]}',  # answered another mode
    ],
)
def test_malformed_answer_leaves_the_mode_undecided(reply: str) -> None:
    events = small_trace()
    with OpenAIStub([reply]) as stub:
        finding = judge_run(events, JUDGE, ["2.4"], base_url=stub.base_url)["2.4"]
    assert finding.present is None
    assert finding.evidence == []
    assert finding.note.startswith("malformed")


def test_fenced_json_is_accepted() -> None:
    events = small_trace()
    with OpenAIStub(["```json\n" + answer("2.3", False, []) + "\n```"]) as stub:
        finding = judge_run(events, JUDGE, ["2.3"], base_url=stub.base_url)["2.3"]
    assert (finding.present, finding.note) == (False, "")


def test_each_mode_gets_its_own_answer() -> None:
    events = small_trace()
    replies = {"2.4": answer("2.4", True, [5]), "2.3": "not json", "3.2": answer("3.2", False, [])}
    with OpenAIStub(lambda body: replies[asked_mode(body)]) as stub:
        findings = judge_run(events, JUDGE, ["2.4", "2.3", "3.2"], base_url=stub.base_url, agents_model=AGENTS)
        assert len(stub.requests) == 3
    assert {m: f.present for m, f in findings.items()} == {"2.4": True, "2.3": None, "3.2": False}


def test_judge_with_the_agents_model_is_refused_before_any_call() -> None:
    events = small_trace()
    with OpenAIStub([answer("2.4", False, [])]) as stub:
        with pytest.raises(ValueError, match="judge model openai/agents-model is the agents' model") as err:
            judge_run(events, AGENTS, ["2.4"], base_url=stub.base_url, agents_model=AGENTS)
        with pytest.raises(ValueError, match="agents' model"):
            judge_run(events, "agents-model", ["2.4"], base_url=stub.base_url, agents_model=AGENTS)
        assert stub.requests == []
    assert "\n" not in str(err.value)


def test_unknown_mode_id_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match=r"undecided mode '4\.1': not a MAST mode id"):
        judge_run(small_trace(), JUDGE, ["4.1"])
    with pytest.raises(ValueError, match=r"undecided mode 2\.9: not in the MAST taxonomy"):
        judge_run(small_trace(), JUDGE, ["2.9"])


def test_model_error_becomes_a_note_for_every_mode() -> None:
    events = small_trace()
    with OpenAIStub([{"status": 401, "error": "bad key"}]) as stub:
        findings = judge_run(events, JUDGE, ["2.4", "2.3"], base_url=stub.base_url)
        assert len(stub.requests) == 1  # a failing model is not asked again for every mode
    for finding in findings.values():
        assert finding.present is None
        assert finding.note.startswith("model error: model openai/judge")
        assert "401" in finding.note and "\n" not in finding.note


def test_nothing_undecided_asks_nothing() -> None:
    with OpenAIStub([]) as stub:
        assert judge_run(small_trace(), JUDGE, [], base_url=stub.base_url) == {}
        assert stub.requests == []


async def test_judge_runs_inside_an_event_loop() -> None:
    events = small_trace()
    with OpenAIStub([answer("2.4", False, []), answer("2.4", False, [])]) as stub:
        from_async = await judge_run_async(events, JUDGE, ["2.4"], base_url=stub.base_url)
        from_sync = judge_run(events, JUDGE, ["2.4"], base_url=stub.base_url)  # no nested asyncio.run crash
    assert from_async == from_sync
    assert from_async["2.4"].present is False


def large_trace(n: int) -> list[dict[str, Any]]:
    trace = Trace("run-big", None, model=AGENTS)
    trace.state = "investigate"
    trace.emit("run_start", incident={"name": "big", "summary": "many reads", "namespaces": ["otel-demo"]})
    for i in range(n):
        call = trace.emit("tool_call", role="investigator", tool="get_logs", args={"pod": f"cart-{i}", "tail": 200})
        trace.emit(
            "tool_result",
            role="investigator",
            tool="get_logs",
            call_seq=call.seq,
            status="error" if i % 7 == 0 else "ok",
            error="connection refused to redis:6379 " * 20 if i % 7 == 0 else None,
            facts=[f"otel-demo/Pod/cart-{i} restarted {i} times"],
        )
    trace.emit("run_end", status="escalated", ended_by="budget", reason="token budget spent")
    return [json.loads(e.to_json()) for e in trace.events]


def test_transcript_of_a_large_trace_keeps_head_and_tail_within_budget() -> None:
    events = large_trace(1500)
    text = transcript(events, max_tokens=3000, model=JUDGE)
    assert count_text(text, JUDGE) <= 3000
    lines = text.split("\n")
    assert lines[0].startswith("#1 run_start - investigate: incident big")
    assert lines[-1].startswith(f"#{len(events)} run_end - investigate: status=escalated ended_by=budget")
    assert any("omitted" in line for line in lines)
    assert all(re.match(r"#\d+ ", line) for line in lines if "omitted" not in line)
    assert max(len(line) for line in lines) < 300  # long errors are cut to a short summary


def test_judge_prompt_for_a_large_trace_stays_under_the_budget() -> None:
    events = large_trace(1500)
    with OpenAIStub([answer("1.5", True, [len(events)])]) as stub:
        finding = judge_run(events, JUDGE, ["1.5"], base_url=stub.base_url, transcript_tokens=2000)["1.5"]
        prompt = stub.last_request["messages"][-1]["content"]
    assert finding.present is True and finding.evidence == [len(events)]
    assert count_text(prompt, JUDGE) < 2000 + 300  # the transcript plus the question around it
    assert f"#{len(events)} run_end" in prompt


def test_event_lines_summarise_each_kind() -> None:
    events = small_trace()
    lines = [event_line(e) for e in events]
    assert lines[1] == "#2 state_transition - investigate: intake -begin-> investigate"
    assert lines[2] == '#3 tool_call investigator investigate: get_pods({"namespace":"otel-demo"})'
    assert "root_causes=" in lines[4] and "otel-demo/Deployment/checkout" in lines[4]
    assert lines[5].startswith("#6 run_end - escalated: status=escalated ended_by=step_cap")
