from __future__ import annotations

from orchestrator.models.text_tools import parse_call

OFFERED = {"list_pods", "submit_plan"}


def test_a_fenced_call_wins_and_bare_ones_are_found() -> None:
    text = 'thinking {"name": "list_pods", "arguments": {"namespace": "a"}}\n```json\n{"name": "submit_plan", "arguments": {}}\n```'
    assert parse_call(text, OFFERED) == ("submit_plan", {})
    assert parse_call('Action: {"name": "list_pods", "arguments": {"namespace": "a {b}"}} done', OFFERED) == (
        "list_pods",
        {"namespace": "a {b}"},
    )
    assert parse_call('{"tool": "list_pods", "arguments": "{\\"namespace\\": \\"x\\"}"}', OFFERED) == (
        "list_pods",
        {"namespace": "x"},
    )


def test_no_call_in_prose_or_for_a_tool_not_offered() -> None:
    assert parse_call("the pods look fine {not json}", OFFERED) is None
    assert parse_call('{"name": "delete_everything", "arguments": {}}', OFFERED) is None
    assert parse_call('{"name": "list_pods", "arguments": [1, 2]}', OFFERED) is None
