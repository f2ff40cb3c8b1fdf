#!/bin/sh
# Prepares MinIO for the platform, once per installation; safe to run again:
#   - the bucket S3_BUCKET (uploads under media/, exports, datasets under datasets/);
#   - the site's user S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY, allowed to list, read, write and
#     delete in that bucket and nothing else (the site never holds MinIO's root credentials).
# Run by the compose service `minio-init` and the Kubernetes Job `academy-minio-init` (both in
# the minio/mc image, which has a shell but no grep or sed). Needs MINIO_URL, MINIO_ROOT_USER,
# MINIO_ROOT_PASSWORD, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.
set -eu

: "${MINIO_URL:?}" "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${S3_BUCKET:?}"
: "${S3_ACCESS_KEY_ID:?}" "${S3_SECRET_ACCESS_KEY:?}"
if [ "$S3_ACCESS_KEY_ID" = "$MINIO_ROOT_USER" ]; then
    echo "minio-init: S3_ACCESS_KEY_ID must differ from MINIO_ROOT_USER: the site gets a user of its own" >&2
    exit 1
fi

scratch=${TMPDIR:-/tmp}/minio-init
mkdir -p "$scratch"
export MC_CONFIG_DIR="${MC_CONFIG_DIR:-$scratch/mc}"
ALIAS=academy
POLICY="academy-bucket-$S3_BUCKET"

# The server may still be starting (Kubernetes starts the Job and the StatefulSet together).
tries=${MINIO_INIT_TRIES:-60}
until mc alias set "$ALIAS" "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null; do
    tries=$((tries - 1))
    if [ "$tries" -le 0 ]; then
        echo "minio-init: cannot reach $MINIO_URL with the root credentials" >&2
        exit 1
    fi
    sleep 2
done

mc mb --ignore-existing "$ALIAS/$S3_BUCKET"

printf '%s' '{"Version":"2012-10-17","Statement":[' >"$scratch/policy.json"
printf '{"Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":["arn:aws:s3:::%s"]},' \
    "$S3_BUCKET" >>"$scratch/policy.json"
printf '{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject","s3:AbortMultipartUpload","s3:ListMultipartUploadParts"],"Resource":["arn:aws:s3:::%s/*"]}' \
    "$S3_BUCKET" >>"$scratch/policy.json"
printf '%s\n' ']}' >>"$scratch/policy.json"
# Creates the policy, or replaces it with this text.
mc admin policy create "$ALIAS" "$POLICY" "$scratch/policy.json"
# Creates the user, or sets its secret key again (a rotated key takes effect here).
mc admin user add "$ALIAS" "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY"
# `attach` fails when the policy is attached already: that is the state wanted.
if ! out=$(mc admin policy attach "$ALIAS" "$POLICY" --user "$S3_ACCESS_KEY_ID" 2>&1); then
    case $out in
        *"already in effect"*) ;;
        *)
            printf '%s\n' "$out" >&2
            exit 1
            ;;
    esac
fi
echo "minio-init: bucket $S3_BUCKET ready; user $S3_ACCESS_KEY_ID may use that bucket only"
