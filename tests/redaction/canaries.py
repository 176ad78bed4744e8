"""Secret canaries: made-up credentials in every format the redaction table lists, shaped like the real ones
(prefixes, lengths, alphabets, checksummed-looking parts) but drawn from a seeded generator, so no real
credential is ever in the repository and every run of the tests plants the same values.

A `Canary` is the text as it would be planted (`text`) and the secret part of it that must never come out
(`secret`: for a webhook URL or a connection string the host stays, the credential goes). `needles` are the
pieces a leak is searched for: the whole secret and three 12-character windows of it, so a secret cut in
half by a truncation is caught too.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

UPPER_DIGITS = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
WINDOW = 12


@dataclass(frozen=True)
class Canary:
    format: str  # the name in formats.yaml (high-entropy for the table's last rule)
    text: str  # as planted in the cluster
    secret: str  # the part that must never reach a model, a file or the terminal

    @property
    def needles(self) -> list[str]:
        lines = self.secret.split("\n")  # a PEM body: windows within its lines (files escape the breaks)
        if len(self.secret) <= WINDOW:
            return [self.secret]
        middle = lines[len(lines) // 2]
        at = max(0, (len(middle) - WINDOW) // 2)
        return [self.secret, lines[0][:WINDOW], middle[at : at + WINDOW], lines[-1][-WINDOW:]]


class Forge:
    """Makes canaries; each call draws fresh randomness from one seeded generator."""

    def __init__(self, seed: int = 15) -> None:
        self.rng = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def mixed(self, alphabet: str, n: int) -> str:
        """Random text that has upper, lower and digits, as generated keys practically always do."""
        while True:
            s = self.chars(alphabet, n)
            if any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s):
                return s

    def password(self, n: int = 20) -> str:
        return self.mixed(ALNUM, n)

    def b64url(self, data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    def github_classic(self, prefix: str = "ghp") -> Canary:
        token = f"{prefix}_{self.mixed(ALNUM, 36)}"
        return Canary("github-token", token, token)

    def github_fine_grained(self) -> Canary:
        token = f"github_pat_11{self.chars(UPPER_DIGITS, 20)}_{self.mixed(ALNUM, 59)}"
        return Canary("github-token", token, token)

    def slack_bot(self) -> Canary:
        token = f"xoxb-{self.chars(string.digits, 11)}-{self.chars(string.digits, 13)}-{self.mixed(ALNUM, 24)}"
        return Canary("slack-token", token, token)

    def slack_user(self) -> Canary:
        token = (
            f"xoxp-{self.chars(string.digits, 11)}-{self.chars(string.digits, 11)}-"
            f"{self.chars(string.digits, 13)}-{self.chars(HEX, 32)}"
        )
        return Canary("slack-token", token, token)

    def slack_app(self) -> Canary:
        token = f"xapp-1-A{self.chars(UPPER_DIGITS, 10)}-{self.chars(string.digits, 13)}-{self.chars(HEX, 64)}"
        return Canary("slack-token", token, token)

    def slack_webhook(self) -> Canary:
        path = f"T{self.chars(UPPER_DIGITS, 8)}/B{self.chars(UPPER_DIGITS, 10)}/{self.mixed(ALNUM, 24)}"
        return Canary("slack-webhook", f"https://hooks.slack.com/services/{path}", path)

    def openai_legacy(self) -> Canary:
        key = f"sk-{self.mixed(ALNUM, 20)}T3BlbkFJ{self.mixed(ALNUM, 20)}"
        return Canary("openai-key", key, key)

    def openai_project(self) -> Canary:
        key = f"sk-proj-{self.mixed(URLSAFE, 74)}T3BlbkFJ{self.mixed(URLSAFE, 74)}"
        return Canary("openai-key", key, key)

    def anthropic(self) -> Canary:
        key = f"sk-ant-api03-{self.mixed(URLSAFE, 93)}AA"
        return Canary("anthropic-key", key, key)

    def aws_access_key_id(self, prefix: str = "AKIA") -> Canary:
        key = f"{prefix}{self.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}"
        return Canary("aws-access-key-id", key, key)

    def aws_secret_key(self) -> Canary:
        key = self.mixed(B64, 40)
        return Canary("aws-secret-key", key, key)

    def google_api_key(self) -> Canary:
        key = f"AIza{self.mixed(URLSAFE, 35)}"
        return Canary("google-api-key", key, key)

    def jwt(self) -> Canary:
        header = self.b64url(json.dumps({"alg": "RS256", "kid": self.chars(URLSAFE, 20), "typ": "JWT"}).encode())
        claims = {
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": f"system:serviceaccount:shop:{self.chars(string.ascii_lowercase, 6)}",
            "exp": 1_900_000_000 + self.rng.randrange(10**6),
        }
        payload = self.b64url(json.dumps(claims).encode())
        token = f"{header}.{payload}.{self.b64url(self.rng.randbytes(256))}"
        return Canary("jwt", token, token)

    def private_key(self, kind: str = "RSA") -> Canary:
        body = base64.b64encode(self.rng.randbytes(900)).decode()
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        label = f"{kind} PRIVATE KEY" if kind else "PRIVATE KEY"
        block = f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"
        return Canary("private-key", block, lines)

    def basic_auth(self) -> Canary:
        pair = f"deploy-bot:{self.password(24)}"
        encoded = base64.b64encode(pair.encode()).decode()
        return Canary("authorization", f"Authorization: Basic {encoded}", encoded)

    def bearer(self) -> Canary:
        token = self.mixed(URLSAFE, 43)
        return Canary("bearer", f"Authorization: Bearer {token}", token)

    def url_password(self, scheme: str = "postgres") -> Canary:
        pw = self.password()
        return Canary("url-password", f"{scheme}://app:{pw}@db.shop.svc.cluster.local:5432/orders", pw)

    def connection_string(self) -> Canary:
        pw = self.password()
        return Canary("credential-assignment", f"Server=sql.shop.svc;Database=orders;User Id=sa;Password={pw};", pw)

    def gitlab(self) -> Canary:
        token = f"glpat-{self.mixed(URLSAFE, 20)}"
        return Canary("gitlab-token", token, token)

    def stripe(self) -> Canary:
        key = f"sk_live_{self.mixed(ALNUM, 24)}"
        return Canary("stripe-key", key, key)

    def huggingface(self) -> Canary:
        token = f"hf_{self.chars(string.ascii_letters, 34)}"
        return Canary("huggingface-token", token, token)

    def npm(self) -> Canary:
        token = f"npm_{self.mixed(ALNUM, 36)}"
        return Canary("npm-token", token, token)

    def azure(self) -> Canary:
        key = base64.b64encode(self.rng.randbytes(64)).decode()
        text = f"DefaultEndpointsProtocol=https;AccountName=shopdata;AccountKey={key};EndpointSuffix=core.windows.net"
        return Canary("azure-key", text, key)

    def registry_auth(self) -> Canary:
        auth = base64.b64encode(f"robot$shop:{self.password(32)}".encode()).decode()
        return Canary("registry-auth", json.dumps({"auths": {"registry.example.com": {"auth": auth}}}), auth)

    def manifest_env_json(self) -> Canary:
        pw = self.password(12)
        return Canary("manifest-credential", json.dumps({"name": "DB_PASSWORD", "value": pw}), pw)

    def manifest_env_yaml(self) -> Canary:
        pw = self.password(12)
        return Canary("manifest-credential", f"- name: SMTP_PASS\n  value: {pw}\n", pw)

    def quoted(self) -> Canary:
        phrase = " ".join(self.chars(string.ascii_lowercase, 7) for _ in range(4))
        return Canary("quoted-credential", f"passphrase='{phrase}' # set by ops", phrase)

    def assignment(self) -> Canary:
        pw = self.password(14)
        return Canary("credential-assignment", f"export REGISTRY_TOKEN={pw}", pw)

    def flag(self) -> Canary:
        pw = self.password(14)
        return Canary("credential-flag", f"redis-server --requirepass {pw} --port 6379", pw)

    def high_entropy(self) -> Canary:
        key = self.mixed(URLSAFE, 48)
        return Canary("high-entropy", key, key)


def every_format(seed: int = 15) -> list[Canary]:
    """One canary of each listed format (two for some), from one seed."""
    f = Forge(seed)
    return [
        f.github_classic("ghp"),
        f.github_classic("ghs"),
        f.github_fine_grained(),
        f.slack_bot(),
        f.slack_user(),
        f.slack_app(),
        f.slack_webhook(),
        f.openai_legacy(),
        f.openai_project(),
        f.anthropic(),
        f.aws_access_key_id("AKIA"),
        f.aws_access_key_id("ASIA"),
        f.aws_secret_key(),
        f.google_api_key(),
        f.jwt(),
        f.private_key("RSA"),
        f.private_key("OPENSSH"),
        f.private_key(""),
        f.basic_auth(),
        f.bearer(),
        f.url_password("postgres"),
        f.url_password("redis"),
        f.connection_string(),
        f.high_entropy(),
    ]


def every_entry(seed: int = 16) -> list[Canary]:
    """`every_format` plus a canary for each other entry of the table (vendors and contexts the issue did
    not list), so every row of formats.yaml is tested."""
    f = Forge(seed)
    return [
        *every_format(seed),
        f.gitlab(),
        f.stripe(),
        f.huggingface(),
        f.npm(),
        f.azure(),
        f.registry_auth(),
        f.manifest_env_json(),
        f.manifest_env_yaml(),
        f.quoted(),
        f.assignment(),
        f.flag(),
    ]


def leaks(text: str, canaries: list[Canary]) -> list[str]:
    """`format: needle` for every piece of a canary found in `text`."""
    return [f"{c.format}: {n[:24]}" for c in canaries for n in c.needles if n in text]
