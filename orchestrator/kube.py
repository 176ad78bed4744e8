"""Connecting to a Kubernetes cluster: a kubeconfig (and context), or the pod's service account.

    api = connect(kubeconfig="~/.kube/config", context="kind-demo")
    check_reachable(api)       # ClusterError("cannot reach the cluster at https://...: ...") if not

Every request made through the returned client has a timeout and at most one retry: an agent waiting
minutes on a dead API server is worse than one that hears "cannot reach the cluster" and says so.
Problems are one-line ClusterErrors naming the file, context or URL at fault.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

from .redaction import mask_text
from .userfiles import MIB, UserFileError, read_user_file
from .yamlsource import YamlSyntaxError, load_yaml

REQUEST_TIMEOUT_SECONDS = 10.0
REACHABLE_TIMEOUT_SECONDS = 5.0
REACHABLE_ATTEMPTS = 2
REACHABLE_BACKOFF_SECONDS = 1.0
DEFAULT_KUBECONFIG = "~/.kube/config"
KUBECONFIG_FILE_LIMIT = 4 * MIB  # kubeconfigs with many clusters and embedded certificates stay far below


class ClusterError(Exception):
    """The cluster cannot be used: missing kubeconfig, unknown context, unreachable API server."""


class ClusterUnreachable(ClusterError):
    """The configuration was fine but the API server did not answer usefully: connection refused, a
    timeout, a TLS failure, a server error, or credentials it refused. `transient`: worth asking again soon."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def kubeconfig_files(kubeconfig: str | None = None) -> list[Path]:
    """The kubeconfig files to read, merged as kubectl merges them: the argument, else the files $KUBECONFIG
    lists that exist (the first to set a value wins), else ~/.kube/config."""
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    listed = [Path(p).expanduser() for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    existing = [p for p in listed if p.exists()]
    return existing or listed[:1] or [Path(DEFAULT_KUBECONFIG).expanduser()]


def connect(kubeconfig: str | None = None, context: str | None = None, in_cluster: bool = False) -> Any:
    """A kubernetes.client.ApiClient for the cluster (timeouts and low retries on every call)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    cfg = client.Configuration()
    if in_cluster:
        try:
            config.load_incluster_config(client_configuration=cfg)
        except ConfigException as err:
            raise ClusterError(f"not running inside a Kubernetes pod ({err}); use a kubeconfig instead") from None
    else:
        files = kubeconfig_files(kubeconfig)
        for file in files:
            _check_kubeconfig_file(file)
        # The client's loader merges a path list as kubectl does; one file is named by itself in errors.
        path = os.pathsep.join(str(f) for f in files)
        _check_context(path, context)
        try:
            config.load_kube_config(config_file=path, context=context, client_configuration=cfg, persist_config=False)
        except (ConfigException, OSError, ValueError, TypeError, KeyError) as err:
            raise ClusterError(f"kubeconfig {path}: {_one_line(err)}") from None
    cfg.retries = _low_retries()
    api = client.ApiClient(cfg)
    _default_timeout(api, REQUEST_TIMEOUT_SECONDS)
    return api


def _check_kubeconfig_file(path: Path) -> None:
    """A kubeconfig is a file a person names: the client's loader reads whatever it is given (a FIFO blocks
    it, an alias bomb or deep nesting exhausts it), so it is read within bounds here first."""
    if not path.exists():
        raise ClusterError(f"kubeconfig {path} not found")
    try:
        load_yaml(read_user_file(path, limit=KUBECONFIG_FILE_LIMIT, what="kubeconfig files"))
    except UserFileError as err:
        raise ClusterError(f"kubeconfig {path} is not usable: {err.problem}") from None
    except YamlSyntaxError as err:
        where = f" (line {err.line})" if err.line else ""
        raise ClusterError(f"kubeconfig {path} is not usable{where}: {err.message}") from None


def _check_context(path: str, context: str | None) -> None:
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        contexts, active = config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError, ValueError, TypeError, KeyError) as err:
        raise ClusterError(f"kubeconfig {path} is not usable: {_one_line(err)}") from None
    except Exception as err:  # a YAML error from a broken file
        raise ClusterError(f"kubeconfig {path} is not valid YAML: {_one_line(err)}") from None
    names = [c.get("name") for c in contexts or []]
    if context is not None and context not in names:
        known = ", ".join(n for n in names if n) or "none"
        raise ClusterError(f"context {context} not found in kubeconfig {path}; available contexts: {known}")
    if context is None and not active:
        raise ClusterError(f"kubeconfig {path} has no current-context; name one with context")


def _low_retries() -> Any:
    from urllib3.util.retry import Retry

    return Retry(total=1, backoff_factor=0, raise_on_status=False)


def _default_timeout(api: Any, seconds: float) -> None:
    """Give every request of this client a timeout unless the caller chose one."""
    original = api.rest_client.request

    def request(*args: Any, _request_timeout: Any = None, **kwargs: Any) -> Any:
        return original(*args, _request_timeout=_request_timeout or seconds, **kwargs)

    api.rest_client.request = request


def check_reachable(api: Any, attempts: int = REACHABLE_ATTEMPTS, backoff: float = REACHABLE_BACKOFF_SECONDS) -> None:
    """Ask the API server for /version; ClusterUnreachable("cannot reach the cluster at URL: reason") if it
    fails. A refused connection or a server error is tried again after `backoff` seconds (doubling), since
    an API server restarting is back within seconds; refused credentials and timeouts are not."""
    import time

    for attempt in range(1, attempts + 1):
        try:
            _ask_version(api)
            return
        except ClusterUnreachable as err:
            if attempt == attempts or not err.transient:
                raise
        time.sleep(backoff * 2 ** (attempt - 1))


def _ask_version(api: Any) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    host = getattr(api.configuration, "host", "?")
    try:
        try:
            client.VersionApi(api).get_code(_request_timeout=REACHABLE_TIMEOUT_SECONDS)
        except ApiException as err:
            if err.status != 404:
                raise
            # The client asks for "/version/"; a server that only knows "/version" still answered, so it
            # is reachable: confirm with the core API group instead.
            client.CoreV1Api(api).get_api_resources(_request_timeout=REACHABLE_TIMEOUT_SECONDS)
    except ApiException as err:
        if err.status in (401, 403):
            raise ClusterUnreachable(
                f"the cluster at {host} refused the credentials: {err.status} {err.reason}"
            ) from None
        message = f"cannot reach the cluster at {host}: {err.status} {err.reason}"
        raise ClusterUnreachable(message, transient=err.status >= 500) from None
    except Exception as err:  # urllib3 connection errors, timeouts, TLS problems
        message = f"cannot reach the cluster at {host}: {_reason(err)}"
        raise ClusterUnreachable(message, transient=not _timed_out(err)) from None


def _timed_out(err: BaseException) -> bool:
    text = f"{type(err).__name__} {err}".lower()
    return "timeout" in text or "timed out" in text


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None) or err
    text = str(reason)
    if ">: " in text:  # urllib3: "<HTTPConnection object at 0x..>: Failed to establish a new connection: ..."
        text = text.split(">: ", 1)[1]
    return _one_line(text)


def _one_line(err: object) -> str:
    return " ".join(mask_text(str(err)).split())[:300]  # masked before the cut, which could halve a secret


def server_date(resp: Any) -> float | None:
    """The API server's clock from a response's Date header (epoch seconds), None without one: a cluster's
    "now" for ages and recency, which a virtual (simulated) or skewed clock sets apart from this machine's."""
    from email.utils import parsedate_to_datetime

    headers = getattr(resp, "headers", None)
    date = headers.get("Date") if headers is not None else None
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None


def api_message(err: Any) -> str:
    """What the API server said in a failed response (an ApiException's body): its Status `message` (or an
    `error` field), else the body itself; "" when there is none. One line, secrets masked."""
    body = getattr(err, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not body:
        return ""
    try:
        doc = json.loads(body)
    except ValueError:
        return _one_line(body)
    if isinstance(doc, dict):
        return _one_line(doc.get("message") or doc.get("error") or body)
    return _one_line(doc)


def decode_response(body: bytes | str) -> Any:
    """An API server's JSON response, decoded with the cycle collector held: a large LIST decodes to
    millions of new objects (plain trees, no cycles), and the collector's passes over them as they
    arrive cost more than the decoding. Raises ValueError as json.loads does."""
    if not gc.isenabled():
        return json.loads(body)
    gc.disable()
    try:
        return json.loads(body)
    finally:
        gc.enable()
