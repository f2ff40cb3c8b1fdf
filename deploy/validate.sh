#!/usr/bin/env bash
# Validates the deployment files without a Docker engine or a cluster (CI runs it):
#   1. docker-compose.yml resolves with Debian's docker-compose (`config -q`), with dummy
#      values for the required secrets, and refuses to resolve without them; it resolves with
#      deploy/compose-ha.env too (profile `ha`: the broker behind Redis Sentinel);
#   2. the lab worker's entrypoint and MinIO's init script (deploy/k8s/minio-init.sh) are valid
#      shell;
#   3. every YAML under deploy/k8s parses (PyYAML), plus the checks of deploy/check_deploy.py
#      (kustomization resources exist, Dockerfile COPY sources exist, lab workers hold no
#      database URL, site secret or object store key and start `celery -A workers.celery_app`,
#      no volume is shared between pods, services or nodes (no PVC, no ReadWriteMany claim: only
#      MinIO's own ReadWriteOnce disk), the site's workloads get S3_BUCKET and the store's keys,
#      MinIO's images are pinned, the site's Celery processes `celery -A config.celery_app`, the
#      worker image holds no web code or requirement, no container is privileged and the lab
#      pods have their posture, the KEDA ScaledObjects scale lab pools on their own queues, the
#      Grafana dashboard and the scrape annotations, the `ha` profile's sentinels and URLs agree);
#   4. `kubectl kustomize deploy/k8s` builds, where kubectl is installed (it needs no cluster);
#      hadolint and kubernetes-validate run too where they are installed.
# Exits non-zero on the first problem. Python: $PYTHON (default .venv/bin/python), with PyYAML.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-.venv/bin/python}

step() { printf '== %s\n' "$*"; }
fail() {
    printf 'validate: %s\n' "$*" >&2
    exit 1
}

compose_command() {
    if command -v docker-compose >/dev/null 2>&1; then
        echo docker-compose
    elif [ "$(id -u)" -eq 0 ]; then
        echo "validate: installing Debian's docker-compose" >&2
        apt-get update -qq >&2
        # No recommends: they would pull in the Docker engine, which `config` does not need.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >&2
        echo docker-compose
    elif docker compose version >/dev/null 2>&1; then
        echo "docker compose"
    else
        fail "docker-compose is missing and this user cannot install it: run 'sudo apt-get install -y docker-compose' (Debian) or install the Docker Compose plugin"
    fi
}

[ -x "$PYTHON" ] || command -v "$PYTHON" >/dev/null 2>&1 ||
    fail "no Python at $PYTHON: create the venv (make test does) or set PYTHON=/path/to/python"
"$PYTHON" -c 'import yaml' 2>/dev/null || fail "$PYTHON cannot import yaml (PyYAML)"

# The files are judged on their own: a caller's environment (CI exports its own broker and database)
# would win over the env files in compose's interpolation.
unset CELERY_BROKER_URL CELERY_RESULT_BACKEND CELERY_SENTINEL_MASTER DATABASE_URL \
    S3_BUCKET S3_ENDPOINT_URL S3_REGION S3_ADDRESSING_STYLE S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY \
    MINIO_ROOT_USER MINIO_ROOT_PASSWORD LAB_DATASET_URL_TTL

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# An empty env file: a developer's own .env must not decide the result.
: >"$scratch/empty.env"
compose_line=$(compose_command)
read -r -a compose <<<"$compose_line"
secrets=(SECRET_KEY=validate-dummy POSTGRES_PASSWORD=validate-dummy FLOWER_BASIC_AUTH=validate:dummy
    MINIO_ROOT_USER=validate-root MINIO_ROOT_PASSWORD=validate-dummy
    S3_ACCESS_KEY_ID=validate-site S3_SECRET_ACCESS_KEY=validate-dummy)

step "docker-compose config (${compose[*]})"
env "${secrets[@]}" "${compose[@]}" --env-file "$scratch/empty.env" -f docker-compose.yml config -q
env "${secrets[@]}" "${compose[@]}" --env-file "$scratch/empty.env" -f docker-compose.yml config >"$scratch/compose.yml"
for secret in "${secrets[@]}"; do
    name=${secret%%=*}
    if env "${secrets[@]}" "$name=" "${compose[@]}" --env-file "$scratch/empty.env" -f docker-compose.yml \
        config -q >/dev/null 2>&1; then
        fail "docker-compose.yml resolves with an empty $name: it must be required (\${$name:?message})"
    fi
done

step "docker-compose config with deploy/compose-ha.env (profile ha)"
env "${secrets[@]}" "${compose[@]}" --env-file deploy/compose-ha.env -f docker-compose.yml --profile ha \
    config >"$scratch/compose-ha.yml"

step "shell syntax of the lab worker entrypoint and the bucket's init script"
sh -n deploy/lab-worker-entrypoint.sh
sh -n deploy/k8s/minio-init.sh

step "Kubernetes YAML and deployment invariants ($PYTHON)"
"$PYTHON" deploy/check_deploy.py "$scratch/compose.yml" "$scratch/compose-ha.yml"

if command -v kubectl >/dev/null 2>&1; then
    step "kubectl kustomize deploy/k8s"
    kubectl kustomize deploy/k8s >"$scratch/k8s.yml"
    if command -v kubernetes-validate >/dev/null 2>&1; then
        step "kubernetes-validate --strict"
        kubernetes-validate --strict --quiet "$scratch/k8s.yml"
    fi
else
    echo "(kubectl not installed: kustomize build skipped)"
fi

if command -v hadolint >/dev/null 2>&1; then
    step "hadolint"
    hadolint deploy/Dockerfile.web deploy/Dockerfile.worker
fi

echo "deploy: valid"
