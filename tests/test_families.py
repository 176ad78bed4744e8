"""A fault family is declared once, and everything else finds it by its name: its scenario in the
library (`orchestrator/sim/scenarios/NAME/`), the playbook that covers its faults (`playbooks/`), its
injector (a module in `orchestrator/sim/faults/`, found by fault id) and its example incident
(`sre-agent run builtin:NAME`, made from the scenario)."""

from __future__ import annotations

import pytest

from orchestrator.bench.suite import BUILTIN_SUITE
from orchestrator.builtin.library import load_library
from orchestrator.cluster import example_incident, load_checked_incident
from orchestrator.sim import builtin_scenarios, describe_scenario, scenario_problem, simulated_faults

# A family is a library scenario that pages with an example incident (it has a summary).
FAMILIES = sorted(name for name, path in builtin_scenarios().items() if describe_scenario(path).summary)


def test_every_bench_case_is_a_family() -> None:
    assert set(BUILTIN_SUITE) <= set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_family_is_found_by_its_name(family: str) -> None:
    scenario = builtin_scenarios()[family]
    assert scenario.parent.name == family and scenario_problem(scenario) is None
    facts = describe_scenario(scenario)
    assert facts.faults, family
    # the injector: every fault id of the scenario is one the simulator injects
    simulated = {f.id for f in simulated_faults()}
    assert {fid for fid, _ in facts.faults} <= simulated
    # the playbook: one covers each of its faults
    covered = {fid for book in load_library().playbooks for fid in book.faults}
    assert {fid for fid, _ in facts.faults} <= covered, family
    # the example incident: what the page says, where, and the scenario by name
    incident = load_checked_incident(f"builtin:{family}")
    assert incident == example_incident(family)
    assert incident.name == family and incident.spec.summary == facts.summary
    assert incident.spec.scope.namespaces == list(facts.namespaces)
    assert incident.spec.cluster.simulate.scenario == f"builtin:{family}"


def test_every_simulated_fault_has_a_library_scenario() -> None:
    injected = {fid for path in builtin_scenarios().values() for fid, _ in describe_scenario(path).faults}
    assert {f.id for f in simulated_faults()} <= injected
