"""`sre-agent operator run|execute` refuse what they cannot use in one line with the right exit code,
before anything is watched or run."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.sim.cluster import Cluster
from orchestrator.sim.runner import SimulatorServer
from tests.run.helpers import run_cli


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a kubeconfig for a cluster with no CRD
    server = SimulatorServer(Cluster())
    server.start_thread()
    try:
        yield server.write_kubeconfig(tmp_path_factory.mktemp("bare") / "kubeconfig")
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["operator", "run"], 2, "give the namespaces to watch (-n, repeatable) or --all-namespaces"),
        (["operator", "run", "-n", "a", "-A"], 2, "give the namespaces to watch (-n, repeatable) or --all-namespaces"),
        (["operator", "run", "-n", "Bad_NS"], 2, "--namespace must be a DNS-1123 label"),
        (["operator", "run", "-A", "--concurrency", "0"], 2, "--concurrency must be at least 1, not 0"),
        (["operator", "run", "-A", "--executor", "pod"], 2, "--executor must be in-process or job, not 'pod'"),
        (["operator", "run", "-A", "--executor", "job"], 2, "--executor job needs --job-image"),
        (["operator", "run", "-A", "--in-cluster", "--context", "x"], 2, "--in-cluster cannot be combined"),
        (
            ["operator", "run", "-A", "--alertmanager", "am:9093"],
            2,
            "--alertmanager must be an http:// or https:// URL",
        ),
        (["operator", "run", "-A", "--model", "builtin/nope"], 2, "builtin/nope"),
        (["operator", "execute", "just-a-name"], 2, "expected NAMESPACE/NAME, not 'just-a-name'"),
    ],
)
def test_bad_flags_are_one_line(argv: list[str], code: int, message: str) -> None:
    exit_code, _, stderr = run_cli(*argv, env={"POD_NAMESPACE": ""})
    assert exit_code == code and stderr.startswith("error: ") and message in stderr and stderr.count("\n") == 1


def test_a_cluster_without_the_crd_says_how_to_install_it(bare: Path) -> None:
    code, _, stderr = run_cli("operator", "run", "-A", "--kubeconfig", str(bare))
    assert code == 5
    assert stderr == (
        "error: the cluster has no incidents.sre-agent.dev CRD: install it with `sre-agent crd | kubectl apply -f -`\n"
    )


def test_an_unreachable_cluster_is_exit_5(tmp_path: Path) -> None:
    with SimulatorServer(Cluster()) as server:
        server.start_thread()
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    code, _, stderr = run_cli("operator", "execute", "a/b", "--kubeconfig", str(kubeconfig))
    assert code == 5 and stderr.startswith("error: cannot reach the cluster at ") and stderr.count("\n") == 1
