"""The image catalogue's rules and the size parsers of the load idioms, without a cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.sim.runtime.catalogue import CatalogueError, parse_entry, repository_of, shared_catalogue
from orchestrator.sim.runtime.commands import parse_bytes
from orchestrator.sim.runtime.python import allocation

GiB = 2**30


@pytest.mark.parametrize(
    ("image", "status"),
    [
        ("nginx:1.27", "found"),
        ("docker.io/library/nginx:1.25.3-alpine", "found"),
        ("nginx:1.99.9-nope", "no-tag"),
        ("busybox", "found"),
        ("busybox@sha256:" + "a" * 64, "found"),
        ("polinux/stress", "found"),
        ("python:3.12-slim", "found"),
        ("myorg/worker:2.0", "unknown"),
        ("registry.example.com/shop/api:1.0", "unknown"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", "unauthorized"),
        ("myteam.azurecr.io/web:3", "unauthorized"),
    ],
)
def test_lookup_rules(image: str, status: str) -> None:
    assert shared_catalogue().lookup(image).status == status


def test_repository_names_are_normalised() -> None:
    assert repository_of("nginx") == ("docker.io/library/nginx", "latest")
    assert repository_of("library/nginx:1.27") == ("docker.io/library/nginx", "1.27")
    assert repository_of("localhost:5000/app:1") == ("localhost:5000/app", "1")


def test_entry_format_errors_name_the_field() -> None:
    with pytest.raises(CatalogueError, match="repository"):
        parse_entry({"tags": ["1"]})
    with pytest.raises(CatalogueError, match="programs./app"):
        parse_entry({"repository": "x/y", "programs": {"/app": {"logs": ["no outcome"]}}})


def test_sizes() -> None:
    assert parse_bytes("250M") == 250 * 2**20
    assert parse_bytes("2G") == 2 * GiB and parse_bytes("1g") == GiB and parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("50%", 8 * GiB) == 4 * GiB
    assert allocation("x = bytearray(512 * 1024 * 1024)") == 512 * 2**20
    assert allocation("s = ' ' * (10**9)") == 10**9
    assert allocation("a = [0] * 1000") == 8000
    assert allocation("print('hi')") == 0


def test_a_users_catalogue_file_describes_private_images(tmp_path: Path) -> None:
    """`sim serve --images FILE`: a private-registry image the file lists is pulled and runs as described."""
    from orchestrator.sim import SimulatorServer

    path = tmp_path / "images.yaml"
    path.write_text(
        "images:\n  - repository: europe-docker.pkg.dev/acme/app\n    tags: [v1]\n"
        "    cmd: [app]\n    shell: false\n    programs:\n      app: {exit: 3, logs: [boom]}\n"
    )
    server = SimulatorServer.create(images=[path])
    from orchestrator.sim.runtime.catalogue import catalogue_for

    assert catalogue_for(server.cluster).lookup("europe-docker.pkg.dev/acme/app:v1").status == "found"
    assert catalogue_for(server.cluster).lookup("europe-docker.pkg.dev/acme/app:v2").status == "no-tag"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("images: nope\n", "needs a list under `images:`"),
        ("images:\n  - {tags: [v1]}\n", "images[0]"),
        ("images: [\n", "cannot read"),
    ],
)
def test_a_bad_catalogue_file_is_one_line_from_sim_serve(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "images.yaml"
    path.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "sim", "serve", "--port", "0"],
        env={**os.environ, "SRE_AGENT_SIM_IMAGES": str(path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert str(path) in proc.stderr
