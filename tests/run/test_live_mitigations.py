"""Live mitigations against a model forced into one failure (a profile file with that behaviour at rate 1),
in real runs on the demo incident: the machine refuses or cuts off what the model does wrong, the trace says
so, and with mitigations off the same model closes falsely and the closure audit shows it."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.models import PROFILES_ENV

from .helpers import EXAMPLES, events, run_cli


def forced(tmp_path: Path, model_class: str, per: str = "turn", **rates: float) -> dict[str, str]:
    behaviours = {name: {"rate": rate, "per": per} for name, rate in rates.items()}
    data = {"calibrated": False, "classes": {model_class: {"poison_multiplier": 1.0, "behaviours": behaviours}}}
    path = tmp_path / "profiles.yaml"
    path.write_text(json.dumps(data))  # JSON is YAML
    return {PROFILES_ENV: str(path)}


def run(out: Path, model: str, env: dict[str, str], *flags: str) -> tuple[int, list[dict], dict]:
    code, stdout, _ = run_cli(
        "run", str(EXAMPLES / "demo.yaml"), "--model", model, "--output", str(out), "-q", *flags, env=env
    )
    assert code in (0, 3), stdout
    return code, events(out), json.loads((out / "mast.json").read_text())


def mitigations(trace: list[dict], detector: str) -> list[dict]:
    return [e for e in trace if e["kind"] == "mitigation" and e["data"].get("detector") == detector]


def test_success_claimed_before_the_write_is_refused_and_the_fix_then_applied(runs_root: Path, tmp_path: Path) -> None:
    # early_success once per run: the first claim is refused, the model then really applies the fix
    env = forced(tmp_path, "frontier", per="run", early_success=1.0)
    code, trace, mast = run(runs_root / "live-early", "builtin/flaky-frontier", env)
    refused = mitigations(trace, "mitigation-claimed-without-write")
    assert refused and refused[0]["data"]["mode"] == "3.1"
    assert any(e["kind"] == "tool_result" and e["data"].get("reason") == "refused_submission" for e in trace)
    assert mast["mast_annotation"]["3.1"] == 1 and mast["modes"]["3.1"]["mitigated"] is True


def test_the_same_claim_without_mitigations_closes_falsely_and_the_audit_shows_it(
    runs_root: Path, tmp_path: Path
) -> None:
    env = forced(tmp_path, "frontier", per="run", early_success=1.0)
    code, trace, mast = run(runs_root / "live-early-off", "builtin/flaky-frontier", env, "--mitigations", "off")
    assert code == 0  # the model said so, and nobody checked
    (audit,) = [e for e in trace if e["kind"] == "closure_audit"]
    assert audit["data"]["passed"] is False
    assert not any(e["kind"] == "mitigation" for e in trace)
    assert mast["mast_annotation"]["3.1"] == 1 and mast["modes"]["3.1"]["mitigated"] is False


def test_a_root_cause_without_evidence_is_refused(runs_root: Path, tmp_path: Path) -> None:
    env = forced(tmp_path, "frontier", per="run", guess=1.0)
    _, trace, mast = run(runs_root / "live-guess", "builtin/flaky-frontier", env)
    refused = mitigations(trace, "root-cause-without-evidence")
    assert refused and refused[0]["data"]["mode"] == "2.2"
    assert mast["mast_annotation"]["2.2"] == 1


def test_a_model_that_will_not_stop_gets_a_closing_step(runs_root: Path, tmp_path: Path) -> None:
    env = forced(tmp_path, "frontier", per="run", termination_unaware=1.0)
    _, trace, mast = run(runs_root / "live-nonstop", "builtin/flaky-frontier", env)
    closing = mitigations(trace, "step_cap_reached")
    assert closing, [e["data"] for e in trace if e["kind"] == "state_transition"]
    after = [e for e in trace if e["seq"] > closing[0]["seq"] and e["kind"] == "submission"]
    assert after  # offered only its submission, it submitted
    assert mast["mast_annotation"]["1.5"] == 1
    injected = {e["data"]["mode"] for e in trace if e["kind"] == "injection"}
    assert "1.5" in injected


def test_a_model_that_spends_the_run_budget_knows_it_kept_going(runs_root: Path, tmp_path: Path) -> None:
    # It repeats itself at every turn; the run's token budget, told to it in every briefing, runs out first.
    env = forced(tmp_path, "frontier", repeat=1.0)
    incident = tmp_path / "small-budget.yaml"
    incident.write_text((EXAMPLES / "demo.yaml").read_text().replace("tokens: 400000", "tokens: 30000"))
    out = runs_root / "live-budget"
    flags = ["--model", "builtin/flaky-frontier", "--mitigations", "off", "--output", str(out), "-q"]
    code, stdout, _ = run_cli("run", str(incident), *flags, env=env)
    assert code == 3, stdout
    trace, mast = events(out), json.loads((out / "mast.json").read_text())
    assert [e["data"]["ended_by"] for e in trace if e["kind"] == "run_end"] == ["budget"]
    spent = [e for e in trace if e["kind"] == "injection" and "last of the run's tokens" in e["data"]["detail"]]
    assert len(spent) == 1 and spent[0]["data"]["mode"] == "1.5"
    assert mast["modes"]["1.5"]["rules"] == ["ended-by-budget"]
