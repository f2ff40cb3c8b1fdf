"""An S3-compatible object store for the tests: the one ``.ci/run`` started (``S3_TEST_ENDPOINT_URL``),
or moto's server started here. Each test gets its own bucket and the site's ``STORAGES`` pointed at it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from config.storages import s3_storages

# moto accepts any keys; the site needs some to sign with (lab workers get none).
KEYS = {"aws_access_key_id": "academy-test", "aws_secret_access_key": "academy-test-secret"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # it answers (an error for an unsigned request is an answer)
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("S3_TEST_ENDPOINT_URL")
    if given:
        yield given
        return
    port = _free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115 - open while it runs
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _answers(url):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"moto_server did not start; see {log.name}")
        time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture
def s3_client(s3_endpoint: str) -> object:
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)


@pytest.fixture
def s3_bucket(s3_endpoint: str, s3_client: object, settings: object) -> str:
    """A fresh bucket, and the site's uploads, job files and datasets in it (as ``S3_BUCKET`` does)."""
    bucket = f"academy-test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        **s3_storages(
            bucket=bucket,
            endpoint_url=s3_endpoint,
            access_key=KEYS["aws_access_key_id"],
            secret_key=KEYS["aws_secret_access_key"],
        ),
    }
    return bucket


def bucket_keys(client: object, bucket: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))
