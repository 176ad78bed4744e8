"""The format table (orchestrator/redaction/formats.yaml): every row masks its own format, look-alike
Kubernetes strings are left alone, masking is idempotent, and the simulator's ordinary output is never
taken for a secret."""

from __future__ import annotations

import json
import random
import string

import pytest

from orchestrator.redaction import MASK, is_credential_flag, is_credential_name, mask_text, scrub
from orchestrator.redaction.entropy import looks_random
from orchestrator.redaction.table import FormatError, parse_table, table

from .canaries import Canary, every_entry, every_format, leaks

ENTRIES = every_entry()


def _expected_mask(c: Canary) -> str:
    masks = {f.mask for f in table().formats if f.name == c.format}
    return next(iter(masks)) if masks else table().entropy.mask


@pytest.mark.parametrize("canary", ENTRIES, ids=[f"{c.format}-{i}" for i, c in enumerate(ENTRIES)])
def test_each_canary_is_masked_as_its_format(canary: Canary) -> None:
    masked = mask_text(canary.text)
    assert leaks(masked, [canary]) == []
    assert _expected_mask(canary) in masked


@pytest.mark.parametrize("canary", ENTRIES, ids=[f"{c.format}-{i}" for i, c in enumerate(ENTRIES)])
def test_a_canary_in_a_sentence_keeps_the_sentence(canary: Canary) -> None:
    """The words around a secret are evidence: they stay."""
    line = f"2026-01-01T00:00:00Z ERROR upstream refused: {canary.text} (attempt 3 of 5)"
    masked = mask_text(line)
    assert leaks(masked, [canary]) == []
    assert masked.startswith("2026-01-01T00:00:00Z ERROR upstream refused: ") and masked.endswith("(attempt 3 of 5)")


def test_every_row_of_the_table_masks_a_canary_on_its_own() -> None:
    """Each entry, applied alone, removes the secret of a canary of its format: no row is dead weight."""
    for entry in table().formats:
        samples = [c for c in ENTRIES if c.format == entry.name]
        assert samples, f"no canary for {entry.name}"
        assert any(leaks(entry.apply(c.text), [c]) == [] for c in samples), entry.pattern.pattern


def test_canaries_cover_the_formats_the_issue_lists() -> None:
    listed = {
        "github-token", "slack-token", "slack-webhook", "openai-key", "anthropic-key", "aws-access-key-id",
        "aws-secret-key", "google-api-key", "jwt", "private-key", "authorization", "url-password",
        "bearer", "credential-assignment", "high-entropy",
    }  # fmt: skip
    assert {c.format for c in every_format()} == listed
    assert {c.format for c in ENTRIES} == {f.name for f in table().formats} | {"high-entropy"}


@pytest.mark.parametrize("canary", ENTRIES, ids=[f"{c.format}-{i}" for i, c in enumerate(ENTRIES)])
def test_masking_is_idempotent(canary: Canary) -> None:
    once = mask_text(f"value: {canary.text}")
    assert mask_text(once) == once


def test_a_cut_secret_is_still_masked() -> None:
    """Texts are masked before they are cut, but a secret that arrives cut short (a truncated log line, a
    PEM block without its end) is still caught."""
    for c in every_format():
        if c.format in ("private-key", "github-token", "slack-token", "openai-key", "anthropic-key", "jwt"):
            cut = c.text[: len(c.text) * 2 // 3]
            assert leaks(mask_text(cut), [Canary(c.format, cut, c.secret[: len(cut) // 2])]) == [], c.format


# -------------------------------------------------------------------------------------------- look-alikes
LOOK_ALIKES = [
    # names with pod-template hashes and random suffixes, as the API server makes them
    "product-catalog-7d9f8b6c5-x2k4p",
    "otel-demo/Pod/product-catalog-t8qg7p6whp-cblqv",
    "web-6b8f7c9d4d-qwz8m.17c8a3e5b2f1d0a9",  # an event's name
    # UIDs, digests, ids and versions
    "uid: 2f1c8e0a-5d7b-4f0e-9d43-9b1f6d0a2c11",
    "ghcr.io/open-telemetry/demo@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
    "image: registry.k8s.io/pause:3.9@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097",
    "containerID: containerd://0f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
    "resourceVersion: 184467440737",
    "pod-template-hash=7d9f8b6c5",
    "controller-revision-hash: web-5f8d9c7b6",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",  # a git SHA-1
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "arn:aws:iam::123456789012:role/shop-web-irsa",
    # CamelCase words, API paths and kinds
    "KubeDeploymentReplicasMismatch firing for otel-demo/checkout",
    "apis/autoscaling/v2/namespaces/otel-demo/horizontalpodautoscalers/frontend",
    "io.k8s.api.core.v1.PodSpec HorizontalPodAutoscalerSpecV1 OAuth2AuthorizationCodeGrantFilter",
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding",
    # text about credentials that holds none
    "WRONGPASS invalid username-password pair or user is disabled.",
    'password authentication failed for user "otelu"',
    'secret "valkey-credentials" not found',
    "valkey-server --requirepass $(VALKEY_PASSWORD)",
    "Authorization: Bearer $(TOKEN)",
    "token expired; refreshing",
    "sk-learn-inference-7d9f8b6c5-x2k4p",
    "the ghp_ prefix marks a GitHub token",
    # public keys and certificates, tool-call ids
    "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n"
    "RTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD\n-----END CERTIFICATE-----",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ4Zx8k0nB2dM9uJqQ0oT8oA7vCqfA3x8y2Yk1m0p3Q ops@bastion",
    "tool call call_BSwxvf0BeIEkSq2vCt9Vzq1I and toolu_01A09q90qw90lq917835lq9 answered",
    # numbers, times, addresses
    "2026-01-01T00:00:00.123456Z 10.244.1.17:8080 0xc000123456 1735689600",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_ordinary_kubernetes_text_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_random_strings_are_caught_and_words_are_not() -> None:
    rng = random.Random(7)
    rule = table().entropy
    alphabet = string.ascii_letters + string.digits
    caught = sum(looks_random("".join(rng.choice(alphabet) for _ in range(32)), rule) for _ in range(1000))
    assert caught >= 970  # random keys of 32 characters: practically always
    hexes = sum(looks_random("".join(rng.choice("0123456789abcdef") for _ in range(40)), rule) for _ in range(200))
    names = sum(
        looks_random("".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(20)), rule) for _ in range(200)
    )
    assert hexes == 0 and names == 0  # digests and the API server's random suffixes: never


def test_object_references_are_never_random() -> None:
    """`Kind/name` mixes cases and digits only across its pieces: a CamelCase kind, a lower-case name with
    the API server's random suffixes (`Pod/cart-64qqkb4v2c-2d96g`)."""
    rng = random.Random(11)
    suffix = "bcdfghjklmnpqrstvwxz2456789"
    kinds = ["Pod", "ReplicaSet", "StatefulSet", "HorizontalPodAutoscaler", "PersistentVolumeClaim", "EndpointSlice"]
    for _ in range(5000):
        name = f"{rng.choice(['cart', 'product-catalog', 'reviews-v2'])}-{''.join(rng.choices(suffix, k=10))}"
        ref = f"{rng.choice(['', 'otel-demo/'])}{rng.choice(kinds)}/{name}-{''.join(rng.choices(suffix, k=5))}"
        assert mask_text(ref) == ref


# ---------------------------------------------------------------------------------------- names and values
def test_credential_names_and_flags() -> None:
    assert all(map(is_credential_name, ["DB_PASSWORD", "api-key", "auth.token", "client_secret", "GPG_PASSPHRASE"]))
    assert not any(map(is_credential_name, ["VALKEY_ADDR", "monkey", "KEYCLOAK_URL", "PORT"]))
    assert is_credential_flag("--requirepass") and is_credential_flag("-password")
    assert not is_credential_flag("--port") and not is_credential_flag("requirepass")


def test_scrub_masks_every_string_and_keeps_the_shape() -> None:
    ghp = every_format()[0]
    value = {"a": [ghp.text, 3, None, (ghp.text, True)], "b": {"c": f"x {ghp.text}"}, ghp.text[:4]: 1.5}
    out = scrub(value)
    assert leaks(json.dumps(out, default=list), [ghp]) == []
    assert out["a"][1:3] == [3, None] and isinstance(out["a"][3], tuple) and out["ghp_"] == 1.5
    assert scrub("key=abcdef") == f"key={MASK}"


# ------------------------------------------------------------------------------------------ the table itself
def test_a_malformed_table_names_the_entry() -> None:
    doc = {
        "credential_words": ["password"],
        "formats": [{"name": "broken", "what": "a bad pattern", "pattern": "(unclosed"}],
        "high_entropy": {
            "name": "high-entropy",
            "min_length": 20,
            "min_class_changes": 0.4,
            "no_digit_min_class_changes": 0.5,
            "min_bits_per_char": 3.5,
        },
    }
    with pytest.raises(FormatError, match=r"formats\[0\] broken: pattern does not compile"):
        parse_table(doc)
    with pytest.raises(FormatError, match="high_entropy"):
        parse_table({**doc, "formats": [], "high_entropy": {}})
