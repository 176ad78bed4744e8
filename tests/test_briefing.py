"""The briefing's knowledge for models that are not built in: the schema they are offered and the
playbook lines, cut to a token allowance and ordered by what the run observed."""

from __future__ import annotations

from orchestrator.briefing import GATE_CHECKS_MARK, knowledge_lines, offered_schema
from orchestrator.builtin.library import load_library
from orchestrator.checks import CHECKS
from orchestrator.roles import load_role
from orchestrator.tokens import count_text

MODEL = "openai/gpt-4o"


def test_the_check_names_are_an_enum_only_when_given() -> None:
    schema = load_role("investigator").submissions["submit_diagnosis"].schema
    assert schema["properties"]["checks"]["items"][GATE_CHECKS_MARK] is True
    plain = offered_schema(schema, [])
    assert plain["properties"]["checks"]["items"] == {"type": "string"}  # as the built-in models always saw it
    offered = offered_schema(schema, sorted(CHECKS))
    assert offered["properties"]["checks"]["items"] == {"type": "string", "enum": sorted(CHECKS)}
    assert GATE_CHECKS_MARK in str(schema)  # the role's own schema, which validates, is left as it was


def test_knowledge_is_cut_to_its_allowance_and_led_by_what_was_observed() -> None:
    library = load_library()
    every = knowledge_lines(library, [], [], 10**6, MODEL)
    assert len(every) == len(library.causes)
    oom = [{"object": "shop/Pod/api-1", "cause": "OOMKilled", "evidence": ["lastState.terminated.reason: OOMKilled"]}]
    led = knowledge_lines(library, [{"name": "KubePodCrashLooping", "labels": {}}], oom, 10**6, MODEL)
    assert led[0].startswith("playbook crash/container-oom-killed: ") and sorted(led) == sorted(every)
    allowance = sum(count_text(line, MODEL) + 2 for line in led[:3])
    cut = knowledge_lines(library, [], oom, allowance, MODEL)
    assert cut and sum(count_text(line, MODEL) + 2 for line in cut) <= allowance < sum(
        count_text(line, MODEL) + 2 for line in every
    )
    assert cut[0] == led[0]
    assert knowledge_lines(library, [], oom, 0, MODEL) == []
