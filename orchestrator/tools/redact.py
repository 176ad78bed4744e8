"""Secret values never leave the toolbox.

- Secret `data`/`stringData` values become `<redacted N bytes>`: the keys and sizes are evidence enough
  (an empty or resized credential is visible), the value never is.
- Environment variables from `valueFrom.secretKeyRef` show the reference (`secret/key`) only; literal
  values of credential-named variables (`POSTGRES_PASSWORD`) are masked.
- Any text that looks like a credential assignment (`password=...`, `token: ...`, `api_key=...`,
  `--requirepass x`, `https://user:pw@host`, `Bearer ...`) is masked wherever it appears: logs,
  ConfigMap values, commands, events. `scrub` applies this to a whole result as the last step.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

MASK = "<redacted>"

_CRED_WORD = r"(?:password|passwd|pwd|pass|secret|token|key|apikey|credentials?)"
# A name that ends in a credential word at a word boundary: PASSWORD, DB_PASSWORD, api-key, auth.token;
# not "Valkey" or "monkey" (the word must start the name or follow a separator).
_CRED_NAME = re.compile(rf"^(?:.*[_\-.])?{_CRED_WORD}$|password|passwd|secret|token|apikey|api_key", re.IGNORECASE)
_ASSIGNMENT = re.compile(
    rf"(?i)\b((?:[\w-]*[_\-.])?{_CRED_WORD})(\"?'?\s*[=:]\s*[\"']?)([^\s\"',;&}}\]]+)",
)
_FLAG = re.compile(rf"(?i)(?:^|(?<=\s))(--?[\w-]*{_CRED_WORD}[\w-]*)(=|\s+)([^\s\"']+)")
_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+):([^@\s/]+)@")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}")


def is_credential_name(name: str) -> bool:
    """True for names whose values are credentials: VALKEY_PASSWORD, api_key, auth-token, secret."""
    return bool(_CRED_NAME.search(str(name)))


def _keep(value: str) -> bool:
    # References are evidence, not secrets: $(VALKEY_PASSWORD), ${TOKEN}, "$PASS", an earlier mask.
    return value.startswith(("$", "<redacted")) or value.lower() in ("true", "false", "none", "null", "")


def mask_text(text: str) -> str:
    """Mask credential-looking assignments in free text (log lines, config values, commands)."""
    if not text:
        return text
    text = _URL_USERINFO.sub(rf"\1:{MASK}@", text)
    text = _BEARER.sub(rf"\1 {MASK}", text)
    text = _ASSIGNMENT.sub(lambda m: m.group(0) if _keep(m.group(3)) else f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _FLAG.sub(lambda m: m.group(0) if _keep(m.group(3)) else f"{m.group(1)}{m.group(2)}{MASK}", text)


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
    if is_credential_name(name) and not _keep(str(value)):
        return MASK
    return mask_text(str(value))


def redact_argv(argv: list[Any] | None) -> list[str] | None:
    """Command or args: mask the word after a credential flag (`--requirepass x`) and assignments."""
    if argv is None:
        return None
    out: list[str] = []
    for word in map(str, argv):
        previous = out[-1] if out else ""
        if previous.startswith("-") and _FLAG.match(f"{previous} x") and not _keep(word):
            out.append(MASK)
        else:
            out.append(mask_text(word))
    return out


def config_value(key: str, value: Any, limit: int = 200) -> str:
    """A ConfigMap value for display: masked if credential-named, credential text masked, truncated."""
    text = str(value)
    if is_credential_name(key) and not _keep(text):
        return MASK
    text = mask_text(text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def scrub(value: Any) -> Any:
    """Mask credential-looking text anywhere in a JSON-able result (the toolbox's last step)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value
