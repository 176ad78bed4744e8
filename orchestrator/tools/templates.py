"""Pod templates, containers and their statuses as a model should see them: the fields faults live in,
secret references instead of values, empty fields dropped."""

from __future__ import annotations

from typing import Any

from .redact import redact_argv, redact_env


def compact(d: dict[str, Any]) -> dict[str, Any]:
    """Drop empty fields: a model reads every token."""
    return {k: v for k, v in d.items() if v not in (None, [], {}, "")}


def conditions(obj: dict) -> list[dict[str, Any]]:
    return [
        compact(
            {"type": c.get("type"), "status": c.get("status"), "reason": c.get("reason"), "message": c.get("message")}
        )
        for c in (obj.get("status") or {}).get("conditions") or []
    ]


def container_essentials(c: dict) -> dict[str, Any]:
    return compact(
        {
            "name": c.get("name"),
            "image": c.get("image"),
            "command": redact_argv(c.get("command")),
            "args": redact_argv(c.get("args")),
            "ports": [
                compact({"name": p.get("name"), "containerPort": p.get("containerPort"), "protocol": p.get("protocol")})
                for p in c.get("ports") or []
            ],
            "env": redact_env(c.get("env")),
            "envFrom": [_env_from(e) for e in c.get("envFrom") or []],
            "resources": c.get("resources") or {},
            "readinessProbe": c.get("readinessProbe"),
            "livenessProbe": c.get("livenessProbe"),
            "startupProbe": c.get("startupProbe"),
            "volumeMounts": [
                {"name": m.get("name"), "mountPath": m.get("mountPath")} for m in c.get("volumeMounts") or []
            ],
        }
    )


def _env_from(e: dict) -> dict[str, Any]:
    if "secretRef" in e:
        return {"secretRef": (e["secretRef"] or {}).get("name")}
    if "configMapRef" in e:
        return {"configMapRef": (e["configMapRef"] or {}).get("name")}
    return {}


def volume_essentials(v: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"name": v.get("name")}
    if "persistentVolumeClaim" in v:
        out["claimName"] = (v["persistentVolumeClaim"] or {}).get("claimName")
    elif "configMap" in v:
        out["configMap"] = (v["configMap"] or {}).get("name")
    elif "secret" in v:
        out["secret"] = (v["secret"] or {}).get("secretName")
    else:
        kinds = [k for k in v if k != "name"]
        out["type"] = kinds[0] if kinds else "unknown"
    return out


def template_essentials(template: dict) -> dict[str, Any]:
    """The pod template (or a pod's spec) fields a fault can live in."""
    spec = template.get("spec") or {}
    return compact(
        {
            "labels": (template.get("metadata") or {}).get("labels") or {},
            "nodeSelector": spec.get("nodeSelector") or {},
            "affinity": spec.get("affinity") or {},
            "tolerations": spec.get("tolerations") or [],
            "priorityClassName": spec.get("priorityClassName"),
            "dnsPolicy": spec.get("dnsPolicy"),
            "dnsConfig": spec.get("dnsConfig"),
            "serviceAccountName": spec.get("serviceAccountName"),
            "volumes": [volume_essentials(v) for v in spec.get("volumes") or []],
            "initContainers": [container_essentials(c) for c in spec.get("initContainers") or []],
            "containers": [container_essentials(c) for c in spec.get("containers") or []],
        }
    )


def container_status(s: dict) -> dict[str, Any]:
    def state(st: dict) -> dict[str, Any]:
        for key in ("waiting", "running", "terminated"):
            if key in (st or {}):
                detail = st[key] or {}
                return compact(
                    {
                        "state": key,
                        "reason": detail.get("reason"),
                        "exitCode": detail.get("exitCode"),
                        "message": detail.get("message"),
                        "startedAt": detail.get("startedAt"),
                        "finishedAt": detail.get("finishedAt"),
                    }
                )
        return {}

    return compact(
        {
            "name": s.get("name"),
            "ready": bool(s.get("ready")),
            "restartCount": s.get("restartCount", 0),
            "image": s.get("image"),
            "state": state(s.get("state") or {}),
            "lastState": state(s.get("lastState") or {}),
        }
    )
