"""deploy/Dockerfile, linted (no container builder runs here): the properties the manifests rely on, read
from the instructions themselves."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib

import pytest

from orchestrator.redaction import mask_text

from .manifests import DEPLOY, ROOT, kustomize

DOCKERFILE = DEPLOY / "Dockerfile"
IGNORE = DEPLOY / "Dockerfile.dockerignore"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", joined, re.M)]


def final_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def sent(path: str, patterns: list[str]) -> bool:
    """Whether the build context includes `path`, per the .dockerignore rules (the last match wins)."""
    included = True
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        if fnmatch.fnmatch(path, pat.rstrip("/")) or path.startswith(pat.rstrip("/") + "/"):
            included = negate
    return included


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def test_the_image_runs_sre_agent_as_a_non_root_user(steps: list[tuple[str, str]]) -> None:
    stage = final_stage(steps)
    assert re.match(r"python:3\.1[1-9]-slim", stage[0][1]), stage[0]
    uid = non_root_uid(stage)
    # The manifests run it as that user.
    deployments = [o for o in kustomize("in-process") if o["kind"] == "Deployment"]
    assert deployments
    for dep in deployments:
        assert str(dep["spec"]["template"]["spec"]["securityContext"]["runAsUser"]) == uid
    (entrypoint,) = [args for op, args in stage if op == "ENTRYPOINT"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(entrypoint) == ["sre-agent"] and "sre-agent" in scripts  # exec form: signals reach it


def test_nothing_is_written_outside_the_mounted_folders(steps: list[tuple[str, str]]) -> None:
    env = " ".join(args for op, args in final_stage(steps) if op == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "HOME=/tmp" in env and "MPLCONFIGDIR=/tmp/" in env
    (workdir,) = [args for op, args in final_stage(steps) if op == "WORKDIR"]
    mounts = {
        m["mountPath"]
        for o in kustomize("in-process")
        if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-operator")
        for c in o["spec"]["template"]["spec"]["containers"]
        for m in c["volumeMounts"]
    }
    assert workdir in mounts and "/tmp" in mounts


def test_no_credentials_are_baked_in(steps: list[tuple[str, str]]) -> None:
    for op, args in steps:
        if op in ("ENV", "ARG", "LABEL"):
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args):
                assert not re.search(r"KEY|TOKEN|PASSWORD|SECRET|CREDENTIAL", name, re.I), (op, args)
        assert mask_text(args) == args, (op, args)


def test_every_copied_path_exists_and_is_in_the_build_context(steps: list[tuple[str, str]]) -> None:
    patterns = [line.strip() for line in IGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    copied = [shlex.split(args) for op, args in steps if op == "COPY" and not args.startswith("--from")]
    assert copied
    for parts in copied:
        for source in parts[:-1]:
            assert (ROOT / source).exists(), source
            assert sent(source.rstrip("/"), patterns), f"{source} is left out of the build context"
    assert not sent(".venv", patterns) and not sent("runs", patterns) and not sent(".git", patterns)


def non_root_uid(stage: list[tuple[str, str]]) -> str:
    """The final stage's user: numeric (so runAsNonRoot can verify it) and not 0; AssertionError otherwise."""
    users = [args for op, args in stage if op == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]} is not a numeric non-root user"
    return uid


def test_the_lint_notices_a_root_image() -> None:
    assert "USER 10001:10001" in DOCKERFILE.read_text()
    for user in ("USER root", "USER 0:0"):
        rooted = DOCKERFILE.read_text().replace("USER 10001:10001", user)
        with pytest.raises(AssertionError, match="not a numeric non-root user"):
            non_root_uid(final_stage(instructions(rooted)))
    unset = DOCKERFILE.read_text().replace("USER 10001:10001", "")
    with pytest.raises(AssertionError, match="sets no USER"):
        non_root_uid(final_stage(instructions(unset)))
