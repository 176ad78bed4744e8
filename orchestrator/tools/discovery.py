"""Kinds the table in kinds.py lacks, found on the cluster itself: custom resources and any other type it
serves, through the discovery documents (`/api/v1`, `/apis`, `/apis/GROUP/VERSION`) as kubectl reads them.

    info = await kind_for(ctx, "widgets.example.com")   # also Widget, widget, wg, example.com/v1/Widget
    items = await ctx.kube.list(info, "shop")

The documents are read once per toolbox, and again when a kind is not found (a CRD created since).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ToolError
from .kinds import VERSION_PATTERN, KindInfo, UnknownKind, resolve_kind, written_group

if TYPE_CHECKING:
    from .context import ToolContext
    from .kube_api import KubeApi


@dataclass(frozen=True)
class Wanted:
    """A kind as written, taken apart: the name to match and, when given, its group and version."""

    key: str  # lowercased kind, plural, singular or short name
    group: str | None = None
    version: str | None = None


def parse(text: str) -> Wanted:
    raw = text.strip()
    parts = raw.split("/")
    if len(parts) == 3:  # group/version/Kind
        return Wanted(parts[2].lower(), parts[0], parts[1])
    if len(parts) == 2:  # v1/Kind (core) or group/Kind
        return Wanted(parts[1].lower(), *(("", parts[0]) if VERSION_PATTERN.match(parts[0]) else (parts[0], None)))
    key, _, rest = raw.partition(".")
    head, _, tail = rest.partition(".")
    if rest and VERSION_PATTERN.match(head):  # kind.version.group, as kubectl prints fully qualified kinds
        return Wanted(key.lower(), tail, head)
    return Wanted(key.lower(), written_group(raw))


@dataclass
class Discovery:
    kube: KubeApi
    _groups: dict[str, list[str]] | None = None  # group -> served versions, the preferred one first
    _resources: dict[tuple[str, str], list[dict]] = field(default_factory=dict)  # (group, version) -> resources

    async def find(self, text: str) -> KindInfo | None:
        """The served kind `text` names, or None; a cached miss is looked up once more, fresh."""
        wanted = parse(text)
        found = await self._search(wanted)
        if found is None and self._groups is not None:
            self._groups, self._resources = None, {}
            found = await self._search(wanted)
        return found

    async def _search(self, wanted: Wanted) -> KindInfo | None:
        groups = await self._group_versions()
        if wanted.group is not None:
            versions = groups.get(wanted.group, [])
            if wanted.version:
                versions = [wanted.version] if wanted.version in versions else []
            candidates = [(wanted.group, versions[0])] if versions else []
        else:
            candidates = [(g, v[0]) for g, v in groups.items() if v]  # core first, as /apis lists the rest
        lists = await asyncio.gather(*(self._resource_list(g, v) for g, v in candidates))
        for (group, version), resources in zip(candidates, lists, strict=True):
            for r in resources:
                if _names(r) & {wanted.key} and "/" not in r.get("name", ""):
                    return _info(group, version, r)
        return None

    async def _group_versions(self) -> dict[str, list[str]]:
        if self._groups is None:
            core = await self.kube.get_path("api", "APIVersions")
            groups: dict[str, list[str]] = {"": list(core.get("versions") or ["v1"])}
            doc = await self.kube.get_path("apis", "APIGroupList")
            for g in doc.get("groups") or []:
                preferred = (g.get("preferredVersion") or {}).get("version")
                versions = [v.get("version") for v in g.get("versions") or [] if v.get("version")]
                groups[g.get("name", "")] = sorted(versions, key=lambda v: v != preferred)
            self._groups = groups
        return self._groups

    async def _resource_list(self, group: str, version: str) -> list[dict]:
        key = (group, version)
        if key not in self._resources:
            path = f"apis/{group}/{version}" if group else f"api/{version}"
            try:
                doc = await self.kube.get_path(path, "APIResourceList")
            except ToolError:
                return []  # an aggregated API that is down (metrics-server): its kinds are not found now
            self._resources[key] = list(doc.get("resources") or [])
        return self._resources[key]


def _names(resource: dict) -> set[str]:
    names = {resource.get("name", ""), resource.get("singularName", ""), str(resource.get("kind", "")).lower()}
    return {n.lower() for n in names | set(resource.get("shortNames") or []) if n}


def _info(group: str, version: str, resource: dict) -> KindInfo:
    verbs = set(resource.get("verbs") or [])
    kind = str(resource.get("kind", ""))
    if not {"get", "list"} <= verbs:
        raise ToolError(
            f"{kind} ({resource.get('name')}) cannot be read: the cluster serves it only for {sorted(verbs)}"
        )
    return KindInfo(
        kind,
        "",
        "",
        namespaced=bool(resource.get("namespaced", True)),
        aliases=tuple(resource.get("shortNames") or ()),
        api_path=f"apis/{group}/{version}" if group else f"api/{version}",
        plural=str(resource.get("name", "")),
    )


async def kind_for(ctx: ToolContext, text: str, allowed: tuple[str, ...] | None = None) -> KindInfo:
    """A kind from the tools' table (kinds.py), else from the cluster's discovery documents."""
    try:
        return resolve_kind(text, allowed)
    except UnknownKind:
        found = await ctx.discovery.find(str(text))
    if found is None:
        raise ToolError(f"unknown kind {str(text).strip()!r}: the cluster serves no resource by that name")
    return found


def summary(obj: dict[str, Any]) -> dict[str, Any]:
    """A discovered kind's short summary: its phase and conditions, as most controllers report them."""
    status = obj.get("status") or {}
    out: dict[str, Any] = {}
    if isinstance(status, dict):
        if status.get("phase"):
            out["phase"] = status["phase"]
        conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
        if conditions:
            out["conditions"] = [
                f"{c.get('type')}={c.get('status')}" + (f" ({c['reason']})" if c.get("reason") else "")
                for c in conditions
            ]
    return out


def crd_summary(crd: dict[str, Any]) -> dict[str, Any]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    established: dict = next(
        (c for c in (crd.get("status") or {}).get("conditions") or [] if c.get("type") == "Established"), {}
    )
    return {
        "kind": names.get("kind"),
        "group": spec.get("group"),
        "plural": names.get("plural"),
        "scope": spec.get("scope"),
        "versions": [v.get("name") for v in spec.get("versions") or [] if v.get("served", True)],
        "established": established.get("status") == "True",
    }


SUMMARIES = {"CustomResourceDefinition.apiextensions.k8s.io": crd_summary}
