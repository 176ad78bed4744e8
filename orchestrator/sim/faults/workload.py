"""Workload faults: changes to a Deployment's or StatefulSet's pod template (and the objects it mounts).

Every template change goes through `cluster.update`, so the workload controllers cut a new revision and
`kubectl rollout undo` brings the previous template back. The shared helpers at the top (target lookup,
container lookup, pods of a workload) are used by the scheduling and network families too.
"""

from __future__ import annotations

import base64
import copy
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..apps import Application
from ..errors import ApiError
from ..selectors import selector_from_spec
from . import FaultError, fault

if TYPE_CHECKING:
    from ..cluster import Cluster

MiB = 2**20
HELPER_IMAGE = "busybox:1.37"  # listed in the demo's images for both architectures
INIT_SCRIPT_MOUNT = "/scripts"
VALKEY_SCRIPT_CONFIGMAP = "valkey-storage-script"
VALKEY_SCRIPT_MOUNT = "/opt/valkey-storage"


# ============================================================================================ helpers
def target_ref(args: dict) -> tuple[str, str, str]:
    """(kind, namespace, name) of args.kubernetesObject; kind defaults to Deployment."""
    obj = args.get("kubernetesObject") or {}
    meta = obj.get("metadata") or {}
    return obj.get("kind") or "Deployment", meta.get("namespace") or "default", meta.get("name") or ""


def describe(kind: str, namespace: str, name: str) -> str:
    return f"{kind.lower()} {namespace}/{name}"


def load(cluster: Cluster, kind: str, namespace: str, name: str) -> dict:
    """A private copy of a stored object, or FaultError naming it."""
    try:
        rt = cluster.rt(kind)
    except ApiError as err:
        raise FaultError(f"unknown kind {kind}") from err
    obj = cluster.store.find(rt, namespace, name)
    if obj is None:
        raise FaultError(f"{describe(kind, namespace, name)} not found")
    return copy.deepcopy(obj)


def load_target(cluster: Cluster, args: dict) -> dict:
    kind, ns, name = target_ref(args)
    return load(cluster, kind, ns, name)


def _write(write: Callable[[dict], dict], obj: dict) -> dict:
    """Write through admission; an API rejection becomes a FaultError naming the object."""
    try:
        return write(obj)
    except ApiError as err:
        raise FaultError(f"{who(obj)}: {err.message}") from err


def save(cluster: Cluster, obj: dict) -> dict:
    return _write(cluster.update, obj)


def create(cluster: Cluster, obj: dict) -> dict:
    return _write(cluster.apply, obj)


def create_or_replace(cluster: Cluster, obj: dict) -> dict:
    """`kubectl apply` of a whole object: create it, or replace the one already there."""
    meta = obj["metadata"]
    existing = cluster.store.find(cluster.rt(obj["kind"]), meta.get("namespace", ""), meta["name"])
    if existing is None:
        return create(cluster, obj)
    merged = copy.deepcopy(obj)
    merged["metadata"] = {**copy.deepcopy(existing["metadata"]), **merged["metadata"]}
    return save(cluster, merged)


def pod_spec(workload: dict) -> dict:
    return workload.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})


def container_of(workload: dict, args: dict) -> dict:
    """The container named by args.container.name (the first one when the fault does not name one)."""
    containers = pod_spec(workload).get("containers") or []
    wanted = (args.get("container") or {}).get("name")
    if not wanted:
        if not containers:
            raise FaultError(f"{who(workload)} has no containers")
        return containers[0]
    for c in containers:
        if c.get("name") == wanted:
            return c
    names = ", ".join(c.get("name", "") for c in containers)
    raise FaultError(f"container {wanted} not found in {who(workload)} (containers: {names})")


def who(obj: dict) -> str:
    meta = obj["metadata"]
    return describe(obj["kind"], meta.get("namespace", ""), meta["name"])


def workload_pods(cluster: Cluster, workload: dict) -> list[dict]:
    """Live pods selected by the workload's selector (what `kubectl get pods -l` shows)."""
    sel = selector_from_spec((workload.get("spec") or {}).get("selector") or {})
    ns = workload["metadata"]["namespace"]
    return [
        p
        for p in cluster.store.list(cluster.rt("Pod"), ns)
        if sel.matches(p["metadata"].get("labels") or {})
        and not p["metadata"].get("deletionTimestamp")
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def delete_pods(cluster: Cluster, workload: dict) -> list[str]:
    """`kubectl delete pod` of each of the workload's pods; its controller recreates them."""
    pod_rt = cluster.rt("Pod")
    out = []
    for pod in workload_pods(cluster, workload):
        meta = pod["metadata"]
        if cluster.store.find(pod_rt, meta["namespace"], meta["name"]) is not None:
            cluster.store.delete(pod_rt, meta["namespace"], meta["name"])
            out.append(f"deleted pod {meta['namespace']}/{meta['name']}")
    return out


def app_service(cluster: Cluster, namespace: str, *names: str) -> tuple[Application | None, Any]:
    """The application model's service for a workload or container name (None when not modelled)."""
    app = cluster.application_for(namespace)
    if app is None:
        return None, None
    for n in names:
        if n:
            svc = app.service(n)
            if svc is not None:
                return app, svc
    return app, None


def replace_named(items: list[dict], new: dict) -> list[dict]:
    """A list of named entries (containers, volumes, mounts) with `new` replacing its namesake."""
    return [i for i in items if i.get("name") != new["name"]] + [new]


def format_mib(n: float) -> str:
    return f"{max(1, math.floor(n / MiB))}Mi"


def is_valkey(container: dict) -> bool:
    text = " ".join([container.get("image", ""), *container.get("command", []), *container.get("args", [])]).lower()
    return "valkey" in text or "redis" in text


# ============================================================================================ init containers
@fault("crashing-kubernetes-workload-init-container", 2)
def crashing_init_container(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    ns, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
    cm_name = f"{name}-config"
    # The script a person shipped with a bad configuration: it validates, complains and exits 1. The
    # catalogue's fix edits this ConfigMap, so the script (not the pod spec) carries the failure.
    script = (
        "#!/bin/sh\n"
        f"# Prepare the runtime configuration of {name} before it starts.\n"
        'echo "init: loading configuration from /etc/app/config.json"\n'
        "echo \"init: error: invalid configuration: unexpected token '}' at line 12\" >&2\n"
        "exit 1\n"
    )
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": cm_name, "namespace": ns},
        "data": {"init.sh": script},
    }
    changes = []
    existed = cluster.store.find(cluster.rt("ConfigMap"), ns, cm_name) is not None
    create_or_replace(cluster, configmap)
    changes.append(f"{'replaced' if existed else 'created'} configmap {ns}/{cm_name} with an init script that exits 1")
    spec = pod_spec(workload)
    init = {
        "name": "init-config",
        "image": HELPER_IMAGE,
        "command": ["sh", f"{INIT_SCRIPT_MOUNT}/init.sh"],
        "volumeMounts": [{"name": "init-scripts", "mountPath": INIT_SCRIPT_MOUNT, "readOnly": True}],
    }
    spec["initContainers"] = replace_named(spec.get("initContainers") or [], init)
    spec["volumes"] = replace_named(
        spec.get("volumes") or [], {"name": "init-scripts", "configMap": {"name": cm_name, "defaultMode": 0o755}}
    )
    save(cluster, workload)
    changes.append(
        f"{who(workload)}: added init container init-config ({HELPER_IMAGE}) running sh {INIT_SCRIPT_MOUNT}/init.sh from configmap {cm_name}"
    )
    return changes


@fault("hanging-kubernetes-workload-init-container", 5)
def hanging_init_container(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    spec = pod_spec(workload)
    # An init container waiting for something that never comes: it runs forever, the app never starts.
    init = {"name": "wait-for-dependencies", "image": HELPER_IMAGE, "command": ["sh", "-c", "sleep infinity"]}
    spec["initContainers"] = replace_named(spec.get("initContainers") or [], init)
    save(cluster, workload)
    return [f"{who(workload)}: added init container wait-for-dependencies ({HELPER_IMAGE}) running `sleep infinity`"]


# ============================================================================================ containers
@fault("insufficient-kubernetes-workload-container-resources", 8, requires=("container.name",))
def insufficient_resources(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    c = container_of(workload, args)
    _, svc = app_service(cluster, workload["metadata"]["namespace"], c["name"], workload["metadata"]["name"])
    before = copy.deepcopy(c.get("resources") or {})
    # Far below the working set the process needs (a quarter of it, at most 5Mi as ITBench sets), so the
    # kernel OOM-kills it at start-up every time.
    working_set = float(svc.usage_memory) if svc is not None else 64 * MiB
    limit = min(5 * MiB, working_set / 4)
    memory = format_mib(limit)
    c["resources"] = {"requests": {"cpu": "5m", "memory": memory}, "limits": {"cpu": "5m", "memory": memory}}
    save(cluster, workload)
    old = (before.get("limits") or {}).get("memory", "none")
    return [
        f"{who(workload)}: container {c['name']} resources set to requests/limits cpu=5m memory={memory} "
        f"(memory limit was {old}; the process needs about {format_mib(working_set)})"
    ]


@fault("invalid-kubernetes-workload-container-command", 9, requires=("container.name",))
def invalid_command(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    c = container_of(workload, args)
    before = c.get("command")
    # An entrypoint that is not in the image: the runtime cannot exec it and the container exits at once.
    c["command"] = ["invalid-command"]
    save(cluster, workload)
    return [f"{who(workload)}: container {c['name']} command {before or '(image default)'} -> ['invalid-command']"]


@fault("misconfigured-kubernetes-workload-container-readiness-probe", 12)
def misconfigured_readiness_probe(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    c = container_of(workload, args)
    listening = {p.get("containerPort") for p in c.get("ports") or []}
    port = 40
    while port in listening:  # the probe must miss every port the container listens on
        port += 1
    c["readinessProbe"] = {
        "httpGet": {"path": "/ready", "port": port, "scheme": "HTTP"},
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    save(cluster, workload)
    return [
        f"{who(workload)}: container {c['name']} readiness probe set to HTTP GET :{port}/ready (nothing listens there)"
    ]


@fault(
    "modified-kubernetes-workload-container-environment-variable",
    13,
    requires=("container.name", "container.env.name"),
)
def modified_env(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    c = container_of(workload, args)
    env_arg = (args.get("container") or {}).get("env") or {}
    if env_arg.get("value") is None:
        raise FaultError(
            "fault modified-kubernetes-workload-container-environment-variable: args.container.env.value is required"
        )
    var, value = str(env_arg["name"]), str(env_arg["value"])
    env = c.setdefault("env", [])
    before = "(unset)"
    for e in env:
        if e.get("name") == var:
            before = repr(e["value"]) if "value" in e else "a reference"
            e.pop("valueFrom", None)
            e["value"] = value
            break
    else:
        env.append({"name": var, "value": value})
    save(cluster, workload)
    return [f"{who(workload)}: container {c['name']} env {var} {before} -> {value!r}"]


@fault("nonexistent-kubernetes-workload-container-image", 15, requires=("container.name",))
def nonexistent_image(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    c = container_of(workload, args)
    before = c.get("image", "")
    repo, tag = _split_image(before)
    app = cluster.application_for(workload["metadata"]["namespace"])
    known = app.known_images() if app else {}
    image = f"{repo}:{tag}-nonexistent"
    while image in known:
        image += "-x"
    c["image"] = image
    save(cluster, workload)
    return [f"{who(workload)}: container {c['name']} image {before} -> {image} (no such tag in the registry)"]


def _split_image(image: str) -> tuple[str, str]:
    """'reg/repo:tag@sha256:..' -> ('reg/repo', 'tag'); the tag is 'latest' when absent."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = ref.rsplit(":", 1)
        return repo, tag
    return ref, "latest"


@fault("unassigned-kubernetes-workload-container-resource-limits", 24)
def unassigned_limits(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    # The catalogue names no container: without one, every container loses its limits.
    wanted = (args.get("container") or {}).get("name")
    containers = [container_of(workload, args)] if wanted else pod_spec(workload).get("containers") or []
    changes = []
    for c in containers:
        res = c.get("resources") or {}
        limits = res.pop("limits", None)
        if limits:
            changes.append(f"{who(workload)}: container {c['name']} limits {limits} removed")
    if not changes:
        return [f"{who(workload)}: no container had resource limits; nothing changed"]
    save(cluster, workload)
    return changes


@fault("unsupported-architecture-kubernetes-workload-container-image", 26, requires=("container.name",))
def unsupported_architecture(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    c = container_of(workload, args)
    node = pick_worker(cluster, workload)
    arch = ((node.get("status") or {}).get("nodeInfo") or {}).get("architecture") or (
        node["metadata"].get("labels") or {}
    ).get("kubernetes.io/arch", "amd64")
    platform = f"linux/{arch}"
    app = cluster.application_for(workload["metadata"]["namespace"])
    known = app.known_images() if app else {}
    # An image the application's registry really has, built only for other architectures; the node is
    # pinned so the pull happens on a node whose architecture the image lacks.
    candidates = sorted(img for img, platforms in known.items() if platforms and platform not in platforms)
    if candidates:
        image = candidates[0]
    else:
        other = "arm64v8" if arch != "arm64" else "amd64"
        repo, tag = _split_image(c.get("image", ""))
        image = f"docker.io/{other}/{repo.rsplit('/', 1)[-1]}:{tag}"
    before = c.get("image", "")
    c["image"] = image
    node_name = node["metadata"]["name"]
    pod_spec(workload).setdefault("nodeSelector", {})["kubernetes.io/hostname"] = node_name
    save(cluster, workload)
    return [
        f"{who(workload)}: container {c['name']} image {before} -> {image} (not built for {platform})",
        f"{who(workload)}: nodeSelector kubernetes.io/hostname={node_name} ({arch})",
    ]


def worker_nodes(cluster: Cluster) -> list[dict]:
    """Nodes that run application pods: not control-plane and without NoSchedule taints of their own."""
    out = []
    for n in cluster.store.list(cluster.rt("Node")):
        labels = n["metadata"].get("labels") or {}
        if "node-role.kubernetes.io/control-plane" in labels or "node-role.kubernetes.io/master" in labels:
            continue
        out.append(n)
    return sorted(out, key=lambda n: n["metadata"]["name"])


def pick_worker(cluster: Cluster, workload: dict) -> dict:
    """The worker the workload runs on now (a person pins it where it is), else the first worker."""
    workers = worker_nodes(cluster)
    if not workers:
        raise FaultError("the cluster has no worker nodes")
    by_name = {n["metadata"]["name"]: n for n in workers}
    for pod in workload_pods(cluster, workload):
        node = by_name.get((pod.get("spec") or {}).get("nodeName") or "")
        if node is not None:
            return node
    return workers[0]


# ============================================================================================ volumes
@fault("nonexistent-kubernetes-workload-persistent-volume-claim", 17, requires=("container.name",))
def nonexistent_pvc(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    c = container_of(workload, args)
    ns, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
    claim = name  # the catalogue's fix edits `persistentvolumeclaim <workload>`: the claim is named after it
    suffix = 0
    while cluster.store.find(cluster.rt("PersistentVolumeClaim"), ns, claim) is not None:
        suffix += 1
        claim = f"{name}-data-{suffix}"
    spec = pod_spec(workload)
    spec["volumes"] = replace_named(
        spec.get("volumes") or [], {"name": "storage", "persistentVolumeClaim": {"claimName": claim}}
    )
    c["volumeMounts"] = replace_named(c.get("volumeMounts") or [], {"name": "storage", "mountPath": f"/var/lib/{name}"})
    save(cluster, workload)
    return [
        f"{who(workload)}: container {c['name']} mounts persistentvolumeclaim {claim} at /var/lib/{name}; the claim does not exist"
    ]


# ============================================================================================ valkey
def _password_ref(cluster: Cluster, workload: dict, c: dict) -> tuple[str, str]:
    """(secret, key) holding the password the server starts with."""
    ns = workload["metadata"]["namespace"]
    _, svc = app_service(cluster, ns, c["name"], workload["metadata"]["name"])
    if svc is not None and svc.credentials:
        return svc.credentials["secret"], svc.credentials["key"]
    # Unmodelled workload: the env var the command line passes as the password, else any *PASS* secret ref.
    refs = [
        (e["name"], e["valueFrom"]["secretKeyRef"])
        for e in c.get("env") or []
        if (e.get("valueFrom") or {}).get("secretKeyRef")
    ]
    cmdline = " ".join(c.get("command", []) + c.get("args", []))
    for var, ref in refs:
        if f"$({var})" in cmdline:
            return ref["name"], ref["key"]
    for var, ref in refs:
        if "PASS" in var.upper():
            return ref["name"], ref["key"]
    raise FaultError(f"{who(workload)}: container {c['name']} reads no password from a secret")


@fault("valkey-workload-changed-password", 27, requires=("container.name",))
def valkey_changed_password(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    c = container_of(workload, args)
    if not is_valkey(c):
        raise FaultError(f"{who(workload)}: container {c['name']} is not a Valkey server")
    ns = workload["metadata"]["namespace"]
    secret_name, key = _password_ref(cluster, workload, c)
    secret = load(cluster, "Secret", ns, secret_name)
    if key not in (secret.get("data") or {}):
        raise FaultError(f"secret {ns}/{secret_name} has no key {key}")
    # Who reads what (otel-demo.yaml): the server starts with `--requirepass $(VALKEY_PASSWORD)`, so it
    # keeps the password its container instance started with; its clients (cart's VALKEY_PASSWORD) take
    # the Secret's current data on every connection. Rotating the Secret under the running server splits
    # the two: clients present the new value, the server still wants the old one (WRONGPASS). Writing the
    # old value back (the catalogue's fix) joins them again with no restart. Restarting the server here
    # would make it adopt the new value and hide the fault, so the running pods are left alone.
    new_password = "rotated-" + cluster.store.random_suffix(16)
    secret.setdefault("data", {})[key] = base64.b64encode(new_password.encode()).decode()
    secret.pop("stringData", None)
    save(cluster, secret)
    pods = ", ".join(p["metadata"]["name"] for p in workload_pods(cluster, workload)) or "none running"
    changes = [
        f"secret {ns}/{secret_name}: {key} changed to a new value; the running Valkey server ({pods}) still "
        "requires the password it started with, clients now present the new one"
    ]
    return changes


@fault("valkey-workload-out-of-memory", 28, requires=("container.name",))
def valkey_out_of_memory(cluster: Cluster, args: dict) -> list[str]:
    workload = load_target(cluster, args)
    c = container_of(workload, args)
    if not is_valkey(c):
        raise FaultError(f"{who(workload)}: container {c['name']} is not a Valkey server")
    ns = workload["metadata"]["namespace"]
    # A "code change" shipped as a ConfigMap: the entrypoint starts the server as before, then fills it
    # with five million 1 KiB keys, far beyond the container's memory limit.
    server_cmd = " ".join(_shell_word(w) for w in (c.get("command") or ["valkey-server"]) + (c.get("args") or []))
    auth = ' -a "$VALKEY_PASSWORD"' if any(e.get("name") == "VALKEY_PASSWORD" for e in c.get("env") or []) else ""
    script = (
        "#!/bin/sh\n"
        "# Start the server, then preload the cache.\n"
        f"{server_cmd} --enable-debug-command yes &\n"
        f"until valkey-cli{auth} ping >/dev/null 2>&1; do sleep 1; done\n"
        f"valkey-cli{auth} DEBUG POPULATE 5000000 key 1024\n"
        "wait\n"
    )
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": VALKEY_SCRIPT_CONFIGMAP, "namespace": ns},
        "data": {"valkey-storage.sh": script},
    }
    existed = cluster.store.find(cluster.rt("ConfigMap"), ns, VALKEY_SCRIPT_CONFIGMAP) is not None
    create_or_replace(cluster, configmap)
    before = c.get("command") or []
    c["command"] = ["sh", f"{VALKEY_SCRIPT_MOUNT}/valkey-storage.sh"]
    c.pop("args", None)
    c["volumeMounts"] = replace_named(
        c.get("volumeMounts") or [], {"name": VALKEY_SCRIPT_CONFIGMAP, "mountPath": VALKEY_SCRIPT_MOUNT}
    )
    spec = pod_spec(workload)
    spec["volumes"] = replace_named(
        spec.get("volumes") or [],
        {"name": VALKEY_SCRIPT_CONFIGMAP, "configMap": {"name": VALKEY_SCRIPT_CONFIGMAP, "defaultMode": 0o755}},
    )
    save(cluster, workload)
    return [
        f"{'replaced' if existed else 'created'} configmap {ns}/{VALKEY_SCRIPT_CONFIGMAP} with a start script that runs "
        "`valkey-cli DEBUG POPULATE 5000000 key 1024` after starting the server",
        f"{who(workload)}: container {c['name']} mounts it at {VALKEY_SCRIPT_MOUNT}; command {before} -> {c['command']}",
    ]


def _shell_word(word: str) -> str:
    # $(VAR) is Kubernetes' expansion in command/args; inside a script the shell expands "$VAR" instead.
    if word.startswith("$(") and word.endswith(")"):
        return f'"${word[2:-1]}"'
    return (
        word if word and all(ch.isalnum() or ch in "-_./:=" for ch in word) else "'" + word.replace("'", "'\\''") + "'"
    )
