"""Static checks of the deployment files, run by deploy/validate.sh (no Docker engine, no cluster).

- Every YAML document under deploy/k8s parses and names its apiVersion, kind and name;
  every resource kustomization.yaml lists exists.
- Every file the Dockerfiles COPY from the build context, or name under deploy/ or
  requirements/, exists.
- The lab workers (compose and Kubernetes) hold no database URL and no site secret, and
  mount the datasets read-only: they run learner code.

Usage: python deploy/check_deploy.py RESOLVED_COMPOSE_YAML   (the output of `docker-compose config`)
Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
DOCKERFILES = [ROOT / "deploy" / "Dockerfile.web", ROOT / "deploy" / "Dockerfile.worker"]
COMPOSE_LAB_WORKERS = ("worker-cpu", "worker-gpu")
FORBIDDEN_ON_LAB = ("DATABASE_URL", "SECRET_KEY")
SITE_CREDENTIALS = "academy-site"  # the Kubernetes Secret holding SECRET_KEY and DATABASE_URL
DATASETS = "/data/datasets"
FILES_NAMED = re.compile(r"\b((?:deploy|requirements)/[\w.-]+\.\w+)")


def check_k8s() -> tuple[int, list[str]]:
    documents, problems = 0, []
    for path in sorted(K8S.rglob("*.y*ml")):
        try:
            loaded = [document for document in yaml.safe_load_all(path.read_text()) if document is not None]
        except yaml.YAMLError as error:
            problems.append(f"{path.relative_to(ROOT)}: invalid YAML: {error}")
            continue
        documents += len(loaded)
        for document in loaded:
            problems += check_k8s_document(path, document)
    if documents == 0:
        problems.append("deploy/k8s: no manifest found")
    return documents, problems


def check_k8s_document(path: Path, document: object) -> list[str]:
    name = path.relative_to(ROOT)
    if not isinstance(document, dict):
        return [f"{name}: a document is not a mapping"]
    problems = [f"{name}: missing {key}" for key in ("apiVersion", "kind") if not document.get(key)]
    if document.get("kind") == "Kustomization":
        problems += [
            f"{name}: lists {resource}, which does not exist"
            for resource in document.get("resources", [])
            if not (path.parent / resource).exists()
        ]
    elif not (document.get("metadata") or {}).get("name"):
        problems.append(f"{name}: {document.get('kind')} without metadata.name")
    labels = (document.get("metadata") or {}).get("labels") or {}
    if document.get("kind") == "Deployment" and labels.get("app.kubernetes.io/component") == "lab-worker":
        problems += check_k8s_lab_worker(f"{name}: {document['metadata']['name']}", document)
    return problems


def check_k8s_lab_worker(where: str, deployment: dict) -> list[str]:
    pod = deployment["spec"]["template"]["spec"]
    problems = []
    for container in pod["containers"]:
        names = [item["name"] for item in container.get("env", [])]
        problems += [f"{where}: lab worker gets {name}" for name in FORBIDDEN_ON_LAB if name in names]
        if SITE_CREDENTIALS in yaml.safe_dump(container):
            problems.append(f"{where}: lab worker refers to the site's secret {SITE_CREDENTIALS}")
        mounts = [mount for mount in container.get("volumeMounts", []) if mount["mountPath"] == DATASETS]
        if not mounts or not all(mount.get("readOnly") for mount in mounts):
            problems.append(f"{where}: lab worker must mount {DATASETS} read-only")
    return problems


def check_compose(services: dict) -> list[str]:
    problems = []
    for service in COMPOSE_LAB_WORKERS:
        if service not in services:
            problems.append(f"docker-compose.yml: no service {service}")
            continue
        spec = services[service]
        environment = spec.get("environment") or {}
        problems += [f"docker-compose.yml: {service} gets {name}" for name in FORBIDDEN_ON_LAB if name in environment]
        volumes = [str(volume) for volume in spec.get("volumes", []) if DATASETS in str(volume)]
        if not volumes or not all(volume.endswith(":ro") for volume in volumes):
            problems.append(f"docker-compose.yml: {service} must mount {DATASETS} read-only (:ro)")
    return problems


def check_dockerfile_sources(dockerfile: Path) -> list[str]:
    """COPY sources, and the deploy/ and requirements/ files that RUN and CMD name, must exist."""
    text = dockerfile.read_text()
    paths = set(FILES_NAMED.findall(text))
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(word.startswith("--from") for word in words):
            paths.update(word for word in words[1:-1] if not word.startswith("--"))
    return [
        f"{dockerfile.relative_to(ROOT)}: {path} does not exist" for path in sorted(paths) if not (ROOT / path).exists()
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    documents, problems = check_k8s()
    compose = yaml.safe_load(Path(argv[1]).read_text()) or {}
    problems += check_compose(compose.get("services") or {})
    for dockerfile in DOCKERFILES:
        problems += check_dockerfile_sources(dockerfile)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"deploy checks: {documents} Kubernetes documents, {len(COMPOSE_LAB_WORKERS)} lab workers, ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
