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

    def context(self) -> ssl.SSLContext | None:
        if self.insecure:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None


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
    if creds is not None and creds.token:
        sent["Authorization"] = f"Bearer {creds.token}"
    request = urllib.request.Request(url, headers=sent)
    return urllib.request.urlopen(request, timeout=timeout, context=creds.context() if creds else None)  # noqa: S310 - http(s) only, checked by the incident's schema
