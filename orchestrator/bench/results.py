"""From run rows to `results.json`: one arm per (model, mitigations), and the detectors' accuracy.

A run *succeeded* when it closed the incident (exit 0), named every ground-truth root cause, and left no
fault or firing alert behind. An arm's `recall` is the share of its runs that succeeded: the seed's "task
recall". `entity_recall` is ITBench's mean root-cause entity recall, which also credits a right diagnosis
whose fix failed. Detector accuracy compares each run's detected modes (mast.json) with the modes the
simulated model injected (trace `injection` events, which no detector reads).
"""

from __future__ import annotations

from collections import Counter
from statistics import mean, median
from typing import Any

from ..mast.taxonomy import MODE_IDS
from ..models import FLAKY_PREFIX


def arm_of(row: dict[str, Any]) -> tuple[str, str]:
    return row["model"], row["mitigations"]


def summarize_arm(rows: list[dict[str, Any]]) -> dict[str, Any]:
    model, mitigations = arm_of(rows[0])
    ok = [r for r in rows if r["succeeded"]]
    failed = [r for r in rows if not r["succeeded"]]
    rates = {"failed": _mode_rates(failed), "succeeded": _mode_rates(ok)}
    tokens = sum(r["tokens"] for r in rows)
    return {
        "model": model,
        "model_class": rows[0]["model_class"],
        "mitigations": mitigations,
        "runs": len(rows),
        "resolved": len(ok),
        "recall": _share(ok, rows),
        "entity_recall": round(mean(r["recall"] for r in rows), 4),
        "precision": round(mean(r["precision"] for r in rows), 4),
        "strict_pass_at_1": _share([r for r in rows if r["strict"]], rows),
        "verified_mitigation_rate": _share([r for r in rows if r["verified_mitigation"]], rows),
        "failed_runs": len(failed),
        "modes_per_failed_run": round(mean(len(r["modes"]) for r in failed), 2) if failed else None,
        "dominant_mode": _dominant(rates),
        "mode_rates": rates,
        "false_closures": sum(1 for r in rows if r["false_closure"]),
        "tokens_per_resolved": round(tokens / len(ok), 1) if ok else None,
        "median_seconds": round(median(r["seconds"] for r in rows), 2),
        "median_steps": median(r["steps"] for r in rows),
    }


def detector_accuracy(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per mode: precision and recall of the detectors against what the simulated models injected."""
    out = {}
    for mode in MODE_IDS:
        tp = sum(1 for r in rows if mode in r["modes"] and mode in r["injected"])
        fp = sum(1 for r in rows if mode in r["modes"] and mode not in r["injected"])
        fn = sum(1 for r in rows if mode not in r["modes"] and mode in r["injected"])
        out[mode] = {
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "support": tp + fn,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    return out


def build_results(rows: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    arms: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        arms.setdefault(arm_of(row), []).append(row)
    return {
        **meta,
        "arms": [summarize_arm(group) for group in arms.values()],
        "detectors": detector_accuracy([r for r in rows if r["model"].startswith(FLAKY_PREFIX)]),
        "runs": rows,
    }


def _share(part: list[Any], whole: list[Any]) -> float:
    return round(len(part) / len(whole), 4) if whole else 0.0


def _mode_rates(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    counts = Counter(m for r in rows for m in r["modes"])
    return {m: (round(counts[m] / len(rows), 4) if rows else None) for m in MODE_IDS}


def _dominant(rates: dict[str, dict[str, float | None]]) -> str | None:
    """The mode most over-represented in failed runs relative to successful ones (as the seed ranks them)."""
    lift = {m: (rates["failed"][m] or 0.0) - (rates["succeeded"][m] or 0.0) for m in MODE_IDS}
    best = max(lift, key=lambda m: lift[m])
    return best if lift[best] > 0 else None
