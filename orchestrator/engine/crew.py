"""The agents a run's states speak through: one per state visit, built from the role file, the state's
tools and submissions, and a budgeted context (kept per role unless the state starts fresh), and the
instruction pinned when the state begins."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Any

from autogen_core.models import SystemMessage, UserMessage

from ..agents import AgentTool, Handler, MeteredClient, RoleAgent
from ..briefing import Briefing, instruction, knowledge_lines, offered_schema, system_prompt
from ..context import BudgetedContext
from ..dispatch import Budget
from ..machines import MachineSpec, StateSpec
from ..models.classes import ClassProfile
from ..roles import Role
from ..tokens import count_tools
from ..tools import Toolbox
from ..tools.policy import ActionPolicy
from ..trace import Trace
from .state import RunState

# The share of a call's context budget the head start (findings and playbook knowledge) may take: it is
# sent only when it fits beside everything else, so a modest share keeps it in front of the model.
KNOWLEDGE_SHARE = 8


class Crew:
    def __init__(
        self,
        run: RunState,
        machine: MachineSpec,
        profile: ClassProfile,
        model: str,
        inner_client: Any,
        trace: Trace,
        toolbox: Toolbox,
        policy: ActionPolicy,
        budget: Budget,
        handle: Handler,
    ) -> None:
        self.run, self.machine, self.profile, self.model = run, machine, profile, model
        self.inner_client, self.trace, self.toolbox, self.policy = inner_client, trace, toolbox, policy
        self.budget, self.handle = budget, handle
        self.clients: list[MeteredClient] = []
        self.contexts: dict[str, BudgetedContext] = {}
        # The built-in models read playbooks/ themselves and parse what they are sent: they get none of this.
        self.informed = not model.startswith("builtin/")
        self.gate_checks = _gate_checks() if self.informed else []
        self._head_start: tuple[tuple[Any, ...], list[str]] | None = None

    @property
    def tokens_used(self) -> int:
        return sum(u.prompt_tokens + u.completion_tokens for u in (c.total_usage() for c in self.clients))

    @property
    def budget_used(self) -> int:
        """The tokens the run's budget is charged: all but the engine's own first-pass findings, so adding
        them to the agents' context never shortens a run (they are still in `tokens_used`, the reported cost)."""
        return self.tokens_used - sum(c.findings_tokens for c in self.clients)

    @property
    def cost_usd(self) -> float:
        """Dollars spent, as the model client prices them (litellm's table; 0.0 for unpriced and built-in models)."""
        return float(getattr(self.inner_client, "cost_usd", 0.0) or 0.0)

    @property
    def llm_calls(self) -> int:
        return sum(c.calls for c in self.clients)

    def agent_for(self, role: Role, st: StateSpec) -> RoleAgent:
        tools = []
        names = list(role.read_tools) + (list(role.write_tools) if st.writes else [])
        for name in names:
            tool = self.toolbox.get(name)
            if tool is not None:
                tools.append(AgentTool(tool.name, tool.description, tool.parameters, self.handle))
        for name in ([st.submit] if st.submit else []) + list(st.records):
            sub = role.submissions[name]
            tools.append(
                AgentTool(sub.name, sub.description, offered_schema(sub.schema, self.gate_checks), self.handle)
            )
        schemas = [t.schema for t in tools]
        # The verifier always starts fresh; open models start every state fresh (the ledger carries over).
        fresh = role.name == "verifier" or self.machine.reset_context_between_states
        context = None if fresh else self.contexts.get(role.name)
        if context is None:
            run = self.run
            system = SystemMessage(content=system_prompt(role, run.incident_name, run.summary, run.namespaces))
            context = BudgetedContext(
                budget_tokens=self.profile.context_tokens,
                tools_tokens=count_tools(schemas, self.model),
                on_prune=partial(self._on_prune, role.name),
                max_tool_output_tokens=self.profile.max_tool_output_tokens,
                initial_messages=[system],
                model=self.model,
            )
            self.contexts[role.name] = context
        else:
            context.tools_tokens = count_tools(schemas, self.model)
        client = MeteredClient(self.inner_client, self.trace, self.profile.context_tokens, self.model)
        self.clients.append(client)
        return RoleAgent(role.name, client, context, tools)

    def _on_prune(self, role: str, report: Any) -> None:
        data = asdict(report) if hasattr(report, "__dataclass_fields__") else dict(report)
        self.trace.emit("context_prune", role=role, **data)

    def pin_instruction(self, agent: RoleAgent, role: Role, st: StateSpec) -> None:
        run = self.run
        allowed = sorted(set(role.write_tools) & (self.policy.allowed_actions or set(role.write_tools)))
        briefing = Briefing(
            incident_name=run.incident_name,
            summary=run.summary,
            namespaces=run.namespaces,
            alerts=run.alerts,
            plan=run.plan,
            diagnosis=run.diagnosis,
            mitigation=run.mitigation,
            objections=run.objections,
            facts=run.ledger.lines(),
            allowed_actions=allowed,
            mode="off" if run.read_only else run.mode,
            tokens_left=max(0, self.budget.tokens - self.budget_used),
            gate_checks=self.gate_checks,
        )
        continues_in = self.machine.continues_after_cap(st.name)
        source, trigger, _ = run.last_transition
        continues_from = self.machine.takes_over_from(st.name, source, trigger)
        text = instruction(st, role, briefing, continues_in, continues_from)
        agent.context.pin(UserMessage(content=text, source="engine"))

    def head_start(self, run: RunState) -> list[str]:
        """What goes beside the ledger before a diagnosis exists: the analyzers' findings and, for a model
        that is not built in, the playbooks' causes most relevant to the alerts and findings, all within
        the class's allowance. Its tokens are not charged to the run's budget (see budget_used)."""
        if not self.informed:
            return run.finding_lines
        key = (id(run.findings), len(run.findings or []), len(run.alerts), tuple(run.finding_lines))
        if self._head_start is None or self._head_start[0] != key:
            self._head_start = (key, self._knowledge(run))
        return self._head_start[1]

    def _knowledge(self, run: RunState) -> list[str]:
        from ..builtin.library import PlaybookError, load_library
        from ..tokens import count_text

        lines = list(run.finding_lines)
        allowance = self.profile.context_tokens // KNOWLEDGE_SHARE
        allowance -= sum(count_text(line, self.model) + 2 for line in lines)
        try:
            library = load_library()
        except PlaybookError as err:  # a broken playbook folder costs the model its knowledge, not the run
            self.trace.emit("briefing", error=str(err), playbook_causes=[])
            return lines
        knowledge = knowledge_lines(library, run.alerts, run.findings or [], max(0, allowance), self.model)
        self.trace.emit("briefing", playbook_causes=[line.split(":", 1)[0].split(" ", 1)[1] for line in knowledge])
        return lines + knowledge


def _gate_checks() -> list[str]:
    from ..checks import CHECKS

    return sorted(CHECKS)
