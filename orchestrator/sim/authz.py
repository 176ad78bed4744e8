"""Access reviews answered from the stored RBAC objects, as kube-apiserver's RBAC authorizer does.

The simulator does not enforce authorization on requests; it answers the questions `kubectl auth
can-i` and admission webhooks ask (SelfSubjectAccessReview, SubjectAccessReview, the namespaced
LocalSubjectAccessReview and SelfSubjectRulesReview). The kubeconfig's user is the cluster admin:
member of system:masters, which the API server lets do anything whatever the bindings say.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ApiError, invalid
from .resources import ResourceType

if TYPE_CHECKING:
    from aiohttp import web

    from .cluster import Cluster

ADMIN_USER = "kubernetes-admin"
MASTERS = "system:masters"
RBAC = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]


def request_user(request: web.Request) -> User:
    """Who the request is from: the kubeconfig's admin, unless `--as`/`--as-group`
    (Impersonate-User/-Group headers) switch to another identity, as the API server allows admins."""
    # The simulator does not authenticate (kubectl sends no token over plain HTTP): every caller is
    # the kubeconfig's admin.
    user = User(ADMIN_USER, ("kubeadm:cluster-admins", MASTERS, "system:authenticated"))
    name = request.headers.get("Impersonate-User")
    if name:
        groups = tuple(request.headers.getall("Impersonate-Group", []))
        if name.startswith("system:serviceaccount:"):
            ns = name.split(":")[2]
            groups += ("system:serviceaccounts", f"system:serviceaccounts:{ns}")
        user = User(name, (*groups, "system:authenticated"))
    return user


def bootstrap(cluster: Cluster) -> None:
    """The cluster-admin role and its binding to system:masters, as every cluster has them."""
    labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
    cluster.store.create(
        cluster.rt("ClusterRole"),
        {
            "metadata": {"name": "cluster-admin", "labels": labels},
            "rules": [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ],
        },
    )
    cluster.store.create(
        cluster.rt("ClusterRoleBinding"),
        {
            "metadata": {"name": "cluster-admin", "labels": labels},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": MASTERS}],
        },
    )


# ------------------------------------------------------------------------------------------ rules
def _subject_matches(subject: dict, user: User, binding_ns: str) -> bool:
    kind = subject.get("kind")
    name = subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return user.name == f"system:serviceaccount:{ns}:{name}"
    return False


def _bound_rules(cluster: Cluster, user: User, namespace: str) -> list[tuple[str, dict]]:
    """(binding description, rule) for every rule granted to the user in `namespace` ("" = cluster)."""
    store = cluster.store
    out: list[tuple[str, dict]] = []

    def role_rules(ref: dict, ns: str) -> list[dict]:
        kind = ref.get("kind")
        if kind not in ("Role", "ClusterRole"):
            return []  # a binding to something else grants nothing
        role = store.find(cluster.rt(kind), ns if kind == "Role" else "", ref.get("name", ""))
        return (role or {}).get("rules") or []

    for b in store.list(cluster.rt("ClusterRoleBinding")):
        for s in b.get("subjects") or []:
            if _subject_matches(s, user, ""):
                ref = b.get("roleRef") or {}
                what = f'ClusterRoleBinding "{b["metadata"]["name"]}" of ClusterRole "{ref.get("name")}"'
                out += [(f'{what} to {s["kind"]} "{s["name"]}"', r) for r in role_rules(ref, "")]
                break
    if namespace:
        for b in store.list(cluster.rt("RoleBinding"), namespace):
            for s in b.get("subjects") or []:
                if _subject_matches(s, user, namespace):
                    ref = b.get("roleRef") or {}
                    what = f'RoleBinding "{b["metadata"]["name"]}/{namespace}" of {ref.get("kind")} "{ref.get("name")}"'
                    out += [(f'{what} to {s["kind"]} "{s["name"]}"', r) for r in role_rules(ref, namespace)]
                    break
    return out


def _has(values: list | None, value: str) -> bool:
    values = values or []
    return "*" in values or value in values


def _rule_allows(rule: dict, attrs: dict) -> bool:
    if not _has(rule.get("verbs"), attrs.get("verb", "")):
        return False
    if "resource" not in attrs:  # a non-resource request: a path
        path = attrs.get("path", "")
        return any(
            u == path or u == "*" or (u.endswith("*") and path.startswith(u[:-1]))
            for u in rule.get("nonResourceURLs") or []
        )
    if not _has(rule.get("apiGroups"), attrs.get("group", "")):
        return False
    resource = attrs["resource"]
    sub = attrs.get("subresource")
    wanted = f"{resource}/{sub}" if sub else resource
    resources = rule.get("resources") or []
    if not ("*" in resources or wanted in resources or (sub and f"*/{sub}" in resources)):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.get("name", "") in names


def decide(cluster: Cluster, user: User, attrs: dict) -> tuple[bool, str]:
    """Whether `user` may do what `attrs` (ResourceAttributes or NonResourceAttributes) describes."""
    if MASTERS in user.groups:
        return True, ""
    for why, rule in _bound_rules(cluster, user, attrs.get("namespace", "")):
        if _rule_allows(rule, attrs):
            return True, f"RBAC: allowed by {why}"
    return False, ""


def request_attributes(
    request: web.Request, group: str, resource: str, namespace: str | None, name: str | None, sub: str | None
) -> dict:
    """The authorizer's view of an API request: verb, group, resource, namespace, name."""
    method = request.method
    if method == "GET":
        verb = "get" if name else ("watch" if request.query.get("watch") in ("true", "1") else "list")
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())
    attrs = {"verb": verb, "group": group, "resource": resource, "namespace": namespace or "", "name": name or ""}
    if sub:
        attrs["subresource"] = sub
    return attrs


def forbidden(user: User, attrs: dict) -> ApiError:
    """kube-apiserver's 403 for a request RBAC does not allow."""
    resource = attrs["resource"] + (f"/{attrs['subresource']}" if attrs.get("subresource") else "")
    where = f' in the namespace "{attrs["namespace"]}"' if attrs["namespace"] else " at the cluster scope"
    what = f"{attrs['resource']}.{attrs['group']}" if attrs["group"] else attrs["resource"]
    if attrs["name"]:
        what += f' "{attrs["name"]}"'
    return ApiError(
        403,
        f'{what} is forbidden: User "{user.name}" cannot {attrs["verb"]} resource "{resource}" in API group '
        f'"{attrs["group"]}"{where}',
        "Forbidden",
        {"name": attrs["name"], "group": attrs["group"], "kind": attrs["resource"]},
    )


# ------------------------------------------------------------------------------------------ reviews
def review(cluster: Cluster, request: web.Request, rt: ResourceType, body: dict, namespace: str | None) -> dict:
    """Answer a *SubjectAccessReview or SelfSubjectRulesReview: the body returned with its status."""
    out = copy.deepcopy(body)
    out["apiVersion"], out["kind"] = rt.api_version, rt.kind
    out.setdefault("metadata", {})
    if rt.kind == "SelfSubjectReview":  # `kubectl auth whoami`
        user = request_user(request)
        out["status"] = {"userInfo": {"username": user.name, "groups": list(user.groups)}}
        return out
    spec = out.get("spec") or {}
    if rt.kind.startswith("Self"):
        user = request_user(request)
        if rt.kind == "SelfSubjectRulesReview":
            out["status"] = _rules_review(cluster, user, spec.get("namespace", ""))
            return out
    else:
        if not spec.get("user") and not spec.get("groups"):
            raise invalid(
                rt.kind, "", "spec.user", 'Invalid value: "": at least one of user or group must be specified'
            )
        user = User(spec.get("user", ""), tuple(spec.get("groups") or ()))
    attrs = spec.get("resourceAttributes")
    if attrs is None:
        attrs = spec.get("nonResourceAttributes")
        if attrs is None:
            raise invalid(
                rt.kind,
                "",
                "spec.resourceAttributes",
                'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
            )
        attrs = {k: v for k, v in attrs.items() if k in ("path", "verb")}
    else:
        attrs = dict(attrs)
        attrs.setdefault("resource", "")
    if rt.kind == "LocalSubjectAccessReview" and attrs.get("namespace", namespace) != namespace:
        raise ApiError(400, f"spec.resourceAttributes.namespace must match namespace: {namespace}")
    allowed, reason = decide(cluster, user, attrs)
    out["status"] = {"allowed": allowed}
    if reason:
        out["status"]["reason"] = reason
    return out


def _rules_review(cluster: Cluster, user: User, namespace: str) -> dict:
    rules = [r for _, r in _bound_rules(cluster, user, namespace)]
    if MASTERS in user.groups:
        rules = [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["*"]},
        ]
    resource_rules = [
        {k: r[k] for k in ("verbs", "apiGroups", "resources", "resourceNames") if r.get(k)}
        for r in rules
        if r.get("resources")
    ]
    non_resource = [
        {"verbs": r["verbs"], "nonResourceURLs": r["nonResourceURLs"]} for r in rules if r.get("nonResourceURLs")
    ]
    return {"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": False}
