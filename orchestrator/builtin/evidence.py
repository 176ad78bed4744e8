"""The evidence in front of the builtin model, read the way an SRE reads tool output.

`Evidence.need(tool, args)` returns the result of a read this state already made, or raises `NeedRead`
so the policy asks for it next. A policy is therefore straight-line code that is simply re-run on every
request: reads it has are used, the first read it lacks becomes the next tool call, and no read is
ever repeated. When the state's step budget is nearly spent, `need` stops raising and the policy
concludes from what it has.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .transcript import Observation


class NeedRead(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The policy needs this read before it can go on."""

    def __init__(self, tool: str, args: dict[str, Any], why: str) -> None:
        super().__init__(f"{tool} {args}")
        self.tool, self.arguments, self.why = tool, args, why


def signature(tool: str, args: dict[str, Any]) -> str:
    return json.dumps([tool, args], sort_keys=True, default=str)


class Evidence:
    def __init__(self, observations: list[Observation], offered: list[str], eager: bool = True) -> None:
        self.observations = observations
        self.offered = set(offered)
        self.eager = eager  # False once the budget says: conclude with what you have
        self._by_sig = {signature(o.tool, o.args): o for o in observations}

    # -------------------------------------------------------------------------------------- reads
    def need(self, tool: str, args: dict[str, Any], why: str = "") -> dict[str, Any] | None:
        """The content of a successful read, None if it failed or cannot be made; NeedRead if not made yet."""
        args = {k: v for k, v in args.items() if v is not None}
        ob = self._by_sig.get(signature(tool, args))
        if ob is not None and ob.answered:
            return ob.content if ob.ok else None
        if ob is not None:  # asked but no answer visible: do not ask twice
            return None
        if tool not in self.offered or not self.eager:
            return None
        raise NeedRead(tool, args, why)

    def failed(self, tool: str, args: dict[str, Any]) -> str | None:
        """The error of a read that came back ok=False (e.g. 'not found')."""
        ob = self._by_sig.get(signature(tool, {k: v for k, v in args.items() if v is not None}))
        if ob is not None and ob.answered and not ob.ok:
            return ob.error or "failed"
        return None

    # -------------------------------------------------------------------------------------- shaped reads
    def alerts(self, ns: str) -> list[dict[str, Any]]:
        content = self.need("get_alerts", {"namespace": ns}, "which alerts fire in the namespace") or {}
        return [a for a in rows(content, "alerts") if str(a.get("state", "active")) in ("active", "firing", "")]

    def workloads(self, ns: str) -> list[dict[str, Any]]:
        content = self.need("list_workloads", {"namespace": ns}, "which workloads are unhealthy") or {}
        return rows(content, "workloads")

    def pods(self, ns: str, selector: str | None = None) -> list[dict[str, Any]]:
        content = self.need("list_pods", {"namespace": ns, "selector": selector}, "pod states and reasons") or {}
        return rows(content, "pods")

    def resources(self, kind: str, ns: str | None) -> list[dict[str, Any]] | None:
        """Rows of list_resources, or None when the read failed."""
        content = self.need("list_resources", {"kind": kind, "namespace": ns}, f"the {kind}s")
        return None if content is None else rows(content, "items")

    def describe(self, kind: str, name: str, ns: str | None) -> dict[str, Any] | None:
        return self.need("describe", {"kind": kind, "name": name, "namespace": ns}, f"{kind} {name} in detail")

    def events(self, ns: str, obj: str) -> list[dict[str, Any]]:
        content = self.need("get_events", {"namespace": ns, "object": obj}, f"warnings about {obj}") or {}
        return rows(content, "events")

    def history(self, kind: str, name: str, ns: str) -> dict[str, Any] | None:
        return self.need(
            "rollout_history", {"kind": kind, "name": name, "namespace": ns}, f"what changed in {kind} {name}"
        )

    def logs(self, ns: str, workload: str, previous: bool = False) -> list[str]:
        args: dict[str, Any] = {"namespace": ns, "workload": workload}
        if previous:
            args["previous"] = True
        content = self.need("get_logs", args, f"what {workload} prints") or {}
        return [str(line) for line in content.get("lines") or [] if "omitted" not in str(line)[:40]]

    def metric(self, query: str) -> list[dict[str, Any]] | None:
        content = self.need("query_metrics", {"query": query}, "follow the failing calls")
        return None if content is None else rows(content, "result")


# ---------------------------------------------------------------------------------------------- helpers
def rows(content: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The object rows of a list field; a context cut leaves markers ("… 5 of 21 items omitted …") in
    lists and summaries ("{… 12 keys}") in place of deep objects, which are skipped."""
    return [r for r in content.get(key) or [] if isinstance(r, dict)]


def was_cut(content: dict[str, Any] | None, key: str) -> bool:
    """Whether a list came back incomplete (capped by the tool or cut to fit the context)."""
    if not content:
        return False
    items = content.get(key) or []
    return bool(content.get("truncated")) or any(not isinstance(r, dict) for r in items)


def split_ref(ref: str) -> tuple[str, str, str]:
    """'ns/Kind/name' -> (ns, Kind, name); 'Kind/name' -> ('', Kind, name)."""
    parts = str(ref).split("/")
    if len(parts) >= 3:
        return parts[0], parts[1], "/".join(parts[2:])
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return "", "", parts[0]


def owner_name(owner: Any) -> tuple[str, str]:
    """'Deployment/x' (or 'ns/Deployment/x') -> ('Deployment', 'x')."""
    _, kind, name = split_ref(str(owner or ""))
    return kind, name


_QUANTITY = re.compile(r"^\s*(?P<num>[0-9.]+)\s*(?P<unit>[a-zA-Z]*)\s*$")
_UNITS = {
    "": 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


def quantity(text: Any) -> float | None:
    """A Kubernetes quantity ('256Mi', '100m', '2') as a number, or None."""
    if isinstance(text, int | float):
        return float(text)
    m = _QUANTITY.match(str(text or ""))
    if not m or m["unit"] not in _UNITS:
        return None
    try:
        return float(m["num"]) * _UNITS[m["unit"]]
    except ValueError:
        return None


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def ready_counts(text: Any) -> tuple[int, int]:
    """'1/2' -> (1, 2)."""
    m = re.match(r"^\s*(\d+)\s*/\s*(\d+)\s*$", str(text or ""))
    return (int(m[1]), int(m[2])) if m else (0, 0)
