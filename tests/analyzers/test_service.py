from __future__ import annotations

from .builders import NS, obj, only, pod, run


def _svc(selector: dict, target: object = 8080) -> dict:
    return obj(
        "Service", "api", spec={"selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": target}]}
    )


def _api_pod(ready: bool = True) -> dict:
    spec = {"containers": [{"name": "app", "ports": [{"name": "web", "containerPort": 8080}]}]}
    return pod("api-1", [{"name": "app", "ready": ready}], labels={"app": "api"}, spec=spec)


def _ep(ready: bool) -> dict:
    key = "addresses" if ready else "notReadyAddresses"
    return obj("Endpoints", "api", subsets=[{key: [{"ip": "10.0.0.1"}]}])


def test_selector_matching_no_pod_points_at_the_near_miss() -> None:
    f = only(
        run({"Service": [_svc({"app": "api-v2"})], "Pod": [_api_pod()], "Endpoints": []}, ["Service"]), "Service", "api"
    )
    assert f.confidence == "high" and "matches no pod" in f.cause
    assert "spec.selector=app=api-v2 matches no pod in shop" in f.evidence
    assert any("has app=api where the selector wants app=api-v2" in line for line in f.evidence)


def test_target_port_no_container_serves() -> None:
    f = only(
        run({"Service": [_svc({"app": "api"}, 9090)], "Pod": [_api_pod()], "Endpoints": [_ep(True)]}, ["Service"]),
        "Service",
        "api",
    )
    assert f.cause == "targetPort 9090 is not served by any pod the Service selects"
    assert f.field == "spec.ports[http].targetPort"


def test_named_target_port_that_does_not_exist() -> None:
    f = only(
        run({"Service": [_svc({"app": "api"}, "grpc")], "Pod": [_api_pod()], "Endpoints": [_ep(True)]}, ["Service"]),
        "Service",
        "api",
    )
    assert "named port 'grpc'" in f.evidence[0]


def test_no_ready_endpoints_names_the_workload() -> None:
    p = _api_pod(ready=False)
    f = only(
        run({"Service": [_svc({"app": "api"})], "Pod": [p], "Endpoints": [_ep(False)]}, ["Service"]), "Service", "api"
    )
    assert "no ready endpoints" in f.cause and f.owner is None
    assert "0 ready addresses, 1 not ready" in f.evidence[0]


def test_missing_service_addressed_by_callers() -> None:
    caller = obj(
        "Deployment",
        "front",
        spec={
            "template": {
                "spec": {"containers": [{"name": "c", "env": [{"name": "API_ADDR", "value": "http://api:80"}]}]}
            }
        },
    )
    other = obj(
        "Deployment",
        "worker",
        spec={"template": {"spec": {"containers": [{"name": "c", "env": [{"name": "API", "value": "api:80"}]}]}}},
    )
    api = obj("Deployment", "api", spec={"template": {"spec": {"containers": [{"name": "c"}]}}})
    f = only(run({"Service": [], "Deployment": [caller, other, api], "Pod": []}, ["Service"]), "Service", "api")
    assert f.object == f"{NS}/Service/api" and f.confidence == "high"
    assert "no Service api in namespace shop" in f.evidence


def test_caller_addressing_a_port_the_service_lacks() -> None:
    caller = obj(
        "Deployment",
        "front",
        spec={
            "template": {"spec": {"containers": [{"name": "c", "env": [{"name": "API_ADDR", "value": "api:0000"}]}]}}
        },
    )
    f = only(
        run(
            {"Service": [_svc({"app": "api"})], "Deployment": [caller], "Pod": [_api_pod()], "Endpoints": [_ep(True)]},
            ["Service"],
        ),
        "Deployment",
        "front",
    )
    assert "API_ADDR addresses Service api on port 0" in f.cause
    assert "Service api exposes port(s) 80, not 0" in f.evidence


def test_the_label_that_differs_is_the_derived_selector_fix() -> None:
    p = pod("api-1", labels={"app": "api", "tier": "backend"})
    f = only(
        run({"Service": [_svc({"app": "api", "tier": "back"})], "Pod": [p], "Endpoints": []}, ["Service"]),
        "Service",
        "api",
    )
    assert f.fix is not None and f.fix["action"] == "patch"
    assert (
        f.fix["args"]["patch"] == {"spec": {"selector": {"tier": "backend"}}} and f.fix["args"]["patch_type"] == "merge"
    )


def test_no_selector_fix_when_the_pods_disagree() -> None:
    pods = [pod("a", labels={"app": "api", "tier": "x"}), pod("b", labels={"app": "api", "tier": "y"})]
    f = only(
        run({"Service": [_svc({"app": "api", "tier": "z"})], "Pod": pods, "Endpoints": []}, ["Service"]),
        "Service",
        "api",
    )
    assert f.fix is None


def test_the_one_served_port_is_the_derived_target_port_fix() -> None:
    f = only(
        run({"Service": [_svc({"app": "api"}, 9090)], "Pod": [_api_pod()], "Endpoints": [_ep(True)]}, ["Service"]),
        "Service",
        "api",
    )
    assert f.fix is not None
    assert f.fix["args"]["patch"] == [{"op": "replace", "path": "/spec/ports/0/targetPort", "value": 8080}]
