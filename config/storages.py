"""The ``STORAGES`` entries for uploads, job results and datasets (``core.storage``), from the
environment: this machine's disk by default, an S3-compatible object store with ``S3_BUCKET``."""

from __future__ import annotations

from typing import Any

S3_BACKEND = "storages.backends.s3.S3Storage"


def local_storages() -> dict[str, dict[str, Any]]:
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "datasets": {"BACKEND": "core.storage.DatasetFileSystemStorage"},
    }


def s3_storages(
    *,
    bucket: str,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    access_key: str | None = None,
    secret_key: str | None = None,
    addressing_style: str = "path",
) -> dict[str, dict[str, Any]]:
    """One bucket, two prefixes: ``media/`` (uploads, job inputs and results) and ``datasets/``.
    Without keys, boto3 finds its own (an instance or pod role). The site streams files to people
    itself (it checks who may read them), so its own signed links are only for lab workers."""
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "addressing_style": addressing_style,
        "signature_version": "s3v4",
        "file_overwrite": False,
        "default_acl": None,  # private: the bucket's own policy (no public objects)
    }
    return {
        "default": {"BACKEND": S3_BACKEND, "OPTIONS": {**options, "location": "media"}},
        # Named by content: writing the same name again writes the same bytes.
        "datasets": {"BACKEND": S3_BACKEND, "OPTIONS": {**options, "location": "datasets", "file_overwrite": True}},
    }
