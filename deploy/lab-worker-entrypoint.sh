#!/bin/sh
# Entrypoint of the lab worker image (queues gpu and cpu), run under tini.
#
# A lab worker runs learner code and holds no credential of the site: no database URL and not
# the site's SECRET_KEY. It needs neither: `celery -A workers.celery_app` imports no Django
# and reads only the broker's settings (CELERY_BROKER_URL, see workers/celery_app.py).
set -eu

if [ -n "${DATABASE_URL:-}" ]; then
    echo "lab worker: refusing to start with DATABASE_URL set: a lab node never gets database credentials" >&2
    exit 64
fi
if [ -n "${SECRET_KEY:-}" ]; then
    echo "lab worker: refusing to start with SECRET_KEY set: a lab node must not hold the site's key" >&2
    exit 64
fi

exec "$@"
