"""KEDA scales the lab pools on the Redis lists of their Celery queues: the ScaledObjects name the
queues of the code (workers/celery_app.py, labs.models.DeviceClass), target the Deployments that
consume them, own their replica counts, and read the broker's password from its Secret. And the
assumption underneath, checked on a real Redis: the site's Celery app puts a lab job on a Redis
list named exactly after the queue, which is what KEDA's `redis` trigger measures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml

from config import embedded_broker
from config.celery_app import app as site_app
from labs.models import DeviceClass
from tests.deploy.conftest import REPO, k8s, queues_of
from workers.celery_app import LAB_QUEUES

PROBE_DB = 13  # a database of the test broker of its own


def scaled_objects() -> dict[str, dict]:
    return k8s("ScaledObject")


def redis_trigger(scaled: dict) -> dict:
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    return trigger


def test_the_lab_queues_are_the_device_classes_runs_are_dispatched_by() -> None:
    # labs.dispatch.queue_for sends a run to the queue named after its lab's device class.
    assert set(DeviceClass.values) == set(LAB_QUEUES)


def test_every_lab_queue_is_scaled_by_a_scaled_object_on_its_redis_list() -> None:
    scaled_queues = {redis_trigger(scaled)["metadata"]["listName"] for scaled in scaled_objects().values()}
    assert scaled_queues == set(LAB_QUEUES)


def test_each_scaled_object_targets_a_deployment_consuming_its_queue() -> None:
    deployments = k8s("Deployment")
    for name, scaled in scaled_objects().items():
        target = scaled["spec"]["scaleTargetRef"]
        assert (target.get("apiVersion", "apps/v1"), target.get("kind", "Deployment")) == ("apps/v1", "Deployment")
        assert queues_of(deployments[target["name"]]) == {redis_trigger(scaled)["metadata"]["listName"]}, name


def test_keda_owns_the_replica_count_of_what_it_scales() -> None:
    deployments = k8s("Deployment")
    for scaled in scaled_objects().values():
        assert "replicas" not in deployments[scaled["spec"]["scaleTargetRef"]["name"]]["spec"]


def test_the_gpu_pool_scales_to_zero_after_a_cooldown_and_up_to_a_ceiling() -> None:
    for scaled in scaled_objects().values():
        spec = scaled["spec"]
        assert spec["maxReplicaCount"] >= 1
        if redis_trigger(scaled)["metadata"]["listName"] == "gpu":
            assert spec["minReplicaCount"] == 0
            assert spec["cooldownPeriod"] >= 300  # a GPU pod's cold start takes minutes
            assert redis_trigger(scaled)["metadata"]["activationListLength"] == "0"  # any run wakes it
        else:
            assert spec["minReplicaCount"] >= 1


def test_trigger_metadata_is_all_strings_as_the_crd_demands() -> None:
    for scaled in scaled_objects().values():
        assert all(isinstance(value, str) for value in redis_trigger(scaled)["metadata"].values())


def test_keda_reads_the_broker_password_and_address_from_the_broker_secret() -> None:
    example = {
        doc["metadata"]["name"]: doc
        for doc in yaml.safe_load_all((REPO / "deploy/k8s/secret.example.yaml").read_text())
    }
    broker_keys = set(example["academy-broker"]["stringData"])
    deployments = k8s("Deployment")
    for scaled in scaled_objects().values():
        trigger = redis_trigger(scaled)
        authentication = k8s("TriggerAuthentication")[trigger["authenticationRef"]["name"]]
        (secret_ref,) = authentication["spec"]["secretTargetRef"]
        assert secret_ref["parameter"] == "password"
        assert (secret_ref["name"], secret_ref["key"]) == ("academy-broker", "REDIS_PASSWORD")
        assert secret_ref["key"] in broker_keys
        # addressFromEnv is resolved from the target's environment: the broker Secret is in it.
        assert trigger["metadata"]["addressFromEnv"] in broker_keys
        target = deployments[scaled["spec"]["scaleTargetRef"]["name"]]
        env_from = target["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        assert {"secretRef": {"name": "academy-broker"}} in env_from


@pytest.fixture
def probe_broker(broker_url: str) -> Iterator[tuple[str, redis.Redis]]:
    """A database of its own on the test session's broker: a URL and a client."""
    if not embedded_broker.is_embedded(broker_url, Path(embedded_broker.socket_path(broker_url)).parent):
        pytest.skip("needs the embedded broker (a unix socket of this session)")
    socket = str(embedded_broker.socket_path(broker_url))
    client = redis.Redis(unix_socket_path=socket, db=PROBE_DB)
    client.flushdb()
    yield f"redis+socket://{socket}?virtual_host={PROBE_DB}", client
    client.flushdb()


def test_the_site_puts_a_lab_job_on_a_redis_list_named_after_its_queue(probe_broker: tuple[str, redis.Redis]) -> None:
    url, client = probe_broker
    with site_app.connection_for_write(url) as connection:
        for queue in DeviceClass.values:
            site_app.send_task("workers.tasks.run_lab_job", args=[{"probe": True}], queue=queue, connection=connection)
    for queue in DeviceClass.values:
        assert client.type(queue) == b"list"
        assert client.llen(queue) == 1  # what KEDA's redis trigger reads (LLEN listName)
