"""How Kubernetes objects are judged: pod health, label selectors, quantities and timestamps.

Pure functions on objects as the API serves them (camelCase JSON dicts), so every check agrees on what
"ready" or "selected" means.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from ..tools.rows import condition, parse_time  # noqa: F401 - re-exported to the checks

TIMESTAMP_KEY = re.compile(r"(Timestamp|Time|At)$")
SUFFIXES = {
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


# ---------------------------------------------------------------------------------------------- metadata
def meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def status(obj: dict) -> dict:
    return obj.get("status") or {}


def spec(obj: dict) -> dict:
    return obj.get("spec") or {}


def deleting(obj: dict) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def owned_by(obj: dict, uids: Collection[str | None]) -> bool:
    return any(ref.get("uid") in uids for ref in meta(obj).get("ownerReferences") or [])


# ---------------------------------------------------------------------------------------------- time
@functools.lru_cache(maxsize=1024)
def _is_time_key(key: str) -> bool:
    return TIMESTAMP_KEY.search(key) is not None


def _timestamp_texts(obj: Any, into: set[str]) -> None:
    """Collect the text of every timestamp field in an object (creationTimestamp, lastTransitionTime,
    startedAt, finishedAt...)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, str):
                if value and _is_time_key(key):
                    into.add(value)
            elif isinstance(value, dict | list):
                _timestamp_texts(value, into)
    elif isinstance(obj, list):
        for item in obj:
            _timestamp_texts(item, into)


def newest(objs: Iterable[Any], *more: float | None) -> float | None:
    """The latest timestamp in the objects or `more`. Each distinct text is parsed once: a cluster's
    objects share few distinct times (thousands of pods changed in the same seconds)."""
    texts: set[str] = set()
    for o in objs:
        _timestamp_texts(o, texts)
    seen = [ts for text in texts if (ts := parse_time(text)) is not None] + [m for m in more if m is not None]
    return max(seen) if seen else None


# ---------------------------------------------------------------------------------------------- selectors
def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """A LabelSelector (matchLabels + matchExpressions). An empty selector matches everything."""
    labels = labels or {}
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def service_selects(selector: dict | None, labels: dict | None) -> bool:
    """A Service's plain selector map; an empty one selects no pod (it is managed by hand)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def template_labels(workload: dict) -> dict:
    return meta(spec(workload).get("template") or {}).get("labels") or {}


# ---------------------------------------------------------------------------------------------- pods
def pod_ready(pod: dict) -> bool:
    return condition(pod, "Ready").get("status") == "True"


def container_statuses(pod: dict) -> list[dict]:
    st = status(pod)
    return list(st.get("initContainerStatuses") or []) + list(st.get("containerStatuses") or [])


def pod_problems(pod: dict) -> list[str]:
    """Why a pod is not serving: Pending/Failed, waiting reasons (CrashLoopBackOff, ImagePullBackOff...),
    not Ready. Empty for a healthy pod and for a finished one (Succeeded)."""
    phase = status(pod).get("phase") or "Unknown"
    if phase == "Succeeded":
        return []
    problems: list[str] = []
    if phase != "Running":
        scheduled = condition(pod, "PodScheduled")
        unschedulable = scheduled.get("status") == "False" and scheduled.get("reason")
        problems.append(f"{phase} ({unschedulable})" if unschedulable else phase)
    for cs in container_statuses(pod):
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting is not None:
            reason = waiting.get("reason") or "Waiting"
            if reason not in problems:
                problems.append(reason)
    if not pod_ready(pod):
        problems.append("not Ready")
    return problems


def container_ports(pod: dict) -> list[dict]:
    return [p for c in spec(pod).get("containers") or [] for p in c.get("ports") or []]


# ---------------------------------------------------------------------------------------------- quantities
def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity ("64Gi", "250m", "1.5", "1e3") as a Decimal; None if unreadable."""
    text = str(value).strip()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix):
            number = text[: -len(suffix)]
            scale = SUFFIXES[suffix]
            break
    else:
        number, scale = text, Decimal(1)
    try:
        return Decimal(number) * scale
    except InvalidOperation:
        return None
