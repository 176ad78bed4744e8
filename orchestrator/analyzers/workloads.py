"""Deployment, ReplicaSet, StatefulSet and DaemonSet rollouts: stalled, unavailable, failing to create pods,
scaled to zero, and what the latest revision changed."""

from __future__ import annotations

from .common import condition, event_lines, meta, name_of, ns_of, owner_ref, quote
from .finding import Finding
from .registry import analyzer
from .rollout import revision, template_changes
from .snapshot import Scope, Snapshot


def _template(obj: dict) -> dict:
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def _revision_lines(reads: Snapshot, dep: dict) -> list[str]:
    """The newest revision of a Deployment and what it changed against the one before."""
    ns, name = ns_of(dep), name_of(dep)
    owned = [
        rs
        for rs in reads.of("ReplicaSet", ns)
        if any(r.get("kind") == "Deployment" and r.get("name") == name for r in meta(rs).get("ownerReferences") or [])
    ]
    owned.sort(key=revision)
    if len(owned) < 2:
        return []
    old, new = owned[-2], owned[-1]
    changes = template_changes(_template(old), _template(new))
    head = f"metadata.annotations[deployment.kubernetes.io/revision]={revision(new)} (ReplicaSet {name_of(new)})"
    return [head, *(f"revision {revision(new)} changed {c}" for c in changes)]


@analyzer("Deployment", reads={"ReplicaSet", "Event", "HorizontalPodAutoscaler"}, normal_events={"ScalingReplicaSet"})
def deployments(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Stalled rollouts (ProgressDeadlineExceeded), pod creation failures, unavailable replicas, scaled to zero."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        for dep in reads.of("Deployment", ns):
            out.extend(_deployment(reads, dep))
    return out


def _deployment(reads: Snapshot, dep: dict) -> list[Finding]:
    ns, name = ns_of(dep), name_of(dep)
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    events = event_lines(reads, "Deployment", ns, name)
    revisions = _revision_lines(reads, dep)
    out: list[Finding] = []
    progressing = condition(dep, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        line = f"status.conditions[Progressing]: ProgressDeadlineExceeded: {quote(progressing.get('message'))}"
        cause = "the rollout stalled: new pods never became available within progressDeadlineSeconds"
        out.append(Finding("Deployment", ns, name, cause, [line, *revisions, *events], "high", "status.conditions"))
    failure = condition(dep, "ReplicaFailure")
    if failure and failure.get("status") == "True":
        line = f"status.conditions[ReplicaFailure]: {failure.get('reason', '')}: {quote(failure.get('message'))}"
        cause = "the Deployment's pods cannot be created"
        out.append(Finding("Deployment", ns, name, cause, [line, *events], "high", "status.conditions"))
    wanted = spec.get("replicas", 1)
    unavailable = status.get("unavailableReplicas") or 0
    if not out and wanted and unavailable:
        line = f"status.unavailableReplicas={unavailable} of spec.replicas={wanted}"
        cause = f"{unavailable} of {wanted} replicas are unavailable"
        if len(revisions) > 1:
            cause += f" since the rollout of revision {revision(dep)}"
        out.append(Finding("Deployment", ns, name, cause, [line, *revisions, *events], "medium", "status"))
    if wanted == 0:
        out.extend(_scaled_to_zero(reads, dep))
    return out


def _scaled_to_zero(reads: Snapshot, dep: dict) -> list[Finding]:
    ns, name = ns_of(dep), name_of(dep)
    for hpa in reads.of("HorizontalPodAutoscaler", ns):
        target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if target.get("kind") == "Deployment" and target.get("name") == name:
            return []  # an autoscaler owns the replica count
    downs = [
        e
        for e in reads.events("Deployment", ns, name)
        if e.get("reason") == "ScalingReplicaSet" and str(e.get("message", "")).rstrip().endswith(" to 0")
    ]
    evidence = ["spec.replicas=0"] + [f"event ScalingReplicaSet: {quote(e.get('message'))}" for e in downs[-1:]]
    # Scaled down from running replicas (an event says so) is a change someone made; a Deployment that was
    # created at zero is more likely parked on purpose.
    confidence = "medium" if downs else "low"
    return [
        Finding(
            "Deployment", ns, name, "scaled to zero replicas: nothing serves it", evidence, confidence, "spec.replicas"
        )
    ]


@analyzer("ReplicaSet", reads={"Event", "Deployment"})
def replicasets(reads: Snapshot, scope: Scope) -> list[Finding]:
    """ReplicaSets that cannot create their pods (ReplicaFailure, FailedCreate events)."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        for rs in reads.of("ReplicaSet", ns):
            failure = condition(rs, "ReplicaFailure")
            events = event_lines(reads, "ReplicaSet", ns, name_of(rs))
            failed_create = [e for e in events if e.startswith("event FailedCreate")]
            if not (failure and failure.get("status") == "True") and not failed_create:
                continue
            evidence = []
            if failure:
                evidence.append(
                    f"status.conditions[ReplicaFailure]: {failure.get('reason')}: {quote(failure.get('message'))}"
                )
            cause = "pods cannot be created: " + (quote((failure or {}).get("message"), 120) or failed_create[0])
            out.append(
                Finding(
                    "ReplicaSet",
                    ns,
                    name_of(rs),
                    cause,
                    evidence + events,
                    "high",
                    "status.conditions",
                    owner_ref(reads, rs),
                )
            )
    return out


@analyzer("StatefulSet", reads={"Event"})
def statefulsets(reads: Snapshot, scope: Scope) -> list[Finding]:
    """StatefulSets with replicas not ready, or a rollout stuck between revisions."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        for sts in reads.of("StatefulSet", ns):
            spec, status = sts.get("spec") or {}, sts.get("status") or {}
            wanted, ready = spec.get("replicas", 1), status.get("readyReplicas") or 0
            if not wanted or ready >= wanted:
                continue
            evidence = [f"status.readyReplicas={ready} of spec.replicas={wanted}"]
            cause = f"{wanted - ready} of {wanted} replicas are not ready"
            if status.get("updateRevision") and status.get("currentRevision") != status.get("updateRevision"):
                current, update = status.get("currentRevision"), status.get("updateRevision")
                evidence.append(f"status.currentRevision={current} updateRevision={update}")
                cause += " during a rollout to a new revision"
            events = event_lines(reads, "StatefulSet", ns, name_of(sts))
            out.append(Finding("StatefulSet", ns, name_of(sts), cause, evidence + events, "medium", "status"))
    return out


@analyzer("DaemonSet", reads={"Event"})
def daemonsets(reads: Snapshot, scope: Scope) -> list[Finding]:
    """DaemonSets with unavailable or misscheduled pods."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        for ds in reads.of("DaemonSet", ns):
            status = ds.get("status") or {}
            desired = status.get("desiredNumberScheduled") or 0
            unavailable = status.get("numberUnavailable") or 0
            misscheduled = status.get("numberMisscheduled") or 0
            if not unavailable and not misscheduled:
                continue
            evidence = [
                f"status.desiredNumberScheduled={desired} numberReady={status.get('numberReady') or 0} "
                f"numberUnavailable={unavailable} numberMisscheduled={misscheduled}"
            ]
            cause = (
                f"{unavailable} of {desired} daemon pods are unavailable"
                if unavailable
                else "daemon pods run where they should not"
            )
            events = event_lines(reads, "DaemonSet", ns, name_of(ds))
            out.append(Finding("DaemonSet", ns, name_of(ds), cause, evidence + events, "medium", "status"))
    return out
