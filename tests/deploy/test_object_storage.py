"""Object storage in the deployment files: no volume shared between services or nodes, MinIO with
its bucket in compose and Kubernetes, the site's processes with the store's settings and keys, the
lab workers with neither (signed links only); deploy/check_deploy.py catches each way of breaking
that in docker-compose.yml; deploy/k8s/minio-init.sh (run against a stand-in `mc`) creates the
bucket and a user limited to it, and runs again without harm."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.conftest import REPO, containers, k8s, k8s_documents, lab_deployments
from tests.deploy.test_compose_ha import COMPOSE, OWN_ENVIRONMENT, SECRETS, interpolate

INIT_SCRIPT = REPO / "deploy" / "k8s" / "minio-init.sh"
ENTRYPOINT = REPO / "deploy" / "lab-worker-entrypoint.sh"
SITE_SERVICES = ("migrate", "web", "worker-site", "beat")
LAB_SERVICES = ("worker-cpu", "worker-gpu")


def resolved(value: object, env: dict[str, str] = SECRETS) -> object:
    """The compose file's values with ${...} resolved as compose would (the secrets given)."""
    if isinstance(value, dict):
        return {key: resolved(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item, env) for item in value]
    return interpolate(value, env)


def compose_services() -> dict[str, dict]:
    return resolved(yaml.safe_load(COMPOSE.read_text())["services"])


# --- docker-compose.yml -------------------------------------------------------------------------
def test_compose_runs_minio_with_a_volume_of_its_own_and_a_pinned_image() -> None:
    services = compose_services()
    minio, init = services["minio"], services["minio-init"]
    assert minio["image"].startswith("quay.io/minio/minio:RELEASE.20")
    assert init["image"].startswith("quay.io/minio/mc:RELEASE.20")
    assert minio["command"] == ["server", "/data", "--console-address", ":9001"]
    assert minio["volumes"] == ["minio-data:/data"]
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    assert minio["ports"] == ["127.0.0.1:9001:9001"]  # the console, on this machine only
    assert init["depends_on"] == {"minio": {"condition": "service_healthy"}}
    assert init["restart"] == "no"
    # The same script as the Kubernetes Job.
    assert init["volumes"] == ["./deploy/k8s/minio-init.sh:/etc/academy/minio-init.sh:ro"]
    assert init["entrypoint"] == ["/bin/sh", "/etc/academy/minio-init.sh"]
    assert init["environment"]["MINIO_URL"] == "http://minio:9000"


def test_compose_shares_no_volume_between_services() -> None:
    services = compose_services()
    named: dict[str, list[str]] = {}
    for name, spec in services.items():
        for volume in spec.get("volumes", []):
            source, target = volume.split(":")[:2]
            assert target not in ("/data/datasets", "/data/media"), name
            if not source.startswith("."):
                named.setdefault(source, []).append(name)
            else:
                assert volume.endswith(":ro"), name  # configuration files only
    assert {volume: users for volume, users in named.items() if len(users) > 1} == {}
    top = set(yaml.safe_load(COMPOSE.read_text())["volumes"])
    assert {"datasets", "media"}.isdisjoint(top)
    assert set(named) == top  # every declared volume is used, by one service
    assert named["worker-cpu-cache"] == ["worker-cpu"] and named["worker-gpu-cache"] == ["worker-gpu"]


def test_compose_site_services_use_the_bucket_once_it_exists() -> None:
    services = compose_services()
    for name in SITE_SERVICES:
        environment = services[name]["environment"]
        assert environment["S3_BUCKET"] == "academy", name
        assert environment["S3_ENDPOINT_URL"] == "http://minio:9000", name
        assert (environment["S3_REGION"], environment["S3_ADDRESSING_STYLE"]) == ("us-east-1", "path"), name
        assert environment["LAB_DATASET_URL_TTL"] == "3600", name
        assert (environment["S3_ACCESS_KEY_ID"], environment["S3_SECRET_ACCESS_KEY"]) == ("site", "x" * 8), name
        assert not {"MEDIA_ROOT", "DATASET_STORAGE_DIR", "MINIO_ROOT_PASSWORD"} & set(environment), name
        assert services[name]["depends_on"]["minio-init"] == {"condition": "service_completed_successfully"}, name
    # Flower only watches the broker: no key of the store.
    assert "S3_SECRET_ACCESS_KEY" not in services["flower"]["environment"]


def test_compose_lab_workers_get_no_key_of_the_store(check_deploy: ModuleType) -> None:
    services = compose_services()
    for name in LAB_SERVICES:
        environment = services[name]["environment"]
        assert not set(check_deploy.FORBIDDEN_ON_LAB) & set(environment), name
        assert not any(key.startswith("S3_") for key in environment), name
        assert services[name]["volumes"] == [f"{name}-cache:/data/lab-cache"]
        assert environment["LAB_CACHE_DIR"] == "/data/lab-cache"


@pytest.mark.parametrize(
    "secret", ["MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]
)
def test_compose_requires_each_key_of_the_store(secret: str) -> None:
    with pytest.raises(LookupError, match=secret):
        resolved(yaml.safe_load(COMPOSE.read_text())["services"], {**SECRETS, secret: ""})


def test_check_deploy_accepts_the_compose_file(check_deploy: ModuleType) -> None:
    assert check_deploy.check_compose(compose_services()) == []


def _env(service: str) -> Callable[[dict], dict]:
    return lambda services: services[service]["environment"]


COMPOSE_BREAKAGES: dict[str, Callable[[dict], object]] = {
    # A lab worker given a key of the store, under any of its names.
    "worker-cpu gets S3_SECRET_ACCESS_KEY": lambda s: _env("worker-cpu")(s).update(S3_SECRET_ACCESS_KEY="x"),
    "worker-gpu gets S3_ACCESS_KEY_ID": lambda s: _env("worker-gpu")(s).update(S3_ACCESS_KEY_ID="site"),
    "worker-cpu gets AWS_SECRET_ACCESS_KEY": lambda s: _env("worker-cpu")(s).update(AWS_SECRET_ACCESS_KEY="x"),
    "worker-cpu gets MINIO_ROOT_PASSWORD": lambda s: _env("worker-cpu")(s).update(MINIO_ROOT_PASSWORD="x"),
    # The shared datasets volume, back as it was (written by the site, read-only on the workers).
    "volume datasets is shared by web, worker-cpu": lambda s: (
        s["web"].setdefault("volumes", []).append("datasets:/data/datasets"),
        s["worker-cpu"]["volumes"].append("datasets:/data/datasets:ro"),
    ),
    "worker-cpu mounts /data/datasets": lambda s: s["worker-cpu"]["volumes"].append("datasets:/data/datasets:ro"),
    "volume minio-data is shared by minio, worker-site": lambda s: s["worker-site"].update(volumes=["minio-data:/x"]),
    "volume worker-cpu-cache is shared by worker-cpu, worker-gpu": lambda s: s["worker-gpu"].update(
        volumes=["worker-cpu-cache:/data/lab-cache"]
    ),
    "mounts the host's ./var/media writable": lambda s: s["web"].update(volumes=["./var/media:/data/files"]),
    # The site without its bucket, its keys, or before the bucket exists.
    "web has no S3_BUCKET": lambda s: _env("web")(s).pop("S3_BUCKET"),
    "beat has no S3_BUCKET": lambda s: _env("beat")(s).update(S3_BUCKET=""),
    "worker-site gets no S3_SECRET_ACCESS_KEY": lambda s: _env("worker-site")(s).pop("S3_SECRET_ACCESS_KEY"),
    "migrate sets MEDIA_ROOT": lambda s: _env("migrate")(s).update(MEDIA_ROOT="/data/media"),
    "web must depend on minio-init": lambda s: s["web"]["depends_on"].pop("minio-init"),
    "S3_ENDPOINT_URL names objects, no service": lambda s: _env("web")(s).update(S3_ENDPOINT_URL="http://objects:9000"),
    "no service minio-init": lambda s: s.pop("minio-init"),
    # MinIO's images pinned.
    "minio/minio:latest is not pinned": lambda s: s["minio"].update(image="minio/minio:latest"),
    "quay.io/minio/mc is not pinned": lambda s: s["minio-init"].update(image="quay.io/minio/mc"),
    # The whole platform's status as a healthcheck: 503 while no lab worker is registered.
    "web: its healthcheck asks /healthz": lambda s: s["web"].update(
        healthcheck={"test": ["CMD", "curl", "-f", "http://localhost:8000/healthz"]}
    ),
}


@pytest.mark.parametrize("complaint", COMPOSE_BREAKAGES)
def test_check_deploy_catches_each_broken_compose_storage(check_deploy: ModuleType, complaint: str) -> None:
    services = copy.deepcopy(compose_services())
    COMPOSE_BREAKAGES[complaint](services)
    problems = check_deploy.check_compose(services)
    assert any(complaint in problem for problem in problems), problems


def test_check_deploy_reads_the_long_volume_syntax(check_deploy: ModuleType) -> None:
    """`docker compose config` (v2) writes volumes as mappings."""
    services = copy.deepcopy(compose_services())
    services["web"]["volumes"] = [{"type": "volume", "source": "datasets", "target": "/data/datasets"}]
    services["worker-cpu"]["volumes"] = [
        {"type": "volume", "source": "datasets", "target": "/data/datasets", "read_only": True}
    ]
    problems = check_deploy.check_compose(services)
    assert any("volume datasets is shared by web, worker-cpu" in problem for problem in problems), problems


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="needs Debian's docker-compose")
def test_docker_compose_resolves_the_file_and_the_checker_accepts_it(check_deploy: ModuleType, tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"  # a developer's own .env must not decide the result
    empty.write_text("")
    done = subprocess.run(
        ["docker-compose", "--env-file", str(empty), "-f", str(COMPOSE), "config"],
        capture_output=True, text=True, env={**OWN_ENVIRONMENT, **SECRETS}, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert check_deploy.check_compose(services) == []
    assert services["web"]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"


# --- Kubernetes ---------------------------------------------------------------------------------
def test_no_claim_but_the_object_stores_own_disk() -> None:
    kinds = {doc["kind"] for doc in k8s_documents()}
    assert "PersistentVolumeClaim" not in kinds
    assert not (REPO / "deploy/k8s/pvc.yaml").exists()
    (store,) = k8s("StatefulSet").values()
    (template,) = store["spec"]["volumeClaimTemplates"]
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert store["spec"]["replicas"] == 1
    for doc in k8s_documents():
        if "template" not in doc.get("spec", {}):
            continue
        for volume in doc["spec"]["template"]["spec"].get("volumes", []):
            assert set(volume) - {"name"} <= {"emptyDir", "configMap", "secret"}, doc["metadata"]["name"]


def test_the_object_store_runs_unprivileged_with_probes_limits_and_a_pinned_image() -> None:
    (store,) = k8s("StatefulSet").values()
    pod = store["spec"]["template"]["spec"]
    (minio,) = pod["containers"]
    assert minio["image"].startswith("quay.io/minio/minio:RELEASE.20")
    assert minio["args"] == ["server", "/data", "--console-address", ":9001"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert minio["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert minio["readinessProbe"]["httpGet"]["path"] == "/minio/health/ready"
    assert minio["livenessProbe"]["httpGet"]["path"] == "/minio/health/live"
    assert {"cpu", "memory"} <= set(minio["resources"]["limits"])
    assert minio["envFrom"] == [{"secretRef": {"name": "academy-minio"}}]
    assert store["spec"]["serviceName"] in k8s("Service")


def test_the_init_job_runs_the_script_against_the_endpoint_the_site_uses() -> None:
    config = k8s("ConfigMap")["academy-config"]["data"]
    job = k8s("Job")["academy-minio-init"]
    (init,) = containers(job)
    assert init["image"].startswith("quay.io/minio/mc:RELEASE.20")
    assert init["command"] == ["/bin/sh", "/scripts/minio-init.sh"]
    env = {item["name"]: item for item in init["env"]}
    assert env["MINIO_URL"]["value"] == config["S3_ENDPOINT_URL"]
    assert env["S3_BUCKET"]["valueFrom"]["configMapKeyRef"] == {"name": "academy-config", "key": "S3_BUCKET"}
    assert {ref["secretRef"]["name"] for ref in init["envFrom"]} == {"academy-minio", "academy-storage"}
    volumes = {volume["name"]: volume for volume in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["scripts"]["configMap"]["name"] == "academy-minio-init"
    kustomization = yaml.safe_load((REPO / "deploy/k8s/kustomization.yaml").read_text())
    assert {"name": "academy-minio-init", "files": ["minio-init.sh"]} in kustomization["configMapGenerator"]
    # The endpoint is the store's Service, on its API port.
    endpoint = urlsplit(config["S3_ENDPOINT_URL"])
    service = k8s("Service")[endpoint.hostname]
    assert endpoint.port in {port["port"] for port in service["spec"]["ports"]}


def test_the_config_map_names_the_bucket_and_no_local_folder() -> None:
    config = k8s("ConfigMap")["academy-config"]["data"]
    assert config["S3_BUCKET"] and config["S3_REGION"] == "us-east-1" and config["S3_ADDRESSING_STYLE"] == "path"
    assert int(config["LAB_DATASET_URL_TTL"]) >= 60
    assert not {"DATASET_STORAGE_DIR", "MEDIA_ROOT"} & set(config)
    assert not any("SECRET" in key or "ACCESS_KEY" in key for key in config)


def test_site_pods_get_the_stores_keys_and_lab_pods_only_the_brokers_secret() -> None:
    secrets = k8s("Secret")
    assert set(secrets["academy-storage"]["stringData"]) == {"S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"}
    assert set(secrets["academy-minio"]["stringData"]) == {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
    site = [doc for doc in k8s_documents() if "template" in doc.get("spec", {})]
    site = [doc for doc in site if any(c["image"] == "ai-academy/web" for c in containers(doc))]
    site = [doc for doc in site if doc["metadata"]["name"] != "academy-events"]  # no store: test_events_deploy
    assert {doc["metadata"]["name"] for doc in site} == {
        "academy-web",
        "academy-worker-site",
        "academy-beat",
        "academy-migrate",
    }
    for doc in site:
        (container,) = containers(doc)
        assert {"secretRef": {"name": "academy-storage"}} in container["envFrom"], doc["metadata"]["name"]
        assert not doc["spec"]["template"]["spec"].get("volumes"), doc["metadata"]["name"]
    for name, deployment in lab_deployments().items():
        pod = deployment["spec"]["template"]["spec"]
        (worker,) = pod["containers"]
        assert [ref for ref in worker["envFrom"] if "secretRef" in ref] == [{"secretRef": {"name": "academy-broker"}}]
        assert not any("secretKeyRef" in item.get("valueFrom", {}) for item in worker["env"]), name
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert set(volumes) == {"lab-cache", "lab-jobs", "dshm"}, name
        assert volumes["lab-cache"]["emptyDir"]["sizeLimit"], name
        assert {"name": "lab-cache", "mountPath": "/data/lab-cache"} in worker["volumeMounts"], name


# --- The lab worker's entrypoint ----------------------------------------------------------------
def test_the_entrypoint_refuses_every_variable_the_checker_keeps_from_lab_workers(check_deploy: ModuleType) -> None:
    for variable in check_deploy.FORBIDDEN_ON_LAB:
        done = subprocess.run(
            ["sh", str(ENTRYPOINT), "true"],
            env={"PATH": os.environ["PATH"], variable: "x"},
            capture_output=True,
            text=True,
        )
        assert (done.returncode, variable in done.stderr) == (64, True), variable


# --- deploy/k8s/minio-init.sh against a stand-in mc ---------------------------------------------
# mc's message when the policy is attached already (minio/mc#4670).
ALREADY = (
    "mc: <ERROR> Unable to make user/group policy association. The specified policy change is already"
    " in effect. (Specified policy update has no net effect)."
)
FAKE_MC = r"""#!/bin/sh
# Records each call; behaves as FAKE_* says.
printf '%s\n' "$*" >>"$FAKE_LOG"
case "$1 $2 $3" in
    "alias set "*)
        count=$(cat "$FAKE_LOG.alias" 2>/dev/null || echo 0)
        echo $((count + 1)) >"$FAKE_LOG.alias"
        if [ "$count" -lt "${FAKE_ALIAS_FAILURES:-0}" ]; then
            echo "mc: <ERROR> Unable to initialize new alias" >&2
            exit 1
        fi
        ;;
    "admin policy create") cp "$6" "$FAKE_LOG.policy" ;;
    "admin policy attach")
        case "${FAKE_ATTACH:-ok}" in
            already) echo "$FAKE_ALREADY" >&2; exit 1 ;;
            fail) echo "mc: <ERROR> Access Denied." >&2; exit 1 ;;
        esac
        ;;
esac
exit 0
"""
INIT_ENV = {
    "MINIO_URL": "http://minio:9000",
    "MINIO_ROOT_USER": "root",
    "MINIO_ROOT_PASSWORD": "root-password",
    "S3_BUCKET": "academy",
    "S3_ACCESS_KEY_ID": "academy-site",
    "S3_SECRET_ACCESS_KEY": "site-secret",
}


def run_init(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "mc").write_text(FAKE_MC)
    (bin_dir / "mc").chmod(0o755)
    log = tmp_path / "mc.log"
    done = subprocess.run(
        ["sh", str(INIT_SCRIPT)],
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "TMPDIR": str(tmp_path),
            "FAKE_LOG": str(log),
            "FAKE_ALREADY": ALREADY,
            **INIT_ENV,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls, log


def test_the_init_script_creates_the_bucket_and_a_user_limited_to_it(tmp_path: Path) -> None:
    done, calls, log = run_init(tmp_path)
    assert done.returncode == 0, done.stderr
    policy_file = f"{tmp_path}/minio-init/policy.json"
    assert calls == [
        "alias set academy http://minio:9000 root root-password",
        "mb --ignore-existing academy/academy",
        f"admin policy create academy academy-bucket-academy {policy_file}",
        "admin user add academy academy-site site-secret",
        "admin policy attach academy academy-bucket-academy --user academy-site",
    ]
    policy = json.loads(Path(f"{log}.policy").read_text())
    statements = policy["Statement"]
    assert {resource for s in statements for resource in s["Resource"]} == {
        "arn:aws:s3:::academy",
        "arn:aws:s3:::academy/*",
    }
    actions = {action for s in statements for action in s["Action"]}
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"} <= actions
    assert all(action.startswith("s3:") and "*" not in action for action in actions)  # no admin:*, no s3:*
    assert all(s["Effect"] == "Allow" for s in statements)


def test_the_init_script_runs_again_without_harm(tmp_path: Path) -> None:
    done, calls, _ = run_init(tmp_path, FAKE_ATTACH="already")
    assert done.returncode == 0, done.stderr
    assert calls[-1].startswith("admin policy attach")


def test_the_init_script_fails_on_any_other_error_of_attach(tmp_path: Path) -> None:
    done, _, _ = run_init(tmp_path, FAKE_ATTACH="fail")
    assert done.returncode == 1
    assert "Access Denied" in done.stderr


def test_the_init_script_waits_for_the_server_then_gives_up(tmp_path: Path) -> None:
    done, calls, _ = run_init(tmp_path / "starting", FAKE_ALIAS_FAILURES="1", MINIO_INIT_TRIES="3")
    assert done.returncode == 0, done.stderr
    assert [call.split()[:2] for call in calls[:3]] == [["alias", "set"], ["alias", "set"], ["mb", "--ignore-existing"]]
    done, calls, _ = run_init(tmp_path / "down", FAKE_ALIAS_FAILURES="5", MINIO_INIT_TRIES="2")
    assert done.returncode == 1
    assert "cannot reach http://minio:9000" in done.stderr
    assert [call.split()[0] for call in calls] == ["alias", "alias"]


def test_the_init_script_refuses_to_give_the_site_the_root_account(tmp_path: Path) -> None:
    done, calls, _ = run_init(tmp_path, S3_ACCESS_KEY_ID="root")
    assert done.returncode == 1
    assert "must differ from MINIO_ROOT_USER" in done.stderr
    assert calls == []


@pytest.mark.parametrize("variable", sorted(INIT_ENV))
def test_the_init_script_needs_each_setting(tmp_path: Path, variable: str) -> None:
    done, calls, _ = run_init(tmp_path, **{variable: ""})
    assert done.returncode != 0
    assert variable in done.stderr
    assert calls == []
