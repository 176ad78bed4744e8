"""Per-model MAST figures over many runs, computed the way the IT-Bench × MAST study reports them:
task recall (resolved fraction), distinct modes per failed run, and each mode's rate in failed versus
successful runs (the gap says which modes predict failure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .annotate import MastInputError, annotate_run_dir
from .taxonomy import MODE_IDS


def _load(run_dir: Path) -> dict[str, Any]:
    """A run's annotation: its mast.json when present, else annotate its trace (without writing)."""
    saved = run_dir / "mast.json"
    if saved.is_file():
        try:
            return json.loads(saved.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MastInputError(f"{saved}: not JSON ({exc.msg})") from None
    return annotate_run_dir(run_dir, write=False).to_dict()


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def summarize(run_dirs: list[Path]) -> dict[str, Any]:
    """{model: {runs, resolved, task_recall, failed_runs, modes_per_failed_run, modes: {id: rates}}}."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for run_dir in run_dirs:
        ann = _load(Path(run_dir))
        by_model.setdefault(str(ann.get("run", {}).get("model") or "unknown"), []).append(ann)
    summary: dict[str, Any] = {}
    for model, anns in sorted(by_model.items()):
        failed = [a for a in anns if a.get("failed")]
        ok = [a for a in anns if not a.get("failed")]
        modes = {}
        for mode_id in MODE_IDS:
            in_failed = sum(1 for a in failed if a["mast_annotation"].get(mode_id) == 1)
            in_ok = sum(1 for a in ok if a["mast_annotation"].get(mode_id) == 1)
            rate_failed, rate_ok = _rate(in_failed, len(failed)), _rate(in_ok, len(ok))
            modes[mode_id] = {
                "failed_runs": in_failed,
                "successful_runs": in_ok,
                "rate_failed": rate_failed,
                "rate_successful": rate_ok,
                "gap": round((rate_failed or 0) - (rate_ok or 0), 3) if failed and ok else None,
                "not_assessable": sum(1 for a in anns if a["mast_annotation"].get(mode_id) is None),
            }
        summary[model] = {
            "model_class": next((a["run"].get("model_class") for a in anns if a.get("run")), None),
            "runs": len(anns),
            "resolved": len(ok),
            "task_recall": _rate(len(ok), len(anns)),
            "failed_runs": len(failed),
            "modes_per_failed_run": round(sum(a.get("distinct_modes", 0) for a in failed) / len(failed), 2)
            if failed
            else None,
            "modes": modes,
        }
    return summary


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def render_table(summary: dict[str, Any]) -> str:
    """A Markdown table per summary: one row per model, then each model's modes seen in any run."""
    lines = [
        "| Model | Class | Runs | Task recall | Failed | Modes per failed run | Top mode in failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for model, s in summary.items():
        seen = [(m, v) for m, v in s["modes"].items() if v["failed_runs"]]
        top = max(seen, key=lambda mv: (mv[1]["rate_failed"] or 0, mv[1]["gap"] or 0), default=None)
        top_text = f"FM-{top[0]} ({_pct(top[1]['rate_failed'])})" if top else "-"
        per_failed = "-" if s["modes_per_failed_run"] is None else f"{s['modes_per_failed_run']:.1f}"
        lines.append(
            f"| {model} | {s['model_class'] or '-'} | {s['runs']} | {_pct(s['task_recall'])} | {s['failed_runs']} "
            f"| {per_failed} | {top_text} |"
        )
    for model, s in summary.items():
        rows = [(m, v) for m, v in s["modes"].items() if v["failed_runs"] or v["successful_runs"]]
        if not rows:
            continue
        lines += ["", f"**{model}**", "", "| Mode | In failed runs | In successful runs | Gap |", "|---|---|---|---|"]
        for mode_id, v in rows:
            gap = "-" if v["gap"] is None else f"{v['gap'] * 100:+.1f} pp"
            lines.append(f"| FM-{mode_id} | {_pct(v['rate_failed'])} | {_pct(v['rate_successful'])} | {gap} |")
    return "\n".join(lines)
