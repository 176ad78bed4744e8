"""The run directory: agent_output.json (ITBench's format), report.json, report.md, report.html and machine.mmd.

trace.jsonl is written by the trace as events happen; everything here is derived at the end, and is
written whatever the outcome, so a failed or escalated run leaves as complete a record as a resolved one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..files import write_atomic
from ..machines import MachineSpec, mermaid
from ..report_html import mode_line
from ..tokens import prompt_tokens_spent
from .state import RunOptions, RunResult, RunState


def agent_output(diagnosis: dict[str, Any] | None) -> dict[str, Any]:
    """ITBench's agent output: entities (namespace/Kind/name), propagations and explained alerts."""
    d = diagnosis or {}
    return {
        "entities": [
            {
                "name": e.get("name"),
                "contributing_factor": bool(e.get("contributing_factor")),
                "reasoning": e.get("reasoning", ""),
                "evidence": e.get("evidence", []),
            }
            for e in d.get("entities", [])
        ],
        "propagations": [
            {k: p.get(k, "") for k in ("source", "target", "condition", "effect")} for p in d.get("propagations", [])
        ],
        "alerts_explained": list(d.get("alerts_explained", [])),
    }


def write_outputs(
    out: Path, result: RunResult, run: RunState, machine: MachineSpec, options: RunOptions, log: Any
) -> None:
    """Everything but the trace, into the run directory `out`; `log` records what failed to render."""
    write_atomic(out / "agent_output.json", json.dumps(agent_output(result.diagnosis), indent=2) + "\n")
    usage = usage_by_role(out / "trace.jsonl")
    report = {**result.to_dict(), "usage": usage, "proposed_change": proposed_change(run, result)}
    write_atomic(out / "report.json", json.dumps(report, indent=2, default=str) + "\n")
    write_atomic(out / "machine.mmd", mermaid(machine, run.path))
    from ..mast.annotate import annotate_run_dir

    try:
        mast = annotate_run_dir(out).to_dict()  # writes mast.json
        if options.mast_judge:
            mast = judge_undecided(out, mast, options.mast_judge, result.model, options.base_url)
    except Exception as exc:  # a detector bug must not cost the run its report
        log.exception("mast_annotation_failed")
        mast = {"error": f"{type(exc).__name__}: {exc}"}
    write_atomic(out / "report.md", render_markdown(run, result, mast, usage))
    from ..report_html import write_run_html

    try:
        write_run_html(out)  # rendered from the files just written, as a re-render of an old run would be
    except Exception:  # a rendering bug must not cost the run its other files
        log.exception("report_html_failed")


def judge_undecided(
    out: Path, mast: dict[str, Any], judge: str, agents_model: str | None, base_url: str | None
) -> dict[str, Any]:
    """Ask the LLM judge about the modes the detectors could not decide, and rewrite mast.json."""
    from ..mast.annotate import read_events
    from ..mast.judge import judge_run, merge_judgement

    undecided = [k for k, v in mast["mast_annotation"].items() if v is None]
    if undecided:
        events = read_events(out / "trace.jsonl")
        findings = judge_run(events, judge, undecided, base_url=base_url, agents_model=agents_model)
        mast = merge_judgement(mast, findings)
        write_atomic(out / "mast.json", json.dumps(mast, indent=2, default=str) + "\n")
    return mast


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def _mast_section(mast: dict[str, Any]) -> list[str]:
    from ..mast.taxonomy import mode

    lines = ["", "## MAST failure modes", ""]
    if "error" in mast:
        return [*lines, f"Annotation failed: {mast['error']}"]
    present = [k for k, v in mast["mast_annotation"].items() if v == 1]
    unknown = [k for k, v in mast["mast_annotation"].items() if v is None]
    if not present:
        lines.append("No failure mode detected.")
    else:
        rows = []
        for key in present:
            m, info = mode(key), mast["modes"].get(key, {})
            events = ", ".join(f"#{e}" for e in (info.get("events") or [])[:8])
            rows.append([f"FM-{key} {m.name}", info.get("rule", ""), events, "yes" if info.get("mitigated") else "no"])
        lines += _table(["Mode", "Rule", "Events", "Mitigated live"], rows)
    if unknown:
        lines += ["", f"Not assessable from this trace: {', '.join('FM-' + k for k in unknown)}."]
    lines.append("")
    lines.append(
        f"Run failed: {'yes' if mast['failed'] else 'no'}; fatal modes: {', '.join(mast['fatal_modes']) or 'none'}."
    )
    return lines


def proposed_change(run: RunState, result: RunResult) -> list[str]:
    """For a run that did not resolve: what a person could run next, from the analyzers' remedies for the
    named root causes and any mitigation the diagnosis proposed that was not applied."""
    if result.exit_code == 0 or not result.diagnosis:
        return []
    roots = [e.get("name") for e in result.diagnosis.get("entities", []) if e.get("contributing_factor")]
    lines: list[str] = []
    for f in run.findings or []:
        if f.get("object") in roots or (f.get("owner") and f.get("owner") in roots):
            lines += [line for line in f.get("remedy") or [] if line not in lines]
    applied = {(w.get("action"), w.get("target")) for w in result.writes if w.get("mode") == "applied"}
    for m in result.diagnosis.get("mitigations") or []:
        args = m.get("args") or {}
        target = f"{args.get('namespace', '')}/{args.get('kind', 'Pod')}/{args.get('name', args.get('node', ''))}"
        if (m.get("action"), target) not in applied:
            call = " ".join(f"{k}={v}" for k, v in args.items())
            lines.append(f"# proposed write, not applied: {m.get('action')} {call}")
    return lines


def _proposal_section(run: RunState, result: RunResult) -> list[str]:
    proposal = proposed_change(run, result)
    if not proposal:
        return []
    return [
        "",
        "## Proposed change",
        "",
        "Nothing below was run. Review, then run it yourself:",
        "",
        "```sh",
        *proposal,
        "```",
    ]


def usage_by_role(trace: Path) -> dict[str, dict[str, Any]]:
    """Model calls sent, their prompt and completion tokens and cost, per role (as the provider reported them,
    else as counted here), from the trace's `llm_call` events."""
    out: dict[str, dict[str, Any]] = {}
    try:
        lines = trace.read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash
        data = event.get("data") or {}
        if event.get("kind") != "llm_call" or not data.get("sent"):
            continue
        role = out.setdefault(
            str(event.get("role") or "engine"),
            {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0},
        )
        role["calls"] += 1
        role["prompt_tokens"] += prompt_tokens_spent(data.get("provider_prompt_tokens"), data.get("prompt_tokens"))
        role["completion_tokens"] += int(data.get("completion_tokens") or 0)
        role["cost_usd"] = round(role["cost_usd"] + float(data.get("cost_usd") or 0.0), 8)
    return out


def render_markdown(
    run: RunState, result: RunResult, mast: dict[str, Any] | None = None, usage: dict[str, dict[str, Any]] | None = None
) -> str:
    lines = [
        f"# Incident {run.incident_name}: {result.status.upper()}",
        "",
        f"- **Summary:** {run.summary}",
        f"- **Outcome:** exit {result.exit_code}, {result.reason}",
        f"- **Model:** {result.model} (class {result.model_class}); ended by {result.ended_by}",
        f"- **Namespaces:** {', '.join(run.namespaces) or 'none'}; remediation mode {run.mode}",
        f"- **Spent:** {result.steps} tool calls, {result.llm_calls} model calls, {result.tokens} tokens, {result.seconds} s",
        f"- **Path:** {' → '.join(result.path)}",
    ]
    if usage:
        per_role = "; ".join(
            f"{role} {u['calls']} calls, {u['prompt_tokens']:,} prompt + {u['completion_tokens']:,} completion tokens"
            + (f" (${u['cost_usd']:.4f})" if u.get("cost_usd") else "")
            for role, u in usage.items()
        )
        cost = f"; cost ${result.cost_usd:.4f}" if result.cost_usd else ""
        lines.append(f"- **Model usage:** {per_role}{cost}")
    for a in result.assumptions:
        lines.append(f"- **Assumption:** {a}")
    d = result.diagnosis
    lines += ["", "## Diagnosis", ""]
    if d:
        lines += [d.get("summary", ""), ""]
        lines += _table(
            ["Entity", "Root cause", "Reasoning"],
            [
                [e.get("name"), "yes" if e.get("contributing_factor") else "no", e.get("reasoning", "")]
                for e in d.get("entities", [])
            ],
        )
        if d.get("propagations"):
            lines += ["", "Propagation:", ""]
            lines += [f"- {p.get('source')} → {p.get('target')}: {p.get('effect', '')}" for p in d["propagations"]]
    else:
        lines.append("No diagnosis was submitted.")
    lines += _proposal_section(run, result)
    lines += ["", "## Changes", ""]
    if result.writes:
        lines += _table(
            ["Action", "Target", "Mode", "Change", "Revert"],
            [[w.get("action"), w.get("target"), mode_line(w), w.get("change"), w.get("revert")] for w in result.writes],
        )
    else:
        lines.append("No write was attempted.")
    lines += ["", "## Verification", ""]
    v = result.verdict
    if v:
        lines.append(
            f"Gate {'PASS' if v['gate_passed'] else 'FAIL'}; verifier proposed {v.get('proposed') or 'nothing'}; "
            f"closure {'allowed' if v['passed'] else 'refused'}."
        )
        lines.append("")
        lines += _table(
            ["Check", "Target", "Result", "Evidence"],
            [
                [
                    r.get("name"),
                    r.get("target") or "",
                    "pass" if r.get("passed") else "FAIL",
                    r.get("error") or r.get("evidence"),
                ]
                for r in v.get("results", [])
            ],
        )
        if v.get("objections"):
            lines += ["", "Objections:", ""] + [f"- {o}" for o in v["objections"]]
        if v.get("advisory"):
            lines += [
                "",
                "Advisory checks (named in the diagnosis; no gate check has that name, so none was required):",
                "",
            ]
            lines += [f"- {name}" for name in v["advisory"]]
    else:
        lines.append("The verifier did not run.")
    if mast is not None:
        lines += _mast_section(mast)
    lines += [
        "",
        "## Files",
        "",
        "trace.jsonl (every event), agent_output.json (ITBench format), report.json, mast.json (MAST annotation),",
        "machine.mmd (the path taken), engine.log.jsonl, journal.jsonl (each write as it was sent and answered).",
        "",
    ]
    return "\n".join(lines)
