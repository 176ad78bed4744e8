"""HTTP endpoints the run reads besides the Kubernetes API (Prometheus, Alertmanager), with the credentials
a real monitoring stack asks for: a bearer token, a CA bundle, or (for a lab) no certificate check.

Credentials are registered per base URL when a cluster session opens (`register`), and every reader opens
its URLs through `open_url`, which applies the credentials of the longest registered prefix. The token is
read from the environment variable the incident names, so it is in no file the run writes.
"""

from __future__ import annotations

import ssl
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Credentials:
    token: str | None = None  # sent as `Authorization: Bearer <token>`
    ca_file: str | None = None  # a PEM bundle the server's certificate must chain to
    insecure: bool = False  # skip the certificate check (a lab's self-signed endpoint)
    authorization: str | None = None  # a whole Authorization header (the kubeconfig's, for the API's proxy)
    cert_file: str | None = None  # a client certificate and its key (the kubeconfig's)
    key_file: str | None = None

    def header(self) -> str | None:
        return self.authorization or (f"Bearer {self.token}" if self.token else None)

    def context(self) -> ssl.SSLContext | None:
        if not (self.insecure or self.ca_file or self.cert_file):
            return None
        ctx = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def of_kubernetes(configuration: Any) -> Credentials:
    """The credentials a kubernetes client configuration sends the API server: for its Service proxy."""
    return Credentials(
        authorization=configuration.get_api_key_with_prefix("authorization") or None,
        ca_file=configuration.ssl_ca_cert or None,
        insecure=not configuration.verify_ssl,
        cert_file=configuration.cert_file or None,
        key_file=configuration.key_file or None,
    )


def service_proxy_url(api_host: str, service: str) -> str:
    """The API server's proxy URL for `NAMESPACE/NAME[:PORT]` (how kubectl reaches in-cluster monitoring)."""
    namespace, _, name = service.partition("/")
    return f"{api_host.rstrip('/')}/api/v1/namespaces/{namespace}/services/{name}/proxy"


_REGISTERED: dict[str, Credentials] = {}
_LOCK = threading.Lock()


def register(base_url: str, credentials: Credentials) -> None:
    """Use `credentials` for every URL under `base_url` (a later registration of the same URL wins)."""
    with _LOCK:
        _REGISTERED[base_url.rstrip("/")] = credentials


def credentials_for(url: str) -> Credentials | None:
    with _LOCK:
        prefixes = [p for p in _REGISTERED if url == p or url.startswith(p + "/") or url.startswith(p + "?")]
        return _REGISTERED[max(prefixes, key=len)] if prefixes else None


def open_url(url: str, timeout: float, headers: dict[str, str] | None = None) -> Any:
    """urllib's urlopen for a GET of `url`, with the registered credentials of its endpoint, if any."""
    creds = credentials_for(url)
    sent = {"Accept": "application/json", **(headers or {})}
    if creds is not None and creds.header():
        sent["Authorization"] = creds.header() or ""
    request = urllib.request.Request(url, headers=sent)
    return urllib.request.urlopen(request, timeout=timeout, context=creds.context() if creds else None)  # noqa: S310 - http(s) only, checked by the incident's schema
