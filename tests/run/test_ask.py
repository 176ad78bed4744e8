"""`sre-agent ask`: a one-off question answered by a read-only investigation, run as a person runs it (the
installed `sre-agent` in a fresh process) against the embedded simulator's faulted clusters. The expected
culprit is each scenario's ground truth, so an answer can only pass by naming what the fault broke."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator.sim import resolve_scenario
from tests.models.openai_stub import OpenAIStub

SRE_AGENT = Path(sys.executable).with_name("sre-agent")


def ask(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [str(SRE_AGENT)] if SRE_AGENT.is_file() else [sys.executable, "-m", "orchestrator"]
    return subprocess.run([*command, "ask", *argv], capture_output=True, text=True, cwd=cwd, timeout=300)


def ground_truth(scenario: str) -> list[str]:
    """The scenario's faulted objects as namespace/Kind/name, as `ask` names a root cause."""
    truth = yaml.safe_load((resolve_scenario(scenario).parent / "groundtruth.yaml").read_text())
    return [f"{e['metadata']['namespace']}/{e['kind']}/{e['metadata']['name']}" for e in truth["spec"]["entities"]]


def nothing_applied(run_dir: Path) -> None:
    report = json.loads((run_dir / "report.json").read_text())
    assert report["writes"] == [] or {w["mode"] for w in report["writes"]} <= {"dry-run", "denied"}, report["writes"]
    sent = [
        e for e in map(json.loads, (run_dir / "trace.jsonl").read_text().splitlines()) if e["kind"] == "tool_result"
    ]
    assert not [e for e in sent if (e["data"].get("write") or {}).get("mode") == "applied"]


@pytest.mark.parametrize("scenario", ["image", "oom", "service-selector"])
def test_the_answer_names_the_faulted_object_and_changes_nothing(scenario: str, tmp_path: Path) -> None:
    (root,) = ground_truth(scenario)
    namespace, kind, name = root.split("/")
    done = ask(tmp_path, "what is wrong here", "-n", namespace, "--scenario", scenario)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    answer, *rest, last = done.stdout.splitlines()
    assert f"{kind}/{name}" in answer or f"{kind} {name}" in answer  # the one-line answer says which object
    assert [line for line in rest if line.startswith("root cause:")] == [f"root cause: {root}"]
    proposed = [line for line in rest if line.startswith("would change:")]
    assert proposed and all(line.endswith("(not applied)") and f'"name":"{name}"' in line for line in proposed)
    assert last.startswith("run directory: ")
    nothing_applied(tmp_path / last.removeprefix("run directory: "))


def test_json_and_yaml_say_what_the_text_says(tmp_path: Path) -> None:
    (root,) = ground_truth("service-selector")
    namespace = root.split("/")[0]
    argv = ("what is wrong here", "-n", namespace, "--scenario", "service-selector")
    text = ask(tmp_path, *argv).stdout.splitlines()
    as_json = json.loads(ask(tmp_path, *argv, "-o", "json").stdout)
    as_yaml = yaml.safe_load(ask(tmp_path, *argv, "-o", "yaml").stdout)
    for doc in (as_json, as_yaml):
        assert doc["question"] == "what is wrong here" and doc["answer"] == text[0]
        assert doc["root_causes"] == [root]
        assert [f"would change: {m['action']} {json.dumps(m['args'], separators=(',', ':'))} (not applied)"
                for m in doc["proposed_change"]] == [line for line in text if line.startswith("would change:")]  # fmt: skip
        nothing_applied(tmp_path / doc["run_directory"])


def test_a_healthy_cluster_gets_no_invented_culprit(tmp_path: Path) -> None:
    done = ask(tmp_path, "why is checkout failing", "-n", "otel-demo", "--scenario", "healthy-otel-demo")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("no fault found")
    assert not [line for line in lines if line.startswith(("root cause:", "would change:"))]


UNREACHABLE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: gone, context: {cluster: gone, user: u}}]
current-context: gone
"""


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["-n", "otel-demo", "--scenario", "image", "--context", "prod"], 2, "does not take --context or --kubeconfig"),
        (["-n", "otel-demo", "--scenario", "no-such-scenario"], 2, "no built-in scenario 'no-such-scenario'"),
        (["-n", "Shop_1", "--scenario", "image"], 2, "must be a DNS-1123 label"),
        (["-n", "otel-demo", "--scenario", "image", "-o", "xml"], 2, "-o must be text, json or yaml, not 'xml'"),
        (["-n", "otel-demo", "--scenario", "image", "--model", "nosuch/model"], 2, "names no known provider"),
        (["-n", "shop", "--scenario", "image"], 5, "namespace shop not found"),
        (["-n", "otel-demo", "--kubeconfig", "{kubeconfig}"], 5, "cannot reach the cluster at http://127.0.0.1:9"),
    ],
)
def test_a_mistake_is_one_line_and_its_exit_code(argv: list[str], code: int, says: str, tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text(UNREACHABLE_KUBECONFIG)
    argv = [a.replace("{kubeconfig}", str(tmp_path / "kubeconfig")) for a in argv]
    done = ask(tmp_path, "why is checkout failing", *argv)
    assert done.returncode == code and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ") and says in line, line


def test_a_model_that_refuses_the_key_is_one_line_and_exit_6(tmp_path: Path) -> None:
    with OpenAIStub([{"status": 401, "error": "Incorrect API key provided"}] * 3) as stub:
        done = ask(tmp_path, "why is checkout failing", "-n", "otel-demo", "--scenario", "image",
                   "--model", "openai/test-model", "--base-url", stub.base_url)  # fmt: skip
    assert done.returncode == 6 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ") and "401" in line, line
