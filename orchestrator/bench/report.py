"""The bench's outputs, derived from results.json alone: CSVs for analysis, a Markdown table shaped like the
IT-Bench × MAST study's, two PNG plots and a self-contained HTML page linking to every run's report.

Nothing here runs anything: a saved results.json can be re-rendered at any time. matplotlib is imported
only inside the plotting functions, so importing this module (the CLI does) stays cheap.
"""

from __future__ import annotations

import base64
import csv
import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..mast.taxonomy import MODE_IDS, mode, normalize_id

MISSING = "—"
ARMS_NOTE = (
    "Task recall: the share of runs that succeeded (closed, named every ground-truth root cause, left no fault "
    "or firing alert behind); entity_recall in results.csv also credits a right diagnosis whose fix failed. "
    "Dominant failure: the MAST mode most over-represented in failed runs (failed minus successful share, in "
    "percentage points)."
)

ARM_COLUMNS = (
    "model",
    "model_class",
    "mitigations",
    "runs",
    "resolved",
    "recall",
    "entity_recall",
    "precision",
    "strict_pass_at_1",
    "verified_mitigation_rate",
    "failed_runs",
    "modes_per_failed_run",
    "dominant_mode",
    "false_closures",
    "tokens_per_resolved",
    "median_seconds",
    "median_steps",
)
RUN_COLUMNS = (
    "scenario",
    "model",
    "model_class",
    "mitigations",
    "seed",
    "exit_code",
    "status",
    "succeeded",
    "false_closure",
    "verified_mitigation",
    "recall",
    "precision",
    "strict",
    "steps",
    "tokens",
    "seconds",
    "modes",
    "injected",
    "run_dir",
)


class ReportInputError(ValueError):
    """results.json does not have the shape the reports need; the message names the field."""


# ---------------------------------------------------------------- input


def _arms(results: dict[str, Any]) -> list[dict[str, Any]]:
    return _records(results, "arms")


def _runs(results: dict[str, Any]) -> list[dict[str, Any]]:
    return _records(results, "runs")


def _records(results: Any, field: str) -> list[dict[str, Any]]:
    # A hand-edited or truncated results.json should fail with the field's name, not a traceback.
    if not isinstance(results, dict):
        raise ReportInputError("results: expected a JSON object")
    value = results.get(field) or []
    if not isinstance(value, list):
        raise ReportInputError(f"results.{field}: expected a list")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ReportInputError(f"results.{field}[{i}]: expected an object")
    return value


def _by_mode(rates: Any) -> dict[str, Any]:
    """A {mode id: value} map keyed by short ids whatever the writer used ("FM-1.1" or "1.1")."""
    return {normalize_id(k): v for k, v in rates.items()} if isinstance(rates, dict) else {}


# ---------------------------------------------------------------- formatting


def mode_label(mode_id: str | None) -> str:
    """'FM-3.3 Incorrect verification'; an id the taxonomy does not know is shown as given."""
    if not mode_id:
        return MISSING
    try:
        m = mode(mode_id)
    except KeyError:
        return str(mode_id)
    return f"{m.fm_id} {m.name}"


def _pct(value: Any) -> str:
    return MISSING if not isinstance(value, int | float) else f"{value * 100:.1f}%"


def _num(value: Any, digits: int = 1) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return MISSING
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.{digits}f}"


def _dec(value: Any) -> str:
    return MISSING if not isinstance(value, int | float) or isinstance(value, bool) else f"{value:.1f}"


def _tokens(value: Any) -> str:
    return MISSING if not isinstance(value, int | float) else f"{value:,.0f}"


def _text(value: Any) -> str:
    return MISSING if value is None or value == "" else str(value)


def _arm_name(arm: dict[str, Any]) -> str:
    return f"{_text(arm.get('model'))} · mitigations {_text(arm.get('mitigations'))}"


def _dominant(arm: dict[str, Any]) -> str:
    """The dominant mode's name and how much more often failed runs show it than successful ones."""
    dominant = arm.get("dominant_mode")
    if not dominant:
        return MISSING
    rates = arm.get("mode_rates") or {}
    failed = _by_mode(rates.get("failed")).get(normalize_id(dominant))
    succeeded = _by_mode(rates.get("succeeded")).get(normalize_id(dominant))
    if isinstance(failed, int | float) and isinstance(succeeded, int | float):
        return f"{mode_label(dominant)} ({(failed - succeeded) * 100:+.1f} pp)"
    return mode_label(dominant)


def _arm_cells(arm: dict[str, Any]) -> list[str]:
    """The seed table's columns (model, recall, modes per failed run, dominant failure) plus ours."""
    return [
        _text(arm.get("model")),
        _text(arm.get("mitigations")),
        _pct(arm.get("recall")),
        _dec(arm.get("modes_per_failed_run")),
        _dominant(arm),
        _pct(arm.get("strict_pass_at_1")),
        _num(arm.get("false_closures")),
        _tokens(arm.get("tokens_per_resolved")),
        _dec(arm.get("median_seconds")),
    ]


ARM_HEADERS = (
    "Model",
    "Mitigations",
    "Task recall",
    "Modes/failed run",
    "Dominant failure",
    "Strict pass@1",
    "False closures",
    "Tokens/resolved",
    "Median s",
)
DETECTOR_HEADERS = ("Mode", "Name", "Precision", "Recall", "Support")


def _detector_rows(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The 14 modes in taxonomy order, then any id the taxonomy does not know (kept, not dropped)."""
    detectors = _by_mode(results.get("detectors"))
    ids = list(MODE_IDS) + sorted(k for k in detectors if k not in MODE_IDS)
    rows: list[tuple[str, dict[str, Any]]] = []
    for i in ids:
        scores = detectors.get(i)
        rows.append((i, scores if isinstance(scores, dict) else {}))
    return rows


def _mode_name(mode_id: str) -> str:
    try:
        return mode(mode_id).name
    except KeyError:
        return MISSING


# ---------------------------------------------------------------- CSV and Markdown


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    return value


def _write_csv(path: Path, columns: Iterable[str], rows: list[dict[str, Any]], extras: bool = False) -> Path:
    """One row per record, the given columns first; with `extras`, fields the runner adds later are kept
    after them (first-seen order) rather than silently dropped."""
    names = list(columns)
    if extras:
        for row in rows:
            names += [k for k in row if k not in names]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_value(row.get(k)) for k in names})
    return path


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(headers: Iterable[str], rows: Iterable[list[str]]) -> str:
    headers = list(headers)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_table(results: dict[str, Any]) -> str:
    """The arms table: one row per (model, mitigations) arm, recall as a percentage."""
    return _md_table(ARM_HEADERS, [_arm_cells(arm) for arm in _arms(results)])


def detectors_table(results: dict[str, Any]) -> str:
    """Each MAST detector scored against the injected ground truth; undefined precision/recall show as —."""
    rows = [
        [f"FM-{i}", _mode_name(i), _pct(d.get("precision")), _pct(d.get("recall")), _num(d.get("support"))]
        for i, d in _detector_rows(results)
    ]
    return _md_table(DETECTOR_HEADERS, rows)


def _markdown(results: dict[str, Any]) -> str:
    return "\n".join(
        [
            "# Bench results",
            "",
            _meta_line(results),
            "",
            "## Arms",
            "",
            markdown_table(results),
            "",
            ARMS_NOTE,
            "",
            "## Detectors",
            "",
            detectors_table(results),
            "",
        ]
    )


def _meta(results: dict[str, Any]) -> list[tuple[str, str]]:
    scenarios = results.get("scenarios") or []
    return [
        ("Suite", _text(results.get("suite"))),
        ("Created", _text(results.get("created"))),
        ("Models", ", ".join(map(str, results.get("models") or [])) or MISSING),
        ("Mitigations", ", ".join(map(str, results.get("mitigations") or [])) or MISSING),
        ("Seeds", _text(results.get("seeds"))),
        ("Scenarios", f"{len(scenarios)} ({', '.join(map(str, scenarios))})" if scenarios else MISSING),
        ("Wall time", f"{_num(results.get('wall_seconds'))} s"),
    ]


def _meta_line(results: dict[str, Any]) -> str:
    return " · ".join(f"{k}: {v}" for k, v in _meta(results))


# ---------------------------------------------------------------- plots


def _new_figure(width: float, height: float) -> Any:
    # A Figure on an explicit Agg canvas: no pyplot global state, no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, format="png", metadata={"Software": None})  # no version stamp: same input, same bytes
    return path


def _no_data(path: Path, title: str) -> Path:
    fig = _new_figure(6, 2)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"{title}: no arms in results.json", ha="center", va="center")
    return _save(fig, path)


def plot_recall(results: dict[str, Any], path: Path) -> Path:
    """Grouped bars: task recall per model class (x), one bar per mitigations setting."""
    arms = _arms(results)
    if not arms:
        return _no_data(path, "Task recall")
    # One x group per (class, model) so two models of one class never share a bar; the class leads the label.
    groups: list[tuple[str, str]] = []
    settings: list[str] = []
    for arm in arms:
        key = (_text(arm.get("model_class")), _text(arm.get("model")))
        if key not in groups:
            groups.append(key)
        if _text(arm.get("mitigations")) not in settings:
            settings.append(_text(arm.get("mitigations")))
    recall = {
        (_text(a.get("model_class")), _text(a.get("model")), _text(a.get("mitigations"))): a.get("recall") for a in arms
    }
    fig = _new_figure(max(6.0, 1.6 * len(groups) * max(1, len(settings)) / 2 + 2), 4.5)
    ax = fig.add_subplot()
    width = 0.8 / len(settings)
    for j, setting in enumerate(settings):
        xs, heights = [], []
        for i, (cls, model) in enumerate(groups):
            value = recall.get((cls, model, setting))
            if isinstance(value, int | float):
                xs.append(i - 0.4 + width * (j + 0.5))
                heights.append(value * 100)
        bars = ax.bar(xs, heights, width=width * 0.95, label=f"mitigations {setting}")
        ax.bar_label(bars, fmt="%.1f%%", fontsize=8, padding=2)
    ax.set_xticks(range(len(groups)), [f"{cls}\n{model}" for cls, model in groups], fontsize=9)
    ax.set_ylim(0, 110)
    ax.set_ylabel("Task recall (%)")
    ax.set_xlabel("Model class")
    ax.set_title("Task recall by model class")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_modes(results: dict[str, Any], path: Path) -> Path:
    """One panel per arm: for each MAST mode, the share of failed and of successful runs that show it."""
    arms = _arms(results)
    if not arms:
        return _no_data(path, "MAST modes")
    ncols = min(2, len(arms))
    nrows = -(-len(arms) // ncols)
    fig = _new_figure(6.5 * ncols + 2.5, 5.2 * nrows)
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    labels = [mode_label(i) for i in MODE_IDS]
    ys = list(range(len(MODE_IDS)))
    for n, arm in enumerate(arms):
        ax = axes[n // ncols][n % ncols]
        rates = arm.get("mode_rates") or {}
        for offset, (which, colour) in enumerate((("failed", "#c0392b"), ("succeeded", "#2e86c1"))):
            values = _by_mode(rates.get(which))
            shares = [v * 100 if isinstance(v := values.get(i), int | float) else 0.0 for i in MODE_IDS]
            ax.barh(
                [y - 0.2 + 0.4 * offset for y in ys],
                shares,
                height=0.38,
                color=colour,
                label=f"{'failed' if which == 'failed' else 'successful'} runs",
            )
        ax.set_yticks(ys, labels, fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_title(f"{_arm_name(arm)} ({_text(arm.get('model_class'))})", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel("Runs showing the mode (%)", fontsize=8)
    for n in range(len(arms), nrows * ncols):
        axes[n // ncols][n % ncols].set_axis_off()
    axes[0][0].invert_yaxis()  # once: the y axis is shared, so FM-1.1 ends up on top in every panel
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.suptitle("MAST modes: share of failed vs successful runs showing each", fontsize=11)
    fig.legend(handles, names, loc="outside lower center", ncols=2, fontsize=9)
    return _save(fig, path)


# ---------------------------------------------------------------- HTML

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d2733;max-width:1400px}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d5dbe1;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0}
th,td{border:1px solid #d5dbe1;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#52606d}.scroll{overflow-x:auto}.fail{color:#a93226}.ok{color:#1e7b45}
img{max-width:100%;border:1px solid #d5dbe1;margin:.5rem 0}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(headers: Iterable[str], rows: Iterable[list[str]], numeric: Iterable[int] = ()) -> str:
    """Cells are already-escaped HTML; `numeric` column indexes are right-aligned."""
    right = set(numeric)
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if i in right else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _arms_html(results: dict[str, Any]) -> str:
    headers = (*ARM_HEADERS[:2], "Class", "Runs", "Resolved", *ARM_HEADERS[2:], "Precision", "Verified mitigation")
    rows = []
    for arm in _arms(results):
        cells = _arm_cells(arm)
        extra = [_text(arm.get("model_class")), _num(arm.get("runs")), _num(arm.get("resolved"))]
        rows.append(
            [_e(c) for c in cells[:2] + extra + cells[2:]]
            + [_e(_pct(arm.get("precision"))), _e(_pct(arm.get("verified_mitigation_rate")))]
        )
    return _html_table(headers, rows, numeric=(3, 4, 5, 6, 8, 9, 10, 11, 12, 13))


def _detectors_html(results: dict[str, Any]) -> str:
    rows = [
        [
            _e(f"FM-{i}"),
            _e(_mode_name(i)),
            _e(_pct(d.get("precision"))),
            _e(_pct(d.get("recall"))),
            _e(_num(d.get("support"))),
            _e(_num(d.get("tp"))),
            _e(_num(d.get("fp"))),
            _e(_num(d.get("fn"))),
        ]
        for i, d in _detector_rows(results)
    ]
    return _html_table((*DETECTOR_HEADERS, "TP", "FP", "FN"), rows, numeric=(2, 3, 4, 5, 6, 7))


def _mode_rates_html(results: dict[str, Any]) -> str:
    """Modes down, arms across (failed | successful share each); the arm's dominant mode is bold."""
    arms = _arms(results)
    if not arms:
        return f"<p>{MISSING}</p>"
    top = "<th rowspan=2>Mode</th>" + "".join(f"<th colspan=2>{_e(_arm_name(a))}</th>" for a in arms)
    sub = "<th>failed</th><th>successful</th>" * len(arms)
    body = []
    for mode_id in MODE_IDS:
        cells = [f"<td>{_e(mode_label(mode_id))}</td>"]
        for arm in arms:
            rates = arm.get("mode_rates") or {}
            bold = normalize_id(arm.get("dominant_mode") or "") == mode_id
            for which, cls in (("failed", "fail"), ("succeeded", "ok")):
                text = _e(_pct(_by_mode(rates.get(which)).get(mode_id)))
                cells.append(f'<td class="n {cls}">{f"<strong>{text}</strong>" if bold else text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<div class="scroll"><table><thead><tr>'
        + top
        + "</tr><tr>"
        + sub
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></div>"
    )


def _run_link(run_dir: Any) -> str:
    # run_dir is relative to the bench output dir, where report.html lives; percent-quoting also turns a
    # "scheme:" prefix into a plain relative path, so a run_dir can never become an active link.
    if not run_dir:
        return MISSING
    href = quote(str(run_dir).replace("\\", "/").rstrip("/") + "/report.html", safe="/")
    return f'<a href="{_e(href)}">{_e(run_dir)}</a>'


def _runs_html(results: dict[str, Any]) -> str:
    headers = (
        "Scenario",
        "Model",
        "Class",
        "Mitigations",
        "Seed",
        "Status",
        "Exit",
        "Succeeded",
        "False closure",
        "Recall",
        "Precision",
        "Strict",
        "Steps",
        "Tokens",
        "Seconds",
        "Modes",
        "Injected",
        "Report",
    )

    def yes_no(value: Any) -> str:
        return MISSING if value is None else ("yes" if value else "no")

    def modes(value: Any) -> str:
        return ", ".join(f"FM-{normalize_id(m)}" for m in value) if value else MISSING

    rows = [
        [_e(v) for v in (_text(r.get(k)) for k in ("scenario", "model", "model_class", "mitigations", "seed"))]
        + [
            _e(_text(r.get("status"))),
            _e(_text(r.get("exit_code"))),
            _e(yes_no(r.get("succeeded"))),
            _e(yes_no(r.get("false_closure"))),
            _e(_pct(r.get("recall"))),
            _e(_pct(r.get("precision"))),
            _e(yes_no(r.get("strict"))),
            _e(_num(r.get("steps"))),
            _e(_tokens(r.get("tokens"))),
            _e(_dec(r.get("seconds"))),
            _e(modes(r.get("modes"))),
            _e(modes(r.get("injected"))),
            _run_link(r.get("run_dir")),
        ]
        for r in _runs(results)
    ]
    return _html_table(headers, rows, numeric=(4, 6, 9, 10, 12, 13, 14))


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(results: dict[str, Any], recall_png: Path, modes_png: Path) -> str:
    """The bench page: arms, plots (embedded), detectors, per-arm mode rates and every run with its report."""
    meta = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in _meta(results))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Bench report — {_e(_text(results.get("suite")))}</title>
<style>{CSS}dl{{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem}}dt{{font-weight:600}}</style>
</head>
<body>
<h1>Bench report</h1>
<dl class="meta">{meta}</dl>
<section id="arms">
<h2>Arms</h2>
<p class="meta">{html.escape(ARMS_NOTE)}</p>
{_arms_html(results)}
</section>
<section id="plots">
<h2>Plots</h2>
<img src="{_png_uri(recall_png)}" alt="Task recall by model class, one bar per mitigations setting">
<img src="{_png_uri(modes_png)}" alt="Share of failed and successful runs showing each MAST mode, per arm">
</section>
<section id="detectors">
<h2>Detectors</h2>
<p class="meta">Each MAST detector against the modes the simulated models injected; — where undefined.</p>
{_detectors_html(results)}
</section>
<section id="mode-rates">
<h2>MAST mode rates per arm</h2>
{_mode_rates_html(results)}
</section>
<section id="runs">
<h2>Runs</h2>
{_runs_html(results)}
</section>
</body>
</html>
"""


# ---------------------------------------------------------------- entry point


def write_reports(results: dict[str, Any], out: Path) -> list[Path]:
    """Write results.csv, runs.csv, results.md, recall.png, modes.png and report.html into `out`."""
    arms, runs = _arms(results), _runs(results)  # validate before writing anything
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [
        _write_csv(out / "results.csv", ARM_COLUMNS, arms),
        _write_csv(out / "runs.csv", RUN_COLUMNS, runs, extras=True),
    ]
    md = out / "results.md"
    md.write_text(_markdown(results), encoding="utf-8")
    written.append(md)
    recall_png = plot_recall(results, out / "recall.png")
    modes_png = plot_modes(results, out / "modes.png")
    page = out / "report.html"
    page.write_text(render_html(results, recall_png, modes_png), encoding="utf-8")
    return [*written, recall_png, modes_png, page]
