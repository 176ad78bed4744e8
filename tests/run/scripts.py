"""Scripted models for the local OpenAI-compatible server: they read the tools offered and the
conversation like a model would, and answer with tool calls. One is honest, one lies about the fix."""

from __future__ import annotations

import json
from typing import Any

NS = "otel-demo"
CULPRIT = {"kind": "Deployment", "name": "product-catalog", "namespace": NS}


def _call(name: str, args: dict[str, Any] | str, thought: str | None = None) -> dict[str, Any]:
    target = args.get("name", args.get("namespace", "")) if isinstance(args, dict) else ""
    return {"content": thought or f"Action: {name} {target}", "tool_calls": [{"name": name, "arguments": args}]}


def _offered(body: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or []}


def _results_since_instruction(body: dict[str, Any]) -> list[str]:
    """Tool results the model has seen since the engine's latest state instruction."""
    msgs = body["messages"]
    start = max(
        (i for i, m in enumerate(msgs) if m.get("role") == "user" and "```sre-agent" in str(m.get("content"))),
        default=0,
    )
    return [str(m.get("content")) for m in msgs[start:] if m.get("role") == "tool"]


def honest(body: dict[str, Any]) -> dict[str, Any]:
    tools, seen = _offered(body), _results_since_instruction(body)
    if "submit_plan" in tools:
        return _call(
            "submit_plan",
            {
                "hypotheses": ["bad rollout"],
                "steps": [{"tool": "list_pods", "target": NS, "purpose": "find unready pods"}],
            },
        )
    if "submit_diagnosis" in tools:
        if not seen:  # a malformed call first: the engine must answer it, not crash
            return {
                "content": "Action: list_pods otel-demo",
                "tool_calls": [{"name": "list_pods", "arguments": "{namespace: otel"}],
            }
        if len(seen) == 1:
            return _call("list_pods", {"namespace": NS})
        return _call(
            "submit_diagnosis",
            {
                "summary": "product-catalog's latest rollout uses an image that does not exist",
                "entities": [
                    {
                        "name": f"{NS}/Deployment/product-catalog",
                        "contributing_factor": True,
                        "reasoning": "ImagePullBackOff",
                        "evidence": ["pod_reason: ImagePullBackOff"],
                    }
                ],
                "mitigations": [{"action": "rollout_undo", "args": CULPRIT}],
            },
        )
    if "submit_mitigation" in tools:
        if not seen:
            return _call("rollout_undo", CULPRIT)
        return _call(
            "submit_mitigation",
            {
                "summary": "rolled back",
                "actions": [{"action": "rollout_undo", "args": CULPRIT, "result": "applied"}],
                "remediated": [f"{NS}/Deployment/product-catalog"],
            },
        )
    if "submit_verdict" in tools:
        if not seen:
            return _call("list_pods", {"namespace": NS})
        pods = json.loads(seen[-1]).get("pods", [])
        healthy = all(not p.get("reasons") for p in pods if isinstance(p, dict))
        return _call(
            "submit_verdict",
            {
                "verdict": "PASS" if healthy else "FAIL",
                "checks": [{"name": "pods healthy", "passed": healthy}],
                "objections": [] if healthy else ["pods unhealthy"],
            },
        )
    return {"content": "nothing to do"}


def liar(body: dict[str, Any]) -> dict[str, Any]:
    """Blames the wrong workload, restarts it, and swears the incident is fixed without looking."""
    tools, seen = _offered(body), _results_since_instruction(body)
    wrong = {"kind": "Deployment", "name": "frontend", "namespace": NS}
    if "submit_plan" in tools:
        return _call("submit_plan", {"hypotheses": ["frontend is stuck"], "steps": []})
    if "submit_diagnosis" in tools:
        return _call(
            "submit_diagnosis",
            {
                "summary": "frontend is stuck",
                "entities": [
                    {"name": f"{NS}/Deployment/frontend", "contributing_factor": True, "evidence": ["it is slow"]}
                ],
                "mitigations": [{"action": "rollout_restart", "args": wrong}],
            },
        )
    if "submit_mitigation" in tools:
        if not seen:
            return _call("rollout_restart", wrong)
        return _call(
            "submit_mitigation",
            {
                "summary": "restarted; the incident is fixed",
                "actions": [{"action": "rollout_restart", "args": wrong, "result": "applied"}],
                "remediated": [f"{NS}/Deployment/frontend"],
            },
        )
    if "submit_verdict" in tools:
        return _call(
            "submit_verdict", {"verdict": "PASS", "checks": [{"name": "fixed", "passed": True, "evidence": "trust me"}]}
        )
    return {"content": "The incident is resolved. TERMINATE"}


def repeater(body: dict[str, Any]) -> dict[str, Any]:
    """Plans, then reads the same pod list over and over and never decides."""
    if "submit_plan" in _offered(body):
        return _call("submit_plan", {"hypotheses": ["something is wrong"], "steps": []})
    return _call("list_pods", {"namespace": NS})
