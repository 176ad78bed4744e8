"""References from pod templates to ConfigMaps, Secrets, their keys and PersistentVolumeClaims that do
not exist: env valueFrom, envFrom, volumes and projected volume sources. Optional references are skipped."""

from __future__ import annotations

from collections.abc import Iterator

from .common import containers, name_of, ns_of, pod_spec, template_owners
from .finding import Finding
from .registry import analyzer
from .snapshot import Scope, Snapshot

# (kind referenced, name, key or None, field path, optional)
Ref = tuple[str, str, str | None, str, bool]


@analyzer(
    "ConfigMap",
    name="missing_references",
    reads={"Secret", "PersistentVolumeClaim", "Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"},
)
def missing_references(reads: Snapshot, scope: Scope) -> list[Finding]:
    """Pod templates referring to ConfigMaps, Secrets, keys or claims that do not exist."""
    out: list[Finding] = []
    for ns in scope.namespaces:
        for kind, obj in template_owners(reads, ns):
            for ref_kind, name, key, field, optional in _refs(pod_spec(obj)):
                if optional or not reads.fetched(ref_kind):
                    continue
                target = reads.find(ref_kind, ns, name)
                prefix = "spec.template.spec." if kind != "Pod" else "spec."
                if target is None:
                    cause = f"{ref_kind} {name} does not exist"
                elif (
                    key is not None
                    and key not in (target.get("data") or {})
                    and key not in (target.get("binaryData") or {})
                ):
                    cause = f"{ref_kind} {name} has no key {key}"
                else:
                    continue
                evidence = [f"{prefix}{field} -> {ref_kind} {name}" + (f" key {key}" if key else "")]
                if target is not None:
                    evidence.append(f"{ref_kind} {name} keys: {', '.join(sorted(target.get('data') or {})) or 'none'}")
                out.append(
                    Finding(
                        kind,
                        ns_of(obj),
                        name_of(obj),
                        f"the pod template references a missing object: {cause}",
                        evidence,
                        "high",
                        prefix + field,
                    )
                )
    return out


def _refs(spec: dict) -> Iterator[Ref]:
    for c in containers(spec):
        cname = c.get("name")
        for e in c.get("env") or []:
            src = e.get("valueFrom") or {}
            for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                r = src.get(key)
                if r:
                    yield (
                        kind,
                        r.get("name", ""),
                        r.get("key"),
                        f"containers[{cname}].env[{e.get('name')}].valueFrom.{key}",
                        bool(r.get("optional")),
                    )
        for i, e in enumerate(c.get("envFrom") or []):
            for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                r = e.get(key)
                if r:
                    yield (
                        kind,
                        r.get("name", ""),
                        None,
                        f"containers[{cname}].envFrom[{i}].{key}",
                        bool(r.get("optional")),
                    )
    for v in spec.get("volumes") or []:
        vname = v.get("name")
        if v.get("configMap"):
            r = v["configMap"]
            yield from _items("ConfigMap", r.get("name", ""), r, f"volumes[{vname}].configMap")
        if v.get("secret"):
            r = v["secret"]
            yield from _items("Secret", r.get("secretName", ""), r, f"volumes[{vname}].secret")
        if v.get("persistentVolumeClaim"):
            yield (
                "PersistentVolumeClaim",
                v["persistentVolumeClaim"].get("claimName", ""),
                None,
                f"volumes[{vname}].persistentVolumeClaim",
                False,
            )
        for i, s in enumerate((v.get("projected") or {}).get("sources") or []):
            for kind, key in (("ConfigMap", "configMap"), ("Secret", "secret")):
                if s.get(key):
                    yield from _items(
                        kind, s[key].get("name", ""), s[key], f"volumes[{vname}].projected.sources[{i}].{key}"
                    )


def _items(kind: str, name: str, source: dict, field: str) -> Iterator[Ref]:
    optional = bool(source.get("optional"))
    yield kind, name, None, field, optional
    for item in source.get("items") or []:
        yield kind, name, item.get("key"), f"{field}.items[{item.get('key')}]", optional
