"""API-level fault injection for reliability tests: latency, 5xx and 403 on chosen resources.

Rules are set through `POST /sim/v1/reliability` and match requests by path fragment and method, so a
test can make `pods` list calls fail with 500 three times, or every write return 403.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from aiohttp import web

from .errors import ApiError


@dataclass
class Rule:
    path: str = ""  # regular expression searched in the request path, e.g. "/pods" or "deployments/.*"
    methods: list[str] = field(default_factory=list)  # empty: any method
    status: int | None = None  # respond with this error code
    latency: float = 0.0  # seconds of real delay before handling
    times: int | None = None  # how many matching requests it applies to (None: until cleared)
    message: str = ""

    def matches(self, request: web.Request) -> bool:
        if request.path.startswith("/sim/"):
            return False
        if self.methods and request.method not in self.methods:
            return False
        return re.search(self.path, request.path) is not None


class Reliability:
    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def add(self, spec: dict) -> Rule:
        unknown = set(spec) - {"path", "methods", "status", "latency", "times", "message"}
        if unknown:
            raise ApiError(400, f"unknown reliability rule field(s): {', '.join(sorted(unknown))}")
        rule = Rule(**spec)
        re.compile(rule.path)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    async def before(self, request: web.Request) -> None:
        for rule in list(self.rules):
            if not rule.matches(request):
                continue
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
            if rule.latency:
                await asyncio.sleep(rule.latency)
            if rule.status:
                message = rule.message or {
                    403: f'forbidden: User "system:serviceaccount:sre-agent:sre-agent" cannot {request.method.lower()} {request.path}',
                    500: "Internal error occurred: injected by the simulator",
                    503: "the server is currently unable to handle the request",
                }.get(rule.status, "injected error")
                raise ApiError(rule.status, message)

    def describe(self) -> list[dict]:
        return [r.__dict__ for r in self.rules]
