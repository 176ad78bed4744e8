"""Application models: what each workload needs to run and whom it calls.

An application file (`orchestrator/sim/applications/*.yaml`) describes services the way an engineer
would: image, ports, env, resources, probes, and the calls each service makes per request. The
simulator installs the Kubernetes objects from it and keeps the *expectations* (the images that exist,
the memory each container really uses, the credentials it must present) to judge what kubelet and the
traffic model see after a fault changes the objects.

Format (all fields but `name` optional):

    apiVersion: sim.sre-agent.dev/v1alpha1
    kind: Application
    metadata: {name: opentelemetry-demo, aliases: [opentelemetryDemo]}
    spec:
      namespace: otel-demo
      load: {generator: load-generator, entry: frontend-proxy, requestsPerSecond: 40}
      images: {"busybox:1.36": {platforms: [linux/amd64, linux/arm64]}}   # extra images that exist
      services:
        - name: cart
          kind: Deployment            # or StatefulSet
          container: cart             # the container's name, when not the workload's
          replicas: 1
          image: ghcr.io/open-telemetry/demo:2.0.2-cart
          platforms: [linux/amd64]     # architectures the image is built for
          command: [/app/cart]         # the entrypoint; kubelet accepts it or an empty command
          port: 7070                   # container and Service port
          protocol: grpc               # grpc | http | tcp
          env: {CART_PORT: "7070", VALKEY_ADDR: "valkey-cart:6379"}
          envFrom: {VALKEY_PASSWORD: {secret: valkey-credentials, key: valkey-password}}
          resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 160Mi}}
          usage: {memory: 120Mi, cpu: 30m}   # working set and CPU the process really uses
          readiness: {tcpSocket: {port: 7070}}   # or {httpGet: {path: /health, port: 7070}}
          latencyMs: 8                 # own processing time per request
          calls:                       # synchronous calls per incoming request
            - {service: valkey-cart, addressEnv: VALKEY_ADDR, perRequest: 2, auth: VALKEY_PASSWORD}
          consumes: [kafka]            # asynchronous consumer of these services' messages
          logs: {ready: ["Cart service started on port 7070"]}
          credentials: {secret: valkey-credentials, key: valkey-password}  # what the server expects
          secrets: {valkey-credentials: {valkey-password: s3cr3t}}        # Secrets to create
          hpa: {minReplicas: 1, maxReplicas: 3, cpuUtilization: 80}       # when autoscaling is on
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from pathlib import Path

import yaml

from .objects import parse_quantity
from .yamlfast import load_yaml_fast

APPLICATIONS_PACKAGE = "orchestrator.sim.applications"


class ApplicationError(ValueError):
    """A malformed application file; the message names the file and field."""


@dataclass
class Call:
    service: str
    address_env: str | None = None
    per_request: float = 1.0
    auth: str | None = None  # env var holding the credential the caller presents


@dataclass
class Service:
    name: str
    kind: str = "Deployment"
    replicas: int = 1
    image: str = ""
    platforms: list[str] = field(default_factory=lambda: ["linux/amd64", "linux/arm64"])
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    port: int | None = None
    protocol: str = "grpc"
    env: dict[str, str] = field(default_factory=dict)
    env_from: dict[str, dict] = field(default_factory=dict)
    resources: dict = field(default_factory=dict)
    usage_memory: int = 64 * 2**20
    usage_cpu: float = 0.02  # cores
    readiness: dict | None = None
    latency_ms: float = 5.0
    calls: list[Call] = field(default_factory=list)
    consumes: list[str] = field(default_factory=list)
    logs: dict[str, list[str]] = field(default_factory=dict)
    credentials: dict | None = None
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    volumes: list[dict] = field(default_factory=list)
    hpa: dict | None = None
    labels: dict[str, str] = field(default_factory=dict)
    service_name: str | None = None  # name of the Service object if not the workload's
    container: str | None = None  # name of the container if not the workload's (BookInfo's reviews-v*)

    @property
    def svc(self) -> str:
        return self.service_name or self.name


@dataclass
class Application:
    name: str
    namespace: str
    aliases: list[str] = field(default_factory=list)
    generator: str | None = None  # workload that must be running for load to flow
    entry: str | None = None
    requests_per_second: float = 0.0
    services: list[Service] = field(default_factory=list)
    images: dict[str, dict] = field(default_factory=dict)
    source: str = ""

    def service(self, name: str) -> Service | None:
        for s in self.services:
            if s.name == name or s.svc == name:
                return s
        return None

    def known_images(self) -> dict[str, list[str]]:
        """Image reference -> platforms it is built for."""
        out = {img: list(v.get("platforms", ["linux/amd64", "linux/arm64"])) for img, v in self.images.items()}
        for s in self.services:
            if s.image:
                out[s.image] = list(s.platforms)
        return out


def _service(raw: dict, where: str) -> Service:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ApplicationError(f"{where}: every service needs a name")
    known = {
        "name", "kind", "replicas", "image", "platforms", "command", "args", "port", "protocol", "env", "envFrom",
        "resources", "usage", "readiness", "latencyMs", "calls", "consumes", "logs", "credentials", "secrets",
        "configMaps", "volumes", "hpa", "labels", "serviceName", "container",
    }  # fmt: skip
    unknown = set(raw) - known
    if unknown:
        raise ApplicationError(f"{where}.{raw['name']}: unknown field(s) {', '.join(sorted(unknown))}")
    usage = raw.get("usage") or {}
    calls = []
    for c in raw.get("calls") or []:
        calls.append(Call(c["service"], c.get("addressEnv"), float(c.get("perRequest", 1.0)), c.get("auth")))
    return Service(
        name=raw["name"],
        kind=raw.get("kind", "Deployment"),
        replicas=int(raw.get("replicas", 1)),
        image=raw.get("image", ""),
        platforms=list(raw.get("platforms", ["linux/amd64", "linux/arm64"])),
        command=list(raw.get("command") or []),
        args=list(raw.get("args") or []),
        port=raw.get("port"),
        protocol=raw.get("protocol", "grpc"),
        env={k: str(v) for k, v in (raw.get("env") or {}).items()},
        env_from=dict(raw.get("envFrom") or {}),
        resources=dict(raw.get("resources") or {}),
        usage_memory=int(parse_quantity(usage.get("memory", "64Mi"))),
        usage_cpu=parse_quantity(usage.get("cpu", "20m")),
        readiness=raw.get("readiness"),
        latency_ms=float(raw.get("latencyMs", 5.0)),
        calls=calls,
        consumes=list(raw.get("consumes") or []),
        logs={k: list(v) for k, v in (raw.get("logs") or {}).items()},
        credentials=raw.get("credentials"),
        secrets=dict(raw.get("secrets") or {}),
        config_maps=dict(raw.get("configMaps") or {}),
        volumes=list(raw.get("volumes") or []),
        hpa=raw.get("hpa"),
        labels=dict(raw.get("labels") or {}),
        service_name=raw.get("serviceName"),
        container=raw.get("container"),
    )


def parse_application(doc: object, source: str = "<memory>") -> Application:
    if not isinstance(doc, dict) or doc.get("kind") != "Application":
        raise ApplicationError(f"{source}: not an Application document (kind: Application)")
    meta = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    if not meta.get("name"):
        raise ApplicationError(f"{source}: metadata.name is required")
    if not spec.get("namespace"):
        raise ApplicationError(f"{source}: spec.namespace is required")
    load = spec.get("load") or {}
    services = [_service(s, f"{source}: spec.services") for s in spec.get("services") or []]
    names = {s.name for s in services} | {s.svc for s in services}
    for s in services:
        for c in s.calls:
            if c.service not in names:
                raise ApplicationError(f"{source}: service {s.name} calls unknown service {c.service}")
    return Application(
        name=meta["name"],
        namespace=spec["namespace"],
        aliases=list(meta.get("aliases") or []),
        generator=load.get("generator"),
        entry=load.get("entry"),
        requests_per_second=float(load.get("requestsPerSecond", 0)),
        services=services,
        images=dict(spec.get("images") or {}),
        source=source,
    )


def load_application_file(path: str | Path) -> Application:
    p = Path(path)
    try:
        doc = load_yaml_fast(p.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ApplicationError(f"{p}: {err}") from err
    return parse_application(doc, str(p))


def builtin_applications() -> dict[str, Application]:
    """The applications shipped with the package, by name and by alias."""
    out: dict[str, Application] = {}
    for res in importlib_resources.files(APPLICATIONS_PACKAGE).iterdir():
        if res.name.endswith(".yaml"):
            app = parse_application(load_yaml_fast(res.read_text()), f"applications/{res.name}")
            for key in [app.name, *app.aliases]:
                out[key] = app
    return out
