"""RBAC: ServiceAccounts, Roles, ClusterRoles and their bindings as `list_resources` summarises them and
`describe` details them, and `can_i`, the API server's own answer to "may this ServiceAccount do X".

A ServiceAccount's description resolves what it is granted (the bindings naming it, or a group it is in,
and their roles' rules), so a `forbidden` in a pod's log can be traced to the missing rule; `can_i` asks
the authorizer itself through a SubjectAccessReview, as `kubectl auth can-i --as` does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .context import ToolContext
from .errors import ToolError
from .kinds import KINDS
from .schema import params, prop
from .spec import ToolSpec
from .templates import compact

MAX_RULES = 12  # rules shown per role: a ClusterRole like `admin` has dozens
SA_PREFIX = "system:serviceaccount:"


def rule_text(rule: dict) -> str:
    """`get,list pods,services`, `* deployments.apps`, `get /healthz`, with `(names: a,b)` when narrowed."""
    verbs = ",".join(rule.get("verbs") or [])
    if rule.get("nonResourceURLs"):
        return f"{verbs} {','.join(rule['nonResourceURLs'])}"
    groups = rule.get("apiGroups") or [""]
    resources = [f"{r}.{g}" if g and r != "*" else r for g in groups for r in rule.get("resources") or []]
    text = f"{verbs} {','.join(dict.fromkeys(resources))}"
    if groups == ["*"] and resources:
        text += " (any group)"
    return text + (f" (names: {','.join(rule['resourceNames'])})" if rule.get("resourceNames") else "")


def rules(role: dict) -> list[str]:
    texts = [rule_text(r) for r in role.get("rules") or []]
    return texts[:MAX_RULES] + ([f"... {len(texts) - MAX_RULES} more"] if len(texts) > MAX_RULES else [])


def subject_text(subject: dict, binding_namespace: str | None) -> str:
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        return f"ServiceAccount {subject.get('namespace') or binding_namespace}/{subject.get('name')}"
    return f"{kind} {subject.get('name')}"


def role_summary(role: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"rules": rules(role)}
    if role.get("aggregationRule"):
        out["aggregated"] = True
    return out


def binding_summary(binding: dict) -> dict[str, Any]:
    ref = binding.get("roleRef") or {}
    ns = (binding.get("metadata") or {}).get("namespace")
    return {
        "role": f"{ref.get('kind')}/{ref.get('name')}",
        "subjects": [subject_text(s, ns) for s in binding.get("subjects") or []],
    }


def service_account_summary(sa: dict) -> dict[str, Any]:
    return compact(
        {
            "automountServiceAccountToken": sa.get("automountServiceAccountToken"),
            "imagePullSecrets": [s.get("name") for s in sa.get("imagePullSecrets") or []],
        }
    )


def _names_service_account(subject: dict, namespace: str, name: str, binding_namespace: str | None) -> bool:
    kind, who = subject.get("kind"), subject.get("name")
    if kind == "ServiceAccount":
        return who == name and (subject.get("namespace") or binding_namespace) == namespace
    if kind == "User":
        return who == f"{SA_PREFIX}{namespace}:{name}"
    if kind == "Group":  # not system:authenticated: what every user may do is noise here
        return who in ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")
    return False


async def _role(ctx: ToolContext, ref: dict, namespace: str | None) -> dict | None:
    kind = ref.get("kind")
    if kind not in ("Role", "ClusterRole"):
        return None
    return await ctx.kube.find(KINDS[kind], ref.get("name", ""), namespace if kind == "Role" else None)


async def grants(ctx: ToolContext, namespace: str, name: str) -> list[dict[str, Any]]:
    """What the ServiceAccount is granted: each binding naming it (or a group it is in) with its role's rules."""
    bindings, cluster_bindings = await asyncio.gather(
        ctx.kube.list(KINDS["RoleBinding"], namespace), ctx.kube.list(KINDS["ClusterRoleBinding"])
    )
    out = []
    for b in [*bindings, *cluster_bindings]:
        b_ns = b["metadata"].get("namespace")
        if not any(_names_service_account(s, namespace, name, b_ns) for s in b.get("subjects") or []):
            continue
        ref = b.get("roleRef") or {}
        role = await _role(ctx, ref, b_ns)
        kind = "RoleBinding" if b_ns else "ClusterRoleBinding"
        entry: dict[str, Any] = {
            "binding": f"{kind}/{b['metadata']['name']}",
            "role": f"{ref.get('kind')}/{ref.get('name')}",
        }
        if role is None:
            entry["problem"] = f"{ref.get('kind')} {ref.get('name')} not found: the binding grants nothing"
        else:
            entry["rules"] = rules(role)
        out.append(entry)
    return out


async def describe_service_account(ctx: ToolContext, sa: dict) -> tuple[dict, dict]:
    ns, name = sa["metadata"].get("namespace", ""), sa["metadata"]["name"]
    pods = await ctx.kube.list(KINDS["Pod"], ns)
    used_by = sorted(
        p["metadata"]["name"] for p in pods if ((p.get("spec") or {}).get("serviceAccountName") or "default") == name
    )
    status: dict[str, Any] = {"granted": await grants(ctx, ns, name), "pods": used_by[:20]}
    if not status["granted"]:
        status["granted_note"] = "no binding names it or its groups: it may do only what every authenticated user may"
    return service_account_summary(sa), compact(status)


async def describe_role(ctx: ToolContext, role: dict) -> tuple[dict, dict]:
    return compact({**role_summary(role), "aggregationRule": role.get("aggregationRule")}), {}


async def describe_binding(ctx: ToolContext, binding: dict) -> tuple[dict, dict]:
    role = await _role(ctx, binding.get("roleRef") or {}, binding["metadata"].get("namespace"))
    status: dict[str, Any] = {"role_exists": role is not None}
    if role is not None:
        status["rules"] = rules(role)
    return binding_summary(binding), status


# ---------------------------------------------------------------------------------------------- can_i
async def _resource(ctx: ToolContext, text: str) -> tuple[str, str, str | None]:
    """(group, plural, subresource) of `pods`, `pods/log`, `Deployment`, `deployments.apps`, `widgets.example.com`."""
    kind_text, _, sub = text.strip().partition("/")
    found = await ctx.discovery.find(kind_text)
    if found is None:
        raise ToolError(f"the cluster serves no resource {kind_text!r} (e.g. pods, deployments.apps, pods/log)")
    group = found.api_path.split("/")[1] if found.api_path.startswith("apis/") else ""
    return group, found.plural, sub or None


def _subject(namespace: str, service_account: str | None, user: str | None) -> dict[str, Any] | None:
    """The review's subject: a ServiceAccount (with the groups it is in), a user, or None for the caller."""
    if service_account:
        if service_account.startswith(SA_PREFIX):
            namespace, service_account = service_account.removeprefix(SA_PREFIX).split(":", 1)
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]
        return {"user": f"{SA_PREFIX}{namespace}:{service_account}", "groups": groups}
    if user:
        return {"user": user, "groups": ["system:authenticated"]}
    return None


async def can_i(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("service_account") and args.get("user"):
        raise ToolError("give service_account or user, not both")
    namespace = args["namespace"]
    group, plural, sub = await _resource(ctx, args["resource"])
    attributes = compact(
        {
            "namespace": namespace,
            "verb": args["verb"],
            "group": group,
            "resource": plural,
            "subresource": sub,
            "name": args.get("name"),
        }
    )
    subject = _subject(namespace, args.get("service_account"), args.get("user"))
    review = "subjectaccessreviews" if subject else "selfsubjectaccessreviews"
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview" if subject else "SelfSubjectAccessReview",
        "spec": {**(subject or {}), "resourceAttributes": attributes},
    }
    answer = await ctx.kube.post_path(f"apis/authorization.k8s.io/v1/{review}", "SubjectAccessReview", body)
    status = answer.get("status") or {}
    what = f"{plural}.{group}" if group else plural
    return compact(
        {
            "subject": (subject or {}).get("user", "this agent's own credentials"),
            "verb": args["verb"],
            "resource": what + (f"/{sub}" if sub else ""),
            "name": args.get("name"),
            "namespace": namespace,
            "allowed": bool(status.get("allowed")),
            "denied": status.get("denied"),
            "reason": status.get("reason"),
            "evaluationError": status.get("evaluationError"),
        }
    )


SUMMARIES = {
    "ServiceAccount": service_account_summary,
    "Role": role_summary,
    "ClusterRole": role_summary,
    "RoleBinding": binding_summary,
    "ClusterRoleBinding": binding_summary,
}
DESCRIBERS = {
    "ServiceAccount": describe_service_account,
    "Role": describe_role,
    "ClusterRole": describe_role,
    "RoleBinding": describe_binding,
    "ClusterRoleBinding": describe_binding,
}

TOOLS = [
    ToolSpec(
        "can_i",
        "Whether a ServiceAccount (or user; default: these tools' own credentials) may do a verb on a resource "
        "in a namespace, answered by the API server's authorizer (kubectl auth can-i --as).",
        params(
            ["namespace", "verb", "resource"],
            namespace=prop("string", "the namespace"),
            verb=prop("string", "e.g. get, list, create, patch, delete"),
            resource=prop("string", "e.g. pods, pods/log, deployments.apps, configmaps"),
            service_account=prop("string", "ServiceAccount name in the namespace"),
            user=prop("string", "a user name instead"),
            name=prop("string", "one object's name"),
        ),
        "read",
        can_i,
        order=35,
        category="access",
    )
]
