"""Where the model comes from: the flags, SRE_AGENT_MODEL / SRE_AGENT_BASE_URL, OpenAI's own OPENAI_BASE_URL,
and a missing key's message that names the way out."""

from __future__ import annotations

from pathlib import Path

from tests.models.openai_stub import OpenAIStub

from .helpers import run_cli, write_incident
from .scripts import NS
from .test_knowledge import BAD_IMAGE, CULPRIT_REF, scripted

NO_KEYS = {"OPENAI_API_KEY": None, "OPENAI_BASE_URL": None, "OPENAI_API_BASE": None}


def _incident(tmp_path: Path) -> Path:
    return write_incident(tmp_path, "settings", BAD_IMAGE, scope={"namespaces": [NS]})  # no spec.model


def test_the_environment_chooses_the_model_and_its_server(runs_root: Path, tmp_path: Path) -> None:
    with OpenAIStub(scripted(CULPRIT_REF)) as stub:
        env = {**NO_KEYS, "SRE_AGENT_MODEL": "openai/stub-model", "SRE_AGENT_BASE_URL": stub.base_url}
        code, stdout, _ = run_cli(
            "run", str(_incident(tmp_path)), "--output", str(runs_root / "env-model"), "-q", env=env
        )
    assert code == 0, stdout
    assert stub.requests and {b["model"] for b in stub.requests} == {"stub-model"}


def test_openai_base_url_alone_needs_no_key(runs_root: Path, tmp_path: Path) -> None:
    with OpenAIStub(scripted(CULPRIT_REF)) as stub:
        env = {**NO_KEYS, "OPENAI_BASE_URL": stub.base_url}
        code, stdout, _ = run_cli(
            "run",
            str(_incident(tmp_path)),
            "--model",
            "openai/stub-model",
            "--output",
            str(runs_root / "oai-base"),
            "-q",
            env=env,
        )
    assert code == 0, stdout
    assert stub.requests


def test_a_missing_key_names_the_base_url_way_out(tmp_path: Path) -> None:
    code, _, stderr = run_cli("validate", str(_incident(tmp_path)), "--model", "openai/gpt-4o", env=NO_KEYS)
    assert code == 2
    assert (
        stderr.strip()
        == "error: model openai/gpt-4o needs OPENAI_API_KEY in the environment (or --base-url URL for a server of your own)"
    )
