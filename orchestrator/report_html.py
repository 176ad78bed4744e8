"""report.html: one self-contained page per run, rendered only from the files in the run directory.

An on-call engineer opens one file, perhaps on a laptop with no network and JavaScript off, perhaps weeks
later: so the page carries its own CSS, draws the machine as inline SVG laid out here (no diagram library),
and is rebuilt from trace.jsonl, report.json, mast.json and machine.mmd alone, never from a live run.
Everything taken from those files is untrusted (model text, tool output) and is HTML-escaped; the only
links are to anchors in the page (`#ev-<seq>`) and to the sibling files of the run directory.

    write_run_html(Path("runs/20260101-000000-demo"))   # writes report.html beside trace.jsonl
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from .files import write_atomic

SIBLING_FILES = ("report.md", "report.json", "agent_output.json", "mast.json", "machine.mmd", "trace.jsonl")
RESULT_OK = ("ok", "deduped")  # tool_result statuses that are not a failure
# How a mast_annotation value (1 present, 0 absent, None undecided) reads; any other value is "not assessable".
MODE_STATE: dict[int | None, str] = {1: "present", 0: "absent"}
MODE_DETECTED: dict[int | None, str] = {1: "yes", 0: "no"}


class ReportInputError(ValueError):
    """A directory that cannot be rendered; the message names the path at fault."""


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class RunFiles:
    """What the run directory holds; a missing or unreadable file is None and noted in `problems`."""

    path: Path
    events: list[dict[str, Any]]
    report: dict[str, Any] | None
    mast: dict[str, Any] | None
    mmd: str | None
    problems: list[str] = field(default_factory=list)


def mode_line(record: dict[str, Any]) -> str:
    """A write record's mode for a report: "applied (approved by U123)" when a person answered."""
    mode = str(record.get("mode") or "")
    if record.get("approved_by"):
        return f"{mode} (approved by {record['approved_by']})"
    if record.get("declined_by"):
        return f"{mode} (declined by {record['declined_by']})"
    return mode


def read_run(run_dir: Path) -> RunFiles:
    run_dir = Path(run_dir)
    trace = run_dir / "trace.jsonl"
    if not trace.is_file():
        raise ReportInputError(f"{run_dir}: not a run directory (no trace.jsonl)")
    problems: list[str] = []
    events: list[dict[str, Any]] = []
    for n, line in enumerate(trace.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            ev = None
        if not isinstance(ev, dict) or not isinstance(ev.get("seq"), int) or "kind" not in ev:
            problems.append(f"trace.jsonl line {n} is not an event; skipped")  # a killed run's torn last line
            continue
        if not isinstance(ev.get("data"), dict):
            ev["data"] = {}
        events.append(ev)
    mmd_path = run_dir / "machine.mmd"
    return RunFiles(
        path=run_dir,
        events=events,
        report=_read_json(run_dir / "report.json", problems),
        mast=_read_json(run_dir / "mast.json", problems),
        mmd=mmd_path.read_text(encoding="utf-8", errors="replace") if mmd_path.is_file() else None,
        problems=problems,
    )


def _read_json(path: Path, problems: list[str]) -> dict[str, Any] | None:
    if not path.is_file():
        problems.append(f"{path.name} is missing")
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        problems.append(f"{path.name} is not JSON")
        return None
    return doc if isinstance(doc, dict) else None


# ---------------------------------------------------------------------------------------------- helpers


def esc(value: Any) -> str:
    return "" if value is None else escape(str(value), quote=True)


def _compact(value: Any, limit: int = 140) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pre_json(value: Any) -> str:
    return f"<pre>{esc(json.dumps(value, indent=2, default=str, ensure_ascii=False))}</pre>"


def _first(events: list[dict[str, Any]], kind: str, last: bool = False) -> dict[str, Any]:
    found = [e for e in events if e.get("kind") == kind]
    return (found[-1] if last else found[0]).get("data", {}) if found else {}


def _ev_link(seq: Any, known: set[int]) -> str:
    """A link to a timeline row, or plain text when the trace has no such event (so no link dangles)."""
    if isinstance(seq, int) and seq in known:
        return f'<a href="#ev-{seq}">#{seq}</a>'
    return f'<span class="dangling" title="not in trace.jsonl">#{esc(seq)}</span>'


def _table(headers: list[str], rows: list[str], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _parse_ts(ts: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(ts))
    except ValueError:
        return None


def _write_tools() -> frozenset[str]:
    from .mast.taxonomy import write_tools

    return write_tools()


# ---------------------------------------------------------------------------------------------- summary


def _run_facts(run: RunFiles) -> dict[str, Any]:
    """The header's facts: run_start/run_end first (the trace is the record), report.json for the rest."""
    start, end, report = _first(run.events, "run_start"), _first(run.events, "run_end", last=True), run.report or {}
    incident = start.get("incident") or {}
    stamps = [t for t in (_parse_ts(e.get("ts")) for e in run.events) if t is not None]
    seconds = report.get("seconds")
    if seconds is None and len(stamps) > 1:
        seconds = round((stamps[-1] - stamps[0]).total_seconds(), 2)
    path = report.get("path") or [e["data"].get("dest") for e in run.events if e.get("kind") == "state_transition"]
    return {
        "name": incident.get("name") or (run.events[0].get("run_id") if run.events else run.path.name),
        "summary": incident.get("summary"),
        "namespaces": incident.get("namespaces") or [],
        "status": end.get("status", report.get("status", "unfinished")),
        "exit_code": end.get("exit_code", report.get("exit_code")),
        "reason": end.get("reason", report.get("reason")),
        "ended_by": end.get("ended_by", report.get("ended_by")),
        "model": start.get("model") or report.get("model"),
        "model_class": start.get("model_class") or report.get("model_class"),
        "mode": start.get("mode"),
        "mitigations": start.get("mitigations"),
        "budget": start.get("budget") or {},
        "steps": end.get("steps", report.get("steps")),
        "tokens": end.get("tokens", report.get("tokens")),
        "llm_calls": report.get("llm_calls", sum(1 for e in run.events if e.get("kind") == "llm_call")),
        "seconds": seconds,
        "run_id": run.events[0].get("run_id") if run.events else report.get("run_id"),
        "path": [p for p in path if p],
        "assumptions": report.get("assumptions") or [],
        "usage": report.get("usage") or {},
        "cost_usd": report.get("cost_usd") or 0.0,
    }


def _usage(usage: dict[str, Any]) -> str:
    """Per role: model calls, prompt and completion tokens."""
    return "; ".join(
        f"{esc(role)} {esc(u.get('calls'))} calls, {esc(u.get('prompt_tokens'))} prompt + "
        f"{esc(u.get('completion_tokens'))} completion tokens"
        for role, u in usage.items()
    )


def _summary_section(facts: dict[str, Any]) -> str:
    budget = facts["budget"]

    def spent(value: Any, key: str) -> str:
        return esc(value) + (f" <span class=muted>of {esc(budget[key])}</span>" if budget.get(key) else "")

    status = str(facts["status"])
    rows = [
        ("Status", f'<span class="badge st-{esc(status)}">{esc(status.upper())}</span> exit {esc(facts["exit_code"])}'),
        ("Why it ended", esc(facts["reason"]) + f" <span class=muted>(ended by {esc(facts['ended_by'])})</span>"),
        ("Model", f"{esc(facts['model'])} <span class=muted>class</span> {esc(facts['model_class'])}"),
        ("Steps", spent(facts["steps"], "steps") + f" tool calls · {esc(facts['llm_calls'])} model calls"),
        ("Tokens", spent(facts["tokens"], "tokens")),
        *(
            [
                (
                    "Model usage",
                    _usage(facts["usage"]) + (f" · cost ${facts['cost_usd']:.4f}" if facts["cost_usd"] else ""),
                )
            ]
            if facts["usage"]
            else []
        ),
        ("Seconds", spent(facts["seconds"], "seconds")),
        ("Namespaces", esc(", ".join(map(str, facts["namespaces"])) or "none")),
        (
            "Remediation",
            f"mode {esc(facts['mode'])}; mitigations {'on' if facts['mitigations'] else 'off'}"
            if facts["mode"] is not None
            else "unknown",
        ),
        ("Path", " → ".join(esc(p) for p in facts["path"]) or "none"),
        ("Run", esc(facts["run_id"])),
    ]
    rows += [("Assumption", esc(a)) for a in facts["assumptions"]]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        f'<header id="summary" class="st-{esc(status)}"><h1>Incident {esc(facts["name"])}</h1>'
        f'<p class="lede">{esc(facts["summary"] or "no summary")}</p><dl class="facts">{dl}</dl></header>'
    )


def _diagnosis_section(run: RunFiles, known: set[int]) -> str:
    """The submitted diagnosis and the writes made: what the engineer needs before the timeline."""
    diagnosis = (run.report or {}).get("diagnosis")
    if not diagnosis:
        submitted = [e for e in run.events if e.get("kind") == "submission"]
        diagnosis = next(
            (
                e["data"].get("content")
                for e in reversed(submitted)
                if e["data"].get("submission") == "submit_diagnosis"
            ),
            None,
        )
    parts = ['<section id="diagnosis"><h2>Diagnosis</h2>']
    if isinstance(diagnosis, dict):
        parts.append(f"<p>{esc(diagnosis.get('summary'))}</p>")
        rows = [
            f'<tr class="{"root" if ent.get("contributing_factor") else ""}"><td>{esc(ent.get("name"))}</td>'
            f"<td>{'yes' if ent.get('contributing_factor') else 'no'}</td><td>{esc(ent.get('reasoning'))}</td></tr>"
            for ent in diagnosis.get("entities") or []
            if isinstance(ent, dict)
        ]
        if rows:
            parts.append(_table(["Entity", "Root cause", "Reasoning"], rows))
    else:
        parts.append("<p>No diagnosis was submitted.</p>")
    proposal = (run.report or {}).get("proposed_change") or []
    if proposal:
        parts.append(
            '<h3 id="proposal">Proposed change</h3><p>Nothing below was run. Review, then run it yourself:</p>'
        )
        parts.append("<pre><code>" + esc("\n".join(str(line) for line in proposal)) + "</code></pre>")
    writes = [e for e in run.events if e.get("kind") == "tool_result" and isinstance(e["data"].get("write"), dict)]
    parts.append('<h3 id="changes">Changes</h3>')
    if writes:
        rows = []
        for e in writes:
            w = e["data"]["write"]
            rows.append(
                f"<tr><td>{_ev_link(e['seq'], known)}</td><td>{esc(w.get('action'))}</td><td>{esc(w.get('target'))}</td>"
                f"<td>{esc(mode_line(w))}</td><td>{esc(w.get('change'))}</td><td><code>{esc(w.get('revert'))}</code></td></tr>"
            )
        parts.append(_table(["Event", "Action", "Target", "Mode", "Change", "Revert"], rows, "writes"))
    else:
        parts.append("<p>No write was attempted.</p>")
    parts.append("</section>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------- timeline


def _event_tool(ev: dict[str, Any]) -> str | None:
    d = ev["data"]
    kind = ev.get("kind")
    if kind in ("tool_call", "tool_result"):
        return d.get("tool")
    if kind == "submission":
        return d.get("submission")
    if kind == "mitigation":
        return d.get("detector")
    if kind == "llm_call":
        calls = [c.get("name") for c in d.get("tool_calls") or [] if isinstance(c, dict)]
        return ", ".join(str(c) for c in calls) or None
    return None


def _event_summary(ev: dict[str, Any]) -> str:
    """One short line per event kind: what an engineer scanning the timeline needs to see."""
    d, kind = ev["data"], ev.get("kind")
    if kind == "run_start":
        inc = d.get("incident") or {}
        return f"incident {inc.get('name')}: model {d.get('model')} ({d.get('model_class')}), mode {d.get('mode')}"
    if kind == "state_transition":
        extra = {k: v for k, v in d.items() if k not in ("source", "trigger", "dest")}
        return f"{d.get('source')} —{d.get('trigger')}→ {d.get('dest')}" + (f"  {_compact(extra, 80)}" if extra else "")
    if kind == "agent_message":
        return _compact(d.get("text", ""), 160)
    if kind == "tool_call":
        if d.get("malformed"):
            return "malformed call: " + _compact(d.get("args_raw", ""), 120)
        return _compact(d.get("args", {}), 140)
    if kind == "tool_result":
        status = d.get("status")
        if d.get("error"):
            return f"{status}: {_compact(d['error'], 140)}"
        if isinstance(d.get("write"), dict):
            return f"{status}: {d['write'].get('mode')} — {_compact(d['write'].get('change', ''), 120)}"
        if d.get("same_as") is not None:
            return f"{status}: same as call #{d['same_as']}"
        facts = d.get("facts") or []
        return f"{status}" + (f": {_compact('; '.join(map(str, facts)), 140)}" if facts else "")
    if kind == "llm_call":
        if not d.get("sent", True):
            return f"NOT SENT: {d.get('prompt_tokens')} tokens exceed the budget of {d.get('budget')}"
        text = _compact(d.get("text") or "", 100)
        return f"{d.get('prompt_tokens')}+{d.get('completion_tokens')} tokens" + (f" — {text}" if text else "")
    if kind == "context_prune":
        dropped = d.get("dropped") or []
        return (
            f"{d.get('reason')}: dropped {len(dropped) if isinstance(dropped, list) else dropped}, kept {d.get('kept')}; "
            f"{d.get('tokens_before')} → {d.get('tokens_after')} tokens"
        )
    if kind == "clarification":
        answer = d.get("answer") if d.get("answer") else f"no answer; assumed {d.get('assumption')}"
        return f"{_compact(d.get('question', ''), 100)} → {answer}"
    if kind == "submission":
        content = d.get("content") or {}
        return _compact(content.get("summary") or content.get("verdict") or content, 140)
    if kind == "verifier_verdict":
        results = d.get("results") or []
        ok = sum(1 for r in results if isinstance(r, dict) and r.get("passed"))
        return (
            f"gate {'PASS' if d.get('gate_passed') else 'FAIL'} ({ok}/{len(results)} checks); verifier proposed "
            f"{d.get('proposed') or 'nothing'}; closure {'allowed' if d.get('passed') else 'refused'}"
        )
    if kind == "mitigation":
        return f"FM-{d.get('mode')}: {_compact(d.get('action', ''), 140)}"
    if kind == "injection":
        return f"injected FM-{d.get('mode')} {d.get('behaviour')}: {_compact(d.get('detail', ''), 120)}"
    if kind == "run_end":
        return f"{d.get('status')} (exit {d.get('exit_code')}): {_compact(d.get('reason', ''), 140)}"
    return _compact(d, 140)


def _row_classes(ev: dict[str, Any], write_tools: frozenset[str]) -> list[str]:
    d, kind = ev["data"], str(ev.get("kind"))
    classes = [f"k-{kind}"]
    if (kind == "tool_call" and d.get("tool") in write_tools) or (
        kind == "tool_result" and isinstance(d.get("write"), dict)
    ):
        classes.append("write")
    if kind in ("mitigation", "injection"):
        classes.append(kind)
    if (kind == "tool_result" and d.get("status") not in RESULT_OK) or (kind == "llm_call" and d.get("sent") is False):
        classes.append("error")
    if kind == "verifier_verdict":
        classes.append("pass" if d.get("passed") else "fail")
    return classes


def _timeline_section(run: RunFiles) -> str:
    write_tools = _write_tools()
    stamps = [_parse_ts(e.get("ts")) for e in run.events]
    t0 = next((t for t in stamps if t is not None), None)
    rows = []
    for ev, ts in zip(run.events, stamps, strict=True):
        when = esc(ev.get("ts"))
        if ts is not None and t0 is not None:
            offset = (ts - t0).total_seconds()
            when = f'<span title="{esc(ev.get("ts"))}">{ts:%H:%M:%S}.{ts.microsecond // 1000:03d}</span>'
            when += f" <span class=muted>+{offset:.2f}s</span>"
        rows.append(
            f'<tr id="ev-{int(ev["seq"])}" class="{" ".join(_row_classes(ev, write_tools))}">'
            f'<td class=seq><a href="#ev-{int(ev["seq"])}">{int(ev["seq"])}</a></td><td class=when>{when}</td>'
            f"<td>{esc(ev.get('state'))}</td><td>{esc(ev.get('role'))}</td><td class=kind>{esc(ev.get('kind'))}</td>"
            f"<td>{esc(_event_tool(ev))}</td><td class=what>{esc(_event_summary(ev))}</td>"
            f"<td><details><summary>JSON</summary>{_pre_json(ev['data'])}</details></td></tr>"
        )
    filters = "".join(
        f'<label><input type="checkbox" id="hide-{k}"> hide {esc(label)}</label>'
        for k, label in (("llm_call", "model calls"), ("context_prune", "context prunes"))
    )
    legend = (
        '<p class="legend"><span class="swatch write"></span> write <span class="swatch mitigation"></span> '
        'mitigation <span class="swatch injection"></span> injected failure <span class="swatch error"></span> '
        f"error / rejected {filters}</p>"
    )
    table = _table(["#", "Time", "State", "Role", "Kind", "Tool", "Result", "Details"], rows, "timeline")
    return f'<section id="timeline"><h2>Timeline <span class=muted>({len(rows)} events)</span></h2>{legend}{table}</section>'


# ---------------------------------------------------------------------------------------------- machine


@dataclass
class MachineDrawing:
    """machine.mmd read back: states in file (machine) order, edges and `any state` transitions."""

    description: str = ""
    initial: str | None = None
    states: dict[str, str] = field(default_factory=dict)  # name -> label ("planner, cap 6")
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (source, dest, "trigger [guard]")
    wildcards: list[tuple[str, str]] = field(default_factory=list)  # (trigger, dest)


def parse_mermaid(text: str) -> MachineDrawing:
    """The stateDiagram written by `machines.mermaid`; lines it does not know are ignored."""
    m = MachineDrawing()
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("%%") and not m.description:
            m.description = line[2:].strip()
        elif line.startswith("[*] -->"):
            m.initial = line.split("-->", 1)[1].strip()
        elif line.startswith("note ") and "any state --" in line:
            trigger, _, dest = line.split("any state --", 1)[1].partition("-->")
            m.wildcards.append((trigger.strip(), dest.strip()))
        elif "-->" in line:
            ends, _, label = line.partition(" : ")
            source, _, dest = (p.strip() for p in ends.partition("-->"))
            if "[*]" not in (source, dest):
                m.edges.append((source, dest, label.replace("✔", "").strip()))
        elif " : " in line and not line.startswith(("class", "note", "state")):
            name, _, label = line.partition(" : ")
            inner = label.partition("(")[2].rpartition(")")[0]
            m.states[name.strip()] = inner or label
    for s, d, _ in m.edges:  # a diagram without state lines still names its states
        m.states.setdefault(s, "")
        m.states.setdefault(d, "")
    return m


@dataclass
class _Edge:
    source: str
    dest: str
    triggers: list[tuple[str, str]] = field(default_factory=list)  # (trigger, full label)
    taken: Counter[str] = field(default_factory=Counter)  # trigger -> times fired
    level: int = 0

    @property
    def count(self) -> int:
        return sum(self.taken.values())

    def label(self) -> str:
        names = list(dict.fromkeys(t for t, _ in self.triggers))
        return " / ".join(
            n + (f" ✔{'×' + str(self.taken[n]) if self.taken[n] > 1 else ''}" if self.taken[n] else "") for n in names
        )


BOX_W, BOX_H, PITCH, TOP = 230, 38, 64, 34
CHAR_W = 6.4  # width of one 11px label character, to reserve room for arc labels


def _edges(m: MachineDrawing, path: list[tuple[str, str, str]]) -> list[_Edge]:
    """One edge per (source, dest) pair; transitions the trace took that the diagram lacks (an `any state`
    trigger, or a machine.mmd from another version) are added, so the path drawn is always the real one."""
    edges: dict[tuple[str, str], _Edge] = {}
    for s, d, label in m.edges:
        edge = edges.setdefault((s, d), _Edge(s, d))
        edge.triggers.append((label.split(" ")[0], label))
    for s, trigger, d in path:
        edge = edges.setdefault((s, d), _Edge(s, d))
        if trigger not in (t for t, _ in edge.triggers):
            edge.triggers.append((trigger, f"{trigger} (any state)"))
        edge.taken[trigger] += 1
    return [e for e in edges.values() if e.source != e.dest]


def _assign_levels(arcs: list[tuple[_Edge, int, int]]) -> None:
    """Nest arcs on one side: shorter arcs inside, overlapping arcs on different levels (first fit)."""
    placed: list[tuple[int, int, int]] = []  # (low, high, level)
    for edge, low, high in sorted(arcs, key=lambda a: (a[2] - a[1], a[1])):
        used = {lvl for lo, hi, lvl in placed if lo < high and low < hi}
        edge.level = next(lvl for lvl in range(len(placed) + 1) if lvl not in used)
        placed.append((low, high, edge.level))


def machine_svg(m: MachineDrawing, path: list[tuple[str, str, str]], final: str | None) -> str:
    """States in a column in machine order; adjacent transitions straight down, longer ones as arcs on the
    right (forward) or left (back). Visited states filled, taken transitions bold, the end state outlined."""
    order = list(m.states)
    for s, _, d in path:
        for name in (s, d):
            if name not in order:
                order.append(name)
    index = {name: i for i, name in enumerate(order)}
    visits = Counter(d for _, _, d in path)
    if path:
        visits[path[0][0]] += 1
    elif m.initial:
        visits[m.initial] += 1
    edges = _edges(m, path)
    right = [(e, index[e.source], index[e.dest]) for e in edges if index[e.dest] > index[e.source] + 1]
    left = [(e, index[e.dest], index[e.source]) for e in edges if index[e.dest] < index[e.source]]
    _assign_levels(right)
    _assign_levels(left)

    def reach(level: int) -> float:
        return 30 + 20 * level

    def label_room(arcs: list[tuple[_Edge, int, int]]) -> float:
        return max([reach(e.level) + len(e.label()) * CHAR_W + 10 for e, _, _ in arcs if e.count] + [0])

    left_room = max([reach(e.level) for e, _, _ in left] + [0]) + 12
    x0 = max(left_room, label_room(left)) + 16
    x1 = x0 + BOX_W
    width = x1 + max(max([reach(e.level) for e, _, _ in right] + [0]) + 16, label_room(right)) + 16
    notes = [f"any state —{t}→ {d}" for t, d in m.wildcards]
    height = TOP + len(order) * PITCH + 18 * len(notes) + 6

    def yc(i: int) -> float:
        return TOP + i * PITCH + BOX_H / 2

    parts: list[str] = []
    for e in sorted(edges, key=lambda e: e.count > 0):  # taken edges drawn last, on top
        i, j = index[e.source], index[e.dest]
        cls = "edge taken" if e.count else "edge"
        tip = f"<title>{esc(e.source)} → {esc(e.dest)}: {esc('; '.join(lbl for _, lbl in e.triggers))}</title>"
        label, lx, ly, anchor = e.label(), 0.0, 0.0, "start"
        if j == i + 1:
            cx = x0 + BOX_W / 2
            d = f"M{cx:.0f},{yc(i) + BOX_H / 2:.0f} V{yc(j) - BOX_H / 2 - 2:.0f}"
            lx, ly = cx + 8, (yc(i) + yc(j)) / 2 + 4
        else:
            forward = j > i
            k = reach(e.level) * 1.33
            spread = 3 + 3 * (e.level % 4)  # arcs meeting one box land at slightly different heights
            top_y, bottom_y = yc(min(i, j)) + spread, yc(max(i, j)) - spread
            ya, yb = (top_y, bottom_y) if forward else (bottom_y, top_y)
            bx, sign = (x1, 1) if forward else (x0, -1)
            tip_x = bx + sign * 2
            d = f"M{bx:.0f},{ya:.0f} C{bx + sign * k:.0f},{ya:.0f} {bx + sign * k:.0f},{yb:.0f} {tip_x:.0f},{yb:.0f}"
            lx, ly = bx + sign * (reach(e.level) + 4), (ya + yb) / 2 + 4
            anchor = "start" if forward else "end"
            if not e.count:
                label = ""  # untaken arcs keep their label in the tooltip; the column stays readable
        marker = "arrow-taken" if e.count else "arrow"
        parts.append(f'<g class="{cls}">{tip}<path d="{d}" marker-end="url(#{marker})"/>')
        if label:
            parts.append(f'<text x="{lx:.0f}" y="{ly:.0f}" text-anchor="{anchor}">{esc(label)}</text>')
        parts.append("</g>")
    for name in order:
        i = index[name]
        label = m.states.get(name, "")
        classes = ["state"]
        if visits[name]:
            classes.append("visited")
        if label == "terminal":
            classes.append("terminal")
        if name == final:
            classes.append("final")
            classes.append("resolved" if name == "resolved" else "ended")
        y = TOP + i * PITCH
        badge = (
            f'<text class="visits" x="{x1 - 8}" y="{y + 24}" text-anchor="end">×{visits[name]}</text>'
            if visits[name] > 1
            else ""
        )
        inner = (
            f'<rect x="{x0 + 3}" y="{y + 3}" width="{BOX_W - 6}" height="{BOX_H - 6}" rx="5" class="inner"/>'
            if label == "terminal"
            else ""
        )
        parts.append(
            f'<g class="{" ".join(classes)}" data-state="{esc(name)}"><title>{esc(name)} ({esc(label)})'
            f"{', visited ' + str(visits[name]) + '×' if visits[name] else ', not visited'}</title>"
            f'<rect x="{x0}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="7"/>{inner}'
            f'<text class="name" x="{x0 + 12}" y="{y + 17}">{esc(name)}</text>'
            f'<text class="sub" x="{x0 + 12}" y="{y + 31}">{esc(label)}</text>{badge}</g>'
        )
    if m.initial in index:
        y = TOP + index[m.initial] * PITCH
        parts.insert(0, f'<circle class="start" cx="{x0 - 14}" cy="{y + BOX_H / 2}" r="6"/>')
    for n, note in enumerate(notes):
        parts.append(f'<text class="note" x="{x0}" y="{TOP + len(order) * PITCH + 18 * n + 4}">{esc(note)}</text>')
    defs = "".join(
        f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        f'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="{mid}"/></marker>'
        for mid in ("arrow", "arrow-taken")
    )
    return (
        f'<svg class="machine" role="img" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}"><title>State machine and the path taken</title>'
        f"<defs>{defs}</defs>{''.join(parts)}</svg>"
    )


def _machine_section(run: RunFiles, known: set[int]) -> str:
    transitions = [e for e in run.events if e.get("kind") == "state_transition"]
    path = [
        (str(e["data"].get("source")), str(e["data"].get("trigger")), str(e["data"].get("dest"))) for e in transitions
    ]
    ends = [e for e in run.events if e.get("kind") == "run_end"]
    final = ends[-1].get("state") if ends else None  # an unfinished run has no end state to outline
    m = parse_mermaid(run.mmd) if run.mmd else MachineDrawing()
    start = _first(run.events, "run_start")
    head = f"<p>{esc(m.description or start.get('machine') or '')}</p>"
    svg = (
        machine_svg(m, path, final) if (m.states or path) else "<p>machine.mmd is missing and no state was entered.</p>"
    )
    steps = "".join(
        f"<li>{_ev_link(e['seq'], known)} {esc(s)} —<b>{esc(t)}</b>→ {esc(d)}</li>"
        for e, (s, t, d) in zip(transitions, path, strict=True)
    )
    mmd = f"<details><summary>machine.mmd (Mermaid)</summary><pre>{esc(run.mmd)}</pre></details>" if run.mmd else ""
    return (
        f'<section id="machine"><h2>State machine</h2>{head}<div class="machine-row"><div class="svg-wrap">{svg}</div>'
        f'<div><h3>Path taken</h3><ol class="path">{steps or "<li>no transition</li>"}</ol></div></div>{mmd}</section>'
    )


# ---------------------------------------------------------------------------------------------- checks


def _checks_section(run: RunFiles, known: set[int]) -> str:
    verdicts = [e for e in run.events if e.get("kind") == "verifier_verdict"]
    parts = ['<section id="checks"><h2>Verifier checks</h2>']
    if not verdicts:
        parts.append("<p>The verifier did not run: no check was evaluated.</p></section>")
        return "".join(parts)
    for ev in verdicts:
        d = ev["data"]
        results = [r for r in d.get("results") or [] if isinstance(r, dict)]
        ok = sum(1 for r in results if r.get("passed"))
        closure = "allowed" if d.get("passed") else "refused"
        parts.append(
            f'<h3 class="{"pass" if d.get("passed") else "fail"}">{_ev_link(ev["seq"], known)} in {esc(ev.get("state"))}: '
            f"gate {'PASS' if d.get('gate_passed') else 'FAIL'} ({ok}/{len(results)}); verifier proposed "
            f"{esc(d.get('proposed') or 'nothing')}; closure {closure} <span class=muted>at {esc(d.get('at'))}</span></h3>"
        )
        rows = []
        for r in results:
            target = esc(r.get("target") or "")
            alert = (r.get("value") or {}).get("alert") if isinstance(r.get("value"), dict) else None
            if alert:
                target += f" <span class=muted>[{esc(alert)}]</span>"
            rows.append(
                f'<tr class="{"pass" if r.get("passed") else "fail"}"><td>{esc(r.get("name"))}</td><td>{target}</td>'
                f"<td>{'pass' if r.get('passed') else 'FAIL'}</td><td>{esc(r.get('error') or r.get('evidence'))}</td>"
                f"<td><details><summary>value</summary>{_pre_json(r.get('value'))}</details></td></tr>"
            )
        parts.append(_table(["Check", "Target", "Passed", "Evidence", "Observed"], rows, "checks"))
        if d.get("objections"):
            parts.append("<ul class=objections>" + "".join(f"<li>{esc(o)}</li>" for o in d["objections"]) + "</ul>")
    parts.append("</section>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------- MAST


def _mast_section(run: RunFiles, known: set[int]) -> str:
    from .mast.taxonomy import MODE_IDS, mode

    mast = run.mast
    parts = ['<section id="mast"><h2>MAST failure modes</h2>']
    if not mast or "mast_annotation" not in mast:
        why = (mast or {}).get("error") or "mast.json is missing"
        parts.append(f"<p>No annotation: {esc(why)}.</p></section>")
        return "".join(parts)
    values = mast.get("mast_annotation") or {}
    modes = mast.get("modes") or {}
    rows = []
    for key in list(dict.fromkeys([*MODE_IDS, *values])):
        try:
            info_mode = mode(key)
            name, cat, fatal = info_mode.name, info_mode.category, info_mode.fatal
        except KeyError:
            name, cat, fatal = "", "", False
        value, info = values.get(key), modes.get(key) or {}
        state = MODE_STATE.get(value, "not assessable")
        links = " ".join(_ev_link(s, known) for s in info.get("events") or [])
        rules = ", ".join(map(str, info.get("rules") or ([info["rule"]] if info.get("rule") else [])))
        detail = " ".join(str(x) for x in (info.get("detail"), info.get("note")) if x)
        mitigated = "yes" if info.get("mitigated") else "no"
        rows.append(
            f'<tr class="{state.replace(" ", "-")}" id="fm-{esc(key)}"><td><b>FM-{esc(key)}</b> {esc(name)}'
            f" <span class=muted>{esc(cat)}{' · fatal' if fatal else ''}</span></td><td>{esc(state)}</td>"
            f"<td>{esc(rules)}</td><td>{esc(info.get('source'))}</td><td>{mitigated}</td><td>{links}</td>"
            f"<td>{esc(detail)}</td></tr>"
        )
    present = [k for k, v in values.items() if v == 1]
    parts.append(
        f"<p>Run failed: <b>{'yes' if mast.get('failed') else 'no'}</b>; modes present: "
        f"{esc(', '.join('FM-' + k for k in present) or 'none')}; fatal: "
        f"{esc(', '.join('FM-' + str(k) for k in mast.get('fatal_modes') or []) or 'none')}. "
        f"<span class=muted>{esc(mast.get('meaning'))}</span></p>"
    )
    parts.append(_table(["Mode", "Result", "Rule", "Source", "Mitigated live", "Events", "Detail"], rows, "mast"))
    parts.append("</section>")
    return "".join(parts)


def _injections_section(run: RunFiles, known: set[int]) -> str:
    """The simulated model's ground truth, kept apart: detectors never read it, the reader may compare."""
    from .mast.taxonomy import mode

    injections = [e for e in run.events if e.get("kind") == "injection"]
    values = (run.mast or {}).get("mast_annotation") or {}
    parts = [
        '<section id="injected"><h2>Injected failures</h2><p class="warn">Ground truth injected by the simulated '
        "model (not seen by detectors): what the built-in failure-prone model did on purpose.</p>"
    ]
    if not injections:
        parts.append("<p>None: the model injected no failure.</p></section>")
        return "".join(parts)
    rows = []
    for e in injections:
        d = e["data"]
        key = str(d.get("mode") or "")
        try:
            name = mode(key).name
        except KeyError:
            name = ""
        detected = MODE_DETECTED.get(values.get(key), "not assessable")
        rows.append(
            f"<tr><td>{_ev_link(e['seq'], known)}</td><td>{esc(e.get('state'))}</td><td>{esc(e.get('role'))}</td>"
            f"<td>FM-{esc(key)} {esc(name)}</td><td>{esc(d.get('behaviour'))}</td><td>{esc(d.get('detail'))}</td>"
            f"<td>{detected}</td></tr>"
        )
    parts.append(
        _table(["Event", "State", "Role", "Mode", "Behaviour", "Detail", "Detected by MAST"], rows, "injections")
    )
    parts.append("</section>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------- page

CSS = """
:root{--ok:#1e7b34;--okbg:#e3f4e7;--bad:#b3261e;--badbg:#fbe4e2;--warn:#8a5a00;--warnbg:#fff3d6;
--inj:#6b3fa0;--injbg:#efe6fa;--mit:#0b5cad;--mitbg:#e1eefc;--line:#d6d9de;--muted:#667}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
nav{position:sticky;top:0;background:#1b1f24;padding:6px 16px;z-index:2}nav a{color:#fff;margin-right:16px;text-decoration:none}
main{padding:0 16px 40px;max-width:1600px}section,header{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:14px 0}
header{border-left:6px solid var(--muted)}header.st-resolved{border-left-color:var(--ok)}header.st-escalated,header.st-error{border-left-color:var(--bad)}
h1{margin:0 0 4px;font-size:22px}h2{margin:0 0 8px;font-size:18px}h3{font-size:15px;margin:14px 0 6px}.lede{font-size:16px;margin:0 0 10px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:0}dt{font-weight:600;color:#333}dd{margin:0}
.muted{color:var(--muted);font-weight:normal}.badge{padding:1px 8px;border-radius:10px;color:#fff;background:var(--muted);font-weight:600}
.badge.st-resolved{background:var(--ok)}.badge.st-escalated,.badge.st-error{background:var(--bad)}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef0f3;position:sticky;top:30px}td.what{word-break:break-word}td.when{white-space:nowrap}td.kind{white-space:nowrap}
pre{white-space:pre-wrap;word-break:break-word;background:#f3f4f6;padding:6px;margin:4px 0;max-height:420px;overflow:auto;font-size:12px}
details>summary{cursor:pointer;color:var(--mit)}code{font-size:12px}
tr.write{background:var(--warnbg)}tr.write td.kind{color:var(--warn);font-weight:700}
tr.mitigation{background:var(--mitbg)}tr.injection{background:var(--injbg)}tr.error{background:var(--badbg)}
tr.k-state_transition{background:#eef0f3;font-weight:600}tr.k-run_start,tr.k-run_end{background:#e9ecef;font-weight:600}
tr.k-verifier_verdict.pass{background:var(--okbg)}tr.k-verifier_verdict.fail{background:var(--badbg)}
tr:target{outline:3px solid #f0b400;outline-offset:-3px}
.legend{font-size:12px;color:var(--muted)}.legend label{margin-left:14px}
.swatch{display:inline-block;width:12px;height:12px;border:1px solid var(--line);vertical-align:middle;margin-left:8px}
.swatch.write{background:var(--warnbg)}.swatch.mitigation{background:var(--mitbg)}.swatch.injection{background:var(--injbg)}.swatch.error{background:var(--badbg)}
body:has(#hide-llm_call:checked) tr.k-llm_call{display:none}body:has(#hide-context_prune:checked) tr.k-context_prune{display:none}
tr.present{background:var(--badbg)}tr.present td:first-child{border-left:4px solid var(--bad)}tr.not-assessable{color:var(--muted)}
tr.root{font-weight:600}table.checks tr.fail,h3.fail{color:var(--bad)}h3.pass{color:var(--ok)}
.dangling{color:var(--muted);text-decoration:line-through}.warn{background:var(--injbg);border-left:4px solid var(--inj);padding:6px 10px}
.machine-row{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}.svg-wrap{overflow-x:auto;max-width:100%}ol.path{padding-left:22px}
svg.machine{font:11px system-ui,sans-serif}svg .state rect{fill:#fff;stroke:#9aa0a6;stroke-width:1.2}
svg .state.visited rect{fill:var(--okbg);stroke:var(--ok)}svg .state .inner{fill:none}
svg .state.final rect{stroke-width:3}svg .state.final.ended rect{fill:var(--badbg);stroke:var(--bad)}
svg .state .name{font-weight:700;font-size:13px}svg .state .sub,svg .note{fill:var(--muted)}svg .visits{font-weight:700;fill:var(--ok)}
svg .edge path{fill:none;stroke:#b4b9bf;stroke-width:1.2}svg .edge text{fill:#8a9097}
svg .edge.taken path{stroke:var(--ok);stroke-width:2.6}svg .edge.taken text{fill:var(--ok);font-weight:700}
svg .arrow{fill:#b4b9bf}svg .arrow-taken{fill:var(--ok)}svg circle.start{fill:#1b1f24}
footer{color:var(--muted);font-size:12px;padding:0 16px 20px}
@media print{nav{display:none}th{position:static}details{display:block}}
"""


def render_run_html(run_dir: Path) -> str:
    """The whole page for the run in `run_dir`; a ReportInputError naming the path when it is not a run."""
    run = read_run(Path(run_dir))
    known = {int(e["seq"]) for e in run.events}
    facts = _run_facts(run)
    sections = [
        _summary_section(facts),
        _diagnosis_section(run, known),
        _machine_section(run, known),
        _checks_section(run, known),
        _mast_section(run, known),
        _injections_section(run, known),
        _timeline_section(run),
    ]
    nav = "".join(
        f'<a href="#{k}">{label}</a>'
        for k, label in (
            ("summary", "Summary"),
            ("diagnosis", "Diagnosis"),
            ("machine", "Machine"),
            ("checks", "Checks"),
            ("mast", "MAST"),
            ("injected", "Injected"),
            ("timeline", "Timeline"),
        )
    )
    problems = "".join(f"<li>{esc(p)}</li>" for p in run.problems)
    warning = (
        f'<section id="problems" class="warn"><b>Incomplete run directory</b><ul>{problems}</ul></section>'
        if problems
        else ""
    )
    files = " · ".join(f'<a href="{name}">{name}</a>' for name in SIBLING_FILES if (run.path / name).is_file())
    title = f"{facts['name']}: {str(facts['status']).upper()}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · sre-agent</title><style>{CSS}</style></head><body><nav>{nav}</nav><main>{warning}"
        f"{''.join(sections)}</main><footer>Rendered by sre-agent from the run directory: {files}</footer></body></html>\n"
    )


def write_run_html(run_dir: Path) -> Path:
    """Render `run_dir/report.html` from the run's files and return its path."""
    out = Path(run_dir) / "report.html"
    write_atomic(out, render_run_html(Path(run_dir)))
    return out


if __name__ == "__main__":  # re-render an old run: python -m orchestrator.report_html RUN_DIR
    import sys

    try:
        print(write_run_html(Path(sys.argv[1])))
    except (IndexError, ReportInputError) as err:
        sys.exit(f"error: {err if isinstance(err, ReportInputError) else 'usage: report_html RUN_DIR'}")
