"""Async, JSON-in/JSON-out access to the Kubernetes API through the official client.

Every call runs in a worker thread (the client blocks), carries a request timeout, asks for the raw JSON
(`_preload_content=False`: the same field names the API server and kubectl use, no model classes) and
turns every client failure into a one-line ToolError: `deployment otel-demo/foo not found`,
`forbidden: ...`, `the API server failed (500): ...`, `cannot reach the cluster: ...`.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from ..kube import api_message, decode_response, server_date
from .errors import ToolError, one_line
from .kinds import KINDS, KindInfo, who

REQUEST_TIMEOUT_SECONDS = 10.0
PATCH_CONTENT_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}
Query = list[tuple[str, Any]]  # URL query parameters, in order


class KubeApi:
    """One cluster connection; methods mirror the API verbs and return plain dicts."""

    def __init__(self, api_client: Any, timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        self.api_client = api_client
        self.timeout = timeout
        self._apis: dict[str, Any] = {}
        self.server_time: float | None = None  # the API server's clock, as its latest answer gave it

    # ------------------------------------------------------------------ reads
    async def get(self, kind: KindInfo, name: str, namespace: str | None = None) -> dict:
        if kind.discovered:
            return await self.get_path(_path(kind, namespace, name), kind.kind, name, namespace)
        if kind.namespaced:
            return await self._json(kind, name, namespace, f"read_namespaced_{kind.stem}", name, namespace)
        return await self._json(kind, name, None, f"read_{kind.stem}", name)

    async def find(self, kind: KindInfo, name: str, namespace: str | None = None) -> dict | None:
        """Like get, but None when the object does not exist."""
        try:
            return await self.get(kind, name, namespace)
        except NotFound:
            return None

    async def list(
        self,
        kind: KindInfo,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict]:
        opts: dict[str, Any] = {}
        if label_selector:
            opts["label_selector"] = label_selector
        if field_selector:
            opts["field_selector"] = field_selector
        if kind.discovered:
            query = [("labelSelector", label_selector)] if label_selector else []
            query += [("fieldSelector", field_selector)] if field_selector else []
            body = await self.get_path(_path(kind, namespace), kind.kind, None, namespace, query)
        elif not kind.namespaced:
            body = await self._json(kind, None, None, f"list_{kind.stem}", **opts)
        elif namespace:
            body = await self._json(kind, None, namespace, f"list_namespaced_{kind.stem}", namespace, **opts)
        else:
            body = await self._json(kind, None, None, f"list_{kind.stem}_for_all_namespaces", **opts)
        items = body.get("items") or []
        for item in items:  # list items omit kind/apiVersion; tools print them
            item.setdefault("kind", kind.kind)
        return items

    async def pod_log(
        self, namespace: str, pod: str, container: str | None, tail: int | None, previous: bool = False
    ) -> str:
        opts: dict[str, Any] = {"previous": previous}
        if container:
            opts["container"] = container
        if tail is not None:
            opts["tail_lines"] = tail
        resp = await self._call(KINDS["Pod"], pod, namespace, "read_namespaced_pod_log", pod, namespace, **opts)
        return resp.data.decode("utf-8", errors="replace")

    async def get_path(
        self,
        path: str,
        kind: str,
        name: str | None = None,
        namespace: str | None = None,
        query: Query | None = None,
    ) -> dict:
        """GET an API path ("apis/GROUP/VERSION/...") as JSON: discovery documents and the kinds the
        client has no class for (custom resources, metrics.k8s.io)."""
        return await self._raw("GET", path, kind, name, namespace, query)

    async def post_path(self, path: str, kind: str, body: dict) -> dict:
        """POST to an API path: the access reviews, which are answered and never stored."""
        return await self._raw("POST", path, kind, None, None, None, body)

    async def _raw(
        self,
        method: str,
        path: str,
        kind: str,
        name: str | None,
        namespace: str | None,
        query: Query | None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> dict:
        from kubernetes.client.exceptions import ApiException

        api = self.api_client

        def call() -> Any:
            url = api.param_serialize(
                method,
                "/" + path.lstrip("/"),
                query_params=query or [],
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                auth_settings=["BearerToken"],
            )
            resp = api.call_api(*url, _request_timeout=self.timeout)
            resp.read()
            if not 200 <= resp.status < 300:
                raise ApiException(http_resp=resp)
            return resp

        resp = self._clocked(await self._run(call, kind, name, namespace, f"{method} /{path.lstrip('/')}"))
        try:
            return decode_response(resp.data or b"{}")
        except ValueError as err:
            raise ToolError(f"the API server sent a response that is not JSON for /{path}: {err}") from err

    # ------------------------------------------------------------------ writes (all take dry_run)
    async def patch(
        self,
        kind: KindInfo,
        name: str,
        namespace: str | None,
        body: Any,
        patch_type: str = "strategic",
        dry_run: bool = False,
    ) -> dict:
        if kind.discovered:  # a custom resource: no client class, and no strategic merge (a CRD has no schema tags)
            query = [("dryRun", "All")] if dry_run else []
            content = PATCH_CONTENT_TYPES["merge" if patch_type == "strategic" else patch_type]
            return await self._raw(
                "PATCH", _path(kind, namespace, name), kind.kind, name, namespace, query, body, content
            )
        opts = {"_content_type": PATCH_CONTENT_TYPES[patch_type], **_dry(dry_run)}
        if kind.namespaced:
            return await self._json(
                kind, name, namespace, f"patch_namespaced_{kind.stem}", name, namespace, body, **opts
            )
        return await self._json(kind, name, None, f"patch_{kind.stem}", name, body, **opts)

    async def scale(self, kind: KindInfo, name: str, namespace: str, replicas: int, dry_run: bool = False) -> dict:
        body = {"spec": {"replicas": replicas}}
        opts = {"_content_type": PATCH_CONTENT_TYPES["merge"], **_dry(dry_run)}
        method = f"patch_namespaced_{kind.stem}_scale"
        return await self._json(kind, name, namespace, method, name, namespace, body, **opts)

    async def create(self, kind: KindInfo, namespace: str | None, body: dict, dry_run: bool = False) -> dict:
        name = (body.get("metadata") or {}).get("name", "")
        if kind.namespaced:
            return await self._json(
                kind, name, namespace, f"create_namespaced_{kind.stem}", namespace, body, **_dry(dry_run)
            )
        return await self._json(kind, name, None, f"create_{kind.stem}", body, **_dry(dry_run))

    async def delete(self, kind: KindInfo, name: str, namespace: str | None, dry_run: bool = False) -> dict:
        if kind.namespaced:
            return await self._json(
                kind, name, namespace, f"delete_namespaced_{kind.stem}", name, namespace, **_dry(dry_run)
            )
        return await self._json(kind, name, None, f"delete_{kind.stem}", name, **_dry(dry_run))

    # ------------------------------------------------------------------ plumbing
    def _api(self, name: str) -> Any:
        if name not in self._apis:
            from kubernetes import client

            self._apis[name] = getattr(client, name)(self.api_client)
        return self._apis[name]

    def _opts(self) -> dict[str, Any]:
        return {"_preload_content": False, "_request_timeout": self.timeout}

    async def _json(self, kind: KindInfo, name: str | None, namespace: str | None, method: str, *args, **kw) -> dict:
        resp = self._clocked(await self._call(kind, name, namespace, method, *args, **kw))
        try:
            return decode_response(resp.data or b"{}")
        except ValueError as err:
            raise ToolError(f"the API server sent a response that is not JSON for {method}: {err}") from err

    def _clocked(self, resp: Any) -> Any:
        ts = server_date(resp)
        if ts is not None:
            self.server_time = max(self.server_time or ts, ts)
        return resp

    async def _call(self, kind: KindInfo, name: str | None, namespace: str | None, method: str, *args, **kw) -> Any:
        fn = getattr(self._api(kind.api), method)
        return await self._run(lambda: fn(*args, **kw, **self._opts()), kind.kind, name, namespace, method)

    async def _run(self, call: Any, kind: str, name: str | None, namespace: str | None, method: str | None) -> Any:
        try:
            return await asyncio.to_thread(call)
        except ToolError:
            raise
        except Exception as err:  # the client raises ApiException, urllib3 errors and pydantic errors
            raise translate(err, kind, name, namespace, method) from err


class NotFound(ToolError):
    """The API server answered 404 for the object."""


def _path(kind: KindInfo, namespace: str | None, name: str | None = None) -> str:
    """The API path of a discovered kind's collection or object."""
    scope = f"namespaces/{quote(namespace, safe='')}/" if kind.namespaced and namespace else ""
    return f"{kind.api_path}/{scope}{kind.plural}" + (f"/{quote(name, safe='')}" if name else "")


def _dry(dry_run: bool) -> dict[str, str]:
    return {"dry_run": "All"} if dry_run else {}


def translate(err: Exception, kind: str, name: str | None, namespace: str | None, method: str | None) -> ToolError:
    """One readable line for any client failure."""
    from kubernetes.client.exceptions import ApiException

    if isinstance(err, ApiException):
        status = err.status or 0
        message = api_message(err)
        if status == 404 and name:
            return NotFound(f"{who(kind, namespace, name)} not found")
        if status == 404 and not name and namespace:
            return NotFound(f"namespace {namespace} not found ({message})" if message else f"{kind} not found")
        if status in (401, 403):
            return ToolError(f"forbidden ({status}): {message.removeprefix('forbidden: ') or err.reason}")
        if status == 409:
            return ToolError(f"conflict: {message or err.reason}")
        if status in (400, 422):
            return ToolError(f"rejected by the API server ({status}): {message or err.reason}")
        if status >= 500:
            return ToolError(f"the API server failed ({status}): {message or err.reason}")
        return ToolError(f"API error {status}: {message or err.reason}")
    import urllib3.exceptions

    if isinstance(err, urllib3.exceptions.HTTPError):
        reason = getattr(err, "reason", None) or err
        return ToolError(f"cannot reach the cluster: {_short_reason(reason)}")
    if isinstance(err, OSError | TimeoutError):
        return ToolError(f"cannot reach the cluster: {err}")
    if type(err).__name__ == "ValidationError":  # pydantic: an argument the client would not send
        return ToolError(f"invalid request for {method}: {one_line(str(err), 200)}")
    return ToolError(f"unexpected client error in {method}: {type(err).__name__}: {err}")


def _short_reason(reason: Any) -> str:
    text = str(reason)
    # urllib3 wraps the useful part: "<urllib3.connection.HTTPConnection object at 0x..>: Failed to establish ..."
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    return one_line(text, 200)
