"""BudgetedContext: never over budget, no orphaned tool messages, pinned parts kept, prunes reported."""

from __future__ import annotations

import json
import random
import re

import pytest
from autogen_core import FunctionCall
from autogen_core.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from structlog.testing import capture_logs

from orchestrator.context import LEDGER_HEADER, BudgetedContext, PruneReport, cap_tool_output
from orchestrator.tokens import count_message, count_messages, count_text

MARKER = re.compile(r"^… (?P<lines>[\d,]+) lines / (?P<tokens>[\d,]+) tokens omitted …$", re.MULTILINE)
PROMPT = SystemMessage(content="You are the investigator. Read before you act; cite evidence for every claim.")


def call(tag: int, name: str = "get_pod_logs", n: int = 1) -> AssistantMessage:
    calls = [FunctionCall(id=f"c{tag}-{k}", name=name, arguments=json.dumps({"pod": f"pod-{tag}"})) for k in range(n)]
    return AssistantMessage(content=calls, source="investigator")


def results(tag: int, content: str, n: int = 1, name: str = "get_pod_logs") -> FunctionExecutionResultMessage:
    return FunctionExecutionResultMessage(
        content=[FunctionExecutionResult(content=content, name=name, call_id=f"c{tag}-{k}") for k in range(n)]
    )


def user(tag: int, words: int = 10) -> UserMessage:
    return UserMessage(content=f"msg-{tag} " + "the checkout service is failing " * words, source="engine")


def tag_of(message: LLMMessage) -> int | None:
    """The number a test embedded in a history message (None for the prompt and the ledger)."""
    if isinstance(message, FunctionExecutionResultMessage):
        return int(message.content[0].call_id[1:].split("-")[0])
    if isinstance(message, AssistantMessage) and not isinstance(message.content, str):
        return int(message.content[0].id[1:].split("-")[0])
    found = re.search(r"msg-(\d+)", str(message.content))
    return int(found[1]) if found else None


def assert_no_orphans(messages: list[LLMMessage]) -> None:
    """Every result follows the call that made it, and every call is followed by all of its results."""
    i = 0
    while i < len(messages):
        m = messages[i]
        assert not isinstance(m, FunctionExecutionResultMessage), f"orphan result at {i}"
        if isinstance(m, AssistantMessage) and not isinstance(m.content, str):
            ids = {c.id for c in m.content}
            j, answered = i + 1, set()
            while j < len(messages) and isinstance(messages[j], FunctionExecutionResultMessage):
                answered |= {r.call_id for r in messages[j].content}
                j += 1
            assert ids <= answered, f"call at {i} without all of its results"
            i = j
        else:
            i += 1


def within_budget(ctx: BudgetedContext, view: list[LLMMessage]) -> bool:
    return count_messages(view, ctx.model) + ctx.tools_tokens <= ctx.budget_tokens


# -- the budget, under random histories --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
async def test_random_histories_never_exceed_budget_nor_orphan_tool_messages(seed: int) -> None:
    rng = random.Random(seed)
    model = rng.choice([None, "gpt-4", "openai/gpt-4o"])
    budget = rng.choice([120, 300, 800, 2000, 6000])
    reports: list[PruneReport] = []
    prompt = SystemMessage(content="You are the investigator. " * rng.randint(1, 60))
    ctx = BudgetedContext(
        budget_tokens=budget,
        tools_tokens=rng.randint(0, budget // 4),
        on_prune=reports.append,
        max_tool_output_tokens=rng.choice([64, 200, 800]),
        initial_messages=[prompt],
        model=model,
    )
    pinned: UserMessage | None = None
    for tag in range(rng.randint(10, 70)):
        kind = rng.choices(["user", "text", "call", "pin", "ledger", "orphan", "nudge"], [3, 2, 6, 1, 1, 1, 1])[0]
        if kind == "user":
            await ctx.add_message(user(tag, rng.randint(1, 40)))
        elif kind == "text":
            await ctx.add_message(AssistantMessage(content=f"msg-{tag} Action: get_pod x", source="investigator"))
        elif kind == "call":
            n = rng.randint(1, 3)
            await ctx.add_message(call(tag, n=n))
            body = "\n".join(f"line {k} of pod-{tag}: error connecting" for k in range(rng.randint(1, 400)))
            if rng.random() < 0.3:
                body = json.dumps({"ok": True, "items": [{"name": f"p{k}"} for k in range(rng.randint(1, 300))]})
            if rng.random() < 0.1:
                await ctx.add_message(user(tag))  # a call interrupted before its results: never sendable
            await ctx.add_message(results(tag, body, n=n))
        elif kind == "pin":
            pinned = UserMessage(
                content=f"msg-{tag} ## State: investigate\n" + "Find the root cause. " * rng.randint(1, 80),
                source="engine",
            )
            ctx.pin(pinned)
            await ctx.add_message(pinned.model_copy())  # the agent echoing it: must not be stored twice
        elif kind == "ledger":
            ctx.set_ledger([f"fact {k}: checkout-{k} restarted {k} times" for k in range(rng.randint(0, 30))])
        elif kind == "orphan":
            await ctx.add_message(results(tag, "late result nobody asked for"))
        else:
            await ctx.add_message(SystemMessage(content=f"msg-{tag} Reply with a tool call."))

        if rng.random() < 0.5:
            n_reports = len(reports)
            view = await ctx.get_messages()
            assert within_budget(ctx, view), (count_messages(view, model), ctx.tools_tokens, budget)
            assert_no_orphans(view)
            tags = [t for t in map(tag_of, view) if t is not None]
            assert tags == sorted(tags), "history out of order"
            assert sum(1 for m in view if m == pinned) <= 1
            fixed = [prompt, *([pinned] if pinned else [])]
            ledger_cost = count_message(
                SystemMessage(content="\n".join([LEDGER_HEADER, *(f"- {x}" for x in ctx.ledger)])), model
            )
            roomy = ctx.tools_tokens + 3 + sum(count_message(m, model) for m in fixed) + ledger_cost <= budget
            if roomy:  # everything pinned fits: it must all be there, unchanged
                assert view[0] == prompt
                if pinned is not None:
                    assert pinned in view
                if ctx.ledger:
                    assert view[1].content.endswith(ctx.ledger[-1])
            for report in reports[n_reports:]:
                assert report.tokens_after == count_messages(view, model) + ctx.tools_tokens <= budget
                assert report.kept == len(view)
                if not report.truncated:
                    assert report.tokens_before - report.tokens_after == sum(d["tokens"] for d in report.dropped)


async def test_newest_turns_are_kept_and_oldest_dropped() -> None:
    ctx = BudgetedContext(budget_tokens=700, initial_messages=[PROMPT])
    for tag in range(30):
        await ctx.add_message(user(tag, 5))
    view = await ctx.get_messages()
    tags = [tag_of(m) for m in view[1:]]
    assert tags[-1] == 29
    assert tags == list(range(tags[0], 30)), "kept history must be the newest contiguous run"
    assert tags[0] > 0
    # one more message would not have fitted
    assert count_messages([*view, user(tags[0] - 1, 5)]) > 700


async def test_call_and_results_travel_together() -> None:
    ctx = BudgetedContext(budget_tokens=400, initial_messages=[PROMPT])
    await ctx.add_message(user(0, 2))
    await ctx.add_message(call(1, n=2))
    await ctx.add_message(results(1, "pod-1 is Running " * 40, n=2))  # large: the pair cannot fit
    await ctx.add_message(user(2, 2))
    view = await ctx.get_messages()
    assert_no_orphans(view)
    assert [tag_of(m) for m in view[1:]] == [2]  # the pair went as a whole; it did not leave a half behind

    ctx2 = BudgetedContext(budget_tokens=4000, initial_messages=[PROMPT])
    await ctx2.add_message(call(1))
    await ctx2.add_message(results(1, "ok"))
    view = await ctx2.get_messages()
    assert isinstance(view[1], AssistantMessage) and isinstance(view[2], FunctionExecutionResultMessage)


async def test_orphans_and_unanswered_calls_are_never_sent() -> None:
    ctx = BudgetedContext(budget_tokens=4000, initial_messages=[PROMPT])
    await ctx.add_message(results(0, "an orphan result"))
    await ctx.add_message(user(1))
    await ctx.add_message(call(2, n=2))
    await ctx.add_message(results(2, "only some results", n=1))  # c2-1 never answered
    await ctx.add_message(user(3))
    await ctx.add_message(call(4))  # waiting for its result
    view = await ctx.get_messages()
    assert_no_orphans(view)
    assert [tag_of(m) for m in view[1:]] == [1, 3]
    # the pending call is kept: once its result arrives, the pair is sent
    await ctx.add_message(results(4, "pod-4 Running"))
    view = await ctx.get_messages()
    assert [tag_of(m) for m in view[1:]] == [1, 3, 4, 4]


# -- the pinned parts -------------------------------------------------------------------------------------


async def test_ledger_and_pinned_instruction_survive_any_amount_of_history() -> None:
    ctx = BudgetedContext(budget_tokens=900, initial_messages=[PROMPT])
    instruction = UserMessage(content="msg-0 ## State: investigate\nFind the root cause.", source="engine")
    ctx.pin(instruction)
    ctx.set_ledger(["checkout image is 1.12.0-broken", "alert KubePodCrashLooping fired at 12:03"])
    for tag in range(1, 200):
        await ctx.add_message(call(tag))
        await ctx.add_message(results(tag, f"pod-{tag} log line\n" * 20))
        view = await ctx.get_messages()
        assert view[0] == PROMPT
        assert (
            view[1].content
            == f"{LEDGER_HEADER}\n- checkout image is 1.12.0-broken\n- alert KubePodCrashLooping fired at 12:03"
        )
        assert view[2] == instruction
        assert within_budget(ctx, view)
    assert tag_of(view[-1]) == 199
    # a new pin replaces the old one, which becomes ordinary history and can be pruned
    nxt = UserMessage(content="msg-200 ## State: mitigate", source="engine")
    ctx.pin(nxt)
    for tag in range(201, 230):
        await ctx.add_message(user(tag, 20))
    view = await ctx.get_messages()
    assert nxt in view and instruction not in view


async def test_ledger_shrinks_from_its_oldest_lines_then_pinned_loses_its_middle() -> None:
    reports: list[PruneReport] = []
    ctx = BudgetedContext(budget_tokens=300, on_prune=reports.append, initial_messages=[PROMPT])
    ctx.set_ledger([f"fact {k}: pod checkout-{k} was OOMKilled" for k in range(40)])
    view = await ctx.get_messages()
    assert within_budget(ctx, view)
    kept = view[1].content.splitlines()[1:]
    assert kept and kept[-1] == "- fact 39: pod checkout-39 was OOMKilled"
    assert kept == [f"- fact {k}: pod checkout-{k} was OOMKilled" for k in range(40 - len(kept), 40)]
    assert reports[-1].truncated[0] == {"part": "ledger", "lines_dropped": 40 - len(kept), "lines_kept": len(kept)}
    assert await ctx.get_messages() == view and len(reports) == 1  # a standing shrink is reported once

    tail = '```sre-agent\n{"state": "investigate"}\n```'
    ctx.pin(UserMessage(content="## State: investigate\n" + "background detail\n" * 400 + tail, source="engine"))
    view = await ctx.get_messages()
    assert within_budget(ctx, view)
    assert len(view) == 2  # the ledger gave way entirely before the instruction was cut
    text = view[-1].content
    assert text.startswith("## State: investigate") and text.endswith(tail)
    assert MARKER.search(text)
    assert [t["part"] for t in reports[-1].truncated] == ["ledger", "pinned"]


async def test_even_a_huge_role_prompt_never_exceeds_the_budget() -> None:
    ctx = BudgetedContext(budget_tokens=100, initial_messages=[SystemMessage(content="Be careful. " * 500)])
    ctx.pin(user(1, 200))
    view = await ctx.get_messages()
    assert within_budget(ctx, view)
    ctx.tools_tokens = 90
    assert within_budget(ctx, await ctx.get_messages())
    ctx.tools_tokens = 500
    with pytest.raises(ValueError, match="tools alone need 500 tokens"):
        await ctx.get_messages()


async def test_pinned_instruction_is_stored_once() -> None:
    ctx = BudgetedContext(budget_tokens=4000, initial_messages=[PROMPT])
    text = "## State: triage"
    ctx.pin(UserMessage(content=text, source="engine"))
    await ctx.add_message(UserMessage(content=text, source="engine"))  # AssistantAgent adds what it was sent
    assert len(await ctx.get_messages()) == 2
    await ctx.add_message(UserMessage(content="next", source="engine"))
    ctx.pin(UserMessage(content="next", source="engine"))  # pinning the latest message marks it, no copy
    view = await ctx.get_messages()
    assert [m.content for m in view[1:]] == [text, "next"]
    assert ctx.pinned is view[-1]
    with pytest.raises(ValueError, match="only an instruction"):
        ctx.pin(call(3))


# -- prune reports --------------------------------------------------------------------------------------


async def test_prune_report_names_what_was_dropped() -> None:
    reports: list[PruneReport] = []
    history = [user(0, 30), call(1), results(1, "pod-1 is CrashLoopBackOff"), user(2, 30), user(3, 30)]
    budget = count_messages([PROMPT, *history[3:]]) + 10  # room for the two newest messages, not for the pair
    ctx = BudgetedContext(budget_tokens=budget, on_prune=reports.append, initial_messages=[PROMPT])
    for m in history:
        await ctx.add_message(m)
    full = [PROMPT, *history]
    before = count_messages(full)
    with capture_logs() as logs:
        view = await ctx.get_messages()
    (report,) = reports
    assert report.reason == "budget" and report.budget == budget
    assert [tag_of(m) for m in view[1:]] == [2, 3]
    assert report.tokens_before == before
    assert report.tokens_after == count_messages(view)
    assert report.kept == len(view)
    kept_tags = {tag_of(m) for m in view[1:]}
    assert [d["index"] for d in report.dropped] == [i for i, m in enumerate(full) if i and tag_of(m) not in kept_tags]
    for d in report.dropped:
        m = full[d["index"]]
        assert d["kind"] == m.type
        assert d["tokens"] == count_message(m)
        assert len(d["text"]) <= 80
    assert report.dropped[0]["text"] == history[0].content[:80]
    assert report.dropped[1]["text"].startswith("get_pod_logs(")
    assert report.tokens_before - report.tokens_after == sum(d["tokens"] for d in report.dropped)
    (event,) = [e for e in logs if e["event"] == "context_pruned"]
    assert event["dropped"] == len(report.dropped) and event["tokens_after"] == report.tokens_after
    # what was dropped is gone for good: asking again reports nothing new
    assert await ctx.get_messages() == view
    assert len(reports) == 1
    assert json.dumps(report.as_dict())  # the engine writes it to the trace


async def test_no_report_when_everything_fits() -> None:
    reports: list[PruneReport] = []
    ctx = BudgetedContext(budget_tokens=4000, on_prune=reports.append, initial_messages=[PROMPT])
    await ctx.add_message(user(0))
    assert len(await ctx.get_messages()) == 2
    assert reports == []


# -- large tool output -----------------------------------------------------------------------------------


def pod_list(n: int) -> str:
    return json.dumps(
        {
            "ok": True,
            "error": None,
            "kind": "PodList",
            "items": [{"name": f"checkout-{k}", "phase": "Running", "restarts": k % 3} for k in range(n)],
        }
    )


def test_json_output_stays_valid_and_keeps_ends_and_counts() -> None:
    out = cap_tool_output(pod_list(500), 300)
    assert count_text(out) <= 300
    data = json.loads(out)
    assert data["ok"] is True and data["kind"] == "PodList"
    items = data["items"]
    assert items[0]["name"] == "checkout-0" and items[-1]["name"] == "checkout-499"
    (marker,) = [i for i in items if isinstance(i, str)]
    omitted = len(items) - 1
    assert marker == f"… {500 - omitted} of 500 items omitted …"


def test_json_long_strings_lose_their_middle() -> None:
    logs = "\n".join(f"2025-01-01T00:00:{k:02d} error dialing cart:7070 attempt {k}" for k in range(600))
    out = cap_tool_output(json.dumps({"ok": True, "pod": "otel-demo/Pod/checkout-1", "log": logs}), 200)
    data = json.loads(out)
    assert count_text(out) <= 200
    assert data["pod"] == "otel-demo/Pod/checkout-1"
    assert data["log"].startswith("2025-01-01T00:00:00 error") and data["log"].endswith("attempt 599")
    assert MARKER.search(data["log"])


def test_text_output_keeps_head_and_tail_lines_with_an_accurate_marker() -> None:
    lines = [f"I1125 12:00:{k % 60:02d} kubelet: pulling image ghcr.io/demo:{k}" for k in range(1000)]
    text = "\n".join(lines)
    out = cap_tool_output(text, 400)
    assert count_text(out) <= 400
    out_lines = out.split("\n")
    assert out_lines[0] == lines[0] and out_lines[-1] == lines[-1]
    found = MARKER.search(out)
    assert found
    kept = len(out_lines) - 1
    assert int(found["lines"].replace(",", "")) == 1000 - kept
    kept_text = "\n".join(line for line in out_lines if not MARKER.match(line))
    assert int(found["tokens"].replace(",", "")) == count_text(text) - count_text(kept_text)
    assert set(out_lines) - {found[0]} <= set(lines)


def test_one_huge_line_is_cut_by_tokens() -> None:
    text = "START " + "x" * 20000 + " END"
    out = cap_tool_output(text, 100)
    assert count_text(out) <= 100
    assert out.startswith("START") and out.endswith("END")
    assert "tokens omitted" in out


def test_small_output_is_untouched() -> None:
    assert cap_tool_output('{"ok": true}', 64) == '{"ok": true}'
    assert cap_tool_output("fine", 64) == "fine"


async def test_tool_output_is_capped_on_arrival_and_reported() -> None:
    reports: list[PruneReport] = []
    ctx = BudgetedContext(budget_tokens=8000, on_prune=reports.append, max_tool_output_tokens=200)
    await ctx.add_message(call(1, name="list_pods", n=2))
    await ctx.add_message(
        FunctionExecutionResultMessage(
            content=[
                FunctionExecutionResult(content=pod_list(400), name="list_pods", call_id="c1-0"),
                FunctionExecutionResult(content='{"ok": true, "items": []}', name="list_pods", call_id="c1-1"),
            ]
        )
    )
    view = await ctx.get_messages()
    big, small = view[1].content
    assert count_text(big.content) <= 200 and json.loads(big.content)["items"][0]["name"] == "checkout-0"
    assert small.content == '{"ok": true, "items": []}'
    (report,) = reports
    assert report.reason == "tool_output" and report.dropped == []
    assert report.truncated == [
        {
            "call_id": "c1-0",
            "name": "list_pods",
            "tokens_before": count_text(pod_list(400)),
            "tokens_after": count_text(big.content),
        }
    ]
    with pytest.raises(ValueError, match="max_tool_output_tokens"):
        BudgetedContext(budget_tokens=8000, max_tool_output_tokens=10)


async def test_real_cluster_listing_is_cut_to_valid_json() -> None:
    from kubernetes import client

    from orchestrator.sim import SimulatorServer, resolve_scenario

    sim = SimulatorServer.start(scenario=resolve_scenario("otel-demo-bad-image"))
    try:
        api = client.ApiClient(sim.client_configuration())
        raw = client.CoreV1Api(api).list_namespaced_pod("otel-demo", _preload_content=False).data.decode()
    finally:
        sim.stop()
    pods = json.loads(raw)["items"]
    assert len(pods) > 5 and count_text(raw) > 1500
    out = cap_tool_output(raw, 1500)
    assert count_text(out) <= 1500
    data = json.loads(out)
    assert data["items"][0]["metadata"]["name"] == pods[0]["metadata"]["name"]
    assert data["items"][-1]["metadata"]["name"] == pods[-1]["metadata"]["name"]


# -- state -------------------------------------------------------------------------------------------------


async def test_save_and_load_state_round_trip() -> None:
    ctx = BudgetedContext(budget_tokens=600, initial_messages=[PROMPT])
    ctx.set_ledger(["cart is unreachable"])
    for tag in range(3):
        await ctx.add_message(user(tag))
    ctx.pin(UserMessage(content="msg-3 ## State: verify", source="engine"))
    await ctx.add_message(call(4))
    await ctx.add_message(results(4, "ok"))
    state = await ctx.save_state()
    json.dumps(state)  # persistable as JSON

    again = BudgetedContext(budget_tokens=600)
    await again.load_state(json.loads(json.dumps(state)))
    assert await again.get_messages() == await ctx.get_messages()
    assert again.ledger == ["cart is unreachable"] and again.pinned == ctx.pinned


async def test_reset_to_ledger_and_clear() -> None:
    reports: list[PruneReport] = []
    ctx = BudgetedContext(budget_tokens=4000, on_prune=reports.append, initial_messages=[PROMPT])
    ctx.set_ledger(["checkout runs image 1.12.0-broken"])
    await ctx.add_message(user(0))
    instruction = UserMessage(content="msg-1 ## State: localise", source="engine")
    ctx.pin(instruction)
    await ctx.add_message(call(2))
    await ctx.add_message(results(2, "ok"))
    await ctx.reset_to_ledger()
    view = await ctx.get_messages()
    assert view == [PROMPT, view[1], instruction] and view[1].content.endswith("1.12.0-broken")
    (report,) = reports
    assert report.reason == "reset" and [d["index"] for d in report.dropped] == [1, 3, 4]
    assert report.tokens_after == count_messages(view)

    await ctx.clear()
    assert await ctx.get_messages() == [PROMPT]
    assert ctx.pinned is None and ctx.ledger == []


# -- inside a real autogen agent ---------------------------------------------------------------------------


async def test_assistant_agent_runs_on_the_budgeted_context() -> None:
    from autogen_agentchat.agents import AssistantAgent
    from autogen_agentchat.messages import TextMessage
    from autogen_core import CancellationToken
    from autogen_core.models import CreateResult, RequestUsage
    from autogen_core.tools import FunctionTool
    from autogen_ext.models.replay import ReplayChatCompletionClient

    def get_pod_logs(pod: str) -> str:
        """Read a pod's logs."""
        return "\n".join(f"{pod}: failed to pull image, attempt {k}" for k in range(2000))

    replies = [
        CreateResult(
            finish_reason="function_calls",
            content=[FunctionCall(id=f"c{k}-0", name="get_pod_logs", arguments=json.dumps({"pod": f"checkout-{k}"}))],
            usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
            cached=False,
        )
        for k in range(6)
    ]
    model_info = {
        "vision": False,
        "function_calling": True,
        "json_output": False,
        "family": "unknown",
        "structured_output": False,
    }
    client = ReplayChatCompletionClient(replies, model_info=model_info)
    ctx = BudgetedContext(budget_tokens=1200, max_tool_output_tokens=300, initial_messages=[PROMPT])
    agent = AssistantAgent(
        "investigator",
        model_client=client,
        tools=[FunctionTool(get_pod_logs, "Read a pod's logs.")],
        model_context=ctx,
        system_message=None,
        reflect_on_tool_use=False,
    )
    instruction = "msg-0 ## State: investigate"
    ctx.pin(UserMessage(content=instruction, source="engine"))
    await agent.on_messages([TextMessage(content=instruction, source="engine")], CancellationToken())
    for _ in range(5):
        await agent.on_messages([], CancellationToken())
        view = await ctx.get_messages()
        assert within_budget(ctx, view)
        assert_no_orphans(view)
        assert view[1].content == instruction and sum(1 for m in view if m.content == instruction) == 1
    last = view[-1].content[0].content
    assert last.startswith("checkout-5: failed to pull image, attempt 0") and count_text(last) <= 300
    assert tag_of(view[2]) > 0  # the oldest calls were pruned


async def _fill(ctx: BudgetedContext, turns: int) -> None:
    for i in range(turns):
        await ctx.add_message(call(i))
        await ctx.add_message(results(i, "line of log output " * 20))


@pytest.mark.asyncio
async def test_findings_are_sent_only_in_room_left_and_never_change_what_is_pruned() -> None:
    findings = ["finding [high] shop/Pod/api-1: the container crashes | evidence: exit code 1"]
    budget = 1200
    plain = BudgetedContext(budget, initial_messages=[PROMPT])
    with_findings = BudgetedContext(budget, initial_messages=[PROMPT])
    with_findings.set_findings(findings)
    for ctx in (plain, with_findings):
        ctx.set_ledger(["alert A firing"])
        await _fill(ctx, 2)
    roomy = await with_findings.get_messages()
    assert any(isinstance(m, SystemMessage) and findings[0] in str(m.content) for m in roomy)
    for ctx in (plain, with_findings):
        await _fill(ctx, 12)  # now the history no longer fits: the same turns are pruned either way
    tight_plain, tight = await plain.get_messages(), await with_findings.get_messages()
    without = [m for m in tight if not (isinstance(m, SystemMessage) and "finding [" in str(m.content))]
    assert without == tight_plain
    assert count_messages(tight, None) <= budget
