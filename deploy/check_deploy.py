"""Static checks of the deployment files, run by deploy/validate.sh (no Docker engine, no cluster).

- Every YAML document under deploy/k8s parses and names its apiVersion, kind and name;
  every resource (and generated file) kustomization.yaml lists exists.
- Every file the Dockerfiles COPY from the build context, or name under deploy/ or
  requirements/, exists.
- The lab workers (compose and Kubernetes) hold no database URL, no site secret and no key of
  the object store (S3_*, AWS_*, MinIO's root): they run learner code and fetch datasets by the
  signed links of their job messages. A lab pod names no Secret but the broker's, and neither
  the config map nor that Secret hands it a forbidden variable; its dataset cache
  (LAB_CACHE_DIR) is an emptyDir with a sizeLimit.
- No volume is shared between pods, services or nodes (files live in the object store): no
  PersistentVolumeClaim, no ReadWriteMany/ReadOnlyMany access mode, pod volumes only of the
  node-local or API-fed kinds (emptyDir, configMap, secret, projected, downwardAPI), the one
  claim template being the object store's own disk (ReadWriteOnce); nothing mounted at the old
  shared paths /data/datasets and /data/media. In compose, a named volume belongs to one
  service and a host folder is mounted read-only (configuration) or not at all.
- The site's workloads (Kubernetes pods of the web image; compose migrate, web, worker-site,
  beat) get S3_BUCKET (the config map's), the store's keys from a Secret (compose: from .env),
  no local MEDIA_ROOT/DATASET_STORAGE_DIR from the config map, and in compose start after
  minio-init; an in-cluster S3_ENDPOINT_URL names a Service (compose: a service) and its port.
- The object store: MinIO and mc images pinned to a RELEASE tag or a digest; the StatefulSet
  runs as non-root with a memory limit and both probes, and a Job creates the bucket.
- Every Celery process names its app: lab workers (and the worker image's CMD)
  ``workers.celery_app``, which imports no Django; the site's worker, beat and Flower
  ``config.celery_app``.
- The worker image holds no web code and no web requirement: it copies workers/ (and the few
  files its lab runtime and entrypoint need), installs workers/requirements.txt only, and that
  file names no package of requirements/web.txt but the ones both sides import.
- No Kubernetes container is privileged. A lab worker pod has the posture of deploy/README.md
  ("Security posture"): its own user namespace, no privilege escalation, every capability
  dropped but the supervisor's few, an unmasked /proc, the Localhost seccomp profile of
  deploy/seccomp/ (which exists and parses), an existing RuntimeClass, CPU requests equal to
  limits, a termination grace that lets the longest run finish; a GPU pool gets its GPU from
  the device plugin.
- Every KEDA ScaledObject scales an existing lab worker Deployment (which leaves `replicas` to
  KEDA) on the Redis list of the queue that Deployment consumes, one of the lab queues of
  workers/celery_app.py, through an existing TriggerAuthentication reading the broker's Secret.
- The Grafana dashboards under deploy/grafana parse and every panel queries academy_* series;
  the web Service carries the scrape annotations deploy/prometheus/scrape-config.yaml reads.
- No probe (Kubernetes) or healthcheck (compose) asks /healthz, the whole platform's status: it is
  503 while no lab worker is registered (the GPU pool idles at zero), which would take healthy web
  pods out or restart them. Probes ask /readyz (deploy/healthcheck.py) or /livez (the events
  server's own /events/healthz is another thing).
- The events server (``uvicorn config.live_server:application``, compose `events`, Kubernetes
  academy-events) holds no database URL and no key of the object store: it checks tokens with the
  site's key and relays the broker, nothing else. Compose's web names its port (LIVE_EVENTS_PORT);
  in Kubernetes an Ingress sends /events/ to its Service.
- The compose profile `ha` runs a replica and sentinels; deploy/compose-ha.env names exactly
  those sentinels and the primary deploy/redis/sentinel.conf watches; resolved with that file
  (the optional second argument), every broker client gets the sentinel URLs.

Usage: python deploy/check_deploy.py RESOLVED_COMPOSE_YAML [RESOLVED_COMPOSE_HA_YAML]
(the output of `docker-compose config`, without and with deploy/compose-ha.env).
Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
WORKER_DOCKERFILE = ROOT / "deploy" / "Dockerfile.worker"
DOCKERFILES = [ROOT / "deploy" / "Dockerfile.web", WORKER_DOCKERFILE]
COMPOSE_LAB_WORKERS = ("worker-cpu", "worker-gpu")
# The object store's keys, under the names the site reads (S3_*), boto's own (AWS_*) and MinIO's
# root account: a lab worker holds none of them (deploy/lab-worker-entrypoint.sh refuses them too).
STORE_CREDENTIALS = (
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
)
FORBIDDEN_ON_LAB = ("DATABASE_URL", "SECRET_KEY", *STORE_CREDENTIALS)
# Files live in the object store (deploy/README.md, "Object storage"): the site's processes hold
# its keys, the lab workers follow signed links. These were the shared volumes' mount points.
OLD_SHARED_PATHS = ("/data/datasets", "/data/media")
LOCAL_FILE_SETTINGS = ("MEDIA_ROOT", "DATASET_STORAGE_DIR")
SITE_IMAGE = "ai-academy/web"  # the Kubernetes site workloads: web, site workers, beat, migrate
COMPOSE_SITE_SERVICES = ("migrate", "web", "worker-site", "beat")
COMPOSE_STORE_INIT = "minio-init"
STORE_KEYS = ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
# Pod volumes that share nothing between pods or nodes: the pod's own scratch space, or what the
# API server hands it. Anything else (persistentVolumeClaim, nfs, hostPath, cephfs...) is shared.
LOCAL_VOLUME_KINDS = {"emptyDir", "configMap", "secret", "projected", "downwardAPI"}
SINGLE_NODE_ACCESS = {"ReadWriteOnce", "ReadWriteOncePod"}
# MinIO's images (quay.io/minio/minio, quay.io/minio/mc, or a mirror) and how they are pinned.
STORE_IMAGE = re.compile(r"(^|/)minio/(minio|mc)(:|@|$)")
PINNED_STORE_IMAGE = re.compile(
    r":RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z[\w.-]*(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$"
)
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
# The lab worker pods' posture (deploy/README.md, "Security posture").
LAB_CAPABILITIES = {"CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETUID", "SETGID", "SYS_NICE"}
SECCOMP_PROFILE = ROOT / "deploy" / "seccomp" / "lab-worker.json"
GPU_RESOURCE = "nvidia.com/gpu"
CELERY_APP_MODULE = ROOT / "workers" / "celery_app.py"
BROKER_CREDENTIALS = "academy-broker"  # the Kubernetes Secret holding the broker URL and password
GRAFANA = ROOT / "deploy" / "grafana"
SCRAPE_CONFIG = ROOT / "deploy" / "prometheus" / "scrape-config.yaml"
SCRAPE_ANNOTATIONS = {"prometheus.io/scrape": "true", "prometheus.io/path": "/metrics"}
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_HA_ENV = ROOT / "deploy" / "compose-ha.env"
SENTINEL_CONF = ROOT / "deploy" / "redis" / "sentinel.conf"
HA_PROFILE = "ha"
PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
FULL_STATUS = "/healthz"  # config.health: 503 while no lab worker is registered, so never a probe
EVENTS_APP = "config.live_server:application"
EVENTS_HEALTH = "/events/healthz"  # the events server's own: it answers while its process does
EVENTS_FORBIDDEN = ("DATABASE_URL", *STORE_CREDENTIALS)


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
        generated = [
            file.split("=", 1)[-1]
            for generator in document.get("configMapGenerator") or []
            for file in generator.get("files") or []
        ]
        problems += [
            f"{name}: lists {resource}, which does not exist"
            for resource in [*document.get("resources", []), *generated]
            if not (path.parent / resource).exists()
        ]
    elif not (document.get("metadata") or {}).get("name"):
        problems.append(f"{name}: {document.get('kind')} without metadata.name")
    labels = (document.get("metadata") or {}).get("labels") or {}
    lab = labels.get("app.kubernetes.io/component") == "lab-worker"
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


def check_store_image(where: str, image: object) -> list[str]:
    image = str(image or "")
    if STORE_IMAGE.search(image) and not PINNED_STORE_IMAGE.search(image):
        return [f"{where}: {image} is not pinned (a RELEASE.<date> tag or an @sha256 digest)"]
    return []


# --- Compose --------------------------------------------------------------------------------
def compose_environment(spec: dict) -> dict[str, str]:
    """A service's environment as a mapping (compose accepts a list of KEY=VALUE too)."""
    environment = spec.get("environment") or {}
    if isinstance(environment, list):
        pairs = (str(item).split("=", 1) for item in environment)
        return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}
    return {str(key): "" if value is None else str(value) for key, value in environment.items()}


def compose_mounts(spec: dict) -> list[tuple[str, str, str, bool]]:
    """(kind, source, target, read_only) of each mount of a service: kind is volume (a named
    volume), bind (a host path) or tmpfs; short (source:target[:mode]) and long syntax both."""
    mounts = []
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = str(volume.get("source") or ""), str(volume.get("target") or "")
            kind = volume.get("type") or ("bind" if source[:1] in "/.~" and source else "volume")
            mounts.append((kind, source, target, bool(volume.get("read_only"))))
            continue
        parts = str(volume).split(":")
        if len(parts) == 1:  # an anonymous volume: the container's own
            mounts.append(("volume", "", parts[0], False))
            continue
        source, target, mode = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
        kind = "bind" if source[:1] in "/.~" else "volume"
        mounts.append((kind, source, target, "ro" in mode.split(",")))
    return mounts


def check_compose_storage(services: dict) -> list[str]:
    """No volume shared between services; nothing at the old shared paths; a host folder only
    read-only (configuration files)."""
    problems, users = [], {}
    for service, spec in services.items():
        for kind, source, target, read_only in compose_mounts(spec):
            where = f"docker-compose.yml: {service}"
            if target in OLD_SHARED_PATHS or target.startswith(tuple(f"{path}/" for path in OLD_SHARED_PATHS)):
                problems.append(f"{where} mounts {target}: a shared volume; files live in the object store (S3_BUCKET)")
            if kind == "volume" and source:
                users.setdefault(source, []).append(service)
            elif kind == "bind" and not read_only:
                problems.append(f"{where} mounts the host's {source} writable: a folder shared outside the service")
    problems += [
        f"docker-compose.yml: volume {volume} is shared by {', '.join(sorted(names))}: a volume belongs to one service"
        for volume, names in sorted(users.items())
        if len(set(names)) > 1
    ]
    return problems


def check_compose_site(services: dict) -> list[str]:
    """The site's services use the object store, with their keys, once the bucket exists."""
    problems = []
    for service in COMPOSE_SITE_SERVICES:
        if service not in services:
            problems.append(f"docker-compose.yml: no service {service}")
            continue
        where = f"docker-compose.yml: {service}"
        environment = compose_environment(services[service])
        if not environment.get("S3_BUCKET", "").strip():
            problems.append(f"{where} has no S3_BUCKET: its files would stay on its own disk")
        problems += [f"{where} gets no {key}" for key in STORE_KEYS if key not in environment]
        problems += [
            f"{where} sets {key}: files live in the object store" for key in LOCAL_FILE_SETTINGS if key in environment
        ]
        depends = services[service].get("depends_on") or {}
        condition = (depends.get(COMPOSE_STORE_INIT) or {}).get("condition") if isinstance(depends, dict) else None
        if condition != "service_completed_successfully":
            problems.append(f"{where} must depend on {COMPOSE_STORE_INIT} (condition: service_completed_successfully)")
        endpoint = urlsplit(environment.get("S3_ENDPOINT_URL", ""))
        if endpoint.hostname and "." not in endpoint.hostname and endpoint.hostname not in services:
            problems.append(f"{where}: S3_ENDPOINT_URL names {endpoint.hostname}, no service of docker-compose.yml")
    if COMPOSE_STORE_INIT not in services:
        problems.append(f"docker-compose.yml: no service {COMPOSE_STORE_INIT} (creates the bucket)")
    return problems


def check_compose(services: dict) -> list[str]:
    problems = []
    for service in COMPOSE_LAB_WORKERS:
        if service not in services:
            problems.append(f"docker-compose.yml: no service {service}")
            continue
        environment = compose_environment(services[service])
        problems += [f"docker-compose.yml: {service} gets {name}" for name in FORBIDDEN_ON_LAB if name in environment]
    for service, spec in services.items():
        lab = service in COMPOSE_LAB_WORKERS
        problems += check_celery_app(f"docker-compose.yml: {service}", spec.get("command"), lab=lab)
        problems += check_store_image(f"docker-compose.yml: {service}", spec.get("image"))
        problems += check_probes(f"docker-compose.yml: {service}", {"healthcheck": spec.get("healthcheck")})
    problems += check_compose_storage(services)
    problems += check_compose_site(services)
    problems += check_compose_events(services)
    return problems


def check_probes(where: str, probes: dict[str, object]) -> list[str]:
    """A probe that asks /healthz: 503 without a lab worker, so it would fail while the platform serves."""
    return [
        f"{where}: its {name} asks {FULL_STATUS} (503 while no lab worker is registered); use /readyz or /livez"
        for name, probe in probes.items()
        if FULL_STATUS in json.dumps(probe or {}).replace(EVENTS_HEALTH, "")
    ]


def is_events_server(command: object) -> bool:
    return EVENTS_APP in json.dumps(command or "")


def check_compose_events(services: dict) -> list[str]:
    """The compose `events` service: the events server, without the database or the store, on the
    port the web tells the pages."""
    spec = services.get("events")
    if spec is None or not is_events_server(spec.get("command")):
        return [f"docker-compose.yml: no service events running {EVENTS_APP}"]
    environment = compose_environment(spec)
    problems = [f"docker-compose.yml: events gets {name}" for name in EVENTS_FORBIDDEN if name in environment]
    port = compose_environment(services.get("web") or {}).get("LIVE_EVENTS_PORT", "")
    published = [published_port(mapping) for mapping in spec.get("ports") or []]
    if not port or port not in published:
        problems.append(f"docker-compose.yml: web's LIVE_EVENTS_PORT ({port!r}) is not a port events publishes")
    return problems


def published_port(mapping: object) -> str:
    """The host's port of a compose port mapping, long (``{published, target}``) or short (``"8001:8001"``)."""
    if isinstance(mapping, dict):
        return str(mapping.get("published", ""))
    parts = str(mapping).split(":")
    return parts[-2] if len(parts) > 1 else ""


def check_events_pods(documents: list[tuple[Path, dict]]) -> list[str]:
    """Kubernetes: the events server holds no database URL or store key, and an Ingress routes /events/ to it."""
    problems, services = [], set()
    for where, document, pod in workloads(documents):
        for container in pod.get("containers") or []:
            if not is_events_server([*(container.get("command") or []), *(container.get("args") or [])]):
                continue
            environment = container_environment(container, documents)
            problems += [f"{where}: the events server gets {name}" for name in EVENTS_FORBIDDEN if name in environment]
            labels = ((document.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
            services |= {
                name
                for name, service in by_kind(documents, "Service").items()
                if (service.get("spec") or {}).get("selector")
                and (service["spec"]["selector"].items() <= labels.items())
            }
    if not services:
        return [*problems, f"deploy/k8s: no Deployment with a Service runs {EVENTS_APP}"]
    routed = {
        ((path.get("backend") or {}).get("service") or {}).get("name")
        for ingress in by_kind(documents, "Ingress").values()
        for rule in (ingress.get("spec") or {}).get("rules") or []
        for path in ((rule.get("http") or {}).get("paths") or [])
        if path.get("path") == "/events/"
    }
    if not routed & services:
        problems.append(f"deploy/k8s: no Ingress sends /events/ to the events server's Service ({sorted(services)})")
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


# --- Lab worker pods, KEDA, metrics ---------------------------------------------------------
def k8s_documents() -> list[tuple[Path, dict]]:
    """Every mapping document under deploy/k8s that parses (check_k8s reports the others)."""
    found = []
    for path in sorted(K8S.rglob("*.y*ml")):
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        found += [(path, document) for document in documents if isinstance(document, dict)]
    return found


def code_constant(name: str, module: Path = CELERY_APP_MODULE) -> object:
    """A literal module-level constant of the code (read, not imported: no Celery needed here)."""
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{module.relative_to(ROOT)} defines no {name}")


def pod_containers(document: dict) -> list[dict]:
    pod = ((document.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def queues_consumed(container: dict) -> list[str]:
    """The queues a Celery worker command line consumes (``-Q a,b``)."""
    words = [str(word) for word in [*(container.get("command") or []), *(container.get("args") or [])]]
    for index, word in enumerate(words[:-1]):
        if word in ("-Q", "--queues"):
            return words[index + 1].split(",")
    return []


def by_kind(documents: list[tuple[Path, dict]], kind: str) -> dict[str, dict]:
    return {(d.get("metadata") or {}).get("name"): d for _, d in documents if d.get("kind") == kind}


def config_value(documents: list[tuple[Path, dict]], key: str) -> str | None:
    return next(
        (
            str((d.get("data") or {})[key])
            for d in by_kind(documents, "ConfigMap").values()
            if key in (d.get("data") or {})
        ),
        None,
    )


def check_cluster(documents: list[tuple[Path, dict]]) -> list[str]:
    problems = []
    for path, document in documents:
        for container in pod_containers(document):
            if (container.get("securityContext") or {}).get("privileged"):
                problems.append(f"{path.relative_to(ROOT)}: {container.get('name')} is privileged")
            where = f"{path.relative_to(ROOT)}: {(document.get('metadata') or {}).get('name')}/{container.get('name')}"
            problems += check_store_image(where, container.get("image"))
            problems += check_probes(where, {probe: container.get(probe) for probe in PROBES})
    problems += check_cluster_storage(documents)
    problems += check_site_pods(documents)
    problems += check_events_pods(documents)
    problems += check_object_store(documents)
    deployments = by_kind(documents, "Deployment")
    scaled = {
        (d.get("spec") or {}).get("scaleTargetRef", {}).get("name") for d in by_kind(documents, "ScaledObject").values()
    }
    for name, deployment in deployments.items():
        if (deployment["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "lab-worker":
            problems += check_lab_pod(name, deployment, documents, scaled=name in scaled)
    problems += check_scaled_objects(documents)
    return problems


def check_lab_pod(name: str, deployment: dict, documents: list[tuple[Path, dict]], *, scaled: bool) -> list[str]:
    pod = deployment["spec"]["template"]["spec"]
    where = f"deploy/k8s: {name}"
    problems = []
    if pod.get("hostUsers") is not False:
        problems.append(f"{where}: a lab pod needs hostUsers: false (its root is root of its own user namespace)")
    if pod.get("runtimeClassName") not in by_kind(documents, "RuntimeClass"):
        problems.append(f"{where}: runtimeClassName {pod.get('runtimeClassName')!r} is no RuntimeClass of deploy/k8s")
    if scaled and "replicas" in deployment["spec"]:
        problems.append(f"{where}: KEDA scales it: no `replicas` (every apply would reset KEDA's count)")
    longest = int(config_value(documents, "LAB_MAX_WALL_SECONDS") or 3600) + int(code_constant("WALL_MARGIN_SECONDS"))
    if int(pod.get("terminationGracePeriodSeconds") or 30) < longest:
        problems.append(f"{where}: terminationGracePeriodSeconds below {longest}: scaling down would cut runs short")
    for container in pod["containers"]:
        problems += check_lab_container(f"{where}/{container.get('name')}", container)
    problems += check_lab_credentials(where, pod, documents)
    problems += check_lab_cache(where, pod, documents)
    return problems


def check_lab_credentials(where: str, pod: dict, documents: list[tuple[Path, dict]]) -> list[str]:
    """A lab pod gets nothing of the site: no forbidden variable from its env, the config map or
    a Secret, and no Secret but the broker's (env, envFrom or a volume)."""
    problems = []
    for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
        environment = container_environment(container, documents)
        problems += [
            f"{where}/{container.get('name')}: lab worker gets {name} ({environment[name][1]})"
            for name in FORBIDDEN_ON_LAB
            if name in environment
        ]
        problems += [
            f"{where}/{container.get('name')}: lab worker refers to the secret {secret}: "
            f"a lab pod gets {BROKER_CREDENTIALS} only"
            for secret in sorted(secrets_named(container) - {BROKER_CREDENTIALS})
        ]
    for volume in pod.get("volumes") or []:
        named = {str((volume.get("secret") or {}).get("secretName") or "")} - {""}
        named |= {
            str(source["secret"].get("name"))
            for source in (volume.get("projected") or {}).get("sources") or []
            if "secret" in source
        }
        problems += [
            f"{where}: lab worker mounts the secret {secret}: a lab pod gets {BROKER_CREDENTIALS} only"
            for secret in sorted(named - {BROKER_CREDENTIALS})
        ]
    return problems


def check_lab_cache(where: str, pod: dict, documents: list[tuple[Path, dict]]) -> list[str]:
    """The dataset cache (LAB_CACHE_DIR) is the pod's own emptyDir, with a size limit."""
    volumes = {volume.get("name"): volume for volume in pod.get("volumes") or []}
    problems = []
    for container in pod.get("containers") or []:
        cache = (container_environment(container, documents).get("LAB_CACHE_DIR") or (None,))[0]
        mounts = [mount for mount in container.get("volumeMounts") or [] if mount.get("mountPath") == cache]
        if not cache or not mounts:
            problems.append(f"{where}/{container.get('name')}: LAB_CACHE_DIR ({cache}) must be a mounted emptyDir")
            continue
        empty_dir = (volumes.get(mounts[0].get("name")) or {}).get("emptyDir")
        if empty_dir is None or not empty_dir.get("sizeLimit"):
            problems.append(f"{where}/{container.get('name')}: LAB_CACHE_DIR must be an emptyDir with a sizeLimit")
    return problems


def container_environment(container: dict, documents: list[tuple[Path, dict]]) -> dict[str, tuple[str | None, str]]:
    """Each variable a container gets: name -> (value, where from). The value is None where it
    comes from a Secret (secret.example.yaml says which keys a Secret holds) or the pod's fields."""
    config_maps, secrets = by_kind(documents, "ConfigMap"), by_kind(documents, "Secret")
    found: dict[str, tuple[str | None, str]] = {}
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        if "configMapRef" in source:
            name = (source["configMapRef"] or {}).get("name")
            for key, value in ((config_maps.get(name) or {}).get("data") or {}).items():
                found[prefix + str(key)] = ("" if value is None else str(value), f"config map {name}")
        elif "secretRef" in source:
            name = (source["secretRef"] or {}).get("name")
            secret = secrets.get(name) or {}
            for key in [*(secret.get("data") or {}), *(secret.get("stringData") or {})]:
                found[prefix + str(key)] = (None, f"secret {name}")
    for item in container.get("env") or []:
        value_from = item.get("valueFrom") or {}
        if "secretKeyRef" in value_from:
            found[item["name"]] = (None, f"secret {value_from['secretKeyRef'].get('name')}")
        elif "configMapKeyRef" in value_from:
            ref = value_from["configMapKeyRef"]
            value = ((config_maps.get(ref.get("name")) or {}).get("data") or {}).get(ref.get("key"))
            found[item["name"]] = ("" if value is None else str(value), f"config map {ref.get('name')}")
        elif value_from:
            found[item["name"]] = (None, "the pod's fields")
        else:
            found[item["name"]] = (str(item.get("value", "")), "env")
    return found


def secrets_named(container: dict) -> set[str]:
    named = {
        str((source.get("secretRef") or {}).get("name"))
        for source in container.get("envFrom") or []
        if "secretRef" in source
    }
    named |= {
        str(item["valueFrom"]["secretKeyRef"].get("name"))
        for item in container.get("env") or []
        if "secretKeyRef" in (item.get("valueFrom") or {})
    }
    return named


def workloads(documents: list[tuple[Path, dict]]) -> list[tuple[str, dict, dict]]:
    """(where, document, pod spec) of every document with a pod template."""
    found = []
    for path, document in documents:
        pod = ((document.get("spec") or {}).get("template") or {}).get("spec")
        if isinstance(pod, dict):
            found.append((f"{path.relative_to(ROOT)}: {(document.get('metadata') or {}).get('name')}", document, pod))
    return found


def is_object_store(pod: dict) -> bool:
    return any(re.search(r"(^|/)minio/minio(:|@|$)", str(c.get("image") or "")) for c in pod.get("containers") or [])


def check_cluster_storage(documents: list[tuple[Path, dict]]) -> list[str]:
    """No volume shared between pods or nodes: files live in the object store."""
    problems = []
    for path, document in documents:
        if document.get("kind") == "PersistentVolumeClaim":
            modes = (document.get("spec") or {}).get("accessModes") or []
            problems.append(
                f"{path.relative_to(ROOT)}: PersistentVolumeClaim {(document.get('metadata') or {}).get('name')} "
                f"({', '.join(modes)}): a claim pods share; files live in the object store, whose own disk "
                "is its StatefulSet's volumeClaimTemplate"
            )
    for where, document, pod in workloads(documents):
        for volume in pod.get("volumes") or []:
            kinds = set(volume) - {"name"}
            if not kinds <= LOCAL_VOLUME_KINDS:
                problems.append(
                    f"{where}: volume {volume.get('name')} ({', '.join(sorted(kinds - LOCAL_VOLUME_KINDS))}) is shared "
                    "between pods or nodes: files live in the object store (S3_BUCKET)"
                )
        for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
            problems += [
                f"{where}/{container.get('name')}: mounts {mount.get('mountPath')}, the old shared volume's path: "
                "files live in the object store (S3_BUCKET)"
                for mount in container.get("volumeMounts") or []
                if str(mount.get("mountPath", "")).rstrip("/") in OLD_SHARED_PATHS
            ]
        templates = (document.get("spec") or {}).get("volumeClaimTemplates") or []
        if templates and not (document.get("kind") == "StatefulSet" and is_object_store(pod)):
            problems.append(f"{where}: volumeClaimTemplates: only the object store has a disk of its own")
        for template in templates:
            modes = set((template.get("spec") or {}).get("accessModes") or [])
            if not modes or not modes <= SINGLE_NODE_ACCESS:
                problems.append(
                    f"{where}: claim template {(template.get('metadata') or {}).get('name')} is {sorted(modes)}: "
                    "ReadWriteOnce only (ReadWriteMany / ReadOnlyMany share it between nodes)"
                )
    return problems


def check_site_pods(documents: list[tuple[Path, dict]]) -> list[str]:
    """The site's pods (the web image) keep their files in the object store, with its keys."""
    problems = []
    services = {
        name: {port.get("port") for port in (service.get("spec") or {}).get("ports") or []}
        for name, service in by_kind(documents, "Service").items()
    }
    for where, _, pod in workloads(documents):
        for container in pod.get("containers") or []:
            events = is_events_server(container.get("command"))  # no store key: check_events_pods
            if str(container.get("image") or "").split(":")[0] != SITE_IMAGE or events:
                continue
            here = f"{where}/{container.get('name')}"
            environment = container_environment(container, documents)
            bucket, _ = environment.get("S3_BUCKET", ("", ""))
            if bucket is not None and not bucket.strip():
                problems.append(f"{here}: no S3_BUCKET (the config map's): the site would keep files on the pod's disk")
            problems += [
                f"{here}: gets no {key} from a Secret (academy-storage)"
                for key in STORE_KEYS
                if not environment.get(key, ("", ""))[1].startswith("secret ")
            ]
            problems += [
                f"{here}: gets {key} from the {environment[key][1]}: a path on one pod's disk; "
                "files live in the object store"
                for key in LOCAL_FILE_SETTINGS
                if key in environment and environment[key][1].startswith("config map")
            ]
            endpoint = urlsplit(environment.get("S3_ENDPOINT_URL", ("", ""))[0] or "")
            if endpoint.hostname and "." not in endpoint.hostname:
                port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
                if port not in services.get(endpoint.hostname, set()):
                    problems.append(
                        f"{here}: S3_ENDPOINT_URL names {endpoint.hostname}:{port}, no Service of deploy/k8s (port)"
                    )
    return problems


def check_object_store(documents: list[tuple[Path, dict]]) -> list[str]:
    """MinIO's StatefulSet: non-root, a memory limit, probes; and a Job that creates the bucket."""
    problems, stores = [], 0
    for where, document, pod in workloads(documents):
        if not is_object_store(pod) or document.get("kind") != "StatefulSet":
            continue
        stores += 1
        if not (pod.get("securityContext") or {}).get("runAsNonRoot"):
            problems.append(f"{where}: the object store runs as non-root (securityContext.runAsNonRoot)")
        for container in pod.get("containers") or []:
            here = f"{where}/{container.get('name')}"
            if not ((container.get("resources") or {}).get("limits") or {}).get("memory"):
                problems.append(f"{here}: the object store needs a memory limit")
            problems += [
                f"{here}: the object store needs a {probe}"
                for probe in ("readinessProbe", "livenessProbe")
                if not container.get(probe)
            ]
            if (container.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
                problems.append(f"{here}: allowPrivilegeEscalation must be false")
    creates_bucket = any(
        document.get("kind") == "Job"
        and any(re.search(r"(^|/)minio/mc(:|@|$)", str(c.get("image") or "")) for c in pod.get("containers") or [])
        for _, document, pod in workloads(documents)
    )
    if stores and not creates_bucket:
        problems.append("deploy/k8s: no Job creates the object store's bucket (minio/mc)")
    return problems


def check_lab_container(where: str, container: dict) -> list[str]:
    context = container.get("securityContext") or {}
    capabilities = context.get("capabilities") or {}
    seccomp = context.get("seccompProfile") or {}
    resources = container.get("resources") or {}
    problems = []
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: allowPrivilegeEscalation must be false")
    if "ALL" not in (capabilities.get("drop") or []):
        problems.append(f"{where}: capabilities must drop ALL")
    problems += [
        f"{where}: adds capability {cap}, not one the supervisor needs"
        for cap in sorted(set(capabilities.get("add") or []) - LAB_CAPABILITIES)
    ]
    if context.get("procMount") != "Unmasked":
        problems.append(f"{where}: bubblewrap needs procMount: Unmasked")
    expected = f"{SECCOMP_PROFILE.parent.name}/{SECCOMP_PROFILE.name}"
    if seccomp.get("type") != "Localhost" or not str(seccomp.get("localhostProfile", "")).endswith(
        SECCOMP_PROFILE.name
    ):
        problems.append(f"{where}: seccompProfile must be Localhost, the profile {expected}")
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    if not limits.get("cpu") or str(requests.get("cpu")) != str(limits.get("cpu")):
        problems.append(f"{where}: CPU requests must equal limits (the runs are sized from the quota)")
    if "gpu" in queues_consumed(container) and not limits.get(GPU_RESOURCE):
        problems.append(f"{where}: a GPU worker gets its GPU from the device plugin: limits {GPU_RESOURCE}")
    return problems


def check_seccomp_profile() -> list[str]:
    where = SECCOMP_PROFILE.relative_to(ROOT)
    try:
        profile = json.loads(SECCOMP_PROFILE.read_text())
    except (OSError, ValueError) as error:
        return [f"{where}: {error}"]
    problems = [] if profile.get("defaultAction") else [f"{where}: no defaultAction"]
    refused = {
        name for rule in profile.get("syscalls", []) if rule.get("action") != "SCMP_ACT_ALLOW" for name in rule["names"]
    }
    # What bubblewrap does: refusing any of these breaks every sandbox.
    problems += [
        f"{where}: refuses {name}, which bubblewrap needs"
        for name in sorted(refused & {"clone", "clone3", "unshare", "mount", "umount2", "pivot_root", "sethostname"})
    ]
    return problems


def check_scaled_objects(documents: list[tuple[Path, dict]]) -> list[str]:
    deployments = by_kind(documents, "Deployment")
    authentications = by_kind(documents, "TriggerAuthentication")
    lab_queues = set(code_constant("LAB_QUEUES"))
    problems = check_seccomp_profile()
    for name, scaled in by_kind(documents, "ScaledObject").items():
        where = f"deploy/k8s: ScaledObject {name}"
        target = deployments.get(scaled["spec"]["scaleTargetRef"]["name"])
        if target is None:
            problems.append(f"{where}: scales {scaled['spec']['scaleTargetRef']['name']}, no Deployment of deploy/k8s")
            continue
        consumed = {queue for container in pod_containers(target) for queue in queues_consumed(container)}
        for trigger in scaled["spec"].get("triggers") or []:
            queue = (trigger.get("metadata") or {}).get("listName")
            if trigger.get("type") != "redis" or queue not in lab_queues or queue not in consumed:
                problems.append(
                    f"{where}: a trigger must be redis on a lab queue its Deployment consumes, not {queue!r}"
                )
            auth = (trigger.get("authenticationRef") or {}).get("name")
            if auth not in authentications:
                problems.append(f"{where}: authenticationRef {auth!r} is no TriggerAuthentication of deploy/k8s")
    for name, auth in authentications.items():
        secrets = {ref.get("name") for ref in (auth.get("spec") or {}).get("secretTargetRef") or []}
        if secrets != {BROKER_CREDENTIALS}:
            problems.append(
                f"deploy/k8s: TriggerAuthentication {name} must read the broker's Secret only, not {sorted(secrets)}"
            )
    return problems


def check_dashboards() -> list[str]:
    problems = []
    for path in sorted(GRAFANA.glob("*.json")):
        try:
            dashboard = json.loads(path.read_text())
        except ValueError as error:
            problems.append(f"{path.relative_to(ROOT)}: invalid JSON: {error}")
            continue
        for panel in dashboard_panels(dashboard):
            expressions = [target.get("expr", "") for target in panel.get("targets") or []]
            if not expressions or not all("academy_" in expr for expr in expressions):
                problems.append(f"{path.relative_to(ROOT)}: panel {panel.get('title')!r} must query academy_* series")
    return problems


def dashboard_panels(dashboard: dict) -> list[dict]:
    """Every panel that queries (rows only group), nested rows included."""
    panels = []
    for panel in dashboard.get("panels") or []:
        panels += dashboard_panels(panel) if panel.get("type") == "row" else [panel]
    return panels


def check_scrape_config() -> list[str]:
    services = [d for _, d in k8s_documents() if d.get("kind") == "Service" and d["metadata"]["name"] == "academy-web"]
    annotations = (services[0]["metadata"].get("annotations") or {}) if services else {}
    problems = [
        f"deploy/k8s/web.yaml: academy-web needs the annotation {key}: {value}"
        for key, value in SCRAPE_ANNOTATIONS.items()
        if annotations.get(key) != value
    ]
    jobs = (yaml.safe_load(SCRAPE_CONFIG.read_text()) or {}).get("scrape_configs") or []
    if not jobs or not any("prometheus_io_scrape" in str(job.get("relabel_configs")) for job in jobs):
        problems.append(f"{SCRAPE_CONFIG.relative_to(ROOT)}: no scrape job keeping the annotated Services")
    return problems


# --- Compose profile `ha` -------------------------------------------------------------------
def shown(path: Path) -> str:
    """A path as a message names it: from the repository's root when it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def sentinel_monitor(path: Path = SENTINEL_CONF) -> tuple[str, str, int, int]:
    """(master name, host, port, quorum) of the `sentinel monitor` line."""
    for line in path.read_text().splitlines():
        words = line.split()
        if words[:2] == ["sentinel", "monitor"] and len(words) == 6:
            return words[2], words[3], int(words[4]), int(words[5])
    raise LookupError(f"{shown(path)}: no `sentinel monitor` line")


def sentinel_port(path: Path = SENTINEL_CONF) -> int:
    return next((int(line.split()[1]) for line in path.read_text().splitlines() if line.startswith("port ")), 26379)


def sentinel_addresses(url: str) -> list[tuple[str, int]]:
    """(host, port) of each ``sentinel://host:port/db`` of a ``;``-separated broker URL."""
    addresses = []
    for part in url.split(";"):
        match = re.fullmatch(r"sentinel://(?:[^@/]*@)?([^:/;]+):(\d+)(?:/\d+)?", part.strip())
        if match is None:
            raise ValueError(f"not a sentinel:// URL: {part!r}")
        addresses.append((match.group(1), int(match.group(2))))
    return addresses


def check_compose_ha(services: dict) -> list[str]:
    """The `ha` profile of docker-compose.yml against deploy/compose-ha.env and sentinel.conf."""
    where = "docker-compose.yml: profile ha"
    ha = {name for name, spec in services.items() if HA_PROFILE in (spec.get("profiles") or [])}
    sentinels = {name for name in ha if "redis-sentinel" in str(services[name].get("command"))}
    replicas = {name for name in ha if "--replicaof" in (services[name].get("command") or [])}
    environment = env_file(COMPOSE_HA_ENV)
    master, host, port, quorum = sentinel_monitor()
    problems = []
    if len(sentinels) < 3 or not replicas:
        problems.append(f"{where}: needs three sentinels and a replica, has {sorted(sentinels)} and {sorted(replicas)}")
    for replica in sorted(replicas):
        command = [str(word) for word in services[replica]["command"]]
        source = command[command.index("--replicaof") + 1 : command.index("--replicaof") + 3]
        if source != [host, str(port)]:
            problems.append(f"{where}: {replica} replicates {source}, not the watched primary {host} {port}")
    if host not in services or services[host].get("profiles"):
        problems.append(f"{shown(SENTINEL_CONF)}: watches {host}, not a service that always runs")
    if not 1 < quorum <= len(sentinels):
        problems.append(f"{shown(SENTINEL_CONF)}: quorum {quorum} of {len(sentinels)} sentinels")
    if HA_PROFILE not in environment.get("COMPOSE_PROFILES", "").split(","):
        problems.append(f"{shown(COMPOSE_HA_ENV)}: COMPOSE_PROFILES must include {HA_PROFILE}")
    if environment.get("CELERY_SENTINEL_MASTER") != master:
        problems.append(f"{shown(COMPOSE_HA_ENV)}: CELERY_SENTINEL_MASTER must be {master} (sentinel.conf)")
    try:
        addresses = sentinel_addresses(environment.get("CELERY_BROKER_URL", ""))
    except ValueError as error:
        return [*problems, f"{shown(COMPOSE_HA_ENV)}: CELERY_BROKER_URL: {error}"]
    if {h for h, _ in addresses} != sentinels or {p for _, p in addresses} != {sentinel_port()}:
        problems.append(f"{shown(COMPOSE_HA_ENV)}: CELERY_BROKER_URL must name each sentinel service on its port")
    return problems


def check_compose_ha_resolved(services: dict) -> list[str]:
    """Resolved with deploy/compose-ha.env: every broker client asks the sentinels."""
    environment = env_file(COMPOSE_HA_ENV)
    clients = {
        name: spec.get("environment") or {}
        for name, spec in services.items()
        if "CELERY_BROKER_URL" in (spec.get("environment") or {})
    }
    problems = [] if clients else ["docker-compose.yml (ha): no service has CELERY_BROKER_URL"]
    for name, env in sorted(clients.items()):
        for key in ("CELERY_BROKER_URL", "CELERY_SENTINEL_MASTER"):
            if env.get(key) != environment[key]:
                problems.append(
                    f"docker-compose.yml (ha): {name} gets {key}={env.get(key)!r}, not {environment[key]!r}"
                )
    return problems


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    documents, problems = check_k8s()
    problems += check_cluster(k8s_documents())
    problems += check_dashboards() + check_scrape_config()
    compose = yaml.safe_load(Path(argv[1]).read_text()) or {}
    problems += check_compose(compose.get("services") or {})
    problems += check_compose_ha(yaml.safe_load(COMPOSE_FILE.read_text()).get("services") or {})
    if len(argv) == 3:
        resolved_ha = yaml.safe_load(Path(argv[2]).read_text()) or {}
        problems += check_compose_ha_resolved(resolved_ha.get("services") or {})
    for dockerfile in DOCKERFILES:
        problems += check_dockerfile_sources(dockerfile)
    problems += check_worker_image()
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(
        f"deploy checks: {documents} Kubernetes documents, {len(COMPOSE_LAB_WORKERS)} lab workers, no shared volume, ok"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
