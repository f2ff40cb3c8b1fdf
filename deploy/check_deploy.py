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
    print(f"deploy checks: {documents} Kubernetes documents, {len(COMPOSE_LAB_WORKERS)} lab workers, ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
