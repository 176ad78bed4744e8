"""The secret-canary test: made-up credentials of every listed format are planted everywhere a cluster and an
incident carry text (pod command and args, env values, container logs through the simulator's log model,
events, annotations, labels, ConfigMap data, alert labels and annotations, the incident's summary and
alerts), then whole `sre-agent run`s read all of it: a scripted model through litellm and a local
OpenAI-compatible server, with and without the verifier machine, and the built-in offline model.

Not one piece of a canary may appear in any model request, any file of a run directory, stdout, stderr or
the structlog output; and the masks must be there in their place, so the text did reach the model (as
evidence) rather than being lost on the way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, dynamic

from orchestrator.sim import SimulatorServer
from tests.models.openai_stub import OpenAIStub

from .canaries import Canary, every_format, leaks

NS = "shop"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Planted:
    """The served cluster with canaries in it, and where each was put."""

    sim: SimulatorServer
    api: client.ApiClient
    canaries: list[Canary]
    by_place: dict[str, list[Canary]]

    def incident(self, tmp: Path, name: str, mode: str, summary: Canary, alert: Canary) -> Path:
        doc = {
            "apiVersion": "sre-agent.dev/v1alpha1",
            "kind": "Incident",
            "metadata": {"name": name},
            "spec": {
                "summary": f"Checkout fails for every user; the page said: {summary.text}",
                "scope": {"namespaces": [NS]},
                "cluster": {"kubeconfig": str(self.sim.write_kubeconfig(tmp / "sim.kubeconfig"))},
                "observability": {"alertmanager": self.sim.url, "prometheus": self.sim.url},
                "alerts": [{"name": "ShopCheckoutErrors", "labels": {"namespace": NS, "reporter": alert.text}}],
                "remediation": {"mode": mode},
            },
        }
        path = tmp / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path


def _scenario(tmp: Path, web_logs: list[str], worker_logs: list[str]) -> Path:
    """The two images the shop runs, with what their programs log: a server that prints its start-up lines
    and a worker that crashes after printing its own."""
    doc = {
        "apiVersion": "sim.sre-agent.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "canaries"},
        "spec": {
            "warmup": 0,
            "images": [
                {
                    "repository": "registry.example.com/shop/web",
                    "tags": ["1.*"],
                    "entrypoint": ["/web"],
                    "programs": {"/web": {"serve": {"port": 8080}, "logs": web_logs}},
                },
                {
                    "repository": "registry.example.com/shop/worker",
                    "tags": ["2.*"],
                    "entrypoint": ["/worker"],
                    "programs": {"/worker": {"exit": 1, "after": 3, "logs": worker_logs}},
                },
            ],
        },
    }
    path = tmp / "canaries.scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _deployment(name: str, image: str, container: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "labels": {**labels, **meta["labels"]}, **meta["extra"]},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": {**labels, **meta["labels"]}, "annotations": meta["pod_annotations"]},
                "spec": {"containers": [{"name": name, "image": image, **container}]},
            },
        },
    }


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    c = every_format()
    by_name = {x.text: x for x in c}
    by_place: dict[str, list[Canary]] = {}

    def put(place: str, *items: Canary) -> list[Canary]:
        by_place.setdefault(place, []).extend(items)
        return list(items)

    ghp, ghs, pat, xoxb, xoxp, xapp, hook, sk, proj, ant, akia, asia, aws_secret, aiza, jwt = c[:15]
    rsa, openssh, pkcs8, basic, bearer, pg, redis, mssql, random_key = c[15:]
    tmp = tmp_path_factory.mktemp("canaries")
    web_logs = [
        f"level=info msg=starting upstream={proj.text}",
        f"level=info msg=notify channel={hook.text}",
        f"level=debug msg=request headers: {basic.text}",
        f"level=warn msg=retrying with {bearer.text}",
    ]
    worker_logs = [
        f"connecting to {pg.text}",
        f"fatal: AWS credentials rejected for {akia.text} / {aws_secret.text}",
        *rsa.text.splitlines(),
        f"panic: slack auth failed for {xoxb.text}",
    ]
    put("logs", proj, hook, basic, bearer, pg, akia, aws_secret, rsa, xoxb)
    with SimulatorServer.start(scenario=_scenario(tmp, web_logs, worker_logs)) as sim:
        api = client.ApiClient(sim.client_configuration())
        dyn = dynamic.DynamicClient(api)

        def create(doc: dict[str, Any]) -> None:
            res = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
            res.create(body=doc, namespace=doc["metadata"].get("namespace"))

        create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        web_meta = {
            "labels": {"git-token": ghs.text},
            "extra": {"annotations": {"deploy.shop.example/webhook": hook.text, "ci/token": pat.text}},
            "pod_annotations": {"vault.example/agent-token": jwt.text},
        }
        put("labels", ghs)
        put("annotations", hook, pat, jwt)
        web = {
            "command": ["/web"],
            "args": ["--upstream", f"https://api.example.com?key={aiza.text}", f"--ghtoken={ghp.text}", sk.text],
            "env": [
                {"name": "DATABASE_URL", "value": redis.text},
                {"name": "ANTHROPIC_BASE", "value": ant.text},
                {"name": "SQL", "value": mssql.text},
                {"name": "UPSTREAM_SIGNATURE", "value": random_key.text},
            ],
            "ports": [{"containerPort": 8080}],
        }
        put("command/args", aiza, ghp, sk)
        put("env", redis, ant, mssql, random_key)
        create(_deployment("web", "registry.example.com/shop/web:1.0", web, web_meta))
        worker = {"env": [{"name": "SLACK_APP", "value": xapp.text}, {"name": "JOB_USER_TOKEN", "value": xoxp.text}]}
        put("env", xapp, xoxp)
        plain = {"labels": {}, "extra": {}, "pod_annotations": {}}
        create(_deployment("worker", "registry.example.com/shop/worker:2.0", worker, plain))
        create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "web-config", "namespace": NS},
                "data": {
                    "id_ed25519": openssh.text,
                    "tls.key": pkcs8.text,
                    "aws.conf": f"[default]\nregion = eu-west-1\naccess = {asia.text}\n",
                    "LOG_LEVEL": "info",
                },
            }
        )
        put("configmap", openssh, pkcs8, asia)
        create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "web-tokens", "namespace": NS},
                "stringData": {"github": ghp.text, "slack": xoxb.text},
            }
        )
        create(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "PrometheusRule",
                "metadata": {"name": "shop-alerts", "namespace": NS},
                "spec": {
                    "groups": [
                        {
                            "name": "shop",
                            "rules": [
                                {
                                    "alert": "ShopWebhookFailing",
                                    "expr": "vector(1)",
                                    "labels": {"severity": "warning", "namespace": NS, "caller": akia.text},
                                    "annotations": {
                                        "summary": f"webhook {hook.text} answers 403",
                                        "description": f"the deploy bot sends {basic.text}",
                                    },
                                }
                            ],
                        }
                    ]
                },
            }
        )
        put("alerts", akia, hook, basic)
        sim.advance(240)
        core = client.CoreV1Api(api)
        pods = {p.metadata.labels["app"]: p.metadata.name for p in core.list_namespaced_pod(NS).items}
        core.create_namespaced_event(
            NS,
            {
                "metadata": {"name": "web-webhook.1", "namespace": NS},
                "involvedObject": {"kind": "Pod", "name": pods["web"], "namespace": NS, "apiVersion": "v1"},
                "reason": "WebhookFailed",
                "message": f"posting to {hook.text} with {xoxb.text} failed: 403",
                "type": "Warning",
                "count": 3,
                "source": {"component": "deploy-bot"},
            },
        )
        put("events", hook, xoxb)
        sim.advance(60)
        assert_planted(sim, api, pods, by_name)
        yield Planted(sim, api, c, by_place)


def assert_planted(sim: SimulatorServer, api: client.ApiClient, pods: dict[str, str], by_name: dict) -> None:
    """The canaries are really in the cluster, as a client reads it: otherwise the test proves nothing."""
    core = client.CoreV1Api(api)
    web = core.read_namespaced_pod(pods["web"], NS)
    assert any(t in " ".join(web.spec.containers[0].args) for t in by_name)
    assert web.metadata.annotations and web.metadata.labels["git-token"] in by_name
    logs = core.read_namespaced_pod_log(pods["worker"], NS, previous=True)
    assert "fatal: AWS credentials rejected" in logs and "BEGIN RSA PRIVATE KEY" in logs
    assert "level=info msg=starting upstream=sk-proj-" in core.read_namespaced_pod_log(pods["web"], NS)
    events = core.list_namespaced_event(NS).items
    assert any(e.reason == "WebhookFailed" and "xoxb-" in e.message for e in events)
    with urllib.request.urlopen(f"{sim.url}/api/v2/alerts") as answer:
        alerts = json.loads(answer.read())
    assert any(a["labels"].get("caller", "").startswith("AKIA") for a in alerts)


# -------------------------------------------------------------------------------------------- the model
READS = [
    ("get_alerts", {}),
    ("list_workloads", {"namespace": NS}),
    ("list_pods", {"namespace": NS}),
    ("describe", {"kind": "Deployment", "name": "web", "namespace": NS}),
    ("describe", {"kind": "Pod", "name": "@web", "namespace": NS}),
    ("describe", {"kind": "ConfigMap", "name": "web-config", "namespace": NS}),
    ("describe", {"kind": "Secret", "name": "web-tokens", "namespace": NS}),
    ("describe", {"kind": "PrometheusRule", "name": "shop-alerts", "namespace": NS}),
    ("get_events", {"namespace": NS, "warnings_only": False, "limit": 100}),
    ("get_logs", {"namespace": NS, "workload": "Deployment/web"}),
    ("get_logs", {"namespace": NS, "workload": "Deployment/worker", "previous": True}),
    ("list_resources", {"kind": "ConfigMap", "namespace": NS}),
    ("rollout_history", {"kind": "Deployment", "name": "web", "namespace": NS}),
    ("query_metrics", {"query": 'ALERTS{alertstate="firing"}'}),
]
WORKER = {"kind": "Deployment", "name": "worker", "namespace": NS}


def _since_instruction(body: dict[str, Any]) -> list[dict[str, Any]]:
    msgs = body["messages"]
    start = max(
        (i for i, m in enumerate(msgs) if m.get("role") == "user" and "```sre-agent" in str(m.get("content"))),
        default=0,
    )
    return msgs[start:]


def _pod_name(body: dict[str, Any], app: str) -> str:
    for m in body["messages"]:
        if m.get("role") == "tool" and '"pods"' in str(m.get("content")):
            for pod in json.loads(m["content"]).get("pods", []):
                if str(pod.get("name", "")).startswith(f"{app}-"):
                    return str(pod["name"])
    return app


def curious(body: dict[str, Any]) -> dict[str, Any]:
    """Reads everything a state offers, once, then does what the state asks: a plan, a diagnosis naming the
    crashing worker, a restart of it (a dry run). It never reports the mitigation done: on a cluster given
    by kubeconfig the settle time before any verification is real time, which a test cannot wait for, so
    each run ends escalated (the gate's masking is tested on its own in test_boundaries.py)."""
    offered = {t["function"]["name"] for t in body.get("tools") or []}
    recent = _since_instruction(body)
    called = [
        (c["function"]["name"], json.loads(c["function"]["arguments"] or "{}"))
        for m in recent
        for c in m.get("tool_calls") or []
    ]
    for name, args in READS:
        args = {k: _pod_name(body, "web") if v == "@web" else v for k, v in args.items()}
        if name in offered and (name, args) not in called:
            return _call(name, args)
    names = {n for n, _ in called}
    if "submit_plan" in offered:
        return _call("submit_plan", {"hypotheses": ["the worker crashes"], "steps": []})
    if "submit_diagnosis" in offered and "submit_diagnosis" not in names:
        entity = {
            "name": f"{NS}/Deployment/worker",
            "contributing_factor": True,
            "reasoning": "its previous instance exited 1 after failing to authenticate",
            "evidence": ["get_logs worker: fatal: AWS credentials rejected"],
        }
        diagnosis = {"summary": "worker crash-loops", "entities": [entity]}
        return _call("submit_diagnosis", diagnosis | {"mitigations": [{"action": "rollout_restart", "args": WORKER}]})
    if "rollout_restart" in offered and "rollout_restart" not in names:
        return _call("rollout_restart", WORKER)
    return {"content": "Still looking."}


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    target = args.get("name", args.get("namespace", ""))
    return {"content": f"Action: {name} {target}", "tool_calls": [{"name": name, "arguments": args}]}


# ---------------------------------------------------------------------------------------------- the runs
def sre_agent(*argv: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process: its stdout and stderr are the terminal's."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *argv], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


def run_dir_text(out: Path) -> dict[str, str]:
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"trace.jsonl", "engine.log.jsonl", "report.md", "report.json", "report.html"} <= {p.name for p in files}
    return {p.name: p.read_text(encoding="utf-8", errors="replace") for p in files}


def assert_nothing_leaked(canaries: list[Canary], out: Path, proc: subprocess.CompletedProcess[str]) -> None:
    found = {name: leaks(text, canaries) for name, text in run_dir_text(out).items()}
    found |= {"stdout": leaks(proc.stdout, canaries), "stderr": leaks(proc.stderr, canaries)}
    assert {k: v for k, v in found.items() if v} == {}
    assert "Traceback" not in proc.stderr


def model_saw(stub: OpenAIStub) -> str:
    return "\n".join(json.dumps(body) for body in stub.requests)


# Masks the scripted model must have read: each stands for text that reached it from the cluster.
MASKS = [
    "<redacted:github-token>",  # the incident's summary, a command-line flag, a label, an annotation
    "<redacted:slack-token>",  # the incident's alert label, env values, an event, a crash log
    "<redacted:private-key>",  # ConfigMap data, a crash log
    "<redacted:high-entropy>",  # an env value no format names
    "<redacted:anthropic-key>",  # an env value
    "<redacted:openai-key>",  # a start-up log line, a command argument
    "<redacted:aws-access-key-id>",  # an alert label, a crash log, ConfigMap data
    "<redacted:aws-secret-key>",  # a crash log
    "<redacted:google-api-key>",  # a command argument
    "hooks.slack.com/services/<redacted:slack-webhook>",  # an annotation, an alert, an event, a log
    "postgres://app:<redacted>@",  # a crash log
    "Basic <redacted>",  # an alert's annotation, a log line
    "<redacted 40 bytes>",  # the Secret's github token: its size only
]


@pytest.mark.parametrize(
    ("mitigations", "model_class", "mode"),
    [("off", "frontier", "dry-run"), ("on", "frontier", "off"), ("on", "mid", "dry-run")],
    ids=["one-agent-dry-run", "machine-read-only", "machine-dry-run"],
)
def test_a_scripted_model_reads_every_canary_masked(
    planted: Planted, tmp_path: Path, mitigations: str, model_class: str, mode: str
) -> None:
    c = planted.canaries
    inc = planted.incident(tmp_path, f"canary-{mitigations}-{mode}", mode, summary=c[0], alert=c[3])
    out = tmp_path / "run"
    with OpenAIStub(curious) as stub:
        proc = sre_agent(
            "run", str(inc), "--output", str(out), "--model", "openai/canary", "--base-url", stub.base_url,
            "--mitigations", mitigations, "--model-class", model_class,
        )  # fmt: skip
    # The one free-running agent keeps answering in prose after its write: three such replies in a row end
    # the run as a model whose replies are unusable (exit 6); the machines escalate first (exit 3).
    assert proc.returncode == (6 if mitigations == "off" else 3), proc.stderr
    sent = model_saw(stub)
    assert stub.requests and leaks(sent, c) == []
    assert_nothing_leaked(c, out, proc)
    # The text reached the model, masked in place: the evidence is there, the secrets are not.
    assert [m for m in MASKS if m not in sent] == []
    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    tools = {e["data"]["tool"] for e in trace if e["kind"] == "tool_result" and e["data"].get("status") == "ok"}
    assert {"get_logs", "get_events", "get_alerts", "describe"} <= tools


def test_the_built_in_model_leaks_nothing(planted: Planted, tmp_path: Path) -> None:
    c = planted.canaries
    inc = planted.incident(tmp_path, "canary-builtin", "dry-run", summary=c[1], alert=c[4])
    out = tmp_path / "run"
    proc = sre_agent("run", str(inc), "--output", str(out), "--model", "builtin/playbook")
    assert proc.returncode in (0, 3), proc.stderr
    assert_nothing_leaked(c, out, proc)
    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    # The analyzers quoted the worker's crash log to every model, masked.
    (analysis,) = [e["data"] for e in trace if e["kind"] == "analysis"]
    quoted = [line for f in analysis["findings"] for line in f["evidence"] if line.startswith("log ")]
    assert any("<redacted:slack-token>" in line for line in quoted), quoted


def test_every_format_is_planted(planted: Planted) -> None:
    """Each listed format went into the cluster somewhere, and each kind of place holds canaries."""
    places = {"logs", "labels", "annotations", "command/args", "env", "configmap", "alerts", "events"}
    assert set(planted.by_place) == places
    planted_formats = {x.format for items in planted.by_place.values() for x in items}
    assert planted_formats == {x.format for x in planted.canaries}


def _embedded_scenario(tmp: Path, c: list[Canary]) -> Path:
    """A shop the embedded simulator installs itself, canaries in its command, args, env, labels, ConfigMap
    and start-up logs, whose web Deployment is then rolled out with an image tag that does not exist."""
    ghp, xoxb, hook, proj, akia, aws_secret, jwt, rsa, basic, pg, random_key = (
        c[0], c[3], c[6], c[8], c[10], c[12], c[14], c[15], c[18], c[20], c[23],
    )  # fmt: skip
    app = {
        "apiVersion": "sim.sre-agent.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "canary-shop"},
        "spec": {
            "namespace": NS,
            "services": [
                {
                    "name": "web",
                    "image": "registry.example.com/shop/web:1.0",
                    "port": 8080,
                    "protocol": "http",
                    "command": ["/web"],
                    "args": ["--notify", hook.text, f"--upstream-key={proj.text}"],
                    "env": {"DATABASE_URL": pg.text, "UPSTREAM_SIGNATURE": random_key.text, "CI_JOB_JWT": jwt.text},
                    "labels": {"git-token": ghp.text},
                    "configMaps": {"web-config": {"tls.key": rsa.text, "aws.conf": f"{akia.text}:{aws_secret.text}"}},
                    "logs": {"ready": [f"listening; webhook auth {basic.text}", f"slack bot {xoxb.text} connected"]},
                }
            ],
        },
    }
    (tmp / "canary-shop.yaml").write_text(yaml.safe_dump(app, sort_keys=False))
    web = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": NS}}
    scenario = {
        "apiVersion": "sim.sre-agent.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "canary-shop"},
        "spec": {
            "applications": [{"file": "canary-shop.yaml"}],
            "images": [
                {
                    "repository": "registry.example.com/shop/web",
                    "tags": ["1.0"],
                    "entrypoint": ["/web"],
                    "programs": {"/web": {"serve": {"port": 8080}}},
                }
            ],
            "faults": [
                {
                    "id": "nonexistent-kubernetes-workload-container-image",
                    "args": {"kubernetesObject": web, "container": {"name": "web"}},
                }
            ],
        },
    }
    path = tmp / "canary-shop.scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


def test_a_run_that_fixes_and_verifies_on_the_embedded_simulator_leaks_nothing(tmp_path: Path) -> None:
    """The whole machine, verifier and gate included, on a cluster the run starts itself."""
    c = every_format(seed=23)
    doc = {
        "apiVersion": "sre-agent.dev/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": "canary-embedded"},
        "spec": {
            "summary": f"web pods are not ready; deploy log: {c[16].text}",
            "scope": {"namespaces": [NS]},
            "cluster": {"simulate": {"scenario": str(_embedded_scenario(tmp_path, c))}},
            "model": "builtin/playbook",
            "remediation": {"mode": "auto"},
        },
    }
    inc = tmp_path / "canary-embedded.yaml"
    inc.write_text(yaml.safe_dump(doc, sort_keys=False))
    with SimulatorServer.start(scenario=doc["spec"]["cluster"]["simulate"]["scenario"]) as sim:  # what it holds
        core = client.CoreV1Api(client.ApiClient(sim.client_configuration()))
        dep = client.AppsV1Api(core.api_client).read_namespaced_deployment("web", NS)
        assert dep.spec.template.spec.containers[0].args[1] == c[6].text
        assert dep.spec.template.metadata.labels["git-token"] == c[0].text
        assert core.read_namespaced_config_map("web-config", NS).data["tls.key"] == c[15].text
    out = tmp_path / "run"
    proc = sre_agent("run", str(inc), "--output", str(out), "-o", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_nothing_leaked(c, out, proc)
    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    assert [e for e in trace if e["kind"] == "verifier_verdict" and e["data"]["passed"]]
    (start,) = [e["data"] for e in trace if e["kind"] == "run_start"]
    assert start["incident"]["summary"] == "web pods are not ready; deploy log: <redacted:private-key>"
    assert json.loads(proc.stdout)["status"] == "resolved"
