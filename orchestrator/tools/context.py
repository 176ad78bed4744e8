"""What every tool works against: the cluster connection, the observability endpoints, the incident's
namespaces and the ActionPolicy that gates writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .discovery import Discovery
from .journal import WriteJournal
from .kube_api import KubeApi
from .policy import ActionPolicy


@dataclass
class ToolContext:
    api: Any  # kubernetes.client.ApiClient
    alertmanager_url: str | None = None
    prometheus_url: str | None = None
    namespaces: list[str] = field(default_factory=list)  # the incident's scope; may be empty
    policy: ActionPolicy = field(default_factory=ActionPolicy)
    journal: WriteJournal | None = None  # where every real write is recorded before and after it is sent
    kube: KubeApi = field(init=False, repr=False)
    discovery: Discovery = field(init=False, repr=False)  # kinds beyond the tools' table, read once

    def __post_init__(self) -> None:
        self.kube = KubeApi(self.api)
        self.discovery = Discovery(self.kube)

    def namespace_for(self, namespace: str | None, kind: str) -> str:
        """The namespace a namespaced object lives in: the argument, else the only namespace in scope."""
        from .errors import ToolError

        if namespace:
            return namespace
        if len(self.namespaces) == 1:
            return self.namespaces[0]
        raise ToolError(f"missing required argument 'namespace' (a {kind} is namespaced)")
