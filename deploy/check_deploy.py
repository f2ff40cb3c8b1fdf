"""Static checks of the deployment files, run by deploy/validate.sh (no Docker engine, no cluster).

- Every YAML document under deploy/k8s parses and names its apiVersion, kind and name;
  every resource kustomization.yaml lists exists.
- Every file the Dockerfiles COPY from the build context, or name under deploy/ or
  requirements/, exists.
- The lab workers (compose and Kubernetes) hold no database URL and no site secret, and
  mount the datasets read-only: they run learner code.
- Every Celery process names its app: lab workers (and the worker image's CMD)
  ``workers.celery_app``, which imports no Django; the site's worker, beat and Flower
  ``config.celery_app``.
- The worker image holds no web code and no web requirement: it copies workers/ (and the few
  files its lab runtime and entrypoint need), installs workers/requirements.txt only, and that
  file names no package of requirements/web.txt but the ones both sides import.

Usage: python deploy/check_deploy.py RESOLVED_COMPOSE_YAML   (the output of `docker-compose config`)
Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
WORKER_DOCKERFILE = ROOT / "deploy" / "Dockerfile.worker"
DOCKERFILES = [ROOT / "deploy" / "Dockerfile.web", WORKER_DOCKERFILE]
COMPOSE_LAB_WORKERS = ("worker-cpu", "worker-gpu")
FORBIDDEN_ON_LAB = ("DATABASE_URL", "SECRET_KEY")
SITE_CREDENTIALS = "academy-site"  # the Kubernetes Secret holding SECRET_KEY and DATABASE_URL
DATASETS = "/data/datasets"
FILES_NAMED = re.compile(r"\b((?:deploy|requirements|workers)/[\w.-]+\.\w+)")
# The Celery apps: the lab workers' own (no Django) and the site's.
LAB_APP = "workers.celery_app"
SITE_APP = "config.celery_app"
WORKER_REQUIREMENTS = ROOT / "workers" / "requirements.txt"
WEB_REQUIREMENTS = ROOT / "requirements" / "web.txt"
# Packages of web.txt that a lab worker imports too; any other one has no business on a lab node.
SHARED_WITH_WEB = {"celery", "redis", "numpy"}
# What the worker image may copy from the build context besides workers/.
WORKER_IMAGE_FILES = {"requirements/constraints.txt", "requirements/lab-runtime.txt", "deploy/lab-worker-entrypoint.sh"}
REQUIREMENT_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


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
    lab = labels.get("app.kubernetes.io/component") == "lab-worker"
    if document.get("kind") == "Deployment" and lab:
        problems += check_k8s_lab_worker(f"{name}: {document['metadata']['name']}", document)
    pod = ((document.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in pod.get("containers") or []:
        command = [*(container.get("command") or []), *(container.get("args") or [])]
        where = f"{name}: {document['metadata']['name']}/{container.get('name')}"
        problems += check_celery_app(where, command, lab=lab)
    return problems


def celery_app_of(command: object) -> str | None:
    """The app a command line starts Celery with (``-A``/``--app``); None when it is not Celery."""
    words = [str(word) for word in command] if isinstance(command, list) else str(command or "").split()
    if "celery" not in words[:3]:  # celery ..., python -m celery ...
        return None
    for index, word in enumerate(words):
        if word in ("-A", "--app"):
            return words[index + 1] if index + 1 < len(words) else ""
        if word.startswith("--app="):
            return word.split("=", 1)[1]
    return ""


def check_celery_app(where: str, command: object, *, lab: bool) -> list[str]:
    app = celery_app_of(command)
    if lab:
        if command and app != LAB_APP:
            return [f"{where}: a lab worker must start with `celery -A {LAB_APP} worker ...`, not {command!r}"]
    elif app is not None and app != SITE_APP:
        return [f"{where}: the site's Celery processes start with `celery -A {SITE_APP} ...`, not -A {app}"]
    return []


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
    for service, spec in services.items():
        lab = service in COMPOSE_LAB_WORKERS
        problems += check_celery_app(f"docker-compose.yml: {service}", spec.get("command"), lab=lab)
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


def dockerfile_instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, rest) per instruction, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            instructions.append((word.upper(), rest.strip()))
            pending = ""
    return instructions


def requirement_names(path: Path, seen: set[Path] | None = None) -> set[str]:
    """Lower-case package names a requirements file installs, following ``-r`` (not ``-c``)."""
    seen = seen if seen is not None else set()
    if path in seen or not path.exists():
        return set()
    seen.add(path)
    names: set[str] = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            names |= requirement_names((path.parent / line.split(None, 1)[1]).resolve(), seen)
        elif line and not line.startswith("-") and (match := REQUIREMENT_NAME.match(line)):
            names.add(match.group(1).lower().replace("_", "-"))
    return names


def workers_modules_needed(module: str) -> set[str]:
    """workers/*.py files (repository paths) that importing ``module`` (e.g. workers/runtime.py) loads."""
    needed, todo = set(), [module]
    while todo:
        path = todo.pop()
        if path in needed or not (ROOT / path).exists():
            continue
        needed.add(path)
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "workers":
                todo += [f"workers/{alias.name}.py" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workers."):
                todo.append(f"{node.module.replace('.', '/')}.py")
            elif isinstance(node, ast.Import):
                todo += [f"{a.name.replace('.', '/')}.py" for a in node.names if a.name.startswith("workers.")]
    return needed | {"workers/__init__.py"}


def check_runtime_build_sources(instructions: list[tuple[str, str]]) -> list[str]:
    """The lab runtime is built before the rest of workers/ is copied (its own cached layer): the
    files copied by then must be all that ``python -m workers.runtime`` imports."""
    copied: set[str] = set()
    for instruction, rest in instructions:
        words = rest.split()
        if instruction == "COPY" and not any(word.startswith("--from") for word in words):
            if any(word.rstrip("/") == "workers" for word in words[:-1]):
                return []  # all of workers/ is there already
            copied |= {word for word in words[:-1] if word.startswith("workers/")}
        if instruction == "RUN" and "workers.runtime build" in rest:
            missing = workers_modules_needed("workers/runtime.py") - copied
            where = WORKER_DOCKERFILE.relative_to(ROOT)
            return [f"{where}: the lab runtime build needs {path}, copied only after it" for path in sorted(missing)]
    return []


def _worker_image_may_copy(source: str) -> bool:
    return source.rstrip("/") == "workers" or source.startswith("workers/") or source in WORKER_IMAGE_FILES


def check_worker_image() -> list[str]:
    """The lab worker image starts workers.celery_app and carries no web code or web requirement."""
    where = WORKER_DOCKERFILE.relative_to(ROOT)
    problems = []
    instructions = dockerfile_instructions(WORKER_DOCKERFILE)
    for instruction, rest in instructions:
        words = rest.split()
        if instruction == "COPY" and not any(word.startswith("--from") for word in words):
            problems += [
                f"{where}: copies {source}: a lab worker image holds workers/ and nothing of the site"
                for source in words[:-1]
                if not source.startswith("--") and not _worker_image_may_copy(source)
            ]
        if instruction == "RUN" and re.search(r"\bpip\b.*\binstall\b", rest):
            installed = re.findall(r"(?:-r|--requirement)\s+(\S+)", rest)
            problems += [
                f"{where}: installs {file}: the lab worker's requirements are workers/requirements.txt"
                for file in installed
                if not file.endswith("workers/requirements.txt")
            ]
        if instruction == "CMD":
            try:
                command = json.loads(rest)
            except ValueError:
                command = rest
            problems += check_celery_app(f"{where}: CMD", command, lab=True)
    problems += check_runtime_build_sources(instructions)
    if not any(instruction == "CMD" for instruction, _ in instructions):
        problems.append(f"{where}: no CMD")
    web_only = requirement_names(WEB_REQUIREMENTS) - SHARED_WITH_WEB
    worker = requirement_names(WORKER_REQUIREMENTS)
    problems += [
        f"{WORKER_REQUIREMENTS.relative_to(ROOT)}: names {name}, a web requirement (requirements/web.txt)"
        for name in sorted(worker & web_only)
    ]
    if not worker:
        problems.append(f"{WORKER_REQUIREMENTS.relative_to(ROOT)}: missing or empty")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    documents, problems = check_k8s()
    compose = yaml.safe_load(Path(argv[1]).read_text()) or {}
    problems += check_compose(compose.get("services") or {})
    for dockerfile in DOCKERFILES:
        problems += check_dockerfile_sources(dockerfile)
    problems += check_worker_image()
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"deploy checks: {documents} Kubernetes documents, {len(COMPOSE_LAB_WORKERS)} lab workers, ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
