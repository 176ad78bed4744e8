"""What `sre-agent slack` is told: its tokens (from the environment, never from a flag, never logged), the
cluster and defaults every investigation starts from, and who may approve a change."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..incident import DNS_LABEL

ENV_BOT_TOKEN = "SLACK_BOT_TOKEN"
ENV_APP_TOKEN = "SLACK_APP_TOKEN"  # Socket Mode
ENV_SIGNING_SECRET = "SLACK_SIGNING_SECRET"  # HTTP mode
ENV_API_URL = "SLACK_API_URL"  # another Web API base URL (an Enterprise Grid proxy, or a local stub)
REMEDIATION_MODES = ("approve", "dry-run", "off")  # `auto` is no choice for a chat trigger anyone can pull
USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
GROUP_ID = re.compile(r"^S[A-Z0-9]+$")


class SettingsError(ValueError):
    """A flag or an environment variable that cannot work; the message is one line."""


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    api_url: str | None = None
    port: int = 3000  # HTTP mode
    namespace: str | None = None  # when a request names none
    kube_context: str | None = None
    kubeconfig: Path | None = None
    scenario: str | None = None  # run every investigation on the embedded simulator with this scenario
    model: str | None = None
    mode: str = "approve"
    approvers: tuple[str, ...] = ()  # user ids (U…/W…) and user group ids (S…)
    alert_channels: tuple[str, ...] = ()  # channel ids whose Alertmanager posts start investigations
    concurrency: int = 2
    approval_timeout: float = 900.0  # seconds; an unanswered request is rejected
    update_interval: float = 2.0  # seconds between two edits of one progress message
    dedupe_window: float = 3600.0  # seconds during which a repeated alert joins its thread
    runs_dir: Path = Path("runs")
    state_file: Path = Path("runs/slack-state.json")

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def approver_users(self) -> frozenset[str]:
        return frozenset(a for a in self.approvers if not GROUP_ID.match(a))

    @property
    def approver_groups(self) -> frozenset[str]:
        return frozenset(a for a in self.approvers if GROUP_ID.match(a))


def settings_from(env: Mapping[str, str] | None = None, **flags: Any) -> SlackSettings:
    """Settings from the environment (tokens) and the command's flags, checked: SettingsError says what is
    wrong in one line without echoing any token."""
    env = os.environ if env is None else env
    bot = env.get(ENV_BOT_TOKEN, "").strip()
    if not bot:
        raise SettingsError(f"${ENV_BOT_TOKEN} is not set (the bot token, xoxb-...)")
    app_token = env.get(ENV_APP_TOKEN, "").strip() or None
    secret = env.get(ENV_SIGNING_SECRET, "").strip() or None
    if app_token is None and secret is None:
        raise SettingsError(
            f"set ${ENV_APP_TOKEN} for Socket Mode or ${ENV_SIGNING_SECRET} for HTTP mode (neither is set)"
        )
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SettingsError(f"${ENV_APP_TOKEN} is not an app-level token (it should begin with xapp-)")
    values = {k: v for k, v in flags.items() if v is not None}
    approvers: tuple[str, ...] = tuple(values.pop("approvers", ()) or ())
    for who in approvers:
        if not (USER_ID.match(who) or GROUP_ID.match(who)):
            raise SettingsError(f"--approvers takes Slack user ids (U…) or user group ids (S…), not {who!r}")
    mode = str(values.get("mode", "approve"))
    if mode not in REMEDIATION_MODES:
        raise SettingsError(f"--mode must be {', '.join(REMEDIATION_MODES)}, not {mode!r}")
    ns = values.get("namespace")
    if ns is not None and not re.match(DNS_LABEL, str(ns)):
        raise SettingsError(f"--namespace must be a DNS label (lower-case letters, digits, '-'), not {ns!r}")
    if int(values.get("concurrency", 2)) < 1:
        raise SettingsError("--concurrency must be at least 1")
    if values.get("scenario") and (values.get("kube_context") or values.get("kubeconfig")):
        raise SettingsError("--scenario runs the embedded simulator; it does not take --context or --kubeconfig")
    if "runs_dir" in values and "state_file" not in values:
        values["state_file"] = Path(str(values["runs_dir"])) / "slack-state.json"
    return SlackSettings(
        bot_token=bot,
        app_token=app_token,
        signing_secret=secret,
        api_url=env.get(ENV_API_URL) or None,
        approvers=approvers,
        **values,
    )
