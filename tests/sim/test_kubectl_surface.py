"""kubectl against the simulated API server: apply with validation on for every served kind, strict
field validation, the create/run/expose/label verbs (protobuf bodies), OpenAPI, aggregated
discovery, `kubectl top` and `kubectl auth can-i`."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orchestrator.sim import schema
from orchestrator.sim.cluster import Cluster
from orchestrator.sim.resources import VIRTUAL_GROUPS
from orchestrator.sim.runner import SimulatorServer

from .helpers import kubectl

KUBECTL = kubectl()  # required: a missing kubectl fails the module, never skips it

LABELS = {"app": "demo"}
TEMPLATE = {
    "metadata": {"labels": LABELS},
    "spec": {
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "name": "http"}],
                "env": [{"name": "MODE", "value": "demo"}],
                "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5},
                "volumeMounts": [{"name": "cfg", "mountPath": "/etc/demo"}],
            }
        ],
        "volumes": [{"name": "cfg", "configMap": {"name": "demo"}}],
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
    },
}
RBAC = "rbac.authorization.k8s.io/v1"

# One small, valid manifest per served kind (the stored ones; reviews and metrics are computed).
MANIFESTS: dict[str, dict] = {
    "Namespace": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
    "Node": {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "extra-node", "labels": {"tier": "extra"}},
        "spec": {"taints": [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]},
    },
    "ConfigMap": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo"}, "data": {"a": "1"}},
    "Secret": {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "demo"},
        "type": "Opaque",
        "stringData": {"password": "s3cret"},
    },
    "ServiceAccount": {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "demo"}},
    "Pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "demo-pod", "labels": {"solo": "yes"}}}
    | {"spec": TEMPLATE["spec"] | {"restartPolicy": "Always", "nodeSelector": {"kubernetes.io/os": "linux"}}},
    "Service": {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "demo"},
        "spec": {"selector": LABELS, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    },
    "Endpoints": {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "external"},
        "subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 5432}]}],
    },
    "Event": {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "demo.1"},
        "involvedObject": {"kind": "ConfigMap", "name": "demo", "namespace": "default"},
        "reason": "Demo",
        "message": "applied by a test",
        "type": "Normal",
    },
    "PersistentVolumeClaim": {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "demo"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    },
    "ResourceQuota": {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "demo", "namespace": "demo"},
        "spec": {"hard": {"pods": "20", "requests.cpu": "4"}},
    },
    "Deployment": {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "demo"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": LABELS},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": TEMPLATE,
        },
    },
    "ReplicaSet": {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "demo-rs"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "rs"}},
            "template": {"metadata": {"labels": {"app": "rs"}}, "spec": TEMPLATE["spec"]},
        },
    },
    "StatefulSet": {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "demo-db"},
        "spec": {
            "serviceName": "demo",
            "replicas": 1,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": TEMPLATE["spec"]},
        },
    },
    "DaemonSet": {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "demo-agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": TEMPLATE["spec"]},
        },
    },
    "ControllerRevision": {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": "demo-rev"},
        "data": {"spec": {"template": {}}},
        "revision": 1,
    },
    "NetworkPolicy": {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "demo"},
        "spec": {
            "podSelector": {"matchLabels": LABELS},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 80}]}],
        },
    },
    "HorizontalPodAutoscaler": {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "demo"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "demo"},
            "minReplicas": 2,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    },
    "PriorityClass": {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "demo-high"},
        "value": 1000,
        "description": "test",
    },
    "Lease": {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "demo-lock"},
        "spec": {"holderIdentity": "demo", "leaseDurationSeconds": 15},
    },
    "CustomResourceDefinition": {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    },
    "Role": {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {"name": "pod-reader", "namespace": "demo"},
        "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}],
    },
    "RoleBinding": {
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": {"name": "jane-reads-pods", "namespace": "demo"},
        "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"},
    },
    "ClusterRole": {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {"name": "node-viewer"},
        "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}],
    },
    "ClusterRoleBinding": {
        "apiVersion": RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "ops-view-nodes"},
        "subjects": [{"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "ClusterRole", "name": "node-viewer", "apiGroup": "rbac.authorization.k8s.io"},
    },
    "Job": {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "demo-job"},
        "spec": {
            "backoffLimit": 2,
            "activeDeadlineSeconds": 600,
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}},
        },
    },
    "CronJob": {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "demo-cron"},
        "spec": {
            "schedule": "*/5 * * * *",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}
                    }
                }
            },
        },
    },
    "Ingress": {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "demo"},
        "spec": {
            "tls": [{"hosts": ["demo.example"], "secretName": "demo-tls"}],
            "rules": [
                {
                    "host": "demo.example",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "demo", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    },
}


class Kubectl:
    def __init__(self, server: SimulatorServer, tmp: Path) -> None:
        self.server = server
        self.tmp = tmp
        self.kubeconfig = server.write_kubeconfig(tmp / "kubeconfig")

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.tmp / "cache"), *args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def apply(self, docs: list[dict], *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        path = self.tmp / "manifest.yaml"
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        return self.run("apply", "-f", str(path), *extra, check=check)

    def json(self, *args: str) -> dict:
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture
def kubectl(tmp_path: Path) -> Iterator[Kubectl]:
    server = SimulatorServer(Cluster())
    server.start_thread()
    try:
        yield Kubectl(server, tmp_path)
    finally:
        server.stop()


def get_raw(server: SimulatorServer, path: str, accept: str = "application/json") -> tuple[int, str, bytes]:
    req = urllib.request.Request(server.url + path, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


# ---------------------------------------------------------------------------------------------- apply
# Hand-made Endpoints belong to a selector-less Service (else the endpoints controller removes them).
EXTERNAL = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "external"},
    "spec": {"ports": [{"port": 5432}]},
}


def _ordered() -> list[dict]:
    first = ["Namespace", "CustomResourceDefinition", "ConfigMap", "Role", "ClusterRole"]
    return [MANIFESTS[k] for k in first] + [EXTERNAL] + [m for k, m in MANIFESTS.items() if k not in first]


def test_every_described_served_kind_has_a_manifest() -> None:
    cluster = Cluster()
    described = {
        t.kind
        for t in cluster.store.registry.types
        if t.group not in VIRTUAL_GROUPS and schema.load().for_kind(t.group, t.version, t.kind)
    }
    assert described <= set(MANIFESTS), described - set(MANIFESTS)


def test_apply_every_kind_with_validation(kubectl: Kubectl) -> None:
    out = kubectl.apply(_ordered()).stdout
    for m in MANIFESTS.values():
        assert " created" in next(line for line in out.splitlines() if f"/{m['metadata']['name']} " in line + " ")
    # Applying again changes nothing; a change goes through as a strategic-merge patch.
    again = kubectl.apply(_ordered()).stdout.splitlines()
    # stringData is write-only, so kubectl sees a change to a Secret every time (as on any cluster).
    assert all(line.endswith(" unchanged") for line in again if not line.startswith("secret/")), again
    changed = json.loads(json.dumps(MANIFESTS["Deployment"]))
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert "configured" in kubectl.apply([changed]).stdout
    dep = kubectl.json("get", "deployment", "demo")
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert dep["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "MODE", "value": "demo"}]
    # Server-side apply of the same manifests, and of one that does not exist yet.
    fresh = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa-new"}, "data": {"k": "v"}}
    ssa = kubectl.apply([*_ordered(), fresh], "--server-side").stdout
    assert ssa.count("serverside-applied") == len(MANIFESTS) + 2
    assert kubectl.json("get", "configmap", "ssa-new")["data"] == {"k": "v"}


def test_unknown_fields_rejected_strictly_and_dropped_otherwise(kubectl: Kubectl) -> None:
    bad = json.loads(json.dumps(MANIFESTS["Deployment"]))
    bad["metadata"]["name"] = "bad"
    bad["spec"]["foo"] = 1
    bad["spec"]["template"]["spec"]["containers"][0]["bar"] = "x"
    proc = kubectl.apply([bad], check=False)
    assert proc.returncode != 0
    assert (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.foo", unknown field "spec.template.spec.containers[0].bar"'
    ) in proc.stderr
    assert kubectl.run("get", "deployment", "bad", check=False).returncode != 0

    warned = kubectl.apply([bad], "--validate=warn")
    assert 'Warning: unknown field "spec.foo"' in warned.stderr
    stored = kubectl.json("get", "deployment", "bad")
    assert "foo" not in stored["spec"]
    assert "bar" not in stored["spec"]["template"]["spec"]["containers"][0]

    svc = json.loads(json.dumps(MANIFESTS["Service"]))
    svc["spec"]["ports"][0]["nodePortz"] = 1
    proc = kubectl.apply([svc], check=False)
    assert 'unknown field "spec.ports[0].nodePortz"' in proc.stderr


def test_list_manifests_are_validated_by_kubectl_against_openapi_v2(kubectl: Kubectl) -> None:
    # kubectl checks the items of a `kind: List` itself, with the protobuf OpenAPI v2 document.
    items = [MANIFESTS["ConfigMap"], MANIFESTS["Service"]]
    assert kubectl.apply([{"apiVersion": "v1", "kind": "List", "items": items}]).stdout.count("created") == 2
    bad = json.loads(json.dumps(MANIFESTS["ConfigMap"])) | {"foo": 1}
    bad["metadata"]["name"] = "other"
    proc = kubectl.apply([{"apiVersion": "v1", "kind": "List", "items": [bad]}], check=False)
    assert 'ValidationError(ConfigMap): unknown field "foo" in io.k8s.api.core.v1.ConfigMap' in proc.stderr


def test_create_run_expose_label_annotate_delete(kubectl: Kubectl) -> None:
    # kubectl's typed clients send protobuf bodies for these.
    assert "namespace/x created" in kubectl.run("create", "namespace", "x").stdout
    assert kubectl.json("get", "namespace", "x")["status"]["phase"] == "Active"
    kubectl.run("create", "deployment", "web", "--image=nginx:1.27", "--replicas=0", "-n", "x")
    dep = kubectl.json("get", "deployment", "web", "-n", "x")
    assert dep["spec"]["replicas"] == 0
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    kubectl.run("create", "configmap", "cfg", "--from-literal=a=b", "-n", "x")
    assert kubectl.json("get", "configmap", "cfg", "-n", "x")["data"] == {"a": "b"}
    kubectl.run("create", "secret", "generic", "pw", "--from-literal=p=hunter2", "-n", "x")
    assert kubectl.json("get", "secret", "pw", "-n", "x")["data"] == {"p": "aHVudGVyMg=="}
    kubectl.run("create", "service", "nodeport", "np", "--tcp=80:8080", "-n", "x")
    port = kubectl.json("get", "service", "np", "-n", "x")["spec"]["ports"][0]
    assert (port["port"], port["targetPort"], port["nodePort"] >= 30000) == (80, 8080, True)
    kubectl.run("create", "serviceaccount", "bot", "-n", "x")
    kubectl.run("create", "role", "r", "--verb=get", "--resource=pods", "-n", "x")
    kubectl.run("create", "rolebinding", "rb", "--role=r", "--user=jane", "-n", "x")
    assert kubectl.json("get", "rolebinding", "rb", "-n", "x")["subjects"][0]["name"] == "jane"
    kubectl.run("run", "one", "--image=busybox", "-n", "x", "--labels=run=one")
    assert kubectl.json("get", "pod", "one", "-n", "x")["spec"]["containers"][0]["image"] == "busybox"
    kubectl.run("scale", "deployment", "web", "--replicas=1", "-n", "x")
    kubectl.run("expose", "deployment", "web", "--port=80", "--target-port=8080", "-n", "x")
    assert kubectl.json("get", "service", "web", "-n", "x")["spec"]["selector"] == {"app": "web"}
    # autoscaling/v1, as kubectl autoscale sends it: stored as v2, answered as v1.
    assert (
        "horizontalpodautoscaler.autoscaling/web autoscaled"
        in kubectl.run("autoscale", "deployment", "web", "--min=1", "--max=3", "--cpu-percent=60", "-n", "x").stdout
    )
    hpa = kubectl.json("get", "hpa", "web", "-n", "x")
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    kubectl.run("label", "deployment", "web", "tier=front", "-n", "x")
    kubectl.run("annotate", "deployment", "web", "owner=team-a", "-n", "x")
    meta = kubectl.json("get", "deployment", "web", "-n", "x")["metadata"]
    assert meta["labels"]["tier"] == "front" and meta["annotations"]["owner"] == "team-a"
    # batch/v1 and networking.k8s.io/v1 from protobuf (an Ingress rule's `http` is an embedded message there).
    kubectl.run("create", "job", "once", "--image=busybox", "-n", "x", "--", "echo", "hi")
    job = kubectl.json("get", "job", "once", "-n", "x")["spec"]
    assert job["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"] and job["backoffLimit"] == 6
    kubectl.run("create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "-n", "x")
    assert kubectl.json("get", "cronjob", "tick", "-n", "x")["spec"]["schedule"] == "*/5 * * * *"
    kubectl.run("create", "ingress", "in", "--rule=foo.example/api=web:80,tls=cert", "-n", "x")
    (rule,) = kubectl.json("get", "ingress", "in", "-n", "x")["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert (rule["host"], path["path"], path["backend"]["service"]) == (
        "foo.example",
        "/api",
        {"name": "web", "port": {"number": 80}},
    )
    kubectl.run("delete", "deployment", "web", "-n", "x")
    assert kubectl.run("get", "deployment", "web", "-n", "x", check=False).returncode != 0
    kubectl.run("delete", "namespace", "x", "--wait=false")


# ---------------------------------------------------------------------------------------------- OpenAPI
def test_openapi_documents_cover_every_served_kind(kubectl: Kubectl) -> None:
    server = kubectl.server
    registry = server.cluster.store.registry
    status, _, body = get_raw(server, "/openapi/v3")
    index = json.loads(body)["paths"]
    for t in registry.types:
        rel = f"api/{t.version}" if not t.group else f"apis/{t.group}/{t.version}"
        assert rel in index
        status, ctype, doc_bytes = get_raw(server, index[rel]["serverRelativeURL"])
        assert status == 200 and ctype.startswith("application/json")
        doc = json.loads(doc_bytes)
        gvk = {"group": t.group, "version": t.version, "kind": t.kind}
        if "patch" not in t.verbs:
            continue
        patch_ops = [
            p["patch"]
            for p in doc["paths"].values()
            if "patch" in p and p["patch"]["x-kubernetes-group-version-kind"] == gvk
        ]
        assert patch_ops, t.kind
        assert any(q["name"] == "fieldValidation" for q in patch_ops[0]["parameters"])
        schemas = doc["components"]["schemas"]
        assert any(gvk in s.get("x-kubernetes-group-version-kind", []) for s in schemas.values()), t.kind
    apps = json.loads(get_raw(server, "/openapi/v3/apis/apps/v1")[2])
    pod_spec = apps["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]
    assert pod_spec["containers"]["x-kubernetes-patch-merge-key"] == "name"
    assert pod_spec["containers"]["x-kubernetes-patch-strategy"] == "merge"
    # OpenAPI v2 as JSON, and as the protobuf kubectl asks for.
    status, _, body = get_raw(server, "/openapi/v2")
    v2 = json.loads(body)
    assert status == 200 and v2["swagger"] == "2.0"
    assert "io.k8s.api.apps.v1.Deployment" in v2["definitions"]
    status, _, body = get_raw(server, "/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
    assert status == 200 and body.startswith(b"\n\x032.0")
    explain = kubectl.run("explain", "deployment.spec.strategy").stdout
    assert "rollingUpdate" in explain


def test_aggregated_discovery(kubectl: Kubectl) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    status, ctype, body = get_raw(kubectl.server, "/apis", accept)
    assert ctype == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    doc = json.loads(body)
    groups = {g["metadata"]["name"]: g for g in doc["items"]}
    assert {"apps", "metrics.k8s.io", "rbac.authorization.k8s.io", "authorization.k8s.io"} <= set(groups)
    deployments = next(r for r in groups["apps"]["versions"][0]["resources"] if r["resource"] == "deployments")
    assert {s["subresource"] for s in deployments["subresources"]} == {"status", "scale"}
    core = json.loads(get_raw(kubectl.server, "/api", accept)[2])
    assert any(r["resource"] == "pods" for r in core["items"][0]["versions"][0]["resources"])
    listed = kubectl.run("api-resources", "--api-group=rbac.authorization.k8s.io").stdout
    assert "clusterrolebindings" in listed


# ---------------------------------------------------------------------------------------------- top, auth
def test_kubectl_top(kubectl: Kubectl) -> None:
    kubectl.run("create", "deployment", "busy", "--image=nginx", "--replicas=2")
    kubectl.server.advance(120)
    pods = kubectl.run("top", "pods").stdout.splitlines()
    assert pods[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert len([line for line in pods if line.startswith("busy-")]) == 2
    containers = kubectl.run("top", "pods", "--containers", "-l", "app=busy").stdout
    assert "nginx" in containers
    nodes = kubectl.run("top", "nodes").stdout.splitlines()
    assert nodes[0].split()[:3] == ["NAME", "CPU(cores)", "CPU(%)"]
    assert {line.split()[0] for line in nodes[1:]} >= {"sim-control-plane", "sim-worker"}
    listed = kubectl.run("get", "podmetrics").stdout.splitlines()
    assert listed[0].split() == ["NAME", "CPU", "MEMORY", "WINDOW"] and len(listed) == 3


def test_kubectl_auth_can_i(kubectl: Kubectl) -> None:
    assert kubectl.run("auth", "can-i", "delete", "nodes").stdout.strip() == "yes"
    kubectl.apply([MANIFESTS[k] for k in ("Namespace", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")])
    can = kubectl.run("auth", "can-i", "list", "pods", "-n", "demo", "--as=jane", check=False)
    assert can.stdout.strip() == "yes"
    for args in (("delete", "pods", "-n", "demo"), ("list", "pods", "-n", "default"), ("get", "secrets", "-n", "demo")):
        assert kubectl.run("auth", "can-i", *args, "--as=jane", check=False).stdout.strip() == "no", args
    assert (
        kubectl.run("auth", "can-i", "get", "pods/log", "-n", "demo", "--as=jane", check=False).stdout.strip() == "yes"
    )
    group = ("--as=bob", "--as-group=ops")
    assert kubectl.run("auth", "can-i", "list", "nodes", *group, check=False).stdout.strip() == "yes"
    assert kubectl.run("auth", "can-i", "delete", "nodes", *group, check=False).stdout.strip() == "no"
    rules = kubectl.run("auth", "can-i", "--list", "-n", "demo", "--as=jane").stdout
    assert "pods " in rules and "[get list watch]" in rules
    # Requests made as jane get her RBAC decision; `auth whoami` answers who the caller is.
    assert kubectl.run("get", "pods", "-n", "demo", "--as=jane").returncode == 0
    denied = kubectl.run("get", "deployments", "-n", "demo", "--as=jane", check=False)
    assert (
        'deployments.apps is forbidden: User "jane" cannot list resource "deployments" in API group "apps" '
        'in the namespace "demo"'
    ) in denied.stderr
    assert "kubernetes-admin" in kubectl.run("auth", "whoami").stdout
    assert "jane" in kubectl.run("auth", "whoami", "--as=jane").stdout


def test_kubectl_reads_a_list_in_chunks(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", "chunks")
    for i in range(5):
        kubectl.run("create", "configmap", f"cm-{i}", "-n", "chunks")
    asked = kubectl.run("get", "configmaps", "-n", "chunks", "--chunk-size=2", "-v=6")
    rows = [line.split()[0] for line in asked.stdout.splitlines()[1:]]
    assert rows == [f"cm-{i}" for i in range(5)]
    assert sum("continue=" in line for line in asked.stderr.splitlines()) == 2  # three pages of two
    names = [
        item["metadata"]["name"]
        for item in kubectl.json("get", "configmaps", "-n", "chunks", "--chunk-size=2")["items"]
    ]
    assert names == [f"cm-{i}" for i in range(5)]
