"""RBAC: ServiceAccounts, Roles, ClusterRoles and their bindings as `list_resources` summarises them and
`describe` details them.

A ServiceAccount's description resolves what it is granted (the bindings naming it, or a group it is in,
and their roles' rules) and what it was refused: each `forbidden` quoted by a Warning event or its pods'
logs is asked again through a SubjectAccessReview (`kubectl auth can-i --as`), so it shows whether the
refusal still stands, before and after a fix.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from .context import ToolContext
from .errors import ToolError
from .kinds import KINDS
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
    used_by = [p for p in pods if ((p.get("spec") or {}).get("serviceAccountName") or "default") == name]
    status: dict[str, Any] = {
        "granted": await grants(ctx, ns, name),
        "pods": [p["metadata"]["name"] for p in used_by][:20],
    }
    if not status["granted"]:
        status["granted_note"] = "no binding names it or its groups: it may do only what every authenticated user may"
    status["denials"] = await denials(ctx, ns, name, used_by)
    return service_account_summary(sa), compact(status)


async def describe_role(ctx: ToolContext, role: dict) -> tuple[dict, dict]:
    return compact({**role_summary(role), "aggregationRule": role.get("aggregationRule")}), {}


async def describe_binding(ctx: ToolContext, binding: dict) -> tuple[dict, dict]:
    role = await _role(ctx, binding.get("roleRef") or {}, binding["metadata"].get("namespace"))
    status: dict[str, Any] = {"role_exists": role is not None}
    if role is not None:
        status["rules"] = rules(role)
    return binding_summary(binding), status


# ---------------------------------------------------------------------------------------------- denials
# The API server's refusal, as clients log it and events quote it (quotes may come JSON-escaped).
DENIAL = re.compile(
    r'User \\?"system:serviceaccount:(?P<sa_ns>[a-z0-9.-]+):(?P<sa>[a-z0-9.-]+)\\?"'
    r' cannot (?P<verb>[a-z]+) resource \\?"(?P<resource>[a-z0-9.*/-]+)\\?"'
    r'(?: in API group \\?"(?P<group>[a-z0-9.-]*)\\?")?'
    r'(?: in the namespace \\?"(?P<ns>[a-z0-9.-]+)\\?")?'
)
MAX_PODS_READ = 5  # pods of the ServiceAccount whose logs are searched for refusals
LOG_TAIL = 100


async def _texts(ctx: ToolContext, namespace: str, pods: list[dict]) -> list[tuple[str, str]]:
    """(where, line) of the namespace's Warning events and the recent log lines of the pods."""
    events = await ctx.kube.list(KINDS["Event"], namespace, field_selector="type=Warning")
    out = [(f"event {e.get('reason')}", str(e.get("message") or "")) for e in events]
    for pod in pods[:MAX_PODS_READ]:
        name = pod["metadata"]["name"]
        for c in (pod.get("spec") or {}).get("containers") or []:
            try:
                text = await ctx.kube.pod_log(namespace, name, c.get("name"), LOG_TAIL)
            except ToolError:
                continue  # not started yet: nothing logged
            out += [(f"log {name}/{c.get('name')}", line) for line in text.splitlines()]
    return out


async def review(ctx: ToolContext, namespace: str, name: str, attributes: dict[str, str]) -> dict[str, Any]:
    """The authorizer's answer for the ServiceAccount (a SubjectAccessReview, as `kubectl auth can-i --as`)."""
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": f"{SA_PREFIX}{namespace}:{name}",
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
            "resourceAttributes": attributes,
        },
    }
    answer = await ctx.kube.post_path("apis/authorization.k8s.io/v1/subjectaccessreviews", "SubjectAccessReview", body)
    return answer.get("status") or {}


async def denials(ctx: ToolContext, namespace: str, name: str, pods: list[dict]) -> list[dict[str, Any]]:
    """What the ServiceAccount was refused (in Warning events and its pods' logs), each asked again now:
    `allowed_now` false means the refusal still stands."""
    found: dict[tuple, str] = {}
    for where, line in await _texts(ctx, namespace, pods):
        for m in DENIAL.finditer(line):
            if (m["sa_ns"], m["sa"]) == (namespace, name):
                resource, _, sub = m["resource"].partition("/")
                found.setdefault((m["verb"], resource, sub, m["group"] or "", m["ns"] or ""), where)
    out = []
    for (verb, resource, sub, group, ns), where in list(found.items())[:MAX_RULES]:
        attributes = compact({"verb": verb, "resource": resource, "subresource": sub, "group": group, "namespace": ns})
        try:
            answer = await review(ctx, namespace, name, attributes)
            now: Any = bool(answer.get("allowed"))
        except ToolError as err:
            now = f"unknown: {err}"
        what = f"{resource}/{sub}" if sub else resource
        request = f"{verb} {what}.{group}" if group else f"{verb} {what}"
        out.append({"request": request + (f" in {ns}" if ns else " cluster-wide"), "seen": where, "allowed_now": now})
    return out


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
