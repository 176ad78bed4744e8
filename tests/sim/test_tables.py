"""Tests for orchestrator.sim.tables: server-side printing as kube-apiserver does it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from orchestrator.sim.tables import columns_for, human_duration, to_table

CREATED = "2026-01-01T00:00:00Z"
T0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
NOW = T0 + 3600  # every object below is one hour old


def ts(offset: float) -> str:
    """RFC3339 for NOW + offset seconds."""
    return datetime.fromtimestamp(NOW + offset, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, namespace: str | None = "default", **extra) -> dict:
    m = {
        "name": name,
        "uid": f"uid-{name}",
        "resourceVersion": "42",
        "creationTimestamp": CREATED,
        **extra,
    }
    if namespace:
        m["namespace"] = namespace
    return m


def row(kind: str, obj: dict, **kwargs) -> dict:
    """Cells of the one row, keyed by upper-cased column name (what kubectl prints)."""
    table = to_table(kind, [obj], NOW, **kwargs)
    names = [c["name"].upper() for c in table["columnDefinitions"]]
    [only] = table["rows"]
    assert len(only["cells"]) == len(names)
    return dict(zip(names, only["cells"], strict=True))


def default_headers(kind: str) -> list[str]:
    """The header line of plain `kubectl get` (priority 0 columns only)."""
    return [c["name"].upper() for c in columns_for(kind) if c["priority"] == 0]


def wide_headers(kind: str) -> list[str]:
    return [c["name"].upper() for c in columns_for(kind)]


# --------------------------------------------------------------------------------------
# human_duration
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (0.9, "0s"),
        (45, "45s"),
        (59.9, "59s"),
        (119, "119s"),
        (120, "2m"),
        (312, "5m12s"),
        (540, "9m"),
        (600, "10m"),
        (3600, "60m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 30 * 60, "5h30m"),
        (30 * 3600, "30h"),
        (2 * 86400 + 5 * 3600, "2d5h"),
        (3 * 86400, "3d"),
        (15 * 86400, "15d"),
        (729 * 86400, "729d"),
        (800 * 86400, "2y70d"),
        (3 * 365 * 86400, "3y"),
        (10 * 365 * 86400, "10y"),
        (-1, "0s"),
        (-1.5, "0s"),
        (-5, "<invalid>"),
    ],
)
def test_human_duration(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


# --------------------------------------------------------------------------------------
# Table envelope
# --------------------------------------------------------------------------------------


def running_pod(name: str = "web-7d4b9c-abcde") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(name, labels={"app": "web"}),
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "web", "image": "nginx:1.27"}],
        },
        "status": {
            "phase": "Running",
            "podIP": "10.244.1.7",
            "podIPs": [{"ip": "10.244.1.7"}],
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "True"},
                {"type": "ContainersReady", "status": "True"},
                {"type": "PodScheduled", "status": "True"},
            ],
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "image": "nginx:1.27",
                    "state": {"running": {"startedAt": CREATED}},
                }
            ],
        },
    }


def test_table_envelope_with_partial_object_metadata() -> None:
    pod = running_pod()
    table = to_table("Pod", [pod], NOW, resource_version="1234")
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "1234"}
    for col in table["columnDefinitions"]:
        assert set(col) == {"name", "type", "format", "description", "priority"}
    assert table["columnDefinitions"][0]["format"] == "name"
    [r] = table["rows"]
    assert r["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod["metadata"],
    }
    assert "conditions" not in r
    json.loads(json.dumps(table))


def test_include_object_variants() -> None:
    pod = running_pod()
    whole = to_table("Pod", [pod], NOW, include_object="Object")
    assert whole["rows"][0]["object"] == pod
    bare = to_table("Pod", [pod], NOW, include_object="None")
    assert "object" not in bare["rows"][0]
    assert bare["rows"][0]["cells"][0] == pod["metadata"]["name"]


def test_unknown_include_object_is_rejected() -> None:
    with pytest.raises(ValueError, match="includeObject"):
        to_table("Pod", [running_pod()], NOW, include_object="Everything")


def test_empty_list_and_list_metadata() -> None:
    table = to_table(
        "Deployment",
        [],
        NOW,
        resource_version="7",
        continue_token="abc",
        remaining_item_count=3,
    )
    assert table["rows"] == []
    assert table["metadata"] == {
        "resourceVersion": "7",
        "continue": "abc",
        "remainingItemCount": 3,
    }
    assert to_table("Pod", [], NOW)["metadata"] == {}


def test_wide_columns_are_always_sent_with_priority_one() -> None:
    # kube-apiserver always generates the wide cells; kubectl hides priority-1 columns.
    plain = to_table("Pod", [running_pod()], NOW)
    wide = to_table("Pod", [running_pod()], NOW, wide=True)
    assert plain == wide
    assert default_headers("Pod") == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert wide_headers("Pod")[5:] == ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]


def test_to_table_does_not_mutate_input() -> None:
    pod = running_pod()
    before = copy.deepcopy(pod)
    to_table("Pod", [pod], NOW, include_object="Object")
    assert pod == before


# --------------------------------------------------------------------------------------
# Pods
# --------------------------------------------------------------------------------------


def pod_with(
    container_statuses: list[dict],
    *,
    containers: int = 1,
    init_containers: list[dict] | None = None,
    init_statuses: list[dict] | None = None,
    phase: str = "Running",
    ready_condition: str = "False",
    **meta_extra,
) -> dict:
    spec: dict = {
        "nodeName": "node-1",
        "containers": [{"name": f"c{i}", "image": f"img{i}:1"} for i in range(containers)],
    }
    status: dict = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": ready_condition}],
        "containerStatuses": container_statuses,
    }
    if init_containers is not None:
        spec["initContainers"] = init_containers
        status["initContainerStatuses"] = init_statuses or []
        status["conditions"].append({"type": "Initialized", "status": "False"})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta("p", **meta_extra),
        "spec": spec,
        "status": status,
    }


def waiting(reason: str, restarts: int = 0, **extra) -> dict:
    return {
        "name": "c0",
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason, "message": "..."}},
        **extra,
    }


def test_running_ready_pod() -> None:
    cells = row("Pod", running_pod())
    assert cells == {
        "NAME": "web-7d4b9c-abcde",
        "READY": "1/1",
        "STATUS": "Running",
        "RESTARTS": "0",
        "AGE": "60m",
        "IP": "10.244.1.7",
        "NODE": "node-1",
        "NOMINATED NODE": "<none>",
        "READINESS GATES": "<none>",
    }


def test_image_pull_backoff() -> None:
    pod = pod_with([waiting("ImagePullBackOff")], phase="Pending")
    cells = row("Pod", pod)
    assert (cells["READY"], cells["STATUS"], cells["RESTARTS"]) == (
        "0/1",
        "ImagePullBackOff",
        "0",
    )


@pytest.mark.parametrize(
    "reason",
    [
        "ErrImagePull",
        "CreateContainerConfigError",
        "ContainerCreating",
        "InvalidImageName",
    ],
)
def test_waiting_reasons_are_shown(reason: str) -> None:
    assert row("Pod", pod_with([waiting(reason)], phase="Pending"))["STATUS"] == reason


def test_crash_loop_backoff_with_restarts_ago() -> None:
    status = waiting(
        "CrashLoopBackOff",
        restarts=5,
        lastState={
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": ts(-40),
                "finishedAt": ts(-30),
            }
        },
    )
    cells = row("Pod", pod_with([status]))
    assert cells["READY"] == "0/1"
    assert cells["STATUS"] == "CrashLoopBackOff"
    assert cells["RESTARTS"] == "5 (30s ago)"


def test_restarts_ago_uses_latest_termination_across_containers() -> None:
    older = {
        "name": "c0",
        "ready": True,
        "restartCount": 2,
        "state": {"running": {"startedAt": ts(-600)}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(-610)}},
    }
    newer = {
        "name": "c1",
        "ready": True,
        "restartCount": 1,
        "state": {"running": {"startedAt": ts(-300)}},
        "lastState": {"terminated": {"exitCode": 137, "finishedAt": ts(-312)}},
    }
    pod = pod_with([older, newer], containers=2, ready_condition="True")
    cells = row("Pod", pod)
    assert cells["READY"] == "2/2"
    assert cells["STATUS"] == "Running"
    assert cells["RESTARTS"] == "3 (5m12s ago)"


def test_restarts_without_termination_time_is_plain_count() -> None:
    status = {
        "name": "c0",
        "ready": True,
        "restartCount": 4,
        "state": {"running": {}},
    }
    assert row("Pod", pod_with([status]))["RESTARTS"] == "4"


def test_oom_killed() -> None:
    status = {
        "name": "c0",
        "ready": False,
        "restartCount": 1,
        "state": {
            "terminated": {
                "exitCode": 137,
                "reason": "OOMKilled",
                "finishedAt": ts(-90),
            }
        },
        "lastState": {"terminated": {"exitCode": 137, "finishedAt": ts(-120)}},
    }
    cells = row("Pod", pod_with([status]))
    assert cells["READY"] == "0/1"
    assert cells["STATUS"] == "OOMKilled"
    assert cells["RESTARTS"] == "1 (2m ago)"


@pytest.mark.parametrize(
    ("terminated", "expected"),
    [
        ({"exitCode": 1, "reason": "Error"}, "Error"),
        ({"exitCode": 0, "reason": "Completed"}, "Completed"),
        ({"exitCode": 3}, "ExitCode:3"),
        ({"exitCode": 0, "signal": 9}, "Signal:9"),
    ],
)
def test_terminated_container_reasons(terminated: dict, expected: str) -> None:
    status = {"name": "c0", "ready": False, "state": {"terminated": terminated}}
    assert row("Pod", pod_with([status], phase="Failed"))["STATUS"] == expected


def test_succeeded_pod_completed_with_row_condition() -> None:
    status = {
        "name": "c0",
        "ready": False,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    table = to_table("Pod", [pod_with([status], phase="Succeeded")], NOW)
    [r] = table["rows"]
    assert r["cells"][1:3] == ["0/1", "Completed"]
    assert r["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]


def test_completed_container_next_to_running_one() -> None:
    done = {
        "name": "c1",
        "ready": False,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    running = {"name": "c0", "ready": True, "state": {"running": {}}}
    # "Completed" from one container while another still runs is Running or NotReady,
    # whichever order the statuses come in.
    for order in ([done, running], [running, done]):
        pod = pod_with(order, containers=2, ready_condition="False")
        assert row("Pod", pod)["STATUS"] == "NotReady"
    pod = pod_with([running, done], containers=2, ready_condition="True")
    assert row("Pod", pod)["STATUS"] == "Running"
    assert row("Pod", pod)["READY"] == "1/2"


def test_running_but_not_ready_container() -> None:
    status = {"name": "c0", "ready": False, "state": {"running": {}}}
    cells = row("Pod", pod_with([status]))
    assert (cells["READY"], cells["STATUS"]) == ("0/1", "Running")


def test_pending_unscheduled_pod() -> None:
    pod = {
        "metadata": meta("pending"),
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
        },
    }
    cells = row("Pod", pod)
    assert (cells["READY"], cells["STATUS"], cells["NODE"], cells["IP"]) == (
        "0/1",
        "Pending",
        "<none>",
        "<none>",
    )


def test_scheduling_gated_pod() -> None:
    pod = {
        "metadata": meta("gated"),
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
        },
    }
    assert row("Pod", pod)["STATUS"] == "SchedulingGated"


def test_status_reason_wins_over_phase() -> None:
    pod = pod_with([], phase="Failed")
    pod["status"]["reason"] = "Evicted"
    assert row("Pod", pod)["STATUS"] == "Evicted"


def test_terminating_pod() -> None:
    pod = running_pod()
    pod["metadata"]["deletionTimestamp"] = ts(-5)
    assert row("Pod", pod)["STATUS"] == "Terminating"


def test_node_lost_pod_is_unknown() -> None:
    pod = running_pod()
    pod["metadata"]["deletionTimestamp"] = ts(-5)
    pod["status"]["reason"] = "NodeLost"
    assert row("Pod", pod)["STATUS"] == "Unknown"


def test_init_container_hanging() -> None:
    init = [{"name": "wait-for-db", "image": "busybox"}]
    init_status = [
        {
            "name": "wait-for-db",
            "ready": False,
            "restartCount": 0,
            "state": {"running": {"startedAt": ts(-100)}},
        }
    ]
    main = waiting("PodInitializing")
    pod = pod_with(
        [main],
        init_containers=init,
        init_statuses=init_status,
        phase="Pending",
    )
    cells = row("Pod", pod)
    assert (cells["READY"], cells["STATUS"], cells["RESTARTS"]) == ("0/1", "Init:0/1", "0")


def test_second_init_container_pending() -> None:
    init = [{"name": "a", "image": "i"}, {"name": "b", "image": "i"}]
    statuses = [
        {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "b", "state": {"waiting": {"reason": "PodInitializing"}}},
    ]
    pod = pod_with([], init_containers=init, init_statuses=statuses, phase="Pending")
    assert row("Pod", pod)["STATUS"] == "Init:1/2"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"waiting": {"reason": "CrashLoopBackOff"}}, "Init:CrashLoopBackOff"),
        ({"waiting": {"reason": "ImagePullBackOff"}}, "Init:ImagePullBackOff"),
        ({"terminated": {"exitCode": 1, "reason": "Error"}}, "Init:Error"),
        ({"terminated": {"exitCode": 2}}, "Init:ExitCode:2"),
        ({"terminated": {"exitCode": 143, "signal": 15}}, "Init:Signal:15"),
    ],
)
def test_init_container_failures(state: dict, expected: str) -> None:
    init = [{"name": "init", "image": "i"}]
    statuses = [
        {
            "name": "init",
            "restartCount": 3,
            "state": state,
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(-45)}},
        }
    ]
    pod = pod_with(
        [waiting("PodInitializing")],
        init_containers=init,
        init_statuses=statuses,
        phase="Pending",
    )
    cells = row("Pod", pod)
    assert cells["STATUS"] == expected
    assert cells["RESTARTS"] == "3 (45s ago)"


def test_finished_init_containers_hand_over_to_main_containers() -> None:
    init = [{"name": "init", "image": "i"}]
    statuses = [{"name": "init", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]
    pod = pod_with(
        [waiting("PodInitializing")],
        init_containers=init,
        init_statuses=statuses,
        phase="Pending",
    )
    assert row("Pod", pod)["STATUS"] == "PodInitializing"


def test_sidecar_init_container_counts_as_a_container() -> None:
    init = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    statuses = [
        {
            "name": "proxy",
            "ready": True,
            "started": True,
            "restartCount": 1,
            "state": {"running": {}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(-600)}},
        }
    ]
    main = {"name": "c0", "ready": True, "state": {"running": {}}}
    pod = pod_with(
        [main],
        init_containers=init,
        init_statuses=statuses,
        ready_condition="True",
    )
    pod["status"]["conditions"][-1]["status"] = "True"  # Initialized
    cells = row("Pod", pod)
    assert (cells["READY"], cells["STATUS"], cells["RESTARTS"]) == (
        "2/2",
        "Running",
        "1 (10m ago)",
    )


def test_readiness_gates_and_nominated_node() -> None:
    pod = running_pod()
    pod["spec"]["readinessGates"] = [
        {"conditionType": "example.com/lb-ready"},
        {"conditionType": "example.com/warm"},
    ]
    pod["status"]["conditions"].append({"type": "example.com/lb-ready", "status": "True"})
    pod["status"]["nominatedNodeName"] = "node-2"
    cells = row("Pod", pod)
    assert cells["READINESS GATES"] == "1/2"
    assert cells["NOMINATED NODE"] == "node-2"


# --------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------


def deployment(replicas: int | None = 1, status: dict | None = None) -> dict:
    spec: dict = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.27"},
                    {"name": "sidecar", "image": "busybox:1.36"},
                ]
            },
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta("web"),
        "spec": spec,
        "status": status or {},
    }


def test_deployment_not_ready() -> None:
    cells = row("Deployment", deployment(1, {"replicas": 1, "updatedReplicas": 1}))
    assert cells == {
        "NAME": "web",
        "READY": "0/1",
        "UP-TO-DATE": 1,
        "AVAILABLE": 0,
        "AGE": "60m",
        "CONTAINERS": "web,sidecar",
        "IMAGES": "nginx:1.27,busybox:1.36",
        "SELECTOR": "app=web",
    }
    assert default_headers("Deployment") == [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
    ]


def test_deployment_ready_and_default_replicas() -> None:
    status = {
        "replicas": 3,
        "readyReplicas": 3,
        "updatedReplicas": 3,
        "availableReplicas": 3,
    }
    assert row("Deployment", deployment(3, status))["READY"] == "3/3"
    assert row("Deployment", deployment(None))["READY"] == "0/1"


def test_deployment_selector_with_expressions() -> None:
    dep = deployment()
    dep["spec"]["selector"] = {
        "matchLabels": {"tier": "front", "app": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "canary"]},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    assert row("Deployment", dep)["SELECTOR"] == ("app=web,env in (canary,prod),!legacy,tier=front")


def test_replicaset() -> None:
    rs = deployment(2, {"replicas": 2, "readyReplicas": 1})
    rs["kind"] = "ReplicaSet"
    rs["metadata"] = meta("web-7d4b9c")
    cells = row("ReplicaSet", rs)
    assert [cells[k] for k in ("NAME", "DESIRED", "CURRENT", "READY", "AGE")] == [
        "web-7d4b9c",
        2,
        2,
        1,
        "60m",
    ]
    assert cells["SELECTOR"] == "app=web"
    assert default_headers("ReplicaSet") == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "AGE",
    ]


def test_statefulset() -> None:
    sts = deployment(3, {"replicas": 3, "readyReplicas": 2})
    sts["kind"] = "StatefulSet"
    cells = row("StatefulSet", sts)
    assert (cells["READY"], cells["AGE"]) == ("2/3", "60m")
    assert default_headers("StatefulSet") == ["NAME", "READY", "AGE"]


def test_daemonset() -> None:
    ds = deployment(None)
    ds["kind"] = "DaemonSet"
    ds["metadata"] = meta("node-exporter", "monitoring")
    ds["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
    ds["status"] = {
        "desiredNumberScheduled": 3,
        "currentNumberScheduled": 3,
        "numberReady": 2,
        "updatedNumberScheduled": 3,
        "numberAvailable": 2,
    }
    cells = row("DaemonSet", ds)
    assert default_headers("DaemonSet") == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "NODE SELECTOR",
        "AGE",
    ]
    assert [cells[h] for h in default_headers("DaemonSet")] == [
        "node-exporter",
        3,
        3,
        2,
        3,
        2,
        "kubernetes.io/os=linux",
        "60m",
    ]


def test_job_and_cronjob() -> None:
    job = {
        "metadata": meta("backup-29000"),
        "spec": {
            "completions": 1,
            "template": {"spec": {"containers": [{"name": "b", "image": "bk:1"}]}},
        },
        "status": {
            "succeeded": 1,
            "startTime": ts(-300),
            "completionTime": ts(-255),
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    cells = row("Job", job)
    assert [cells[h] for h in default_headers("Job")] == [
        "backup-29000",
        "Complete",
        "1/1",
        "45s",
        "60m",
    ]
    cron = {
        "metadata": meta("backup"),
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": job["spec"]}},
        "status": {"lastScheduleTime": ts(-120), "active": [{"name": "x"}]},
    }
    cells = row("CronJob", cron)
    assert [cells[h] for h in default_headers("CronJob")] == [
        "backup",
        "*/5 * * * *",
        "<none>",
        "False",
        1,
        "2m",
        "60m",
    ]


# --------------------------------------------------------------------------------------
# Services and endpoints
# --------------------------------------------------------------------------------------


def service(svc_type: str | None, ports: list[dict], **spec_extra) -> dict:
    spec = {
        "clusterIP": "10.96.12.34",
        "clusterIPs": ["10.96.12.34"],
        "ports": ports,
        "selector": {"app": "web", "tier": "frontend"},
        **spec_extra,
    }
    if svc_type:
        spec["type"] = svc_type
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta("web"), "spec": spec}


def test_cluster_ip_service() -> None:
    svc = service("ClusterIP", [{"port": 80, "targetPort": 8080, "protocol": "TCP"}])
    assert row("Service", svc) == {
        "NAME": "web",
        "TYPE": "ClusterIP",
        "CLUSTER-IP": "10.96.12.34",
        "EXTERNAL-IP": "<none>",
        "PORT(S)": "80/TCP",
        "AGE": "60m",
        "SELECTOR": "app=web,tier=frontend",
    }


def test_node_port_service_with_several_ports() -> None:
    svc = service(
        "NodePort",
        [
            {"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP"},
            {"name": "dns", "port": 53, "nodePort": 30053, "protocol": "UDP"},
        ],
    )
    assert row("Service", svc)["PORT(S)"] == "80:30080/TCP,53:30053/UDP"


def test_load_balancer_service() -> None:
    svc = service("LoadBalancer", [{"port": 443, "nodePort": 31443}])
    assert row("Service", svc)["EXTERNAL-IP"] == "<pending>"
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}
    cells = row("Service", svc)
    assert cells["EXTERNAL-IP"] == "203.0.113.10"
    assert cells["PORT(S)"] == "443:31443/TCP"


def test_headless_external_name_and_defaults() -> None:
    headless = service(None, [], clusterIP="None", clusterIPs=["None"], selector={})
    cells = row("Service", headless)
    assert (cells["TYPE"], cells["CLUSTER-IP"], cells["PORT(S)"], cells["SELECTOR"]) == (
        "ClusterIP",
        "None",
        "<none>",
        "<none>",
    )
    ext = {
        "metadata": meta("db"),
        "spec": {"type": "ExternalName", "externalName": "db.example.com"},
    }
    cells = row("Service", ext)
    assert (cells["CLUSTER-IP"], cells["EXTERNAL-IP"]) == ("<none>", "db.example.com")


def test_endpoints() -> None:
    ep = {
        "metadata": meta("web"),
        "subsets": [
            {
                "addresses": [{"ip": f"10.244.1.{i}"} for i in range(1, 5)],
                "ports": [{"port": 8080, "protocol": "TCP"}],
            }
        ],
    }
    assert row("Endpoints", ep)["ENDPOINTS"] == ("10.244.1.1:8080,10.244.1.2:8080,10.244.1.3:8080 + 1 more...")
    ep["subsets"][0]["addresses"] = ep["subsets"][0]["addresses"][:2]
    assert row("Endpoints", ep)["ENDPOINTS"] == "10.244.1.1:8080,10.244.1.2:8080"
    assert row("Endpoints", {"metadata": meta("none")})["ENDPOINTS"] == "<none>"
    not_ready = {
        "metadata": meta("web"),
        "subsets": [
            {
                "notReadyAddresses": [{"ip": "10.244.1.9"}],
                "ports": [{"port": 8080}],
            }
        ],
    }
    assert row("Endpoints", not_ready)["ENDPOINTS"] == "<none>"


# --------------------------------------------------------------------------------------
# Nodes and namespaces
# --------------------------------------------------------------------------------------


def node(name: str, ready: str | None = "True", **spec) -> dict:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(
            name,
            None,
            labels={
                "kubernetes.io/hostname": name,
                "node-role.kubernetes.io/worker": "",
            },
        ),
        "spec": spec,
        "status": {
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": "192.168.1.11"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Ubuntu 24.04.1 LTS",
                "kernelVersion": "6.8.0-45-generic",
                "containerRuntimeVersion": "containerd://1.7.22",
            },
        },
    }


def test_ready_node_wide() -> None:
    assert row("Node", node("node-1")) == {
        "NAME": "node-1",
        "STATUS": "Ready",
        "ROLES": "worker",
        "AGE": "60m",
        "VERSION": "v1.32.0",
        "INTERNAL-IP": "192.168.1.11",
        "EXTERNAL-IP": "<none>",
        "OS-IMAGE": "Ubuntu 24.04.1 LTS",
        "KERNEL-VERSION": "6.8.0-45-generic",
        "CONTAINER-RUNTIME": "containerd://1.7.22",
    }
    assert default_headers("Node") == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]


def test_cordoned_node() -> None:
    assert row("Node", node("node-2", unschedulable=True))["STATUS"] == ("Ready,SchedulingDisabled")


@pytest.mark.parametrize(
    ("ready", "expected"),
    [("False", "NotReady"), ("Unknown", "NotReady"), (None, "Unknown")],
)
def test_not_ready_nodes(ready: str | None, expected: str) -> None:
    assert row("Node", node("n", ready))["STATUS"] == expected


def test_node_roles() -> None:
    cp = node("cp-1")
    cp["metadata"]["labels"] = {
        "node-role.kubernetes.io/control-plane": "",
        "node-role.kubernetes.io/etcd": "",
        "kubernetes.io/role": "master",
    }
    assert row("Node", cp)["ROLES"] == "control-plane,etcd,master"
    cp["metadata"]["labels"] = {}
    assert row("Node", cp)["ROLES"] == "<none>"


def test_namespace() -> None:
    ns = {"metadata": meta("prod", None), "status": {"phase": "Terminating"}}
    assert row("Namespace", ns) == {"NAME": "prod", "STATUS": "Terminating", "AGE": "60m"}
    assert row("Namespace", {"metadata": meta("dev", None)})["STATUS"] == "Active"


# --------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------


def test_event_columns_in_kubectl_order() -> None:
    ev = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta("web-7d4b9c-abcde.17f3a"),
        "involvedObject": {
            "kind": "Pod",
            "namespace": "default",
            "name": "web-7d4b9c-abcde",
            "fieldPath": "spec.containers{web}",
        },
        "reason": "BackOff",
        "message": "Back-off restarting failed container web in pod web-7d4b9c-abcde\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ts(-600),
        "lastTimestamp": ts(-30),
        "count": 12,
        "type": "Warning",
    }
    assert default_headers("Event") == [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "MESSAGE",
    ]
    assert row("Event", ev) == {
        "LAST SEEN": "30s",
        "TYPE": "Warning",
        "REASON": "BackOff",
        "OBJECT": "pod/web-7d4b9c-abcde",
        "SUBOBJECT": "spec.containers{web}",
        "SOURCE": "kubelet, node-1",
        "MESSAGE": "Back-off restarting failed container web in pod web-7d4b9c-abcde",
        "FIRST SEEN": "10m",
        "COUNT": 12,
        "NAME": "web-7d4b9c-abcde.17f3a",
    }


def test_event_new_style_fields() -> None:
    ev = {
        "metadata": meta("web.1"),
        "involvedObject": {"kind": "Deployment", "name": "web"},
        "reason": "ScalingReplicaSet",
        "message": "Scaled up replica set web-7d4b9c to 3",
        "eventTime": datetime.fromtimestamp(NOW - 75, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "reportingComponent": "deployment-controller",
        "type": "Normal",
    }
    cells = row("Event", ev)
    assert (cells["LAST SEEN"], cells["FIRST SEEN"], cells["COUNT"]) == ("75s", "75s", 1)
    assert cells["OBJECT"] == "deployment/web"
    assert cells["SOURCE"] == "deployment-controller"
    ev["series"] = {"count": 4, "lastObservedTime": ts(-5)}
    cells = row("Event", ev)
    assert (cells["LAST SEEN"], cells["COUNT"]) == ("5s", 4)


def test_event_without_timestamps() -> None:
    ev = {"metadata": meta("x"), "involvedObject": {"kind": "Node"}, "type": "Normal"}
    cells = row("Event", ev)
    assert (cells["LAST SEEN"], cells["OBJECT"]) == ("<unknown>", "node")


# --------------------------------------------------------------------------------------
# Config, storage, policy
# --------------------------------------------------------------------------------------


def test_configmap_secret_serviceaccount() -> None:
    cm = {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert row("ConfigMap", cm) == {"NAME": "cfg", "DATA": 3, "AGE": "60m"}
    secret = {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}
    assert row("Secret", secret) == {
        "NAME": "tls",
        "TYPE": "kubernetes.io/tls",
        "DATA": 2,
        "AGE": "60m",
    }
    assert row("Secret", {"metadata": meta("s")})["TYPE"] == "Opaque"
    sa = {"metadata": meta("default"), "secrets": [{"name": "default-token"}]}
    assert row("ServiceAccount", sa) == {"NAME": "default", "SECRETS": 1, "AGE": "60m"}
    assert row("ServiceAccount", {"metadata": meta("x")})["SECRETS"] == 0


def test_persistent_volume_claims() -> None:
    bound = {
        "metadata": meta("data-db-0"),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "10Gi"}},
            "storageClassName": "standard",
            "volumeName": "pvc-1234",
            "volumeMode": "Filesystem",
        },
        "status": {
            "phase": "Bound",
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
            "capacity": {"storage": "10Gi"},
        },
    }
    assert default_headers("PersistentVolumeClaim") == [
        "NAME",
        "STATUS",
        "VOLUME",
        "CAPACITY",
        "ACCESS MODES",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "AGE",
    ]
    assert row("PersistentVolumeClaim", bound) == {
        "NAME": "data-db-0",
        "STATUS": "Bound",
        "VOLUME": "pvc-1234",
        "CAPACITY": "10Gi",
        "ACCESS MODES": "RWO,RWX",
        "STORAGECLASS": "standard",
        "VOLUMEATTRIBUTESCLASS": "<unset>",
        "AGE": "60m",
        "VOLUMEMODE": "Filesystem",
    }
    pending = {
        "metadata": meta("claim"),
        "spec": {"resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Pending"},
    }
    cells = row("PersistentVolumeClaim", pending)
    assert [cells[k] for k in ("STATUS", "VOLUME", "CAPACITY", "ACCESS MODES")] == [
        "Pending",
        "",
        "",
        "",
    ]


def test_resource_quota() -> None:
    quota = {
        "metadata": meta("compute"),
        "spec": {"hard": {"requests.memory": "5Mi"}},
        "status": {
            "hard": {
                "requests.memory": "5Mi",
                "requests.cpu": "1",
                "limits.memory": "1Gi",
                "pods": "10",
            },
            "used": {"requests.memory": "10Mi", "limits.memory": "512Mi", "pods": "3"},
        },
    }
    assert row("ResourceQuota", quota) == {
        "NAME": "compute",
        "REQUEST": "pods: 3/10, requests.cpu: 0/1, requests.memory: 10Mi/5Mi",
        "LIMIT": "limits.memory: 512Mi/1Gi",
        "AGE": "60m",
    }


def test_network_policy() -> None:
    np = {"metadata": meta("deny"), "spec": {"podSelector": {}}}
    assert row("NetworkPolicy", np) == {"NAME": "deny", "POD-SELECTOR": "<none>", "AGE": "60m"}
    np["spec"]["podSelector"] = {"matchLabels": {"app": "db"}}
    assert row("NetworkPolicy", np)["POD-SELECTOR"] == "app=db"


def hpa(current: int | None) -> dict:
    status: dict = {"currentReplicas": 2, "desiredReplicas": 2}
    if current is not None:
        status["currentMetrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": current}},
            }
        ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta("web"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                }
            ],
        },
        "status": status,
    }


def test_hpa() -> None:
    assert row("HorizontalPodAutoscaler", hpa(45)) == {
        "NAME": "web",
        "REFERENCE": "Deployment/web",
        "TARGETS": "cpu: 45%/80%",
        "MINPODS": "2",
        "MAXPODS": 10,
        "REPLICAS": 2,
        "AGE": "60m",
    }
    assert row("HorizontalPodAutoscaler", hpa(None))["TARGETS"] == "cpu: <unknown>/80%"


def test_hpa_other_metric_shapes() -> None:
    obj = hpa(None)
    obj["spec"]["metrics"] = [
        {
            "type": "Resource",
            "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}},
        },
        {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"averageValue": "100"}}},
        {"type": "External", "external": {"metric": {"name": "q"}, "target": {"value": "30"}}},
    ]
    obj["status"]["currentMetrics"] = [
        {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "300Mi"}}},
        {"type": "Pods", "pods": {"current": {"averageValue": "42"}}},
    ]
    assert row("HorizontalPodAutoscaler", obj)["TARGETS"] == ("memory: 300Mi/500Mi, 42/100 + 1 more...")


def test_hpa_autoscaling_v1_shape() -> None:
    obj = {
        "metadata": meta("api"),
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "api"},
            "maxReplicas": 5,
            "targetCPUUtilizationPercentage": 60,
        },
        "status": {"currentReplicas": 1, "currentCPUUtilizationPercentage": 12},
    }
    cells = row("HorizontalPodAutoscaler", obj)
    assert (cells["TARGETS"], cells["MINPODS"]) == ("cpu: 12%/60%", "1")


def test_priority_class() -> None:
    pc = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": meta("system-cluster-critical", None),
        "value": 2000000000,
        "globalDefault": False,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    assert row("PriorityClass", pc) == {
        "NAME": "system-cluster-critical",
        "VALUE": 2000000000,
        "GLOBAL-DEFAULT": False,
        "AGE": "60m",
        "PREEMPTIONPOLICY": "PreemptLowerPriority",
    }


def test_crd_and_custom_resources() -> None:
    crd = {"metadata": meta("widgets.example.com", None)}
    table = to_table("CustomResourceDefinition", [crd], NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]
    assert table["rows"][0]["cells"] == ["widgets.example.com", "2026-01-01T00:00:00Z"]
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta("w1")}
    assert row("Widget", widget) == {"NAME": "w1", "AGE": "60m"}
    assert row("Widget", {"metadata": {"name": "w2"}})["AGE"] == "<unknown>"


# --------------------------------------------------------------------------------------
# Every kind: one cell per column, JSON-serialisable
# --------------------------------------------------------------------------------------

ALL_KINDS = [
    "Pod",
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Service",
    "Endpoints",
    "EndpointSlice",
    "Node",
    "Namespace",
    "Event",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "ResourceQuota",
    "NetworkPolicy",
    "HorizontalPodAutoscaler",
    "PriorityClass",
    "PodDisruptionBudget",
    "RoleBinding",
    "ClusterRoleBinding",
    "Role",
    "ClusterRole",
    "LimitRange",
    "Lease",
    "Ingress",
    "IngressClass",
    "StorageClass",
    "ControllerRevision",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "CustomResourceDefinition",
    "SomeCustomKind",
]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_minimal_objects_render_for_every_kind(kind: str) -> None:
    objects = [{"metadata": meta("minimal")}, {"metadata": {"name": "bare"}}]
    table = to_table(kind, objects, NOW, include_object="Object")
    width = len(table["columnDefinitions"])
    assert width >= 2
    for r in table["rows"]:
        assert len(r["cells"]) == width
    assert json.loads(json.dumps(table)) == table


def test_assorted_extra_kinds() -> None:
    rb = {
        "metadata": meta("view"),
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "build"},
        ],
    }
    assert row("RoleBinding", rb) == {
        "NAME": "view",
        "ROLE": "ClusterRole/view",
        "AGE": "60m",
        "USERS": "alice",
        "GROUPS": "",
        "SERVICEACCOUNTS": "build:ci",
    }
    pdb = {"metadata": meta("web"), "spec": {"minAvailable": 1}, "status": {"disruptionsAllowed": 0}}
    assert row("PodDisruptionBudget", pdb) == {
        "NAME": "web",
        "MIN AVAILABLE": "1",
        "MAX UNAVAILABLE": "N/A",
        "ALLOWED DISRUPTIONS": 0,
        "AGE": "60m",
    }
    sc = {
        "metadata": meta(
            "standard",
            None,
            annotations={"storageclass.kubernetes.io/is-default-class": "true"},
        ),
        "provisioner": "rancher.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    assert row("StorageClass", sc)["NAME"] == "standard (default)"
    rev = {
        "metadata": meta(
            "web-6b8f",
            ownerReferences=[{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True}],
        ),
        "revision": 2,
    }
    assert row("ControllerRevision", rev)["CONTROLLER"] == "statefulset.apps/web"
    role = {"metadata": meta("reader")}
    assert row("Role", role) == {"NAME": "reader", "CREATED AT": CREATED}


def test_ingressclass_row() -> None:
    ic = {
        "metadata": meta("nginx"),
        "spec": {
            "controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"},
        },
    }
    assert default_headers("IngressClass") == ["NAME", "CONTROLLER", "PARAMETERS", "AGE"]
    cells = row("IngressClass", ic)
    assert cells["CONTROLLER"] == "k8s.io/ingress-nginx"
    assert cells["PARAMETERS"] == "IngressParameters.k8s.example.com/external-lb"
    assert row("IngressClass", {"metadata": meta("plain"), "spec": {"controller": "x"}})["PARAMETERS"] == "<none>"
