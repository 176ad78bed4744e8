"""Reading what a person or Alertmanager posted (pure functions), and the command's one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.slack.incidents import incident_for
from orchestrator.slack.settings import SettingsError, settings_from
from orchestrator.slack.triggers import TriggerError, parse_alert, parse_command
from tests.run.helpers import run_cli

ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}


@pytest.mark.parametrize(
    ("text", "verb", "namespace", "summary"),
    [
        ("<@UBOT> investigate -n shop checkout is failing", "investigate", "shop", "checkout is failing"),
        ("<@UBOT> checkout &lt;500s&gt; --namespace=shop", "investigate", "shop", "checkout <500s>"),
        ("-nshop <https://grafana.example/d/1|this dashboard> is red", "investigate", "shop", "this dashboard is red"),
        ("STATUS", "status", None, ""),
        ("help me", "help", None, "me"),
    ],
)
def test_commands_read_like_kubectl(text: str, verb: str, namespace: str | None, summary: str) -> None:
    command = parse_command(text)
    assert (command.verb, command.namespace, command.summary) == (verb, namespace, summary)


def test_cancel_takes_an_id_and_bad_namespaces_are_refused() -> None:
    assert parse_command("cancel a1b2c3").target == "a1b2c3"
    assert parse_command("cancel").target is None
    with pytest.raises(TriggerError, match="not a namespace name"):
        parse_command("investigate -n Shop_1 x")
    with pytest.raises(TriggerError, match="needs a namespace"):
        parse_command("investigate x -n")


def test_alertmanager_posts_are_read_from_attachments_or_text() -> None:
    post = parse_alert(
        {
            "attachments": [
                {
                    "title": "[FIRING:2] KubePodCrashLooping shop (api critical)",
                    "fields": [{"title": "namespace", "value": "shop"}, {"title": "summary", "value": "api restarts"}],
                }
            ]
        }
    )
    assert post is not None and post.firing and post.alertname == "KubePodCrashLooping"
    assert (post.namespace, post.summary, post.key) == (
        "shop",
        "api restarts",
        "kubepodcrashlooping shop (api critical)",
    )
    # the same group re-notified with another count has the same key; resolved is not firing
    again = parse_alert({"attachments": [{"title": "[RESOLVED] KubePodCrashLooping shop (api critical)"}]})
    assert again is not None and again.key == post.key and not again.firing
    text_only = parse_alert({"text": '[FIRING:1] TargetDown\nLabels: alertname=TargetDown, namespace="mon", job="x"'})
    assert text_only is not None and text_only.labels == {"alertname": "TargetDown", "namespace": "mon", "job": "x"}
    assert parse_alert({"text": "deploy of shop finished"}) is None
    assert parse_alert({"attachments": [{"title": "[FIRING:1] Up", "text": "namespace: Not_Valid"}]}).namespace is None


def test_an_incident_needs_a_namespace_and_a_summary(tmp_path: Path) -> None:
    settings = settings_from(ENV, scenario="builtin:image", mode="dry-run")
    with pytest.raises(TriggerError, match="which namespace"):
        incident_for(settings, namespace=None, summary="x", name_hint="x")
    with pytest.raises(TriggerError, match="what is wrong"):
        incident_for(settings, namespace="shop", summary=" ", name_hint="x")
    inc = incident_for(settings, namespace="shop", summary="checkout fails", name_hint="Checkout fails!")
    assert inc.metadata.name == "slack-checkout-fails" and inc.spec.remediation.mode == "dry-run"
    assert inc.spec.remediation.allowed_namespaces == ["shop"]
    unknown = settings_from(ENV, scenario="builtin:image", mode="dry-run", model="builtin/nope")
    with pytest.raises(TriggerError, match=r"^cannot make an incident of it: spec\.model: unknown built-in model"):
        incident_for(unknown, namespace="shop", summary="checkout fails", name_hint="x")


def test_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        settings_from({})
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN for Socket Mode or"):
        settings_from({"SLACK_BOT_TOKEN": "xoxb-1"})
    with pytest.raises(SettingsError, match="xapp-"):
        settings_from({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"})
    with pytest.raises(SettingsError, match="--mode"):
        settings_from(ENV, mode="auto")
    with pytest.raises(SettingsError, match="--approvers"):
        settings_from(ENV, approvers=("alice",))
    s = settings_from(ENV, approvers=("U1", "SONCALL"))
    assert s.approver_users == {"U1"} and s.approver_groups == {"SONCALL"}
    assert "xoxb-1" not in repr(s) and "xapp-1" not in repr(s)


def test_the_command_fails_in_one_line_without_tokens() -> None:
    code, out, err = run_cli("slack", env={"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "", "SLACK_SIGNING_SECRET": ""})
    assert code == 2 and err.strip() == "error: $SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)"
    code, out, err = run_cli("slack", "--scenario", "nope", env=ENV)
    assert code == 2 and err.startswith("error: no built-in scenario 'nope'") and len(err.strip().splitlines()) == 1
    code, out, err = run_cli("slack", "--mode", "auto", env={**ENV, "SLACK_APP_TOKEN": "xapp-secret-value"})
    assert code == 2 and "--mode must be" in err and "xapp-secret-value" not in err
