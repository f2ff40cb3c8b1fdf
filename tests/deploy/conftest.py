"""The deployment files as data: Kubernetes documents by kind and name, the compose file, the
checker of deploy/validate.sh (deploy/check_deploy.py) as a module."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"


def k8s_documents() -> list[dict]:
    """Every document of every manifest under deploy/k8s (secret.example.yaml included)."""
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in k8s_documents() if doc["kind"] == kind}


def containers(document: dict) -> list[dict]:
    pod = document["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def queues_of(deployment: dict) -> set[str]:
    """The queues the Celery workers of a Deployment consume (their ``-Q``)."""
    queues: set[str] = set()
    for container in containers(deployment):
        words = [*container.get("command", []), *container.get("args", [])]
        if "-Q" in words:
            queues |= set(words[words.index("-Q") + 1].split(","))
    return queues


def lab_deployments() -> dict[str, dict]:
    return {
        name: doc
        for name, doc in k8s("Deployment").items()
        if doc["metadata"]["labels"].get("app.kubernetes.io/component") == "lab-worker"
    }


@pytest.fixture(scope="session")
def check_deploy() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_deploy", REPO / "deploy" / "check_deploy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
