"""A simulated cluster holding one of every kind beyond workloads, each object created through the official
client as a person would: the read tools' and the checks' tests share it."""

from __future__ import annotations

from kubernetes import client

from tests.sim.helpers import Sim

NS = "default"
GROUP = "example.com"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}
# What a client prints when the API server refuses it (the line a pod of the ServiceAccount logs).
REFUSAL = (
    'deployments.apps is forbidden: User "system:serviceaccount:default:lister" cannot list resource '
    '"deployments" in API group "apps" in the namespace "default"'
)


def container(name: str, script: str, **extra: object) -> dict:
    return {"name": name, "image": "busybox:1.36", "command": ["sh", "-c", script], **extra}


def job(name: str, script: str, **spec: object) -> dict:
    template = {"spec": {"restartPolicy": "Never", "containers": [container("main", script)]}}
    return {"metadata": {"name": name}, "spec": {**spec, "template": template}}


def claim(name: str, storage_class: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name}, "spec": spec}


def ingress(name: str, paths: list[tuple[str, str, int]]) -> dict:
    rule = {
        "host": "shop.example.com",
        "http": {
            "paths": [
                {
                    "path": path,
                    "pathType": "Prefix",
                    "backend": {"service": {"name": service, "port": {"number": port}}},
                }
                for path, service, port in paths
            ]
        },
    }
    return {"metadata": {"name": name}, "spec": {"ingressClassName": "nginx", "rules": [rule]}}


def build(sim: Sim) -> None:
    """Every object as a person would create it, then time for the controllers to act on them."""
    batch, rbac = client.BatchV1Api(sim.api), client.RbacAuthorizationV1Api(sim.api)
    custom, ext = client.CustomObjectsApi(sim.api), client.ApiextensionsV1Api(sim.api)
    # A web Deployment behind a Service, reached by one good and one broken Ingress.
    labels = {"app": "web"}
    web = container("web", "sleep 36000", ports=[{"name": "http", "containerPort": 80}])
    web["resources"] = {"limits": {"memory": "128Mi", "cpu": "500m"}}
    sim.apps.create_namespaced_deployment(
        NS,
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [web]}},
            },
        },
    )
    sim.core.create_namespaced_service(
        NS,
        {
            "metadata": {"name": "web"},
            "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        },
    )
    sim.networking.create_ingress_class({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}})
    sim.networking.create_namespaced_ingress(NS, ingress("shop", [("/", "web", 80)]))
    sim.networking.create_namespaced_ingress(NS, ingress("broken", [("/gone", "gone", 80), ("/web", "web", 8080)]))
    # Jobs: one completes, one fails until its backoff limit.
    batch.create_namespaced_job(NS, job("done", "echo finished"))
    batch.create_namespaced_job(NS, job("crunch", "echo cannot open input; exit 3", backoffLimit=1))
    # Claims: one of a StorageClass nobody made, one of the default class mounted by a pod.
    sim.core.create_namespaced_persistent_volume_claim(NS, claim("orphan", "fast-ssd"))
    sim.core.create_namespaced_persistent_volume_claim(NS, claim("data"))
    db = container("db", "sleep 36000", volumeMounts=[{"name": "data", "mountPath": "/data"}])
    sim.core.create_namespaced_pod(
        NS,
        {
            "metadata": {"name": "db"},
            "spec": {"containers": [db], "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]},
        },
    )
    # A custom resource kind, and one object of it.
    ext.create_custom_resource_definition(CRD)
    custom.create_namespaced_custom_object(
        GROUP, "v1", NS, "widgets", {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": "w1"}}
    )
    custom.patch_namespaced_custom_object_status(
        GROUP,
        "v1",
        NS,
        "widgets",
        "w1",
        {"status": {"phase": "Degraded", "conditions": [{"type": "Ready", "status": "False", "reason": "NoBackend"}]}},
    )
    # RBAC: a reader allowed to list pods, and a lister whose pod logs the API server's refusal.
    for sa in ("reader", "lister"):
        sim.core.create_namespaced_service_account(NS, {"metadata": {"name": sa}})
    rbac.create_namespaced_role(
        NS,
        {
            "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        },
    )
    subject = {"kind": "ServiceAccount", "name": "reader", "namespace": NS}
    rbac.create_namespaced_role_binding(
        NS,
        {
            "metadata": {"name": "read-pods"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
            "subjects": [subject],
        },
    )
    logger = container("app", f"echo '{REFUSAL}'; sleep 36000")
    sim.core.create_namespaced_pod(
        NS, {"metadata": {"name": "lister"}, "spec": {"serviceAccountName": "lister", "containers": [logger]}}
    )
    sim.advance(120)
