"""The simulated cluster's HTTP front: the Kubernetes REST API, Prometheus, Alertmanager and /sim/v1.

Request paths are parsed once into a `Target` (resource type, namespace, name, sub-resource) and the
verb handlers work on the store. Everything runs on one event loop, so handlers never race controllers.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import yaml
from aiohttp import web

from . import authz, conversion, crds, discovery, managed_fields, metrics_api, paging, protobuf, schema, tables
from . import patch as patching
from .clock import rfc3339
from .errors import ApiError
from .openapi import OpenAPI
from .resources import VIRTUAL_GROUPS, ResourceType, api_group_list, api_resource_list
from .selectors import SelectorError, parse_field_selector, parse_label_selector

if TYPE_CHECKING:
    from .cluster import Cluster

K8S_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-sre-agent-sim",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

SUPPORTED_FIELDS = {
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "status.phase",
    "spec.unschedulable",
    "spec.schedulerName",
    "type",
    "reason",
    "source",
    "involvedObject.kind",
    "involvedObject.name",
    "involvedObject.namespace",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
}


@dataclass
class Target:
    rtype: ResourceType
    namespace: str | None
    name: str | None
    sub: str | None
    version: str = ""  # as requested: differs from rtype.version for a group's older versions


def json_response(body: dict | list, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")), status=status, content_type="application/json")


PROTOBUF = "application/vnd.kubernetes.protobuf"
OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
FIELD_VALIDATION = ("Ignore", "Warn", "Strict")
# Sent back as Warning headers (a typed request key where this aiohttp has them).
WARNINGS: Any = web.RequestKey("warnings", list) if hasattr(web, "RequestKey") else "warnings"


def error_response(err: ApiError) -> web.Response:
    return json_response(err.status(), err.code)


class ApiServer:
    """Builds the aiohttp application for one Cluster."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.registry = cluster.store.registry
        self.openapi = OpenAPI(self.registry)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors], client_max_size=64 * 1024**2)
        r = app.router
        r.add_get("/version", self.version)
        r.add_get("/version/", self.version)  # the official client's VersionApi asks with the slash
        for probe in ("/healthz", "/livez", "/readyz"):
            r.add_get(probe, self.healthy)
        r.add_get("/api", self.core_versions)
        r.add_get("/apis", self.group_list)
        r.add_get("/openapi/v2", self.openapi_v2)
        r.add_get("/openapi/v3", self.openapi_v3_index)
        r.add_get("/openapi/v3/{rest:.*}", self.openapi_v3)
        app.on_response_prepare.append(self._stamp_date)
        self.cluster.add_routes(app)  # observability and control endpoints
        proxy = "/api/v1/namespaces/{namespace}/services/{service}/proxy{tail:(/.*)?}"
        r.add_route("GET", proxy, self.service_proxy)
        r.add_route("POST", proxy, self.service_proxy)
        r.add_route("*", "/api/{rest:.*}", self.dispatch)
        r.add_route("*", "/apis/{rest:.*}", self.dispatch)
        return app

    # ------------------------------------------------------------------ service proxy
    async def service_proxy(self, request: web.Request) -> web.StreamResponse:
        """The API server's proxy to a Service (how a laptop reaches in-cluster monitoring). The simulator
        runs one monitoring stack and no application servers: a Service that exists answers Prometheus' and
        Alertmanager's API paths from that stack, anything else as a Service without endpoints would."""
        namespace = request.match_info["namespace"]
        name = request.match_info["service"].split(":")[-2 if request.match_info["service"].count(":") == 2 else 0]
        if self.store.find(self.cluster.rt("Service"), namespace, name) is None:
            raise ApiError(404, f'services "{name}" not found', details={"name": name, "kind": "services"})
        tail = request.match_info["tail"] or "/"
        inner = request.clone(rel_url=request.rel_url.with_path(tail).with_query(request.rel_url.query))
        match = await request.app.router.resolve(inner)
        monitoring = match.http_exception is None and match.handler not in (self.dispatch, self.service_proxy)
        if tail.startswith(("/api/v1/", "/api/v2/")) and monitoring:
            inner._match_info = match  # noqa: SLF001 - aiohttp's way to hand a cloned request its route
            return await match.handler(inner)
        raise ApiError(503, f'no endpoints available for service "{name}"')

    # ------------------------------------------------------------------ middleware
    async def _stamp_date(self, request: web.Request, response: web.StreamResponse) -> None:
        """The Date header tells clients the server's time: the virtual clock's, as object timestamps are."""
        response.headers["Date"] = formatdate(self.cluster.clock.now(), usegmt=True)
        for warning in request.get(WARNINGS, ()):
            # RFC 7234 warn-code 299 is what kube-apiserver uses; clients print the text.
            response.headers.add("Warning", '299 - "' + warning.replace('"', '\\"') + '"')

    @web.middleware
    async def _errors(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            await self.cluster.reliability.before(request)
            return await handler(request)
        except ApiError as err:
            return error_response(err)
        except (SelectorError, patching.PatchError) as err:
            return error_response(ApiError(400, str(err)))
        except web.HTTPException:
            raise
        except (ValueError, KeyError, TypeError) as err:
            return error_response(ApiError(400, f"bad request: {err}"))

    # ------------------------------------------------------------------ discovery
    async def version(self, request: web.Request) -> web.Response:
        return json_response(K8S_VERSION)

    async def healthy(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def core_versions(self, request: web.Request) -> web.Response:
        aggregated = discovery.wanted(request.headers.get("Accept", ""))
        if aggregated:
            return _typed_json(discovery.document(self.registry, True, aggregated), aggregated)
        host = request.host.split(":")[0]
        return json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"{host}:443"}],
            }
        )

    async def group_list(self, request: web.Request) -> web.Response:
        aggregated = discovery.wanted(request.headers.get("Accept", ""))
        if aggregated:
            return _typed_json(discovery.document(self.registry, False, aggregated), aggregated)
        return json_response(api_group_list(self.registry))

    # ------------------------------------------------------------------ OpenAPI
    async def openapi_v2(self, request: web.Request) -> web.Response:
        accept = request.headers.get("Accept", "")
        if OPENAPI_V2_PROTOBUF in accept:
            # What kubectl asks for (it validates `kind: List` manifests itself against it).
            # Go's media type parser rejects the "@" of the requested type: answer as plain bytes.
            return web.Response(body=self.openapi.v2_protobuf(), content_type="application/octet-stream")
        if accept and "json" not in accept and "*/*" not in accept:
            raise ApiError(406, "only JSON and protobuf are served for /openapi/v2", "NotAcceptable")
        return web.Response(body=self.openapi.v2(), content_type="application/json")

    async def openapi_v3_index(self, request: web.Request) -> web.Response:
        return json_response(self.openapi.v3_index())

    async def openapi_v3(self, request: web.Request) -> web.Response:
        parts = request.match_info["rest"].strip("/").split("/")
        if parts[:1] == ["api"] and len(parts) == 2:
            doc = self.openapi.v3("", parts[1])
        elif parts[:1] == ["apis"] and len(parts) == 3:
            doc = self.openapi.v3(parts[1], parts[2])
        else:
            doc = None
        if doc is None:
            raise ApiError(404, f"the server could not find the requested resource ({request.path})")
        headers = {"Cache-Control": "public, immutable"} if "hash" in request.query else {}
        return web.Response(body=doc, content_type="application/json", headers=headers)

    # ------------------------------------------------------------------ routing
    def _parse(self, request: web.Request) -> Target | web.Response:
        parts = [p for p in request.path.split("/") if p]
        if parts[0] == "api":
            if len(parts) < 2:
                raise ApiError(404, "not found")
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) == 2:
                versions = self.registry.groups().get(parts[1])
                if not versions:
                    raise ApiError(404, f"the server could not find the requested resource (group {parts[1]})")
                gvs = [{"groupVersion": f"{parts[1]}/{v}", "version": v} for v in versions]
                return json_response(
                    {
                        "kind": "APIGroup",
                        "apiVersion": "v1",
                        "name": parts[1],
                        "versions": gvs,
                        "preferredVersion": gvs[0],
                    }
                )
            if len(parts) < 3:
                raise ApiError(404, "not found")
            group, version, rest = parts[1], parts[2], parts[3:]
        if not rest:
            known = self.registry.groups().get(group, ["v1"] if not group else [])
            if not self.registry.in_group_version(group, version) and version not in known:
                raise ApiError(404, f"the server could not find the requested resource ({group}/{version})")
            return json_response(api_resource_list(self.registry, group, version))
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        rt = self.registry.lookup(group, version, rest[0])
        if rt is None:
            raise ApiError(404, f"the server could not find the requested resource ({rest[0]})")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub == "finalize":
            sub = "status"
        if sub and sub not in rt.subresources:
            raise ApiError(404, f"the server could not find the requested resource ({rt.plural}/{sub})")
        if namespace is not None and not rt.namespaced:
            raise ApiError(404, f"the server could not find the requested resource ({rt.plural} is not namespaced)")
        return Target(rt, namespace, name, sub, version)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        target = self._parse(request)
        if isinstance(target, web.Response):
            return target
        method = request.method
        if "Impersonate-User" in request.headers and target.rtype.group not in VIRTUAL_GROUPS:
            # Requests made as another user (`kubectl --as`) get that user's RBAC decision.
            user = authz.request_user(request)
            attrs = authz.request_attributes(
                request, target.rtype.group, target.rtype.plural, target.namespace, target.name, target.sub
            )
            if not authz.decide(self.cluster, user, attrs)[0]:
                raise authz.forbidden(user, attrs)
        if target.rtype.group in VIRTUAL_GROUPS:
            return await self.virtual(request, target)
        if target.name is None:
            if method == "GET":
                if request.query.get("watch") in ("true", "1"):
                    return await self.watch(request, target)
                return self.list(request, target)
            if method == "POST":
                return await self.create(request, target)
            if method == "DELETE":
                return self.delete_collection(request, target)
        else:
            if target.sub == "log":
                return await self.cluster.pod_log(request, target.namespace or "default", target.name)
            if target.sub == "scale":
                return await self.scale(request, target)
            if method == "GET":
                return self.get(request, target)
            if method == "PUT":
                return await self.update(request, target)
            if method == "PATCH":
                return await self.patch(request, target)
            if method == "DELETE":
                return await self.delete(request, target)
        raise ApiError(405, f"method {method} not allowed on {request.path}")

    # ------------------------------------------------------------------ helpers
    def _wants_table(self, request: web.Request) -> bool:
        return "as=Table" in request.headers.get("Accept", "")

    def _include_object(self, request: web.Request) -> str:
        return request.query.get("includeObject", "Metadata")

    def _predicate(self, request: web.Request) -> Callable[[dict], bool]:
        labels = request.query.get("labelSelector")
        fields = request.query.get("fieldSelector")
        lsel = parse_label_selector(labels) if labels else None
        fsel = parse_field_selector(fields) if fields else None
        if fsel is not None:
            unknown = [f for f in fsel.fields if f not in SUPPORTED_FIELDS]
            if unknown:
                raise ApiError(400, f'field label not supported: "{unknown[0]}"')

        def pred(obj: dict) -> bool:
            if lsel is not None and not lsel.matches(obj["metadata"].get("labels") or {}):
                return False
            return fsel is None or fsel.matches(obj)

        return pred

    def _dry_run(self, request: web.Request) -> bool:
        return "All" in request.query.getall("dryRun", [])

    async def _body(self, request: web.Request) -> dict | list:
        raw = await request.read()
        if not raw:
            raise ApiError(400, "the request body is empty")
        ctype = request.content_type
        if ctype == PROTOBUF:
            return protobuf.decode(raw)
        try:
            if "yaml" in ctype:
                return yaml.safe_load(raw)
            return json.loads(raw)
        except (json.JSONDecodeError, yaml.YAMLError) as err:
            raise ApiError(
                400, f"the request body is not valid {'YAML' if 'yaml' in ctype else 'JSON'}: {err}"
            ) from err

    def _check_fields(
        self, request: web.Request, target: Target, obj: dict, old: dict | None, sub: str | None = None
    ) -> None:
        """Drop fields the kind does not declare; with fieldValidation=Strict (kubectl's default) they
        fail the request, with Warn (the API default) they come back as warnings."""
        mode = request.query.get("fieldValidation", "Warn")
        if mode not in FIELD_VALIDATION:
            raise ApiError(400, f'fieldValidation must be one of "Ignore", "Warn" or "Strict", not "{mode}"')
        rt = target.rtype
        if target.version and target.version != rt.version:
            return  # an older version's body: converted by admission, not described here
        if rt.custom:
            unknown = crds.check(self.registry, rt, obj, old, sub, strict=mode == "Strict")
        else:
            td = schema.load().for_kind(rt.group, rt.version, rt.kind)
            if td is None:
                return
            unknown = schema.unknown_fields(obj, td, old)
        if not unknown:
            return
        if mode == "Strict":
            listed = ", ".join(f'unknown field "{p}"' for p in unknown)
            raise ApiError(
                400,
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: strict decoding error: {listed}',
            )
        if mode == "Warn":
            request.setdefault(WARNINGS, []).extend(f'unknown field "{p}"' for p in unknown)

    def _check_kind(self, target: Target, body: dict) -> None:
        kind = body.get("kind")
        if kind and kind != target.rtype.kind and not (target.sub == "scale" and kind == "Scale"):
            raise ApiError(400, f"the kind of the object ({kind}) does not match the resource ({target.rtype.plural})")

    # ------------------------------------------------------------------ verbs
    def list(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rtype
        pred = self._predicate(request)
        keyed = sorted(
            (
                (f"{e.obj['metadata'].get('namespace', '')}/{e.obj['metadata']['name']}", e)
                for e in self.store.entries(rt, target.namespace)
                if pred(e.obj)
            ),
            key=lambda pair: pair[0],
        )
        rv = str(self.store.resource_version)
        shown, chunk = paging.page(
            [e for _, e in keyed], [k for k, _ in keyed], request.query.get("limit"), request.query.get("continue"), rv
        )
        entries = list(shown)
        meta = {"resourceVersion": rv, **chunk.metadata()}
        if self._wants_table(request) and rt.custom:
            objs = [e.obj for e in entries]
            now = self.cluster.clock.now()
            table = crds.table(self.registry, rt, objs, now, self._include_object(request), rv)
            table["metadata"] = meta
            return json_response(table)
        if self._wants_table(request):
            table = tables.to_table(
                rt.kind,
                [e.obj for e in entries],
                self.cluster.clock.now(),
                include_object=self._include_object(request),
                resource_version=rv,
            )
            table["metadata"] = meta
            return json_response(table)
        if target.version and target.version != rt.version:
            items = [_versioned(target, e.obj) for e in entries]
            api_version = f"{rt.group}/{target.version}"
            return json_response(
                {"kind": f"{rt.kind}List", "apiVersion": api_version, "metadata": meta, "items": items}
            )
        list_kind = rt.list_kind or f"{rt.kind}List"
        head = json.dumps(
            {"kind": list_kind, "apiVersion": rt.api_version, "metadata": meta}, separators=(",", ":")
        ).encode()
        body = head[:-1] + b',"items":[' + b",".join(e.raw for e in entries) + b"]}"
        return web.Response(body=body, content_type="application/json")

    def get(self, request: web.Request, target: Target) -> web.Response:
        obj = self.store.get(target.rtype, target.namespace or "", target.name or "")
        if self._wants_table(request) and target.rtype.custom:
            rv = obj["metadata"]["resourceVersion"]
            now = self.cluster.clock.now()
            return json_response(crds.table(self.registry, target.rtype, [obj], now, self._include_object(request), rv))
        if self._wants_table(request):
            return json_response(
                tables.to_table(
                    target.rtype.kind,
                    [obj],
                    self.cluster.clock.now(),
                    include_object=self._include_object(request),
                    resource_version=obj["metadata"]["resourceVersion"],
                )
            )
        return json_response(_versioned(target, obj))

    async def create(self, request: web.Request, target: Target) -> web.Response:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "the request body must be an object")
        self._check_kind(target, body)
        self._check_fields(request, target, body, None)
        obj = self.cluster.admit("CREATE", target.rtype, body, None, target.namespace)
        if self._dry_run(request):
            preview = copy.deepcopy(obj)
            preview.setdefault("metadata", {}).setdefault("namespace", target.namespace)
            preview["metadata"].setdefault("name", preview["metadata"].get("generateName", "") + "dryrun")
            return json_response(preview, 201)
        self._manage(request, target, obj, None, "Update")
        created = self.store.create(target.rtype, obj, target.namespace)
        self.cluster.after_write()
        return json_response(_versioned(target, created), 201)

    def _manage(self, request: web.Request, target: Target, obj: dict, old: dict | None, operation: str) -> None:
        """Record the request's field manager in the object it writes (metadata.managedFields)."""
        managed_fields.record(obj, old, managed_fields.manager_of(request), operation, target.rtype.api_version,
                              target.sub, rfc3339(self.cluster.now()))  # fmt: skip

    async def update(self, request: web.Request, target: Target) -> web.Response:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "the request body must be an object")
        self._check_kind(target, body)
        meta = body.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != target.name:
            raise ApiError(
                400, f"the name of the object ({meta['name']}) does not match the name on the URL ({target.name})"
            )
        meta["name"] = target.name
        if target.rtype.namespaced:
            meta["namespace"] = target.namespace
        old = self.store.get(target.rtype, target.namespace or "", target.name or "")
        self._check_fields(request, target, body, old, target.sub)
        obj = self.cluster.admit("UPDATE", target.rtype, body, old, target.namespace)
        if self._dry_run(request):
            return json_response(_versioned(target, obj))
        self._manage(request, target, obj, old, "Update")
        updated = self.store.replace(target.rtype, obj, subresource=target.sub)
        self.cluster.after_write()
        return json_response(_versioned(target, updated))

    async def patch(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rtype
        raw = await request.read()
        ctype = request.content_type
        try:
            doc = yaml.safe_load(raw) if "yaml" in ctype else json.loads(raw or b"null")
        except (json.JSONDecodeError, yaml.YAMLError) as err:
            raise ApiError(400, f"the patch is not valid: {err}") from err
        old_obj = self.store.find(rt, target.namespace or "", target.name or "")
        if old_obj is None:
            if ctype == "application/apply-patch+yaml" and target.sub is None and isinstance(doc, dict):
                return await self._apply_create(request, target, doc)
            old_obj = self.store.get(rt, target.namespace or "", target.name or "")
        old = old_obj
        current = copy.deepcopy(old)
        if ctype == "application/apply-patch+yaml" and not rt.custom and isinstance(doc, dict):
            # Server-side apply merges lists by their keys, as a strategic merge does.
            new = patching.strategic_merge_patch(current, doc, rt.kind)
        elif ctype == "application/json-patch+json":
            if not isinstance(doc, list):
                raise ApiError(400, "a JSON patch must be a list of operations")
            new = patching.json_patch(current, doc)
        elif ctype == "application/merge-patch+json" or ctype == "application/apply-patch+yaml":
            new = patching.json_merge_patch(current, doc)
        elif ctype == "application/strategic-merge-patch+json":
            if rt.custom:
                raise ApiError(415, "strategic merge patch is not supported for custom resources")
            new = patching.strategic_merge_patch(current, doc, rt.kind)
        else:
            raise ApiError(415, f"the media type {ctype!r} is not a supported patch type")
        if not isinstance(new, dict):
            raise ApiError(422, "the patch produced something other than an object")
        new.setdefault("metadata", {})
        new["metadata"]["name"] = target.name
        self._check_fields(request, target, new, old, target.sub)
        if target.sub == "status":
            new = {**old, "status": new.get("status", {})}
        obj = self.cluster.admit("UPDATE", rt, new, old, target.namespace)
        if self._dry_run(request):
            return json_response(_versioned(target, obj))
        self._manage(request, target, obj, old, "Apply" if ctype == "application/apply-patch+yaml" else "Update")
        # The patched object keeps the stored resourceVersion unless the patch set one: a stale one conflicts.
        updated = self.store.replace(rt, obj, subresource=target.sub)
        self.cluster.after_write()
        return json_response(_versioned(target, updated))

    async def _apply_create(self, request: web.Request, target: Target, doc: dict) -> web.Response:
        """Server-side apply of an object that does not exist yet creates it."""
        self._check_kind(target, doc)
        doc.setdefault("metadata", {})["name"] = target.name
        self._check_fields(request, target, doc, None)
        obj = self.cluster.admit("CREATE", target.rtype, doc, None, target.namespace)
        if self._dry_run(request):
            return json_response(obj, 201)
        created = self.store.create(target.rtype, obj, target.namespace)
        self.cluster.after_write()
        return json_response(created, 201)

    async def virtual(self, request: web.Request, target: Target) -> web.Response:
        """Computed resources: access reviews (create only) and resource metrics (get, list)."""
        rt = target.rtype
        if rt.group == "metrics.k8s.io":
            if request.method != "GET" or request.query.get("watch") in ("true", "1"):
                raise ApiError(405, f"the server does not allow this method on the requested resource ({rt.plural})")
            found = metrics_api.serve(self.cluster, rt, target.namespace, target.name, self._predicate(request))
            if self._wants_table(request):
                listing = found if "items" in found else {"items": [found]}
                return json_response(metrics_api.table(listing, self._include_object(request)))
            return json_response(found)
        if request.method != "POST" or target.name is not None:
            raise ApiError(405, f"the server does not allow this method on the requested resource ({rt.plural})")
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "the request body must be an object")
        self._check_kind(target, body)
        self._check_fields(request, target, body, None)
        return json_response(authz.review(self.cluster, request, rt, body, target.namespace), 201)

    async def delete(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rtype
        propagation = request.query.get("propagationPolicy")
        uid = None
        raw = await request.read()
        if raw:
            try:
                opts = json.loads(raw)
            except json.JSONDecodeError as err:
                raise ApiError(400, f"DeleteOptions are not valid JSON: {err}") from err
            propagation = opts.get("propagationPolicy") or propagation
            if opts.get("orphanDependents") is True:
                propagation = "Orphan"
            uid = (opts.get("preconditions") or {}).get("uid")
            if "All" in (opts.get("dryRun") or []):
                return json_response(self.store.get(rt, target.namespace or "", target.name or ""))
        if self._dry_run(request):
            return json_response(self.store.get(rt, target.namespace or "", target.name or ""))
        self.cluster.admit(
            "DELETE", rt, self.store.get(rt, target.namespace or "", target.name or ""), None, target.namespace
        )
        obj = self.store.delete(
            rt, target.namespace or "", target.name or "", propagation=propagation or "Background", precondition_uid=uid
        )
        self.cluster.after_write()
        return json_response(obj)

    def delete_collection(self, request: web.Request, target: Target) -> web.Response:
        pred = self._predicate(request)
        objs = [o for o in self.store.list(target.rtype, target.namespace) if pred(o)]
        if not self._dry_run(request):
            for o in objs:
                self.store.delete(target.rtype, o["metadata"].get("namespace", ""), o["metadata"]["name"])
            self.cluster.after_write()
        return json_response(
            {"kind": f"{target.rtype.kind}List", "apiVersion": target.rtype.api_version, "metadata": {}, "items": objs}
        )

    async def scale(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rtype
        ns = target.namespace or ""
        obj = self.store.get(rt, ns, target.name or "")
        if request.method in ("PUT", "PATCH"):
            raw = await request.read()
            doc = json.loads(raw or b"{}")
            if request.method == "PATCH" and request.content_type == "application/json-patch+json":
                doc = patching.json_patch(_scale_of(obj), doc)
            replicas = (doc.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError(
                    422, f'Scale.autoscaling "{target.name}" is invalid: spec.replicas: must be a non-negative integer'
                )
            if not self._dry_run(request):
                new = copy.deepcopy(obj)
                new["spec"]["replicas"] = replicas
                new = self.cluster.admit("UPDATE", rt, new, obj, ns)
                obj = self.store.replace(rt, new)
                self.cluster.after_write()
            else:
                obj = copy.deepcopy(obj)
                obj["spec"]["replicas"] = replicas
        return json_response(_scale_of(obj))

    async def watch(self, request: web.Request, target: Target) -> web.StreamResponse:
        rt = target.rtype
        pred = self._predicate(request)
        rv_param = request.query.get("resourceVersion", "")
        timeout = float(request.query.get("timeoutSeconds", "1800"))
        watcher = self.store.subscribe(rt, target.namespace, pred)
        try:
            if rv_param and rv_param != "0":
                initial = [
                    (e.type, e.entry.raw) for e in self.store.events_since(rt, int(rv_param), target.namespace, pred)
                ]
            else:
                initial = [("ADDED", e.raw) for e in self.store.entries(rt, target.namespace) if pred(e.obj)]
            resp = web.StreamResponse(headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
            await resp.prepare(request)
            last_rv = int(rv_param) if rv_param.isdigit() else self.store.resource_version
            for etype, raw in initial:
                await resp.write(b'{"type":"' + etype.encode() + b'","object":' + raw + b"}\n")
            # Events already replayed may also be queued: skip anything at or below what was sent.
            if initial:
                last_rv = max(last_rv, self.store.resource_version)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    event = await asyncio.wait_for(watcher.queue.get(), timeout=min(remaining, 30))
                except TimeoutError:
                    continue
                if event.rv <= last_rv:
                    continue
                last_rv = event.rv
                await resp.write(b'{"type":"' + event.type.encode() + b'","object":' + event.entry.raw + b"}\n")
            await resp.write_eof()
            return resp
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        finally:
            self.store.unsubscribe(watcher)


def _versioned(target: Target, obj: dict) -> dict:
    """The object in the version the request named (an older one is converted from storage)."""
    if not target.version or target.version == target.rtype.version:
        return obj
    return conversion.to_version(obj, target.rtype.group, target.version)


def _typed_json(body: dict, media_type: str) -> web.Response:
    """JSON under a parameterised media type (aggregated discovery names its kind in Content-Type)."""
    resp = web.Response(body=json.dumps(body, separators=(",", ":")))
    resp.headers["Content-Type"] = media_type
    return resp


def _scale_of(obj: dict) -> dict:
    meta = obj["metadata"]
    selector = (obj.get("spec") or {}).get("selector") or {}
    labels = selector.get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        },
    }
