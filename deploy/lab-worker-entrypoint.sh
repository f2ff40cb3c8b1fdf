#!/bin/sh
# Entrypoint of the lab worker image (queues gpu and cpu), run under tini.
#
# A lab worker runs learner code and holds no credential of the site: no database URL and not
# the site's SECRET_KEY (workers/ imports no Django model and signs nothing). core.celery still
# loads core.settings, which in production insists on a secret key and a host list, so this
# worker gets a random key of its own, made at each start and shared with nobody.
set -eu

if [ -n "${DATABASE_URL:-}" ]; then
    echo "lab worker: refusing to start with DATABASE_URL set: a lab node never gets database credentials" >&2
    exit 64
fi
if [ -n "${SECRET_KEY:-}" ]; then
    echo "lab worker: refusing to start with SECRET_KEY set: a lab node must not hold the site's key" >&2
    exit 64
fi

SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(64))')
ALLOWED_HOSTS=${ALLOWED_HOSTS:-localhost}
export SECRET_KEY ALLOWED_HOSTS

exec "$@"
