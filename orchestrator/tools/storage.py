"""PersistentVolumeClaims, PersistentVolumes and StorageClasses as `list_resources` summarises them and
`describe` details them.

A Pending claim is explained by what it points at: a StorageClass that does not exist (or none, with no
default class), a volume it names, or a WaitForFirstConsumer class waiting for a pod. Its description
shows those, and the pods that mount it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .context import ToolContext
from .kinds import KINDS
from .templates import compact

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def is_default(sc: dict) -> bool:
    return ((sc.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true"


def storage_class_summary(sc: dict) -> dict[str, Any]:
    return compact(
        {
            "provisioner": sc.get("provisioner"),
            "default": is_default(sc),
            "volumeBindingMode": sc.get("volumeBindingMode", "Immediate"),
            "reclaimPolicy": sc.get("reclaimPolicy", "Delete"),
            "allowVolumeExpansion": sc.get("allowVolumeExpansion"),
        }
    )


def pv_summary(pv: dict) -> dict[str, Any]:
    spec, status = pv.get("spec") or {}, pv.get("status") or {}
    claim = spec.get("claimRef") or {}
    return compact(
        {
            "phase": status.get("phase"),
            "capacity": (spec.get("capacity") or {}).get("storage"),
            "accessModes": spec.get("accessModes"),
            "storageClassName": spec.get("storageClassName"),
            "claim": f"{claim.get('namespace')}/{claim.get('name')}" if claim else None,
            "reclaimPolicy": spec.get("persistentVolumeReclaimPolicy"),
            "reason": status.get("reason"),
        }
    )


def _mounts(pod: dict, claim: str) -> bool:
    return any(
        (v.get("persistentVolumeClaim") or {}).get("claimName") == claim
        for v in (pod.get("spec") or {}).get("volumes") or []
    )


async def describe_pvc(ctx: ToolContext, pvc: dict) -> tuple[dict, dict]:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    ns, name = pvc["metadata"].get("namespace"), pvc["metadata"]["name"]
    classes, pods = await asyncio.gather(ctx.kube.list(KINDS["StorageClass"]), ctx.kube.list(KINDS["Pod"], ns))
    wanted = spec.get("storageClassName")
    defaults = [c["metadata"]["name"] for c in classes if is_default(c)]
    if wanted:
        sc = next((c for c in classes if c["metadata"]["name"] == wanted), None)
        storage_class = storage_class_summary(sc) if sc else f"StorageClass {wanted} not found"
    elif wanted == "":
        storage_class = 'none (storageClassName: ""): binds only to a pre-made volume'
    else:
        storage_class = f"the default ({defaults[0]})" if defaults else "no storageClassName and no default class"
    out_spec = compact(
        {
            "storageClassName": wanted,
            "accessModes": spec.get("accessModes"),
            "resources": spec.get("resources"),
            "volumeName": spec.get("volumeName"),
            "volumeMode": spec.get("volumeMode"),
        }
    )
    out_status = compact(
        {
            "phase": status.get("phase", "Pending"),
            "capacity": (status.get("capacity") or {}).get("storage"),
            "storageClass": storage_class,
            "defaultStorageClasses": defaults,
            "mountedBy": sorted(p["metadata"]["name"] for p in pods if _mounts(p, name)),
        }
    )
    return out_spec, out_status


async def describe_pv(ctx: ToolContext, pv: dict) -> tuple[dict, dict]:
    spec, status = pv.get("spec") or {}, pv.get("status") or {}
    source = [k for k in spec if k not in _PV_FIELDS]
    out_spec = compact(
        {
            **{k: v for k, v in pv_summary(pv).items() if k not in ("phase", "reason")},
            "volumeMode": spec.get("volumeMode"),
            "source": source[0] if source else None,
            "nodeAffinity": spec.get("nodeAffinity"),
        }
    )
    return out_spec, compact(
        {"phase": status.get("phase"), "reason": status.get("reason"), "message": status.get("message")}
    )


_PV_FIELDS = {
    "capacity",
    "accessModes",
    "claimRef",
    "persistentVolumeReclaimPolicy",
    "storageClassName",
    "mountOptions",
    "volumeMode",
    "nodeAffinity",
    "volumeAttributesClassName",
}


async def describe_storage_class(ctx: ToolContext, sc: dict) -> tuple[dict, dict]:
    return compact({**storage_class_summary(sc), "parameters": sc.get("parameters")}), {}


SUMMARIES = {"PersistentVolume": pv_summary, "StorageClass": storage_class_summary}
DESCRIBERS = {
    "PersistentVolumeClaim": describe_pvc,
    "PersistentVolume": describe_pv,
    "StorageClass": describe_storage_class,
}
