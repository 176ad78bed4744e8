"""What a person or Alertmanager said, read into a request: pure functions over message text.

A mention or slash command reads like a kubectl line: `investigate -n shop checkout is failing`
(the verb may be left out). An Alertmanager Slack-receiver post is read from its attachment (title, text,
fields) or its text: `[FIRING:3] HighErrorRate shop (checkout critical)` with label lines such as
`namespace: shop` or `• *alertname:* HighErrorRate` (backticks allowed). Its dedupe key is the alert group the title
names, so every re-notification of one group (an alert storm) lands in one thread.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from ..incident import DNS_LABEL

VERBS = ("investigate", "status", "cancel", "help")
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
LINK = re.compile(r"<(?:https?://[^|>]+\|)?([^>]+)>")  # <url|text> and <url> read as their text
TITLE = re.compile(r"^\s*\[(?P<status>FIRING|RESOLVED)(?::(?P<count>\d+))?\]\s*(?P<group>.*)$", re.IGNORECASE)
LABEL = re.compile(r"^[\s>•*\-]*\*?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\*?\s*[:=]\s*\*?\s*`?(?P<value>[^`\n]*?)`?\s*\*?$")
LABEL_PAIR = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)=\"?(?P<value>[^\",\s}]+)\"?")
NAMESPACE = re.compile(DNS_LABEL)


class TriggerError(ValueError):
    """A request that cannot start an investigation; the message is the one line to answer with."""


@dataclass(frozen=True)
class Command:
    verb: str  # investigate | status | cancel | help
    namespace: str | None = None
    summary: str = ""
    target: str | None = None  # cancel: the run's id


@dataclass(frozen=True)
class AlertPost:
    key: str  # the alert group: one thread per key
    firing: bool
    alertname: str
    labels: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def namespace(self) -> str | None:
        ns = self.labels.get("namespace")
        return ns if ns and NAMESPACE.match(ns) else None

    @property
    def alerts(self) -> list[dict[str, Any]]:
        """The post as an incident's `spec.alerts`."""
        return [{"name": self.alertname, "labels": self.labels}]


def plain(text: str) -> str:
    """Slack's message markup as the words a person typed: mentions dropped, links as their text, the
    three escaped characters back."""
    text = MENTION.sub(" ", text or "")
    text = LINK.sub(lambda m: m.group(1), text)
    return html.unescape(text).strip()


def parse_command(text: str) -> Command:
    """`[verb] [-n NS | --namespace NS | --namespace=NS] words…`; raises TriggerError for an unknown flag or
    a namespace that cannot be one."""
    words = plain(text).split()
    verb = "investigate"
    if words and words[0].lower() in VERBS:
        verb = words.pop(0).lower()
    namespace: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-n", "--namespace"):
            if i + 1 >= len(words):
                raise TriggerError(f"{word} needs a namespace")
            namespace, i = words[i + 1], i + 2
            continue
        if word.startswith("--namespace="):
            namespace, i = word.split("=", 1)[1], i + 1
            continue
        if word.startswith("-n") and len(word) > 2 and not rest:
            namespace, i = word[2:], i + 1
            continue
        rest.append(word)
        i += 1
    if namespace is not None and not NAMESPACE.match(namespace):
        raise TriggerError(f"{namespace!r} is not a namespace name (lower-case letters, digits and '-')")
    summary = " ".join(rest)
    if verb == "cancel":
        return Command(verb, namespace, "", rest[0] if rest else None)
    return Command(verb, namespace, summary)


def parse_alert(message: dict[str, Any]) -> AlertPost | None:
    """An Alertmanager Slack-receiver post, or None for a message that is not one."""
    title, texts = "", []
    for att in message.get("attachments") or []:
        if not isinstance(att, dict):
            continue
        title = title or str(att.get("title") or "")
        texts.append(str(att.get("text") or att.get("fallback") or ""))
        for f in att.get("fields") or []:
            if isinstance(f, dict):
                texts.append(f"{f.get('title', '')}: {f.get('value', '')}")
    body = str(message.get("text") or "")
    if not title:  # a receiver configured with only `text`: the title is its first line
        first, _, rest = body.partition("\n")
        title, body = first, rest
    texts.append(body)
    head = TITLE.match(plain(title))
    if head is None:
        return None
    labels = _labels("\n".join(plain(t) for t in texts))
    group = " ".join(head.group("group").split())
    alertname = labels.get("alertname") or (group.split()[0] if group else "")
    if not alertname:
        return None
    labels.setdefault("alertname", alertname)
    summary = labels.pop("summary", "") or labels.pop("description", "") or f"alert {group} is firing"
    return AlertPost(
        key=group.lower() or alertname.lower(),
        firing=head.group("status").upper() == "FIRING",
        alertname=alertname,
        labels=labels,
        summary=summary,
    )


def _labels(text: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for line in text.splitlines():
        m = LABEL.match(line)
        if m and m.group("value").strip() and "=" not in m.group("value"):
            labels.setdefault(m.group("key").lower(), m.group("value").strip())
            continue
        for pair in LABEL_PAIR.finditer(line):
            labels.setdefault(pair.group("key"), pair.group("value"))
    return labels
