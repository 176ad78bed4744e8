"""Secret values never leave the toolbox.

- Secret `data`/`stringData` values become `<redacted N bytes>`: the keys and sizes are evidence enough
  (an empty or resized credential is visible), the value never is.
- Environment variables from `valueFrom.secretKeyRef` show the reference (`secret/key`) only; literal
  values of credential-named variables (`POSTGRES_PASSWORD`) are masked.
- Any other text (logs, ConfigMap values, commands, events) goes through `orchestrator.redaction`, whose
  table of secret formats masks credential assignments, known tokens and random-looking strings; `scrub`
  applies it to a whole result as the tool wrapper's last step.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..redaction import MASK, is_credential_flag, is_credential_name, keep_value, mask_text

__all__ = ["MASK", "config_value", "env_value", "redact_argv", "redact_env", "secret_sizes"]


def secret_sizes(secret: dict) -> dict[str, str]:
    """A Secret's keys with the byte size of each value, never the value."""
    out: dict[str, str] = {}
    for key, value in (secret.get("data") or {}).items():
        try:
            size = len(base64.b64decode(value or "", validate=False))
        except (binascii.Error, ValueError):
            size = len(value or "")
        out[key] = f"<redacted {size} bytes>"
    for key, value in (secret.get("stringData") or {}).items():
        out[key] = f"<redacted {len(str(value).encode())} bytes>"
    return out


def redact_env(env: list[dict] | None) -> list[dict]:
    """Container env as the model may see it: references for valueFrom, masks for credentials."""
    out = []
    for e in env or []:
        name = e.get("name", "")
        source = e.get("valueFrom") or {}
        if "secretKeyRef" in source:
            r = source["secretKeyRef"] or {}
            out.append({"name": name, "secretKeyRef": f"{r.get('name')}/{r.get('key')}"})
        elif "configMapKeyRef" in source:
            r = source["configMapKeyRef"] or {}
            out.append({"name": name, "configMapKeyRef": f"{r.get('name')}/{r.get('key')}"})
        elif "fieldRef" in source:
            out.append({"name": name, "fieldRef": (source["fieldRef"] or {}).get("fieldPath")})
        elif "resourceFieldRef" in source:
            out.append({"name": name, "resourceFieldRef": (source["resourceFieldRef"] or {}).get("resource")})
        else:
            out.append({"name": name, "value": env_value(name, e.get("value"))})
    return out


def env_value(name: str, value: Any) -> Any:
    """A literal env value, masked when the variable is a credential or the text carries one."""
    if value is None:
        return None
    if is_credential_name(name) and not keep_value(str(value)):
        return MASK
    return mask_text(str(value))


def redact_argv(argv: list[Any] | None) -> list[str] | None:
    """Command or args: mask the word after a credential flag (`--requirepass x`) and assignments."""
    if argv is None:
        return None
    out: list[str] = []
    for word in map(str, argv):
        previous = out[-1] if out else ""
        if is_credential_flag(previous) and not keep_value(word):
            out.append(MASK)
        else:
            out.append(mask_text(word))
    return out


def config_value(key: str, value: Any, limit: int = 200) -> str:
    """A ConfigMap value for display: masked if credential-named, credential text masked, truncated."""
    text = str(value)
    if is_credential_name(key) and not keep_value(text):
        return MASK
    text = mask_text(text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"
