"""The Job executor: the operator claims the Incident and creates its Job with the right spec; the Job's
command, run here with its environment against the simulator, runs the Incident and writes its status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kubernetes import client

from orchestrator.operator.controller import OperatorConfig
from orchestrator.operator.jobs import JOB_LABEL, JobTemplate

from .helpers import operator, served, wait_until
from .test_operator import ROOT, SUMMARY, phase


def test_the_operator_creates_a_job_whose_command_runs_the_incident(tmp_path: Path) -> None:
    with served(tmp_path) as cluster:
        template = JobTemplate(image="ghcr.io/example/sre-agent:1.0", namespace="default", api_key_secret="model-key",
                               resources={"limits": {"memory": "1Gi"}})  # fmt: skip
        config = OperatorConfig(executor=cluster.settings(tmp_path / "runs"), namespaces=["otel-demo"], jobs=template)
        batch = client.BatchV1Api(cluster.api)
        with operator(config, cluster.kubeconfig):
            cluster.create("catalog-job", summary=SUMMARY)
            jobs = wait_until(
                lambda: batch.list_namespaced_job("default", label_selector=f"{JOB_LABEL}=catalog-job").items
            )
            assert len(jobs) == 1
            obj = cluster.get("catalog-job")
            cluster.sim.advance(30)
            assert len(batch.list_namespaced_job("default").items) == 1  # one Job, however many events pass
        job = jobs[0]
        claim = obj["status"]["claim"]
        assert claim["executor"] == "job" and claim["holder"] == f"job/{job.metadata.name}"
        assert obj["status"]["phase"] == "Investigating"  # claimed; the Job's pod has not run it yet
        spec = job.spec.template.spec
        (container,) = spec.containers
        assert container.image == template.image and spec.service_account_name == "sre-agent"
        assert (
            spec.restart_policy == "Never"
            and job.spec.backoff_limit == 0
            and job.spec.ttl_seconds_after_finished == 3600
        )
        assert job.spec.active_deadline_seconds == 900 + config.grace_seconds  # budget.seconds + grace
        assert container.args[:5] == ["operator", "execute", "otel-demo/catalog-job", "--run-id", claim["runId"]]
        assert container.security_context.read_only_root_filesystem and container.security_context.run_as_non_root
        assert container.env_from[0].secret_ref.name == "model-key" and container.resources.limits == {"memory": "1Gi"}

        # The pod's command, here: its environment, with a kubeconfig for the service account it would have.
        env = {**os.environ, **{e.name: e.value for e in container.env}, "KUBECONFIG": str(cluster.kubeconfig)}
        env["SRE_AGENT_RUNS_DIR"] = str(tmp_path / "job-runs")
        done = subprocess.run(
            [sys.executable, "-c", "from orchestrator.cli import main; main()", *container.args],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("otel-demo/catalog-job: Resolved: ")
        status = cluster.get("catalog-job")["status"]
        assert status["phase"] == "Resolved" and status["diagnosis"]["rootCauses"] == [ROOT]
        assert status["claim"]["runId"] == claim["runId"] and status["claim"]["renewedAt"] >= claim["renewedAt"]
        assert Path(status["report"]).is_relative_to(tmp_path / "job-runs")

        again = subprocess.run(
            [sys.executable, "-c", "from orchestrator.cli import main; main()", *container.args],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert again.returncode == 0 and again.stdout.startswith("otel-demo/catalog-job: already Resolved")
        assert phase(cluster.get("catalog-job")) == "Resolved"
