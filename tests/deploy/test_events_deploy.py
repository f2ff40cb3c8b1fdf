"""The events server in the deployment files: compose's `events` and Kubernetes' academy-events run
``uvicorn config.live_server:application`` from the web image with the site's key and the broker
only; the pages learn where it is (compose: LIVE_EVENTS_PORT of web; Kubernetes: /events/ of the same
host through an Ingress); deploy/check_deploy.py catches each way of breaking that."""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import ModuleType

import pytest

from tests.deploy.conftest import containers, k8s
from tests.deploy.test_object_storage import compose_services

APP = "config.live_server:application"


def test_compose_runs_the_events_server_on_the_port_the_pages_are_told() -> None:
    services = compose_services()
    events = services["events"]
    assert events["image"] == services["web"]["image"]
    assert events["command"][:2] == ["uvicorn", APP]
    assert events["command"][events["command"].index("--port") + 1] == "8001"
    assert events["ports"] == ["8001:8001"]
    assert services["web"]["environment"]["LIVE_EVENTS_PORT"] == "8001"
    assert "/events/healthz" in " ".join(events["healthcheck"]["test"])


def test_the_events_server_gets_the_key_and_the_broker_but_no_database_or_store() -> None:
    environment = compose_services()["events"]["environment"]
    assert environment["SECRET_KEY"] and environment["CELERY_BROKER_URL"]
    assert not {"DATABASE_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"} & set(environment)
    (container,) = containers(k8s("Deployment")["academy-events"])
    assert [ref for ref in container["envFrom"] if "secretRef" in ref] == [{"secretRef": {"name": "academy-broker"}}]
    (secret_key,) = container["env"]
    assert secret_key["valueFrom"]["secretKeyRef"] == {"name": "academy-site", "key": "SECRET_KEY"}


def test_kubernetes_routes_events_of_the_site_host_to_the_events_service() -> None:
    deployment = k8s("Deployment")["academy-events"]
    (container,) = containers(deployment)
    assert container["command"][:2] == ["uvicorn", APP]
    assert container["readinessProbe"]["httpGet"]["path"] == "/events/healthz"
    assert k8s("Service")["academy-events"]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    ingress = k8s("Ingress")["academy-events"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == k8s("Ingress")["academy-web"]["spec"]["rules"][0]["host"]  # same origin: no CORS, no port
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["backend"]["service"]["name"]) == ("/events/", "academy-events")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    web = containers(k8s("Deployment")["academy-web"])[0]
    assert "LIVE_EVENTS_PORT" not in {item["name"] for item in web.get("env", [])}  # 0: /events/ on the page's origin


def test_check_deploy_accepts_the_events_server(check_deploy: ModuleType) -> None:
    assert check_deploy.check_compose(compose_services()) == []
    assert check_deploy.check_events_pods(check_deploy.k8s_documents()) == []


COMPOSE_BREAKAGES: dict[str, Callable[[dict], object]] = {
    "events gets DATABASE_URL": lambda s: s["events"]["environment"].update(DATABASE_URL="postgres://x@db/x"),
    "events gets S3_SECRET_ACCESS_KEY": lambda s: s["events"]["environment"].update(S3_SECRET_ACCESS_KEY="x"),
    "no service events": lambda s: s.pop("events"),
    "is not a port events publishes": lambda s: s["web"]["environment"].update(LIVE_EVENTS_PORT="9000"),
}


@pytest.mark.parametrize("complaint", COMPOSE_BREAKAGES)
def test_check_deploy_catches_each_broken_compose_events(check_deploy: ModuleType, complaint: str) -> None:
    services = copy.deepcopy(compose_services())
    COMPOSE_BREAKAGES[complaint](services)
    assert any(complaint in problem for problem in check_deploy.check_compose(services))


def _events_container(documents: list) -> dict:
    (deployment,) = [d for _, d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "academy-events"]
    return deployment["spec"]["template"]["spec"]["containers"][0]


K8S_BREAKAGES: dict[str, Callable[[list], object]] = {
    "the events server gets DATABASE_URL": lambda docs: _events_container(docs)["envFrom"].append(
        {"secretRef": {"name": "academy-site"}}
    ),
    "the events server gets S3_ACCESS_KEY_ID": lambda docs: _events_container(docs)["envFrom"].append(
        {"secretRef": {"name": "academy-storage"}}
    ),
    "no Ingress sends /events/": lambda docs: [
        path.update(path="/live/")
        for _, d in docs
        if d["kind"] == "Ingress"
        for rule in d["spec"]["rules"]
        for path in rule["http"]["paths"]
        if path["path"] == "/events/"
    ],
}


@pytest.mark.parametrize("complaint", K8S_BREAKAGES)
def test_check_deploy_catches_each_broken_events_pod(check_deploy: ModuleType, complaint: str) -> None:
    documents = copy.deepcopy(check_deploy.k8s_documents())
    K8S_BREAKAGES[complaint](documents)
    assert any(complaint in problem for problem in check_deploy.check_cluster(documents))


def test_the_events_health_is_not_the_platforms_full_status(check_deploy: ModuleType) -> None:
    assert check_deploy.check_probes("x", {"readinessProbe": {"httpGet": {"path": "/events/healthz"}}}) == []
    assert check_deploy.check_probes("x", {"readinessProbe": {"httpGet": {"path": "/healthz"}}})
