"""PersistentVolumeClaims, PersistentVolumes and StorageClasses: Pending claims, unknown classes,
provisioning failures, failed or released volumes."""

from __future__ import annotations

from .common import event_lines, name_of, quote, symptoms_of
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


@analyzer(
    "PersistentVolumeClaim",
    reads={"StorageClass", "PersistentVolume", "Event", "Pod", "ReplicaSet", "Deployment", "StatefulSet", "Job"},
)
def claims(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Claims that stay Pending (unknown StorageClass, no default class, provisioning failures) or are Lost."""
    out: list[Finding] = []
    classes = {name_of(c): c for c in reads.of("StorageClass")}
    has_default = any(
        ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true" for c in classes.values()
    )
    for ns in scope.namespaces:
        for pvc in reads.of("PersistentVolumeClaim", ns):
            phase = (pvc.get("status") or {}).get("phase")
            if phase not in ("Pending", "Lost"):
                continue
            name = name_of(pvc)
            spec = pvc.get("spec") or {}
            cls = spec.get("storageClassName")
            events = event_lines(reads, "PersistentVolumeClaim", ns, name)
            evidence = [f"status.phase={phase}", *events]
            field = "status.phase"
            if phase == "Lost":
                cause = f"the claim lost its volume {spec.get('volumeName')}"
            elif cls and reads.fetched("StorageClass") and cls not in classes:
                cause, field = (
                    f"StorageClass {cls} does not exist, so nothing provisions the claim",
                    "spec.storageClassName",
                )
                evidence.insert(1, f"spec.storageClassName={cls}: no such StorageClass")
            elif cls is None and reads.fetched("StorageClass") and not has_default and not spec.get("volumeName"):
                cause, field = (
                    "the claim names no StorageClass and the cluster has no default one",
                    "spec.storageClassName",
                )
            elif any("ProvisioningFailed" in e for e in events):
                cause = "the provisioner fails to create a volume for the claim"
            elif (
                spec.get("volumeName")
                and reads.fetched("PersistentVolume")
                and reads.find("PersistentVolume", None, spec["volumeName"]) is None
            ):
                cause, field = (
                    f"the claim is bound by name to volume {spec['volumeName']}, which does not exist",
                    "spec.volumeName",
                )
            else:
                cause = "the claim is not bound to any volume"
            confidence = "high" if field != "status.phase" or events else "medium"
            explains = _claimants(reads, ns, name)
            out.append(
                Finding("PersistentVolumeClaim", ns, name, cause, evidence, confidence, field, explains=explains)
            )
    return out


def _claimants(reads: Snapshot, namespace: str, claim: str) -> list[str]:
    """The pods that mount the claim, and their workloads: they wait on it (Pending, unbound claim)."""
    out: list[str] = []
    for pod in reads.of("Pod", namespace):
        volumes = (pod.get("spec") or {}).get("volumes") or []
        if any((v.get("persistentVolumeClaim") or {}).get("claimName") == claim for v in volumes):
            out += [name for name in symptoms_of(reads, pod) if name not in out]
    return out


@analyzer("PersistentVolume", reads={"Event"})
def volumes(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Volumes in phase Failed, or Released with a Retain policy (data kept, but no claim can bind)."""
    out: list[Finding] = []
    for pv in reads.of("PersistentVolume"):
        status = pv.get("status") or {}
        phase = status.get("phase")
        claim = (pv.get("spec") or {}).get("claimRef") or {}
        if claim.get("namespace") and claim.get("namespace") not in scope.namespaces:
            continue
        if phase == "Failed":
            evidence = [
                f"status.phase=Failed: {quote(status.get('message'))}",
                *event_lines(reads, "PersistentVolume", None, name_of(pv)),
            ]
            out.append(
                Finding(
                    "PersistentVolume",
                    None,
                    name_of(pv),
                    "the volume failed (reclamation or provisioning)",
                    evidence,
                    "high",
                    "status.phase",
                )
            )
        elif phase == "Released" and claim:
            evidence = [f"status.phase=Released; spec.claimRef={claim.get('namespace')}/{claim.get('name')}"]
            cause = "the volume is still bound to a deleted claim and cannot be reused until released by hand"
            out.append(Finding("PersistentVolume", None, name_of(pv), cause, evidence, "low", "spec.claimRef"))
    return out


@analyzer("StorageClass", reads={"PersistentVolumeClaim"})
def storage_classes(reads: Snapshot, scope: Scope) -> list[Finding]:
    """More than one default StorageClass (claims without a class then get either)."""
    defaults = [
        c
        for c in reads.of("StorageClass")
        if ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true"
    ]
    if len(defaults) < 2:
        return []
    names = ", ".join(sorted(name_of(c) for c in defaults))
    return [
        Finding(
            "StorageClass",
            None,
            name_of(c),
            "several StorageClasses are marked default",
            [f"default classes: {names}"],
            "low",
            f"metadata.annotations[{DEFAULT_CLASS}]",
        )
        for c in defaults
    ]
