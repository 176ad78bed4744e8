"""A small conductor for tests: drives `builtin/playbook` through triage, investigate, mitigate and verify
against a served simulator, with the real Toolbox and the real role files, the way the engine talks to a
model (a pinned state block, one tool call per turn, results as JSON text, submissions schema-checked)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autogen_core.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import ToolSchema
from kubernetes import client

from orchestrator.models.playbook import PlaybookModel
from orchestrator.roles import load_role, submission_errors
from orchestrator.sim.runner import SimulatorServer
from orchestrator.tools import ActionPolicy, Toolbox, ToolContext

SCENARIOS = Path(__file__).parent / "scenarios"
STATES = (
    ("triage", "planner", "submit_plan", 6),
    ("investigate", "investigator", "submit_diagnosis", 25),
    ("mitigate", "investigator", "submit_mitigation", 10),
    ("verify", "verifier", "submit_verdict", 10),
)


@dataclass
class StateRun:
    state: str
    calls: list[tuple[str, dict]] = field(default_factory=list)  # (tool, args) in order
    submission: dict[str, Any] | None = None
    results: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Run:
    states: dict[str, StateRun] = field(default_factory=dict)
    writes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def diagnosis(self) -> dict[str, Any]:
        return self.states["investigate"].submission or {}

    def roots(self) -> set[str]:
        return {e["name"] for e in self.diagnosis.get("entities", []) if e.get("contributing_factor")}


class Driver:
    def __init__(self, sim: SimulatorServer, namespaces: list[str], mode: str = "auto") -> None:
        self.sim = sim
        self.namespaces = namespaces
        self.api = client.ApiClient(sim.client_configuration())
        self.mode = mode
        ctx = ToolContext(
            self.api,
            alertmanager_url=sim.url,
            prometheus_url=sim.url,
            namespaces=namespaces,
            policy=ActionPolicy(mode=mode),  # type: ignore[arg-type]
        )
        self.toolbox = Toolbox(ctx)
        self.model = PlaybookModel()
        self.contexts: dict[str, list[Any]] = {}

    def close(self) -> None:
        self.api.close()

    def block(self, state: str, role: str, run: Run, objections: list[str]) -> dict[str, Any]:
        investigate = run.states.get("investigate")
        mitigate = run.states.get("mitigate")
        diagnosis = investigate.submission if investigate else None
        writes = role == "investigator" and state == "mitigate"
        return {
            "state": state,
            "role": role,
            "incident": {
                "name": "test",
                "summary": "The shop is failing.",
                "namespaces": self.namespaces,
                "alerts": [],
            },
            "plan": None,
            "diagnosis": diagnosis,
            "mitigation": mitigate.submission if mitigate and state == "verify" else None,
            "objections": objections if role != "verifier" else [],
            "facts": [],
            "allowed_actions": list(load_role(role).write_tools) if writes else [],
            "mode": self.mode,
        }

    async def run_state(
        self, run: Run, state: str, role_name: str, submit: str, cap: int, objections: list[str]
    ) -> StateRun:
        role = load_role(role_name)
        names = list(role.read_tools) + (list(role.write_tools) if state == "mitigate" else []) + [submit]
        schemas = []
        for name in names:
            if name == submit:
                sub = role.submissions[submit]
                schemas.append(ToolSchema(name=name, description=sub.description, parameters=sub.schema))
            else:
                tool = self.toolbox.get(name)
                assert tool is not None, name
                schemas.append(ToolSchema(name=name, description=tool.description, parameters=tool.parameters))
        fresh = role_name == "verifier" or role_name not in self.contexts
        messages = [SystemMessage(content=role.prompt)] if fresh else self.contexts[role_name]
        self.contexts[role_name] = messages
        text = f"## State: {state} ({role_name})\nYou have at most {cap} tool calls in this state.\n"
        messages.append(
            UserMessage(
                content=text + f"```sre-agent\n{json.dumps(self.block(state, role_name, run, objections))}\n```",
                source="engine",
            )
        )
        out = StateRun(state)
        for _ in range(cap):
            result = await self.model.create(messages, tools=schemas)
            if isinstance(result.content, str):
                break
            assert len(result.content) == 1, "one tool call per turn"
            assert result.thought and result.thought.startswith(f"Action: {result.content[0].name} ")
            messages.append(AssistantMessage(content=result.content, thought=result.thought, source=role_name))
            call = result.content[0]
            args = json.loads(call.arguments)
            out.calls.append((call.name, args))
            if call.name == submit:
                errors = submission_errors(role.submissions[submit], args)
                body = {"ok": not errors, "error": "; ".join(errors) or None, "accepted": submit}
                if not errors:
                    out.submission = args
            elif call.name not in names:
                body = {"ok": False, "error": f"{call.name} is not available"}
            else:
                r = await self.toolbox.call(call.name, args)
                body = {"ok": r.ok, "error": r.error, **r.content}
                if r.write is not None:
                    run.writes.append(r.write)
            out.results.append(body)
            content = json.dumps(body, default=str)
            messages.append(
                FunctionExecutionResultMessage(
                    content=[
                        FunctionExecutionResult(
                            content=content, name=call.name, call_id=call.id, is_error=not body["ok"]
                        )
                    ]
                )
            )
            if out.submission is not None:
                break
        run.states[state] = out
        return out

    async def run(self, settle: float = 300, verify_rounds: int = 3) -> Run:
        run = Run()
        objections: list[str] = []
        for state, role, submit, cap in STATES[:3]:
            await self.run_state(run, state, role, submit, cap, objections)
        for _ in range(verify_rounds):
            self.sim.advance(settle)  # let the cluster settle before anyone judges it
            verdict = await self.run_state(run, *STATES[3], objections)
            if (verdict.submission or {}).get("verdict") == "PASS":
                break
        return run
