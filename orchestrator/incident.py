"""The Incident spec: what an on-call engineer hands the orchestrator, and how it is checked.

    apiVersion: sre-agent.dev/v1alpha1
    kind: Incident
    metadata: {name: checkout-errors}
    spec:
      summary: "Checkout fails with 5xx; product-catalog pods not ready"
      scope: {namespaces: [otel-demo]}
      cluster: {simulate: {scenario: ../scenarios/image.yaml}}

YAML keys are camelCase, Python attributes snake_case (`spec.remediation.allowed_actions`). Unknown
fields are errors everywhere. `load_incident` reports every problem at once, each with its field path and
file line (`incident.yaml:12: spec.remediation.mode: 'fast' is not one of: auto, approve, dry-run, off`).
The same models give the JSON schema (`incident_schema`), which can double as a CRD's openAPIV3Schema.
"""

from __future__ import annotations

import copy
import difflib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from .tools.policy import CLUSTER_SCOPED_KINDS, DEFAULT_MAX_OBJECTS
from .tools.registry import write_names
from .userfiles import MIB, UserFileError, check_user_file, read_user_file
from .yamlsource import FieldPath, SourcedYaml, YamlSyntaxError, load_yaml

API_VERSION = "sre-agent.dev/v1alpha1"
KIND = "Incident"
BUILTIN_PREFIX = "builtin:"
INCIDENT_FILE_LIMIT = 1 * MIB  # an incident is a few hundred bytes; anything near this is the wrong file

# A scenario reference ("builtin:NAME" or a resolved file) -> what would stop it loading, or None.
ScenarioCheck = Callable[[Path | str], str | None]
# A model name -> why no run could use it (no such built-in model, no known provider), or None.
ModelCheck = Callable[[str], str | None]

ModelClassName = Literal["auto", "frontier", "mid", "open"]
RemediationMode = Literal["auto", "approve", "dry-run", "off"]
CheckName = Literal[
    "workload_available",
    "no_recent_restarts",
    "no_pending_or_crashlooping",
    "endpoints_ready",
    "alerts_cleared",
    "node_schedulable",
    "quota_admits_pods",
    "hpa_within_limits",
    "service_selects_pods",
    "service_ports_match",
    "job_complete",
    "pvc_bound",
    "ingress_backends_ready",
    "node_pressure_cleared",
    "rules_evaluate",
]
ACTIONS: tuple[str, ...] = write_names()  # the registry's write tools, in toolbox order
if TYPE_CHECKING:
    ActionName = str
else:  # a Literal of the registry's names: validation errors and the JSON schema's enum list them
    ActionName = Literal[ACTIONS]
CHECKS: tuple[str, ...] = get_args(CheckName)

# Patterns, and what to tell a person whose value does not match one.
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
ENTITY = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[A-Z][A-Za-z0-9]*/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
HTTP_URL = r"^https?://[^/\s]+(/\S*)?$"
CLUSTER_OBJECT = rf"^({'|'.join(CLUSTER_SCOPED_KINDS)})/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
PATTERN_HINTS = {
    DNS_LABEL: "must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a "
    "letter or digit, at most 63 characters)",
    ENTITY: "must name an object as namespace/Kind/name (or Kind/name for a cluster-scoped one), "
    "e.g. otel-demo/Deployment/frontend",
    HTTP_URL: "must be an http:// or https:// URL, e.g. http://alertmanager.monitoring:9093",
    CLUSTER_OBJECT: f"must name a cluster-scoped object as Kind/name, Kind one of {', '.join(CLUSTER_SCOPED_KINDS)}, "
    "e.g. Node/worker-1",
}


def name_part(text: str, limit: int = 40) -> str:
    """`text` made fit for an object's name: lower-case letters, digits and '-' only, at most `limit`
    characters, no '-' at either end ("" when nothing is left)."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:limit].strip("-")


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
ServiceRef = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/(https?:)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(:[A-Za-z0-9-]+)?$"
    ),
]
DnsLabel = Annotated[str, StringConstraints(pattern=DNS_LABEL)]


def _url_port(url: str) -> str:
    """A URL the pattern admits may still carry a port no client can use (`:99999`, `:http`)."""
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise PydanticCustomError(
            "url_port", "has a port that is not a number from 0 to 65535: {url!r}", {"url": url}
        ) from None
    return url.rstrip("/")


BaseUrl = Annotated[str, StringConstraints(pattern=HTTP_URL), AfterValidator(_url_port)]
LocalPath = Annotated[Path, WithJsonSchema({"type": "string"})]


# ============================================================================================ errors
@dataclass(frozen=True)
class FieldError:
    """One problem in an incident file: the field path (camelCase, as written), its line, and what is wrong."""

    path: str
    line: int | None
    message: str

    def format(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class IncidentError(Exception):
    """An incident that cannot be used; `str()` gives one `FILE:LINE: path: message` line per error."""

    def __init__(self, source: str, errors: list[FieldError]) -> None:
        self.source = source
        self.errors = sorted(errors, key=lambda e: e.line or 0)  # stable: same-line errors keep field order
        super().__init__("\n".join(e.format(source) for e in self.errors))

    def by_field(self) -> str:
        """The problems in one line by field path, without file or line: for a document the program made,
        whose lines its user never saw."""
        return "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in self.errors)


# ============================================================================================ paths
def _resolve(path: Path, info: ValidationInfo) -> Path:
    """`~` expanded; a relative path is relative to the incident file's directory (else the cwd)."""
    path = path.expanduser()
    if not path.is_absolute():
        base = (info.context or {}).get("base_dir") or Path.cwd()
        path = Path(base) / path
    return path.resolve()


def _scenario_ref(value: Any, info: ValidationInfo) -> Path | str:
    """ "builtin:NAME" stays a string; anything else is a scenario file that must exist and load."""
    if isinstance(value, Path):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("scenario_ref", "must be a file path or builtin:NAME")
    value = value.strip()
    if value.startswith(BUILTIN_PREFIX):
        _check_scenario(value, info)
        return value
    path = _resolve(Path(value), info)
    if not path.exists():
        raise PydanticCustomError("scenario_ref", "no such scenario file: {path}", {"path": str(path)})
    try:
        check_user_file(path, limit=sys.maxsize)  # the size cap is the loader's (orchestrator.cluster)
    except UserFileError as err:
        raise PydanticCustomError("scenario_ref", "{problem}", {"problem": str(err)}) from None
    _check_scenario(path, info)
    return path


def _check_scenario(ref: Path | str, info: ValidationInfo) -> None:
    """Whether the scenario loads is the embedded cluster's to say: whoever composes it passes the check
    as `check_scenario` (orchestrator.cluster does, so `validate` catches what the run would)."""
    check: ScenarioCheck | None = (info.context or {}).get("check_scenario")
    problem = check(ref) if check is not None else None
    if problem:
        raise PydanticCustomError("scenario_ref", "{problem}", {"problem": problem})


# ============================================================================================ the spec
class SpecModel(BaseModel):
    """camelCase in YAML, snake_case in Python, and no field the spec does not define."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, protected_namespaces=())


class ObjectMeta(SpecModel):
    """Who the incident is, as Kubernetes objects name themselves."""

    name: DnsLabel = Field(description="Incident name; names the run directory.")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class AlertRef(SpecModel):
    """An alert the engineer was paged with (otherwise the engine reads the alert source)."""

    name: Text = Field(description="Alert name (the alertname label).")
    labels: dict[str, str] = Field(default_factory=dict)


class Scope(SpecModel):
    """Where the incident is."""

    namespaces: list[DnsLabel] = Field(
        default_factory=list, description="Namespaces affected; empty means unknown (the engine may ask)."
    )


class SimulatedCluster(SpecModel):
    """Run against the embedded simulator, loaded with a scenario."""

    scenario: Annotated[
        Path | str,
        PlainValidator(_scenario_ref),
        WithJsonSchema(
            {
                "type": "string",
                "description": "Scenario file (ITBench itbench.io/v2 or sim.sre-agent.dev/v1alpha1), relative to "
                "the incident file, or builtin:NAME for a built-in scenario.",
            }
        ),
    ]
    seed: int = Field(default=0, ge=0, strict=True, description="Seed for the simulator's names and randomness.")


class ClusterTarget(SpecModel):
    """Exactly one of: kubeconfig (+context), inCluster: true, or simulate. None given: kubectl's default
    kubeconfig ($KUBECONFIG or ~/.kube/config) and its current context."""

    kubeconfig: LocalPath | None = Field(default=None, description="Kubeconfig file, relative to the incident file.")
    context: Text | None = Field(default=None, description="Kubeconfig context (default: its current context).")
    in_cluster: bool = Field(default=False, strict=True, description="Use the pod's service account.")
    simulate: SimulatedCluster | None = None

    @field_validator("kubeconfig", mode="after")
    @classmethod
    def _resolve_kubeconfig(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return None if path is None else _resolve(path, info)

    @model_validator(mode="after")
    def _one_target(self) -> ClusterTarget:
        given = [name for name, on in (("kubeconfig", self.kubeconfig), ("context", self.context)) if on]
        if self.simulate is not None and (given or self.in_cluster):
            others = ", ".join([*given, *(["inCluster"] if self.in_cluster else [])])
            raise PydanticCustomError(
                "cluster_target",
                "simulate cannot be combined with {others}: give exactly one target",
                {"others": others},
            )
        if self.in_cluster and given:
            raise PydanticCustomError(
                "cluster_target",
                "inCluster: true cannot be combined with {others}: give exactly one target",
                {"others": ", ".join(given)},
            )
        return self

    @property
    def mode(self) -> Literal["kubeconfig", "in-cluster", "simulate"]:
        if self.simulate is not None:
            return "simulate"
        return "in-cluster" if self.in_cluster else "kubeconfig"


class Observability(SpecModel):
    """Where alerts and metrics live (the simulator provides both when simulating)."""

    alertmanager: BaseUrl | None = Field(default=None, description="Alertmanager base URL (v2 API).")
    prometheus: BaseUrl | None = Field(default=None, description="Prometheus base URL.")
    prometheus_service: ServiceRef | None = Field(
        default=None,
        description="Prometheus as a Service reached through the Kubernetes API's proxy, NAMESPACE/NAME[:PORT].",
    )
    alertmanager_service: ServiceRef | None = Field(
        default=None,
        description="Alertmanager as a Service reached through the Kubernetes API's proxy, NAMESPACE/NAME[:PORT].",
    )
    bearer_token_env: EnvName | None = Field(
        default=None,
        description="Environment variable holding a bearer token both endpoints require (never the token itself).",
    )
    ca_file: LocalPath | None = Field(
        default=None, description="PEM CA bundle the endpoints' certificates chain to, relative to the incident file."
    )
    insecure_skip_verify: bool = Field(
        default=False, strict=True, description="Do not check the endpoints' certificates (a lab's self-signed ones)."
    )

    @field_validator("ca_file", mode="after")
    @classmethod
    def _resolve_ca_file(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return None if path is None else _resolve(path, info)


class Remediation(SpecModel):
    """What the run may change, and whether a person approves it first."""

    mode: RemediationMode = Field(
        default="auto",
        description="auto: apply; approve: ask first; dry-run: server-side dry run only; off: read only.",
    )
    allowed_actions: list[ActionName] = Field(default_factory=lambda: list(ACTIONS))
    allowed_namespaces: list[DnsLabel] | None = Field(default=None, description="Default: scope.namespaces.")
    allowed_cluster_objects: list[Annotated[str, StringConstraints(pattern=CLUSTER_OBJECT)]] = Field(
        default_factory=list,
        description="Cluster-scoped objects the run may change, by name (Node/worker-1); none by default.",
    )
    allow_faulted_objects: bool = Field(
        default=False,
        strict=True,
        description="Simulated cluster only: also the cluster-scoped objects its scenario's faults changed "
        "(a built-in scenario's example incident and the bench set it).",
    )
    max_objects_changed: int = Field(
        default=DEFAULT_MAX_OBJECTS, ge=1, strict=True, description="At most this many objects changed in one run."
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _unquoted_off(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted `off` as false; the person meant the mode.
        return "off" if value is False else value


class Budget(SpecModel):
    """Hard limits for the whole run."""

    steps: int = Field(default=60, ge=1, strict=True, description="Tool calls across the run.")
    tokens: int = Field(default=400_000, ge=1, strict=True, description="Total model tokens.")
    seconds: int = Field(default=900, ge=1, strict=True, description="Wall-clock seconds.")


class SuccessCheck(SpecModel):
    """An extra check the verifier gate must pass, on top of the playbook's."""

    check: CheckName
    target: Annotated[str, StringConstraints(pattern=ENTITY)] | None = None
    alert: Text | None = None


class Success(SpecModel):
    """What must hold before the incident may be closed."""

    checks: list[SuccessCheck] = Field(default_factory=list)


MODEL_AS_TEXT, MODEL_AS_MAPPING = "<text>", "<mapping>"  # spec.model's two forms (left out of error paths)


class ModelSettings(SpecModel):
    """A model with the settings its provider or server needs (`spec.model` as a mapping)."""

    name: Text = Field(description="litellm model name, or builtin/<policy>.")
    base_url: BaseUrl | None = Field(default=None, description="OpenAI-compatible server (no key needed).")
    api_key_env: EnvName | None = Field(default=None, description="Environment variable holding the API key.")
    timeout: float | None = Field(default=None, gt=0, le=600, description="Seconds per model call.")
    max_tokens: int | None = Field(default=None, ge=1, le=200_000, description="Reply tokens (default: the class's).")
    temperature: float | None = Field(default=None, ge=0, le=2)
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers for every call.")


class IncidentSpec(SpecModel):
    """What the engineer knows, where to look, and what the run may do about it."""

    summary: Text = Field(description="The symptom, as the engineer would say it.")
    alerts: list[AlertRef] = Field(default_factory=list)
    scope: Scope = Field(default_factory=Scope)
    cluster: ClusterTarget = Field(default_factory=ClusterTarget)
    observability: Observability = Field(default_factory=Observability)
    model: Annotated[
        Annotated[Text, Tag(MODEL_AS_TEXT)] | Annotated[ModelSettings, Tag(MODEL_AS_MAPPING)],
        Discriminator(lambda v: MODEL_AS_MAPPING if isinstance(v, dict | ModelSettings) else MODEL_AS_TEXT),
    ] = Field(
        default="builtin/playbook",
        description="litellm model name, or builtin/<policy>; or a mapping with its settings.",
    )
    model_class: ModelClassName = Field(default="auto", description="Failure profile; auto derives it from model.")
    remediation: Remediation = Field(default_factory=Remediation)
    budget: Budget = Field(default_factory=Budget)
    success: Success = Field(default_factory=Success)

    @field_validator("model", mode="after")
    @classmethod
    def _known_model(cls, model: str | ModelSettings, info: ValidationInfo) -> str | ModelSettings:
        # As with scenarios, which names exist is the models' to say: whoever loads passes `check_model`.
        check: ModelCheck | None = (info.context or {}).get("check_model")
        name = model.name if isinstance(model, ModelSettings) else model
        problem = check(name) if check is not None else None
        if problem:
            raise PydanticCustomError("model_name", "{problem}", {"problem": problem})
        return model

    @property
    def model_name(self) -> str:
        return self.model.name if isinstance(self.model, ModelSettings) else self.model

    @property
    def model_settings(self) -> ModelSettings:
        """The model's settings; a bare name has none but its name."""
        return self.model if isinstance(self.model, ModelSettings) else ModelSettings(name=self.model)

    @model_validator(mode="after")
    def _default_allowed_namespaces(self) -> IncidentSpec:
        if self.remediation.allowed_namespaces is None:
            self.remediation.allowed_namespaces = list(self.scope.namespaces)
        return self

    @field_validator("remediation", mode="after")
    @classmethod
    def _faulted_objects_need_a_simulator(cls, remediation: Remediation, info: ValidationInfo) -> Remediation:
        cluster = info.data.get("cluster")  # declared before remediation, so validated first
        if remediation.allow_faulted_objects and cluster is not None and cluster.simulate is None:
            raise PydanticCustomError(
                "remediation", "allowFaultedObjects needs cluster.simulate: only a scenario has faults"
            )
        return remediation


class Incident(SpecModel):
    """An incident to investigate and, within its remediation policy, resolve."""

    api_version: Literal["sre-agent.dev/v1alpha1"]
    kind: Literal["Incident"]
    metadata: ObjectMeta
    spec: IncidentSpec

    @property
    def name(self) -> str:
        return self.metadata.name

    @classmethod
    def from_file(cls, path: str | Path) -> Incident:
        return load_incident(path)

    @classmethod
    def from_text(cls, text: str, source: str = "<string>", base_dir: Path | None = None) -> Incident:
        return parse_incident(text, source, base_dir)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The incident as YAML/JSON-ready data with camelCase keys (paths as absolute strings)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# ============================================================================================ loading
def load_incident(
    path: str | Path, check_scenario: ScenarioCheck | None = None, check_model: ModelCheck | None = None
) -> Incident:
    """Read and validate an incident file; raises IncidentError listing every problem with its line.
    `check_scenario` says what is wrong with a simulated cluster's scenario, `check_model` with the model
    name, if anything."""
    p = Path(path)
    try:
        text = read_user_file(p, limit=INCIDENT_FILE_LIMIT, what="incident files")
    except UserFileError as err:
        raise IncidentError(str(path), [FieldError("", None, err.problem)]) from None
    return parse_incident(text, str(path), p.expanduser().resolve().parent, check_scenario, check_model)


def parse_incident(
    text: str,
    source: str = "<string>",
    base_dir: Path | None = None,
    check_scenario: ScenarioCheck | None = None,
    check_model: ModelCheck | None = None,
) -> Incident:
    """Validate incident YAML; relative paths in it resolve from base_dir (default: the cwd)."""
    try:
        doc = load_yaml(text)
    except YamlSyntaxError as err:
        raise IncidentError(source, [FieldError("", err.line, err.message)]) from None
    if doc.data is None:
        raise IncidentError(source, [FieldError("", None, "the document is empty; expected an Incident")])
    if not isinstance(doc.data, dict):
        got = _kind_of(doc.data)
        raise IncidentError(source, [FieldError("", doc.line_of(()), f"an Incident must be a mapping, got {got}")])
    identity = _identity_errors(doc)
    if identity:  # some other document: its every field would be "unknown", which helps nobody
        raise IncidentError(source, identity)
    errors = [
        FieldError(_dotted(d.path), d.line, f"given twice (first at line {d.first_line}); the last one would win")
        for d in doc.duplicates
    ]
    try:
        context = {"base_dir": base_dir, "check_scenario": check_scenario, "check_model": check_model}
        incident = Incident.model_validate(doc.data, context=context)
    except ValidationError as exc:
        errors += [_field_error(e, doc) for e in exc.errors()]
        raise IncidentError(source, errors) from None
    if errors:
        raise IncidentError(source, errors)
    return incident


def _identity_errors(doc: SourcedYaml) -> list[FieldError]:
    errors = []
    for key, want in (("apiVersion", API_VERSION), ("kind", KIND)):
        got = doc.data.get(key)
        if got is not None and got != want:
            hint = ""
            if key == "kind" and got == "Scenario":
                hint = " (a simulator scenario: name it in spec.cluster.simulate.scenario of an Incident)"
            errors.append(FieldError(key, doc.line_of((key,)), f"must be {want}, not {got!r}{hint}"))
    return errors


# ============================================================================================ messages
def _field_error(err: Any, doc: SourcedYaml) -> FieldError:
    loc: FieldPath = tuple(part for part in err["loc"] if part not in ("[key]", MODEL_AS_TEXT, MODEL_AS_MAPPING))
    return FieldError(_dotted(loc), doc.line_of(loc), _message(err, loc))


def _dotted(loc: FieldPath) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


TYPE_WORDS = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "path_type": "must be a file path",
}


def _message(err: Any, loc: FieldPath) -> str:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return _unknown_field(loc)
    if kind == "literal_error":
        allowed = re.findall(r"'((?:[^'\\]|\\.)*)'", str(ctx.get("expected", "")))
        if len(allowed) == 1:
            return f"must be {allowed[0]}, not {value!r}"
        return f"{value!r} is not one of: {', '.join(allowed)}"
    if kind in TYPE_WORDS:
        return f"{TYPE_WORDS[kind]}, got {_kind_of(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"{PATTERN_HINTS.get(str(ctx.get('pattern')), 'has the wrong form')}, not {value!r}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {value!r}"
    return str(err["msg"])


def _unknown_field(loc: FieldPath) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return "unknown field"
    allowed = [f.alias or name for name, f in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"unknown field{hint} (allowed here: {', '.join(allowed)})"


def _model_at(loc: FieldPath) -> type[BaseModel] | None:
    """The model that validates the mapping at `loc` (list indices pass through to the item model)."""
    model: type[BaseModel] = Incident
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        inner = _inner_model(field.annotation) if field is not None else None
        if inner is None:
            return None
        model = inner
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def _kind_of(value: Any) -> str:
    """How a YAML value reads to a person: `a list`, `the string 'x'`, `nothing (null)`."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value if len(value) <= 40 else value[:37] + '...'!r}"
    return f"the {type(value).__name__} {value}"  # e.g. YAML's dates


# ============================================================================================ schema
def incident_schema(crd: bool = False) -> dict[str, Any]:
    """The Incident JSON schema with camelCase names and every definition inlined (no `$ref`).

    crd=True gives the Kubernetes structural-schema flavour for a CRD's openAPIV3Schema: `nullable`
    instead of null types, no `additionalProperties: false` next to `properties` (the API server prunes
    unknown fields instead), and `metadata` left to the API server.
    """
    schema = model_schema(Incident, crd)
    if crd:
        props = schema["properties"]
        props["apiVersion"] = {"type": "string"}
        props["kind"] = {"type": "string"}
        props["metadata"] = {"type": "object"}
        schema["required"] = ["spec"]
    else:
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return schema


def model_schema(model: type[BaseModel], crd: bool = False) -> dict[str, Any]:
    """A spec-style model's JSON schema, camelCase, definitions inlined; with crd, structural (as
    `incident_schema` says). Other documents of the Incident (its CRD's status) are written this way too."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    schema: dict[str, Any] = _tidy(_inline(raw, defs), crd)
    return schema


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**target, **siblings}, defs)
    return {k: _inline(v, defs) for k, v in node.items()}


def _tidy(node: Any, crd: bool) -> Any:
    """One schema node (and those under it) cleaned for readers and, with crd, for the API server."""
    if isinstance(node, list):
        return [_tidy(n, crd) for n in node]
    if not isinstance(node, dict):
        return node
    node = {
        # `properties` maps field names to schemas: a field may be called "title" or "const".
        k: ({name: _tidy(sub, crd) for name, sub in v.items()} if k == "properties" else _tidy(v, crd))
        for k, v in node.items()
        if k != "title"
    }
    if isinstance(node.get("description"), str):  # docstrings wrap; a schema description is one line
        node["description"] = " ".join(node["description"].split())
    if "default" in node and node["default"] is None:
        del node["default"]
    if "const" in node:  # OpenAPI v3 (CRDs) has no const
        node.setdefault("enum", [node.pop("const")])
    options = node.get("anyOf")
    if crd and options and len(options) == 2 and {"type": "null"} in options:
        (inner,) = [o for o in options if o != {"type": "null"}]
        del node["anyOf"]
        node = {**inner, **node, "nullable": True}
    if crd and node.get("additionalProperties") is False and "properties" in node:
        del node["additionalProperties"]
    if crd and "oneOf" in node:
        # A structural schema has one type per field: a field of several forms (spec.model, a name or a
        # mapping) is kept as written and validated when the Incident is read, as an incident file is.
        node = {k: v for k, v in node.items() if k not in ("oneOf", "discriminator")}
        node["x-kubernetes-preserve-unknown-fields"] = True
    return node
