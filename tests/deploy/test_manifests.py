"""The Kubernetes manifests: nothing privileged, the lab pods' posture, the GPU through the device
plugin, the CPU share the workers size themselves from; and deploy/check_deploy.py (which
deploy/validate.sh runs in CI) accepts them and catches each way of breaking that."""

from __future__ import annotations

import copy
import json
from types import ModuleType

import pytest
import yaml

from tests.deploy.conftest import REPO, containers, k8s, k8s_documents, lab_deployments, queues_of
from workers.celery_app import WALL_MARGIN_SECONDS


def test_no_manifest_runs_a_privileged_container() -> None:
    pods = [doc for doc in k8s_documents() if "template" in doc.get("spec", {})]
    assert len(pods) >= 6  # web, site worker, beat, migrate, the lab pools
    for doc in pods:
        for container in containers(doc):
            context = container.get("securityContext", {})
            assert context.get("privileged") in (None, False), doc["metadata"]["name"]
        assert not doc["spec"]["template"]["spec"].get("hostPID"), doc["metadata"]["name"]


def test_both_lab_pools_exist_one_per_lab_queue_kind() -> None:
    assert {frozenset(queues_of(d)) for d in lab_deployments().values()} == {frozenset({"cpu"}), frozenset({"gpu"})}


def test_the_gpu_pool_gets_one_gpu_from_the_device_plugin_and_no_device_of_the_node() -> None:
    gpu_pools = [d for d in lab_deployments().values() if "gpu" in queues_of(d)]
    assert gpu_pools
    for deployment in gpu_pools:
        pod = deployment["spec"]["template"]["spec"]
        (worker,) = pod["containers"]
        assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert not any("hostPath" in volume for volume in pod["volumes"])  # no /dev of the node


def test_lab_pods_run_in_their_own_user_namespace_with_the_sandbox_posture() -> None:
    runtime_classes = k8s("RuntimeClass")
    for name, deployment in lab_deployments().items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["hostUsers"] is False, name
        assert pod["runtimeClassName"] in runtime_classes, name
        assert pod["automountServiceAccountToken"] is False, name
        (worker,) = pod["containers"]
        context = worker["securityContext"]
        assert context["capabilities"]["drop"] == ["ALL"]
        assert set(context["capabilities"]["add"]) <= {
            "CHOWN",
            "DAC_OVERRIDE",
            "FOWNER",
            "KILL",
            "SETUID",
            "SETGID",
            "SYS_NICE",
        }
        assert context["allowPrivilegeEscalation"] is False
        assert context["procMount"] == "Unmasked"
        assert context["seccompProfile"] == {"type": "Localhost", "localhostProfile": "ai-academy/lab-worker.json"}


def test_lab_pods_cpu_share_is_fixed_and_passed_to_the_workers() -> None:
    for name, deployment in lab_deployments().items():
        (worker,) = deployment["spec"]["template"]["spec"]["containers"]
        resources = worker["resources"]
        assert resources["requests"]["cpu"] == resources["limits"]["cpu"], name
        env = {item["name"]: item for item in worker["env"]}
        field = env["LAB_CPU_LIMIT_MILLICORES"]["valueFrom"]["resourceFieldRef"]
        assert field == {"containerName": worker["name"], "resource": "limits.cpu", "divisor": "1m"}
        assert "LAB_CPU_THREADS" not in env  # threads per run: the workers derive them per slot


def test_scaling_down_lets_the_longest_run_finish() -> None:
    longest = int(k8s("ConfigMap")["academy-config"]["data"]["LAB_MAX_WALL_SECONDS"]) + WALL_MARGIN_SECONDS
    for name, deployment in lab_deployments().items():
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= longest, name


def test_the_seccomp_profile_allows_what_bubblewrap_does_and_refuses_the_dangerous_rest() -> None:
    profile = json.loads((REPO / "deploy" / "seccomp" / "lab-worker.json").read_text())
    refused = {name for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ERRNO" for name in rule["names"]}
    assert profile["defaultAction"] == "SCMP_ACT_ALLOW"
    assert refused.isdisjoint({"clone", "clone3", "unshare", "mount", "umount2", "pivot_root", "sethostname"})
    assert {"keyctl", "bpf", "perf_event_open", "io_uring_setup", "userfaultfd", "ptrace", "kexec_load"} <= refused


def test_the_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    listed = set(yaml.safe_load((REPO / "deploy/k8s/kustomization.yaml").read_text())["resources"])
    on_disk = {path.name for path in (REPO / "deploy/k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {"secret.example.yaml"}


def test_check_deploy_accepts_the_manifests(check_deploy: ModuleType) -> None:
    assert check_deploy.check_cluster(check_deploy.k8s_documents()) == []
    assert check_deploy.check_dashboards() == []
    assert check_deploy.check_scrape_config() == []


def _pod(document: dict) -> dict:
    return document["spec"]["template"]["spec"]


def _context(document: dict) -> dict:
    return _pod(document)["containers"][0].setdefault("securityContext", {})


def _limits(document: dict) -> dict:
    return _pod(document)["containers"][0]["resources"]["limits"]


def _trigger(document: dict) -> dict:
    return document["spec"]["triggers"][0]["metadata"]


def _container(document: dict) -> dict:
    return _pod(document)["containers"][0]


def _give_secret_key(document: dict) -> None:
    ref = {"secretKeyRef": {"name": "academy-storage", "key": "S3_SECRET_ACCESS_KEY"}}
    _container(document).setdefault("env", []).append({"name": "S3_SECRET_ACCESS_KEY", "valueFrom": ref})


def _mount_shared_datasets(document: dict) -> None:
    """What the lab pools had before the object store: the datasets claim, read-only."""
    _pod(document)["volumes"].append(
        {"name": "datasets", "persistentVolumeClaim": {"claimName": "academy-datasets", "readOnly": True}}
    )
    _container(document)["volumeMounts"].append({"name": "datasets", "mountPath": "/data/datasets", "readOnly": True})


def _cache_volume(document: dict) -> dict:
    return next(volume for volume in _pod(document)["volumes"] if volume["name"] == "lab-cache")


CPU, GPU = "academy-worker-cpu", "academy-worker-gpu-h100"
STORE, STORE_INIT, CONFIG = "academy-minio", "academy-minio-init", "academy-config"
BREAKAGES = {
    "privileged": ("Deployment", "academy-web", lambda d: _context(d).update(privileged=True)),
    "SYS_ADMIN": ("Deployment", CPU, lambda d: _context(d)["capabilities"]["add"].append("SYS_ADMIN")),
    "hostUsers": ("Deployment", CPU, lambda d: _pod(d).pop("hostUsers")),
    "allowPrivilegeEscalation": ("Deployment", CPU, lambda d: _context(d).update(allowPrivilegeEscalation=True)),
    "seccompProfile": ("Deployment", CPU, lambda d: _context(d).pop("seccompProfile")),
    "CPU requests": ("Deployment", CPU, lambda d: _limits(d).pop("cpu")),
    "replicas": ("Deployment", CPU, lambda d: d["spec"].update(replicas=2)),
    "nvidia.com/gpu": ("Deployment", GPU, lambda d: _limits(d).pop("nvidia.com/gpu")),
    "terminationGracePeriodSeconds": ("Deployment", GPU, lambda d: _pod(d).update(terminationGracePeriodSeconds=300)),
    "'gpus'": ("ScaledObject", GPU, lambda d: _trigger(d).update(listName="gpus")),
    "lab queue": ("ScaledObject", CPU, lambda d: _trigger(d).update(listName="gpu")),
    "no Deployment": ("ScaledObject", CPU, lambda d: d["spec"]["scaleTargetRef"].update(name="academy-worker-tpu")),
    # Object storage: a lab pod holds no key of the store, however it would get one ...
    "lab worker gets S3_SECRET_ACCESS_KEY (secret academy-storage)": ("Deployment", CPU, _give_secret_key),
    "refers to the secret academy-storage": (
        "Deployment",
        GPU,
        lambda d: _container(d)["envFrom"].append({"secretRef": {"name": "academy-storage"}}),
    ),
    "lab worker gets S3_SECRET_ACCESS_KEY (config map academy-config)": (
        "ConfigMap",
        CONFIG,
        lambda d: d["data"].update(S3_SECRET_ACCESS_KEY="x"),
    ),
    "lab worker gets AWS_ACCESS_KEY_ID (env)": (
        "Deployment",
        CPU,
        lambda d: _container(d)["env"].append({"name": "AWS_ACCESS_KEY_ID", "value": "x"}),
    ),
    # ... no volume is shared between pods or nodes ...
    "(persistentVolumeClaim) is shared between pods or nodes": ("Deployment", CPU, _mount_shared_datasets),
    "mounts /data/datasets, the old shared volume's path": ("Deployment", GPU, _mount_shared_datasets),
    "(nfs) is shared": (
        "Deployment",
        "academy-web",
        lambda d: _pod(d).setdefault("volumes", []).append({"name": "media", "nfs": {"server": "nas", "path": "/m"}}),
    ),
    "ReadWriteOnce only": (
        "StatefulSet",
        STORE,
        lambda d: d["spec"]["volumeClaimTemplates"][0]["spec"].update(accessModes=["ReadWriteMany"]),
    ),
    "emptyDir with a sizeLimit": ("Deployment", CPU, lambda d: _cache_volume(d)["emptyDir"].pop("sizeLimit")),
    # ... the site's pods keep their files in the bucket, with its keys ...
    "no S3_BUCKET": ("ConfigMap", CONFIG, lambda d: d["data"].pop("S3_BUCKET")),
    "gets no S3_SECRET_ACCESS_KEY from a Secret": (
        "Deployment",
        "academy-web",
        lambda d: _container(d)["envFrom"].remove({"secretRef": {"name": "academy-storage"}}),
    ),
    "gets MEDIA_ROOT from the config map": ("ConfigMap", CONFIG, lambda d: d["data"].update(MEDIA_ROOT="/data/media")),
    "S3_ENDPOINT_URL names minio:9000, no Service": (
        "ConfigMap",
        CONFIG,
        lambda d: d["data"].update(S3_ENDPOINT_URL="http://minio:9000"),
    ),
    # ... and the object store is pinned, non-root, limited, probed, and gets its bucket.
    "quay.io/minio/minio:latest is not pinned": (
        "StatefulSet",
        STORE,
        lambda d: _container(d).update(image="quay.io/minio/minio:latest"),
    ),
    "minio/mc is not pinned": ("Job", STORE_INIT, lambda d: _container(d).update(image="minio/mc")),
    "runAsNonRoot": ("StatefulSet", STORE, lambda d: _pod(d)["securityContext"].pop("runAsNonRoot")),
    "memory limit": ("StatefulSet", STORE, lambda d: _container(d)["resources"]["limits"].pop("memory")),
    "readinessProbe": ("StatefulSet", STORE, lambda d: _container(d).pop("readinessProbe")),
    # No probe asks /healthz: 503 while no lab worker is registered (the GPU pool idles at zero).
    "academy-web/web: its livenessProbe asks /healthz": (
        "Deployment",
        "academy-web",
        lambda d: _container(d).update(livenessProbe={"httpGet": {"path": "/healthz", "port": "http"}}),
    ),
    "no Job creates the object store's bucket": ("Job", STORE_INIT, lambda d: _container(d).update(image="busybox")),
}


@pytest.mark.parametrize("complaint", BREAKAGES)
def test_check_deploy_catches_each_broken_posture(check_deploy: ModuleType, complaint: str) -> None:
    kind, name, change = BREAKAGES[complaint]
    documents = copy.deepcopy(check_deploy.k8s_documents())
    for _, document in documents:
        if document["kind"] == kind and document.get("metadata", {}).get("name") == name:
            change(document)
    problems = check_deploy.check_cluster(documents)
    assert any(complaint in problem for problem in problems), problems


@pytest.mark.parametrize("modes", [["ReadWriteMany"], ["ReadWriteOnce"]])
def test_check_deploy_refuses_any_claim_of_its_own(check_deploy: ModuleType, modes: list[str]) -> None:
    """The old pvc.yaml (ReadWriteMany, mounted by every pod), or any claim besides the object
    store's claim template."""
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "academy-datasets"},
        "spec": {"accessModes": modes, "resources": {"requests": {"storage": "100Gi"}}},
    }
    documents = [*check_deploy.k8s_documents(), (REPO / "deploy/k8s/pvc.yaml", claim)]
    problems = check_deploy.check_cluster(documents)
    assert any(f"PersistentVolumeClaim academy-datasets ({modes[0]})" in problem for problem in problems), problems
