"""Install an application model as Kubernetes objects: namespace, Secrets, ConfigMaps, workloads,
Services and, when autoscaling is on, HorizontalPodAutoscalers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .apps import Application, Service

if TYPE_CHECKING:
    from .cluster import Cluster

APP_LABEL = "app.kubernetes.io/name"


def workload_labels(app: Application, svc: Service) -> dict[str, str]:
    labels = {APP_LABEL: svc.svc, "app.kubernetes.io/part-of": app.name, "app.kubernetes.io/component": svc.name}
    labels.update(svc.labels)
    return labels


def selector_labels(svc: Service) -> dict[str, str]:
    # Services select on the shared name so several workloads (reviews-v1/v2/v3) can back one Service.
    if "app" in svc.labels:
        return {"app": svc.labels["app"]}
    return {APP_LABEL: svc.svc}


def container_for(svc: Service) -> dict:
    c: dict = {"name": svc.container or svc.name, "image": svc.image}
    if svc.command:
        c["command"] = list(svc.command)
    if svc.args:
        c["args"] = list(svc.args)
    if svc.port:
        c["ports"] = [{"name": "service", "containerPort": svc.port, "protocol": "TCP"}]
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in svc.env.items()]
    for k, ref in svc.env_from.items():
        if "secret" in ref:
            env.append({"name": k, "valueFrom": {"secretKeyRef": {"name": ref["secret"], "key": ref["key"]}}})
        elif "configMap" in ref:
            env.append({"name": k, "valueFrom": {"configMapKeyRef": {"name": ref["configMap"], "key": ref["key"]}}})
    if env:
        c["env"] = env
    if svc.resources:
        c["resources"] = {k: dict(v) for k, v in svc.resources.items()}
    if svc.readiness:
        probe = {k: dict(v) if isinstance(v, dict) else v for k, v in svc.readiness.items()}
        probe.setdefault("initialDelaySeconds", 5)
        c["readinessProbe"] = probe
    mounts = [{"name": v["name"], "mountPath": v["mountPath"]} for v in svc.volumes if v.get("mountPath")]
    if mounts:
        c["volumeMounts"] = mounts
    return c


def workload_for(app: Application, svc: Service) -> dict:
    labels = workload_labels(app, svc)
    select = selector_labels(svc) | {"app.kubernetes.io/component": svc.name}
    pod_spec: dict = {"containers": [container_for(svc)]}
    volumes = [{k: v for k, v in vol.items() if k != "mountPath"} for vol in svc.volumes]
    if volumes:
        pod_spec["volumes"] = volumes
    spec: dict = {
        "replicas": svc.replicas,
        "selector": {"matchLabels": select},
        "template": {"metadata": {"labels": labels}, "spec": pod_spec},
    }
    if svc.kind == "Deployment":
        # The demo rolls one pod at a time with no surge: a bad rollout of a single replica takes the
        # service down, as the faulted workloads in ITBench's environment stop serving.
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    else:
        spec["serviceName"] = svc.svc
    return {
        "apiVersion": "apps/v1",
        "kind": svc.kind,
        "metadata": {"name": svc.name, "namespace": app.namespace, "labels": labels},
        "spec": spec,
    }


def service_for(app: Application, svc: Service) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": svc.svc,
            "namespace": app.namespace,
            "labels": {APP_LABEL: svc.svc, "app.kubernetes.io/part-of": app.name},
        },
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(svc),
            "ports": [{"name": "tcp-service", "port": svc.port, "targetPort": svc.port, "protocol": "TCP"}],
        },
    }


def hpa_for(app: Application, svc: Service) -> dict:
    hpa = svc.hpa or {}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": svc.name, "namespace": app.namespace, "labels": {APP_LABEL: svc.svc}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": svc.kind, "name": svc.name},
            "minReplicas": int(hpa.get("minReplicas", 1)),
            "maxReplicas": int(hpa.get("maxReplicas", 3)),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": int(hpa.get("cpuUtilization", 80))},
                    },
                }
            ],
        },
    }


def install_application(cluster: Cluster, app: Application, options: dict) -> None:
    store = cluster.store
    if store.find(cluster.rt("Namespace"), "", app.namespace) is None:
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": app.namespace}})
    cluster.reconcile()  # the default ServiceAccount
    autoscale = bool(((options.get("autoscaling") or {}).get("kubernetes") or {}).get("hpa"))
    created_services: set[str] = set()
    for svc in app.services:
        for name, data in svc.secrets.items():
            if store.find(cluster.rt("Secret"), app.namespace, name) is None:
                cluster.apply(
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "metadata": {"name": name, "namespace": app.namespace},
                        "stringData": dict(data),
                    }
                )
        for name, data in svc.config_maps.items():
            if store.find(cluster.rt("ConfigMap"), app.namespace, name) is None:
                cluster.apply(
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": name, "namespace": app.namespace},
                        "data": dict(data),
                    }
                )
    replicas = options.get("replicas")
    for svc in app.services:
        workload = workload_for(app, svc)
        if replicas is not None:
            workload["spec"]["replicas"] = replicas  # the scenario scales every workload of the application
        cluster.apply(workload)
        if svc.port and svc.svc not in created_services:
            cluster.apply(service_for(app, svc))
            created_services.add(svc.svc)
        if autoscale and svc.hpa:
            cluster.apply(hpa_for(app, svc))
