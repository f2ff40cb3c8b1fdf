#!/bin/sh
# Entrypoint of the lab worker image (queues gpu and cpu), run under tini.
#
# A lab worker runs learner code and holds no credential of the site: no database URL, not the
# site's SECRET_KEY, no key of the object store. It needs none: `celery -A workers.celery_app`
# imports no Django and reads only the broker's settings (CELERY_BROKER_URL, see
# workers/celery_app.py).
set -eu

if [ -n "${DATABASE_URL:-}" ]; then
    echo "lab worker: refusing to start with DATABASE_URL set: a lab node never gets database credentials" >&2
    exit 64
fi
if [ -n "${SECRET_KEY:-}" ]; then
    echo "lab worker: refusing to start with SECRET_KEY set: a lab node must not hold the site's key" >&2
    exit 64
fi
# Nor a key of the object store: a job message carries a signed link to its dataset, which is all
# a lab worker reads there (deploy/README.md, "Object storage").
for name in S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
    MINIO_ROOT_USER MINIO_ROOT_PASSWORD; do
    if [ -n "$(printenv "$name" || :)" ]; then
        echo "lab worker: refusing to start with $name set: a lab node never gets a key of the object store" >&2
        exit 64
    fi
done

# Every lab run gets a cgroup of its own (workers/cgroups.py) below the container's. With cgroup
# v2 and a cgroup namespace, /sys/fs/cgroup is the container's own cgroup (writable: a privileged
# container, or a runtime handler with writable cgroups, deploy/k8s/runtimeclass.yaml). The
# kernel hands controllers down only from a cgroup that holds no process itself, so the
# container's processes (tini, this shell) move into a leaf, `supervisor`, and the memory and
# pids controllers are handed to the children, where the run cgroups are made. Nothing is done
# with cgroup v1, with a read-only cgroup (the worker then reports the sandbox unavailable and
# why), or without a cgroup namespace (the node's own tree: never to be rearranged from here).
CGROUP=${LAB_CGROUP_ROOT:-/sys/fs/cgroup}
delegate_cgroup() {
    [ -f "$CGROUP/cgroup.controllers" ] || return 0
    [ -w "$CGROUP/cgroup.subtree_control" ] || return 0
    grep -qx "0::/" /proc/self/cgroup || return 0
    mkdir -p "$CGROUP/supervisor"
    while read -r pid; do
        echo "$pid" >"$CGROUP/supervisor/cgroup.procs" 2>/dev/null || :
    done <"$CGROUP/cgroup.procs"
    if ! (echo "+memory +pids" >"$CGROUP/cgroup.subtree_control") 2>/dev/null; then
        echo "lab worker: cannot hand the memory and pids controllers to the run cgroups" >&2
    fi
}
delegate_cgroup

exec "$@"
