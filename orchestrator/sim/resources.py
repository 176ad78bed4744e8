"""The resource types the simulated API server serves, and the discovery documents built from them.

Built-in types are declared once here; CustomResourceDefinitions add entries at run time so that the
operator's own kind can be listed and watched like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # "status", "scale", "log"
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = tuple(ALL_VERBS)
    list_kind: str = ""
    custom: bool = False  # served for a CustomResourceDefinition

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def key(self) -> tuple[str, str]:
        """Storage key: objects of one group+plural share a bucket whatever the version."""
        return (self.group, self.plural)


def _core(kind: str, plural: str, **kw: object) -> ResourceType:
    return ResourceType("", "v1", kind, plural, **kw)  # type: ignore[arg-type]


BUILTIN: list[ResourceType] = [
    _core("Namespace", "namespaces", namespaced=False, short_names=("ns",), subresources=("status",)),
    _core("Node", "nodes", namespaced=False, short_names=("no",), subresources=("status",)),
    _core("Pod", "pods", short_names=("po",), subresources=("status", "log"), categories=("all",)),
    _core("Service", "services", short_names=("svc",), subresources=("status",), categories=("all",)),
    _core("Endpoints", "endpoints", short_names=("ep",)),
    _core("Event", "events", short_names=("ev",)),
    _core("ConfigMap", "configmaps", short_names=("cm",)),
    _core("Secret", "secrets"),
    _core("ServiceAccount", "serviceaccounts", short_names=("sa",)),
    _core("PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",), subresources=("status",)),
    _core("ResourceQuota", "resourcequotas", short_names=("quota",), subresources=("status",)),
    ResourceType(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        short_names=("deploy",),
        subresources=("status", "scale"),
        categories=("all",),
    ),
    ResourceType(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        short_names=("rs",),
        subresources=("status", "scale"),
        categories=("all",),
    ),
    ResourceType(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        short_names=("sts",),
        subresources=("status", "scale"),
        categories=("all",),
    ),
    ResourceType(
        "apps", "v1", "DaemonSet", "daemonsets", short_names=("ds",), subresources=("status",), categories=("all",)
    ),
    ResourceType("apps", "v1", "ControllerRevision", "controllerrevisions"),
    ResourceType("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short_names=("netpol",)),
    ResourceType(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        short_names=("hpa",),
        subresources=("status",),
        categories=("all",),
    ),
    ResourceType("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced=False, short_names=("pc",)),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short_names=("crd", "crds"),
        subresources=("status",),
    ),
    # Leases let operators take a lock.
    ResourceType("coordination.k8s.io", "v1", "Lease", "leases"),
    # ---- kinds people deploy beside workloads: batch, ingress and storage (controllers in jobs.py,
    # cronjobs.py, ingress.py and volumes.py under controllers/).
    ResourceType("batch", "v1", "Job", "jobs", subresources=("status",), categories=("all",)),
    ResourceType(
        "batch", "v1", "CronJob", "cronjobs", short_names=("cj",), subresources=("status",), categories=("all",)
    ),
    ResourceType("networking.k8s.io", "v1", "Ingress", "ingresses", short_names=("ing",), subresources=("status",)),
    ResourceType("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False),
    ResourceType("storage.k8s.io", "v1", "StorageClass", "storageclasses", namespaced=False, short_names=("sc",)),
    _core("PersistentVolume", "persistentvolumes", namespaced=False, short_names=("pv",), subresources=("status",)),
    # kubectl describe service/ingress lists a backend's addresses from its EndpointSlices.
    ResourceType("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
]

# ------------------------------------------------------------------------------------------------
# The API surface beyond stored workloads: access control, its reviews, and the resource metrics API.
# Reviews are create-only and never stored; metrics are computed from the kubelet's usage figures.
_REVIEW_VERBS = ("create",)
_METRICS_VERBS = ("get", "list")
API_EXTRAS: list[ResourceType] = [
    ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    ResourceType(
        "authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False, verbs=_REVIEW_VERBS
    ),
    ResourceType(
        "authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False, verbs=_REVIEW_VERBS
    ),
    ResourceType(
        "authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False, verbs=_REVIEW_VERBS
    ),
    ResourceType(
        "authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", verbs=_REVIEW_VERBS
    ),
    ResourceType("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False, verbs=_REVIEW_VERBS),
    ResourceType("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", verbs=_METRICS_VERBS),
    ResourceType("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", namespaced=False, verbs=_METRICS_VERBS),
]
# Groups whose objects are computed on request rather than stored.
VIRTUAL_GROUPS = frozenset({"authentication.k8s.io", "authorization.k8s.io", "metrics.k8s.io"})

# Versions the server also accepts for a group, mapped to the stored one (kubectl and older clients
# still ask autoscaling/v1 for scale sub-resources and HPAs).
EXTRA_VERSIONS = {("autoscaling", "v1"): "v2"}


@dataclass
class Registry:
    """Lookup of resource types by (group, version, plural) and by kind."""

    types: list[ResourceType] = field(default_factory=lambda: list(BUILTIN) + list(API_EXTRAS))
    # Bumped whenever the served types change: generated documents (OpenAPI) are cached on it.
    generation: int = 0
    # (group, version, plural) -> the CRD's version entry (schema, printer columns, subresources).
    crd_versions: dict[tuple[str, str, str], dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._reindex()

    def custom_schema(self, rt: ResourceType) -> dict | None:
        """The openAPIV3Schema of a custom resource's version, if its CRD has one."""
        version = self.crd_versions.get((rt.group, rt.version, rt.plural)) or {}
        return (version.get("schema") or {}).get("openAPIV3Schema")

    def _reindex(self) -> None:
        self.generation += 1
        self._by_path = {(t.group, t.version, t.plural): t for t in self.types}
        self._by_kind: dict[str, ResourceType] = {}
        for t in self.types:
            self._by_kind.setdefault(t.kind.lower(), t)
            self._by_kind.setdefault(f"{t.kind.lower()}.{t.group}", t)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        t = self._by_path.get((group, version, plural))
        if t is None and (group, version) in EXTRA_VERSIONS:
            t = self._by_path.get((group, EXTRA_VERSIONS[(group, version)], plural))
        return t

    def by_kind(self, kind: str, api_version: str | None = None) -> ResourceType | None:
        if api_version:
            group = api_version.split("/")[0] if "/" in api_version else ""
            for t in self.types:
                if t.kind == kind and t.group == group:
                    return t
        return self._by_kind.get(kind.lower())

    def by_key(self, group: str, plural: str) -> ResourceType | None:
        for t in self.types:
            if t.group == group and t.plural == plural:
                return t
        return None

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for t in self.types:
            if t.group and t.version not in out.setdefault(t.group, []):
                out[t.group].append(t.version)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [t for t in self.types if t.group == group and t.version == version]

    def add_crd(self, crd: dict) -> list[ResourceType]:
        """Register the kinds a CustomResourceDefinition declares (served versions only)."""
        spec = crd.get("spec", {})
        names = spec.get("names", {})
        added = []
        for v in spec.get("versions", []):
            if not v.get("served", True):
                continue
            subs = tuple(k for k in (v.get("subresources") or {}) if k in ("status", "scale"))
            t = ResourceType(
                spec["group"],
                v["name"],
                names["kind"],
                names["plural"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames", [])),
                subresources=subs,
                categories=tuple(names.get("categories", [])),
                list_kind=names.get("listKind", ""),
                custom=True,
            )
            self.crd_versions[(t.group, t.version, t.plural)] = v
            self.types = [x for x in self.types if (x.group, x.version, x.plural) != (t.group, t.version, t.plural)]
            self.types.append(t)
            added.append(t)
        self._reindex()
        return added

    def remove_crd(self, crd: dict) -> None:
        spec = crd.get("spec", {})
        plural = spec.get("names", {}).get("plural")
        self.types = [t for t in self.types if not (t.group == spec.get("group") and t.plural == plural)]
        self.crd_versions = {k: v for k, v in self.crd_versions.items() if (k[0], k[2]) != (spec.get("group"), plural)}
        self._reindex()


def api_resource_list(registry: Registry, group: str, version: str) -> dict:
    """The APIResourceList document for one group/version (what `kubectl api-resources` reads)."""
    resources = []
    for t in registry.in_group_version(group, version):
        entry = {
            "name": t.plural,
            "singularName": t.singular,
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": list(t.verbs),
        }
        if t.short_names:
            entry["shortNames"] = list(t.short_names)
        if t.categories:
            entry["categories"] = list(t.categories)
        resources.append(entry)
        for sub in t.subresources:
            sub_entry = {"name": f"{t.plural}/{sub}", "singularName": "", "namespaced": t.namespaced}
            if sub == "scale":
                sub_entry |= {
                    "kind": "Scale",
                    "group": "autoscaling",
                    "version": "v1",
                    "verbs": ["get", "patch", "update"],
                }
            elif sub == "log":
                sub_entry |= {"kind": t.kind, "verbs": ["get"]}
            else:
                sub_entry |= {"kind": t.kind, "verbs": ["get", "patch", "update"]}
            resources.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def api_group_list(registry: Registry) -> dict:
    groups = []
    for name, versions in registry.groups().items():
        gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        groups.append({"name": name, "versions": gvs, "preferredVersion": gvs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
