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


def test_spec_model_as_a_mapping(runs_root: Path, tmp_path: Path) -> None:
    with OpenAIStub(scripted(CULPRIT_REF)) as stub:
        settings = {
            "name": "openai/stub-model",
            "baseUrl": stub.base_url,
            "apiKeyEnv": "MY_MODEL_KEY",
            "maxTokens": 777,
            "temperature": 0.3,
            "headers": {"X-Team": "sre"},
        }
        inc = write_incident(tmp_path, "mapped", BAD_IMAGE, scope={"namespaces": [NS]}, model=settings)
        env = {**NO_KEYS, "MY_MODEL_KEY": "sk-local-test-key"}
        code, stdout, _ = run_cli("run", str(inc), "--output", str(runs_root / "mapped"), "-q", env=env)
        assert code == 0, stdout
        assert {(b["max_tokens"], b["temperature"]) for b in stub.requests} == {(777, 0.3)}
        code, _, stderr = run_cli("run", str(inc), "--output", str(runs_root / "mapped-nokey"), "-q", env=NO_KEYS)
    assert (
        code == 2 and stderr.strip() == "error: spec.model.apiKeyEnv: the environment variable MY_MODEL_KEY is not set"
    )
    bad = write_incident(tmp_path, "bad", BAD_IMAGE, model={"name": "openai/x", "maxTokens": 0, "colour": "red"})
    code, _, stderr = run_cli("validate", str(bad))
    assert code == 2 and "spec.model.maxTokens" in stderr and "spec.model.colour" in stderr
