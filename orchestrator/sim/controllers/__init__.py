"""Controllers: each one reads the store and moves the cluster one step toward its desired state.

A controller is any object with `reconcile(cluster) -> None`. They run in this order at every step,
so a Deployment created in one request has ReplicaSet, Pods, a node and a container status before the
next request: the order matters, the loop in `Cluster.reconcile` repeats until nothing changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..cluster import Cluster


class Controller(Protocol):
    def reconcile(self, cluster: Cluster) -> None: ...


def default_controllers() -> list[Controller]:
    from ..runtime.pressure import NodeMemoryPressure
    from .cronjobs import CronJobController
    from .endpoints import EndpointsController
    from .endpointslices import EndpointSliceController
    from .hpa import HorizontalPodAutoscalerController
    from .ingress import IngressController
    from .jobs import JobController
    from .kubelet import Kubelet
    from .namespaces import NamespaceController
    from .quota import ResourceQuotaController
    from .scheduler import Scheduler
    from .volumes import VolumeController
    from .workloads import DaemonSetController, DeploymentController, ReplicaSetController, StatefulSetController

    volumes = VolumeController()
    return [
        NamespaceController(),
        HorizontalPodAutoscalerController(),
        DeploymentController(),
        ReplicaSetController(),
        StatefulSetController(),
        DaemonSetController(),
        CronJobController(),
        JobController(),
        ResourceQuotaController(),
        volumes,
        Scheduler(),
        # After the scheduler names a node on a WaitForFirstConsumer claim, bind it before the kubelet mounts.
        volumes,
        Kubelet(),
        NodeMemoryPressure(),
        EndpointsController(),
        EndpointSliceController(),
        IngressController(),
    ]
