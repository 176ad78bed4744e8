"""Persistent volumes: the PV controller's binding, a provisioner model, and the protection finalizers.

- a claim binds to the smallest Available PersistentVolume of its class that fits (static binding);
- otherwise its StorageClass's provisioner creates `pvc-<claim uid>` and binds it: at once for
  `Immediate` classes, after the scheduler picked a node (`volume.kubernetes.io/selected-node`) for
  `WaitForFirstConsumer` ones;
- a class that does not exist, a provisioner nobody runs, or a request larger than the provisioner
  can give leave the claim Pending with the events upstream posts (ProvisioningFailed,
  ExternalProvisioning, FailedBinding);
- kubernetes.io/pvc-protection keeps a deleted claim while a pod uses it, pv-protection a bound volume;
- a released volume is deleted or kept as its reclaim policy says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..admission_kinds import PV_PROTECTION, PVC_PROTECTION, default_storage_class
from ..clock import rfc3339
from ..objects import object_reference, quantity
from ..selectors import SelectorError, selector_from_spec

if TYPE_CHECKING:
    from ..cluster import Cluster

COMPONENT = "persistentvolume-controller"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROVISIONER_ANNOTATIONS = ("volume.beta.kubernetes.io/storage-provisioner", "volume.kubernetes.io/storage-provisioner")
REPOST_SECONDS = 60.0  # a claim's repeated warning bumps its event at most this often
LOCAL_PATH = "rancher.io/local-path"


@dataclass(frozen=True)
class Provisioner:
    """A provisioner running in the cluster; `node_local` ones give at most the node's disk."""

    name: str
    node_local: bool
    max_bytes: float | None = None


# The provisioners the simulated cluster runs (kind's local-path); any other name has nobody serving it.
PROVISIONERS = {LOCAL_PATH: Provisioner(LOCAL_PATH, node_local=True)}


def claim_class(cluster: Cluster, pvc: dict) -> str:
    """The claim's class name: written, or the default class for a claim stored without admission."""
    spec = pvc.get("spec") or {}
    if "storageClassName" in spec:
        return str(spec["storageClassName"] or "")
    default = default_storage_class(cluster)
    return default["metadata"]["name"] if default else ""


def waits_for_consumer(cluster: Cluster, pvc: dict) -> bool:
    """Whether the claim's class delays binding until a pod using it is scheduled."""
    name = claim_class(cluster, pvc)
    sc = cluster.store.find(cluster.rt("StorageClass"), "", name) if name else None
    return sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"


def _request(pvc: dict) -> float:
    return quantity(((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", "0"))


def _capacity(pv: dict) -> float:
    return quantity(((pv.get("spec") or {}).get("capacity") or {}).get("storage", "0"))


def _phase(obj: dict) -> str:
    return str((obj.get("status") or {}).get("phase") or "Pending")


def _fits(pv: dict, pvc: dict, class_name: str) -> bool:
    spec, claim = pv.get("spec") or {}, pvc.get("spec") or {}
    if (spec.get("storageClassName") or "") != class_name:
        return False
    if not set(claim.get("accessModes") or []) <= set(spec.get("accessModes") or []):
        return False
    if spec.get("volumeMode", "Filesystem") != claim.get("volumeMode", "Filesystem"):
        return False
    if _capacity(pv) < _request(pvc):
        return False
    selector = claim.get("selector")
    if selector:
        try:
            return selector_from_spec(selector).matches(pv["metadata"].get("labels") or {})
        except SelectorError:
            return False
    return True


def _size_text(nbytes: float) -> str:
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20)):
        if nbytes >= size and nbytes % size == 0:
            return f"{int(nbytes // size)}{unit}"
    return str(int(nbytes))


class VolumeController:
    def __init__(self) -> None:
        self._posted: dict[tuple[str, str], float] = {}  # (claim uid, reason) -> last post

    def reconcile(self, cluster: Cluster) -> None:
        pvcs = cluster.store.list(cluster.rt("PersistentVolumeClaim"))
        pvs = cluster.store.list(cluster.rt("PersistentVolume"))
        if not pvcs and not pvs:
            return
        claims = {(c["metadata"]["namespace"], c["metadata"]["name"]): c for c in pvcs}
        for pvc in pvcs:
            if pvc["metadata"].get("deletionTimestamp"):
                self._protect_claim(cluster, pvc)
            elif _phase(pvc) != "Bound":
                self._bind(cluster, pvc, pvs)
        for pv in cluster.store.list(cluster.rt("PersistentVolume")):
            self._sync_volume(cluster, pv, claims)

    # ------------------------------------------------------------------ claims
    def _bind(self, cluster: Cluster, pvc: dict, pvs: list[dict]) -> None:
        class_name = claim_class(cluster, pvc)
        wanted = (pvc.get("spec") or {}).get("volumeName")
        wait = waits_for_consumer(cluster, pvc)
        selected = (pvc["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        candidates = [
            pv
            for pv in pvs
            if _phase(pv) == "Available"
            and (not wanted or pv["metadata"]["name"] == wanted)
            and not ((pv.get("spec") or {}).get("claimRef") or {}).get("uid")
            and _fits(pv, pvc, class_name)
        ]
        if candidates and (not wait or selected):
            pv = min(candidates, key=lambda v: (_capacity(v), v["metadata"]["name"]))
            self._join(cluster, pvc, pv)
            return
        if wanted:
            return  # a claim naming a volume waits for that volume
        if not class_name:
            self._warn(
                cluster,
                pvc,
                "Normal",
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            )
            return
        sc = cluster.store.find(cluster.rt("StorageClass"), "", class_name)
        if sc is None:
            self._warn(
                cluster, pvc, "Warning", "ProvisioningFailed", f'storageclass.storage.k8s.io "{class_name}" not found'
            )
            return
        if wait and not selected:
            self._warn(
                cluster,
                pvc,
                "Normal",
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
            )
            return
        self._provision(cluster, pvc, sc, selected)

    def _provision(self, cluster: Cluster, pvc: dict, sc: dict, node: str | None) -> None:
        name = str(sc.get("provisioner", ""))
        self._annotate_provisioner(cluster, pvc, name)
        self._warn(
            cluster,
            pvc,
            "Normal",
            "ExternalProvisioning",
            f"Waiting for a volume to be created either by the external provisioner '{name}' or manually by the "
            "system administrator. If volume creation is delayed, please verify that the provisioner is running "
            "and correctly registered.",
        )
        provisioner = PROVISIONERS.get(name)
        if provisioner is None:
            return  # nobody runs it: the claim stays Pending with the event above
        ns, claim = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
        where = f"{provisioner.name}_{node or 'controller'}"
        limit = provisioner.max_bytes
        if provisioner.node_local:
            node_obj = cluster.store.find(cluster.rt("Node"), "", node) if node else None
            if node_obj is None:
                return
            limit = quantity(((node_obj.get("status") or {}).get("capacity") or {}).get("ephemeral-storage", "0"))
        if limit is not None and _request(pvc) > limit:
            size = (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
            self._warn(
                cluster,
                pvc,
                "Warning",
                "ProvisioningFailed",
                f'failed to provision volume with StorageClass "{sc["metadata"]["name"]}": rpc error: code = '
                f"OutOfRange desc = requested storage {size} exceeds the {_size_text(limit)} available",
                component=where,
            )
            return
        cluster.record_event(
            pvc,
            "Normal",
            "Provisioning",
            f'External provisioner is provisioning volume for claim "{ns}/{claim}"',
            where,
        )
        pv = cluster.store.create(cluster.rt("PersistentVolume"), self._new_volume(cluster, pvc, sc, node))
        cluster.record_event(
            pvc, "Normal", "ProvisioningSucceeded", f"Successfully provisioned volume {pv['metadata']['name']}", where
        )
        self._join(cluster, pvc, pv)

    def _new_volume(self, cluster: Cluster, pvc: dict, sc: dict, node: str | None) -> dict:
        meta, spec = pvc["metadata"], pvc.get("spec") or {}
        name = f"pvc-{meta['uid']}"
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        volume: dict = {
            "capacity": {"storage": storage},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
            "storageClassName": sc["metadata"]["name"],
            "volumeMode": spec.get("volumeMode", "Filesystem"),
            "claimRef": object_reference(pvc, "v1", "PersistentVolumeClaim"),
        }
        if sc.get("provisioner") == LOCAL_PATH and node:
            volume["hostPath"] = {
                "path": f"/var/local-path-provisioner/{name}_{meta['namespace']}_{meta['name']}",
                "type": "DirectoryOrCreate",
            }
            volume["nodeAffinity"] = {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}
                    ]
                }
            }
        else:
            volume["csi"] = {"driver": sc.get("provisioner"), "volumeHandle": name, "fsType": "ext4"}
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "annotations": {"pv.kubernetes.io/provisioned-by": str(sc.get("provisioner"))},
                "finalizers": [PV_PROTECTION],
            },
            "spec": volume,
            "status": {"phase": "Pending"},
        }

    def _join(self, cluster: Cluster, pvc: dict, pv: dict) -> None:
        """Bind both ways: the volume's claimRef first, then the claim, as the PV controller does."""
        pv_name = pv["metadata"]["name"]
        now = rfc3339(cluster.now())

        def bind_volume(v: dict) -> None:
            v["spec"]["claimRef"] = object_reference(pvc, "v1", "PersistentVolumeClaim")
            v.setdefault("metadata", {}).setdefault("annotations", {})["pv.kubernetes.io/bound-by-controller"] = "yes"
            v["status"] = {"phase": "Bound", "lastPhaseTransitionTime": now}

        cluster.store.mutate(cluster.rt("PersistentVolume"), "", pv_name, bind_volume)

        def bind_claim(c: dict) -> None:
            spec = c.setdefault("spec", {})
            spec["volumeName"] = pv_name
            spec.setdefault("storageClassName", (pv.get("spec") or {}).get("storageClassName", ""))
            ann = c["metadata"].setdefault("annotations", {})
            ann["pv.kubernetes.io/bind-completed"] = "yes"
            ann["pv.kubernetes.io/bound-by-controller"] = "yes"
            c["status"] = {
                "phase": "Bound",
                "accessModes": list((pv.get("spec") or {}).get("accessModes") or []),
                "capacity": dict((pv.get("spec") or {}).get("capacity") or {}),
            }

        meta = pvc["metadata"]
        cluster.store.mutate(cluster.rt("PersistentVolumeClaim"), meta["namespace"], meta["name"], bind_claim)

    def _annotate_provisioner(self, cluster: Cluster, pvc: dict, name: str) -> None:
        ann = pvc["metadata"].get("annotations") or {}
        if all(ann.get(k) == name for k in PROVISIONER_ANNOTATIONS):
            return

        def put(c: dict) -> None:
            c["metadata"].setdefault("annotations", {}).update(dict.fromkeys(PROVISIONER_ANNOTATIONS, name))

        meta = pvc["metadata"]
        cluster.store.mutate(cluster.rt("PersistentVolumeClaim"), meta["namespace"], meta["name"], put)

    def _warn(
        self, cluster: Cluster, pvc: dict, etype: str, reason: str, message: str, component: str = COMPONENT
    ) -> None:
        key = (pvc["metadata"]["uid"], reason + message)
        now = cluster.now()
        last = self._posted.get(key)
        if last is not None and now - last < REPOST_SECONDS:
            return
        self._posted[key] = now
        cluster.record_event(pvc, etype, reason, message, component)

    def _protect_claim(self, cluster: Cluster, pvc: dict) -> None:
        """pvc-protection: drop the finalizer once no running or pending pod mounts the claim."""
        meta = pvc["metadata"]
        if PVC_PROTECTION not in (meta.get("finalizers") or []):
            return
        for pod in cluster.store.list(cluster.rt("Pod"), meta["namespace"]):
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            for vol in (pod.get("spec") or {}).get("volumes") or []:
                if (vol.get("persistentVolumeClaim") or {}).get("claimName") == meta["name"]:
                    return

        def release(c: dict) -> None:
            c["metadata"]["finalizers"] = [f for f in c["metadata"].get("finalizers") or [] if f != PVC_PROTECTION]

        cluster.store.mutate(cluster.rt("PersistentVolumeClaim"), meta["namespace"], meta["name"], release)

    # ------------------------------------------------------------------ volumes
    def _sync_volume(self, cluster: Cluster, pv: dict, claims: dict[tuple[str, str], dict]) -> None:
        meta, spec = pv["metadata"], pv.get("spec") or {}
        rt = cluster.rt("PersistentVolume")
        ref = spec.get("claimRef") or {}
        phase = _phase(pv)
        if meta.get("deletionTimestamp"):
            if phase != "Bound" and PV_PROTECTION in (meta.get("finalizers") or []):

                def release(v: dict) -> None:
                    v["metadata"]["finalizers"] = [
                        f for f in v["metadata"].get("finalizers") or [] if f != PV_PROTECTION
                    ]

                cluster.store.mutate(rt, "", meta["name"], release)
            return
        if phase == "Pending" and not ref.get("uid"):
            self._set_phase(cluster, pv, "Available")
            return
        if phase != "Bound":
            return
        claim = claims.get((ref.get("namespace", ""), ref.get("name", "")))
        if (
            claim is not None
            and claim["metadata"]["uid"] == ref.get("uid")
            and not claim["metadata"].get("deletionTimestamp")
        ):
            return
        if claim is not None and claim["metadata"]["uid"] == ref.get("uid"):
            return  # the claim is on its way out; the volume is released once it is gone
        if spec.get("persistentVolumeReclaimPolicy") == "Delete":
            self._set_phase(cluster, pv, "Released")
            cluster.store.delete(rt, "", meta["name"])
        else:
            self._set_phase(cluster, pv, "Released")

    def _set_phase(self, cluster: Cluster, pv: dict, phase: str) -> None:
        now = rfc3339(cluster.now())

        def put(v: dict) -> None:
            v["status"] = {"phase": phase, "lastPhaseTransitionTime": now}

        cluster.store.mutate(cluster.rt("PersistentVolume"), "", pv["metadata"]["name"], put, status=True)
