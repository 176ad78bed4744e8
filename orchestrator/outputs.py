"""The run directory: agent_output.json (ITBench's format), report.json, report.md and machine.mmd.

trace.jsonl is written by the trace as events happen; everything here is derived at the end, and is
written whatever the outcome, so a failed or escalated run leaves as complete a record as a resolved one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .machines import mermaid

if TYPE_CHECKING:
    from .engine import Conductor, RunResult


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


def write_outputs(run: Conductor, result: RunResult) -> None:
    out: Path = run.out_dir
    (out / "agent_output.json").write_text(json.dumps(agent_output(result.diagnosis), indent=2) + "\n")
    (out / "report.json").write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    (out / "machine.mmd").write_text(mermaid(run.machine, run.path))
    (out / "report.md").write_text(render_markdown(run, result))


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def render_markdown(run: Conductor, result: RunResult) -> str:
    inc = run.incident
    lines = [
        f"# Incident {inc.metadata.name}: {result.status.upper()}",
        "",
        f"- **Summary:** {inc.spec.summary}",
        f"- **Outcome:** exit {result.exit_code}, {result.reason}",
        f"- **Model:** {result.model} (class {result.model_class}); ended by {result.ended_by}",
        f"- **Namespaces:** {', '.join(run.namespaces) or 'none'}; remediation mode {run.mode}",
        f"- **Spent:** {result.steps} tool calls, {result.llm_calls} model calls, {result.tokens} tokens, {result.seconds} s",
        f"- **Path:** {' → '.join(result.path)}",
    ]
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
    lines += ["", "## Changes", ""]
    if result.writes:
        lines += _table(
            ["Action", "Target", "Mode", "Change", "Revert"],
            [
                [w.get("action"), w.get("target"), w.get("mode"), w.get("change"), w.get("revert")]
                for w in result.writes
            ],
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
    else:
        lines.append("The verifier did not run.")
    lines += [
        "",
        "## Files",
        "",
        "trace.jsonl (every event), agent_output.json (ITBench format), report.json, machine.mmd (the path taken).",
        "",
    ]
    return "\n".join(lines)
