"""report.html: real runs through the CLI (resolved and escalated), the page read back with an HTML parser,
re-rendered from an edited copy of a run directory, and loaded by a headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from orchestrator.report_html import ReportInputError, render_run_html, write_run_html

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "incidents" / "demo.yaml"
SECTION_IDS = ("summary", "timeline", "machine", "checks", "mast")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
NO_BROWSER = "no headless browser found: install Debian's chromium (apt-get install chromium) to run this test"


def run_demo(out: Path, *extra: str) -> Path:
    cli = Path(sys.executable).with_name("sre-agent")
    proc = subprocess.run(
        [str(cli), "run", str(DEMO), "--output", str(out), "-q", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 3), proc.stderr
    return out


@pytest.fixture(scope="module")
def resolved_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("html") / "resolved")


@pytest.fixture(scope="module")
def escalated_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("html") / "escalated", "--model", "builtin/flaky-open", "--seed", "1")


class Page(HTMLParser):
    """Every start tag with its attributes, in document order, and the ids and links among them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if "id" in a}

    def attr_values(self, name: str) -> list[str]:
        return [a[name] for _, a in self.tags if name in a]

    def rows(self) -> list[str]:
        return [a["id"] for t, a in self.tags if t == "tr" and a.get("id", "").startswith("ev-")]


def events(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "trace.jsonl").read_text().splitlines() if line.strip()]


def section(html: str, sid: str) -> str:
    start = html.index(f'id="{sid}"')
    return html[start : html.index("</section>", start)]


def test_a_run_writes_its_page_with_every_section_and_one_row_per_event(resolved_run: Path) -> None:
    html = (resolved_run / "report.html").read_text()
    page = Page(html)
    assert set(SECTION_IDS) <= page.ids
    report = json.loads((resolved_run / "report.json").read_text())
    summary = section(html, "summary").replace("</header>", "")
    for text in ("demo", "RESOLVED", "exit 0", report["reason"], report["model"], str(report["tokens"])):
        assert escape(str(text)) in summary
    assert page.rows() == [f"ev-{e['seq']}" for e in events(resolved_run)]
    assert render_run_html(resolved_run) == html  # the page is a function of the run directory's files


def test_the_machine_fills_visited_states_and_marks_taken_transitions(resolved_run: Path) -> None:
    html = (resolved_run / "report.html").read_text()
    page = Page(html)
    assert "<svg" in section(html, "machine") and "stateDiagram-v2" in section(html, "machine")
    states = {a["data-state"]: a["class"].split() for t, a in page.tags if t == "g" and "data-state" in a}
    path = json.loads((resolved_run / "report.json").read_text())["path"]
    assert {s for s, cls in states.items() if "visited" in cls} == set(path)
    assert "clarify" in states and "visited" not in states["clarify"]
    assert "final" in states["resolved"] and "final" not in states["escalated"]
    taken = {(e["data"]["source"], e["data"]["dest"]) for e in events(resolved_run) if e["kind"] == "state_transition"}
    assert sum(1 for t, a in page.tags if t == "g" and a.get("class") == "edge taken") == len(taken)


def test_checks_show_each_verdicts_evidence(resolved_run: Path) -> None:
    html = (resolved_run / "report.html").read_text()
    checks = section(html, "checks")
    verdicts = [e for e in events(resolved_run) if e["kind"] == "verifier_verdict"]
    assert verdicts
    for v in verdicts:
        assert f'href="#ev-{v["seq"]}"' in checks
        for r in v["data"]["results"]:
            assert escape(r["evidence"]) in checks
    assert checks.count("<td>pass</td>") == sum(len(v["data"]["results"]) for v in verdicts)


def test_mast_modes_link_to_their_events_and_injections_stand_apart(escalated_run: Path) -> None:
    html = (escalated_run / "report.html").read_text()
    page = Page(html)
    mast = json.loads((escalated_run / "mast.json").read_text())
    present = [k for k, v in mast["mast_annotation"].items() if v == 1]
    assert present, "the flaky-open run should show at least one failure mode"
    rows = {a["id"]: a["class"] for t, a in page.tags if t == "tr" and a.get("id", "").startswith("fm-")}
    assert len(rows) == 14
    assert {k.removeprefix("fm-") for k, cls in rows.items() if cls == "present"} == set(present)
    mast_html = section(html, "mast")
    for key in present:
        for seq in mast["modes"][key]["events"]:
            assert f'href="#ev-{seq}"' in mast_html
    internal = [h[1:] for h in page.attr_values("href") if h.startswith("#")]
    assert internal and set(internal) <= page.ids  # every in-page link lands on an element
    injected = section(html, "injected")
    assert "injected by the simulated model (not seen by detectors)" in injected
    injections = [e for e in events(escalated_run) if e["kind"] == "injection"]
    assert injections
    for e in injections:
        assert f'href="#ev-{e["seq"]}"' in injected
    assert "ESCALATED" in section(html, "summary") and escape("no change was attempted") in html


@pytest.mark.parametrize("run", ["resolved_run", "escalated_run"])
def test_the_page_needs_nothing_from_outside(run: str, request: pytest.FixtureRequest) -> None:
    run_dir: Path = request.getfixturevalue(run)
    html = (run_dir / "report.html").read_text()
    page = Page(html)
    for url in page.attr_values("href") + page.attr_values("src"):
        assert not url.lower().startswith(("http://", "https://", "//")), url
        assert url.startswith("#") or (run_dir / url).is_file(), url
    assert not page.attr_values("src") and not [t for t, _ in page.tags if t in ("link", "script", "img", "iframe")]
    assert "@import" not in html and "url(http" not in html


def test_text_from_the_trace_is_escaped(resolved_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "edited"
    shutil.copytree(resolved_run, run_dir)
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    lines = []
    for ev in events(run_dir):
        if ev["kind"] == "run_start":
            ev["data"]["incident"]["summary"] = evil
        elif ev["kind"] == "llm_call":
            ev["data"]["text"] = evil
        elif ev["kind"] == "tool_call":
            ev["data"]["args"] = {"namespace": evil}
        elif ev["kind"] == "verifier_verdict":
            ev["data"]["results"][0]["evidence"] = evil
        lines.append(json.dumps(ev))
    (run_dir / "trace.jsonl").write_text("\n".join(lines) + '\n{"seq": 999, "kind": "tool_ca')  # a torn last line
    html = render_run_html(run_dir)
    page = Page(html)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert not [t for t, _ in page.tags if t in ("script", "img")]
    assert escape(evil) in section(html, "summary") and escape(evil) in section(html, "checks")
    assert len(page.rows()) == len(lines)
    assert "problems" in page.ids and "line " in section(html, "problems")


def test_a_directory_without_a_trace_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match=str(tmp_path)):
        write_run_html(tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_a_headless_browser_renders_the_page(resolved_run: Path, tmp_path: Path) -> None:
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        if os.environ.get("SRE_AGENT_REQUIRE_BROWSER") == "1":
            pytest.fail(NO_BROWSER, pytrace=False)
        pytest.skip(NO_BROWSER)
    proc = subprocess.run(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            (resolved_run / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Page(proc.stdout)
    assert set(SECTION_IDS) <= dom.ids
    assert dom.rows() == [f"ev-{e['seq']}" for e in events(resolved_run)]  # the browser kept every row in its table
    machine = section(proc.stdout, "machine")
    assert "<svg" in machine and 'data-state="resolved"' in machine
