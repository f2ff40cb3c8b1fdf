"""P5: page latency under load, relative to a trivial view under the same load.

Serves the site with gunicorn (production settings, PostgreSQL) over a generated data set of
10,000 learners, 200 courses and 100,000 runs (``config.scale_data``), and drives each page with
ApacheBench (``ab``, C, keep-alive) from loopback: 50 concurrent clients, signed in as the
persona who uses the page. The figure per page is its p95 latency ÷ the p95 latency of
``/livez`` (a view that does nothing) measured the same way in the same run; P5 is the worst.

PostgreSQL: ``BENCH_DATABASE_URL``, default a scratch database ``academy_bench`` on
127.0.0.1:5432 (created if missing; the generated data set is kept there between runs, so
only the first run pays for generating it). Without PostgreSQL the benchmark says so and
prints no figure.

    .venv/bin/python -m bench.page_load [--requests 500] [--concurrency 50]

The web tier's sizing (deploy/Dockerfile.web) was chosen with ``--workers N --threads T`` (gunicorn's
gthread workers when T > 1; default: 2 × cores + 1 sync workers) and ``--pages run,lab`` (some pages only).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.platform_harness import broker_running

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/academy_bench"
DATASETS = REPO / "var" / "bench-datasets"
SIZE = {"learners": 10_000, "courses": 200, "runs": 100_000}
GOAL = 3.0
ROUNDS = int(os.environ.get("BENCH_REPEATS", "3"))
P95 = re.compile(r"^\s*95%\s+(\d+)", re.MULTILINE)
RATE = re.compile(r"^Requests per second:\s+([\d.]+)", re.MULTILINE)
FAILED = re.compile(r"^(Failed requests|Non-2xx responses):\s+(\d+)", re.MULTILINE)


def ensure_database(url: str) -> bool:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    try:
        connection = psycopg2.connect(admin, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        print(f"  no PostgreSQL at {admin}: {exc}".rstrip())
        return False
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate, generate the data set if missing, and sign the personas in: page -> (path, cookie)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from config.scale_data import scale_data_exists, scale_data_generate
    from core.models import User
    from core.services import user_create

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production serves hashed names
    if not scale_data_exists():
        started = time.perf_counter()
        scale_data_generate(**SIZE, password=settings.DEMO_PASSWORD)
        print(f"  generated {SIZE} in {time.perf_counter() - started:.0f} s (kept for the next run)", flush=True)
    else:
        _datasets_restore()
    if not User.objects.filter(username="bench-admin").exists():
        user_create(username="bench-admin", password=secrets.token_hex(12), role="admin")
    from bench.page_queries import pages

    cookies: dict[str, str] = {}
    targets = {"trivial": ("/livez", "scale-learner-00000")}
    targets.update({page: (url(), username) for page, (username, url) in pages().items()})
    for _, username in targets.values():
        if username not in cookies:
            client = Client()
            client.force_login(User.objects.get(username=username))
            cookies[username] = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return {page: (path, cookies[username]) for page, (path, username) in targets.items()}


def _datasets_restore() -> None:
    """Write the demo labs' dataset files again where they are missing (the data set in PostgreSQL
    outlives them: an earlier run kept them elsewhere), or the lab page pays for a missing preview."""
    from labs.datasets import dataset_storage
    from labs.demo_seed import demo_labs_seed
    from labs.models import Lab

    storage = dataset_storage()
    if any(
        not storage.exists(lab.dataset.file_name) for lab in Lab.objects.exclude(dataset=None).select_related("dataset")
    ):
        demo_labs_seed()


def ab(url: str, cookie: str, *, requests: int, concurrency: int) -> tuple[int, float]:
    """p95 latency in ms and requests per second of ``requests`` GETs with ``concurrency`` clients;
    fails on any non-2xx."""
    out = subprocess.run(
        ["ab", "-q", "-k", "-n", str(requests), "-c", str(concurrency), "-C", cookie, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for label, count in FAILED.findall(out):
        if int(count):
            raise SystemExit(f"{url}: {count} {label.lower()}\n{out}")
    return int(P95.search(out).group(1)), float(RATE.search(out).group(1))


def gunicorn_sizing(workers: int | None, threads: int) -> list[str]:
    """gunicorn's options: ``workers`` processes (default 2 × cores + 1), each ``threads`` threads (gthread)."""
    workers = workers or 2 * len(os.sched_getaffinity(0)) + 1
    return ["-w", str(workers), *(["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else [])]


def main(requests: int, concurrency: int, workers: int | None = None, threads: int = 1, only: str = "") -> list[str]:
    if shutil.which("ab") is None:
        raise SystemExit("ab (ApacheBench) is missing: run `make system-deps` (Debian package apache2-utils)")
    database = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    print(f"page load: {SIZE}, {concurrency} concurrent clients, {requests} requests per page")
    if not ensure_database(database):
        print("  P5 needs PostgreSQL; skipped")
        return []
    tmp = tempfile.mkdtemp(prefix="bench-load-")
    port = free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database,
        "VAR_DIR": tmp,
        "STATIC_ROOT": f"{tmp}/static",  # collectstatic's copy: not in the checkout, where tests would meet it
        "DATASET_STORAGE_DIR": str(DATASETS),  # kept with the data set in PostgreSQL
    }
    broker = contextlib.ExitStack()
    broker.enter_context(broker_running(Path(tmp)))  # the cache; stopped in the finally below
    pages = prepare(env)
    if only:
        pages = {page: target for page, target in pages.items() if page == "trivial" or page in only.split(",")}
    sizing = gunicorn_sizing(workers, threads)
    print(f"  gunicorn {' '.join(sizing)}", flush=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", *sizing],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        for path, cookie in pages.values():  # warm every worker's caches and connections
            ab(base + path, cookie, requests=max(50, requests // 10), concurrency=concurrency)
        ratios: dict[str, list[float]] = {page: [] for page in pages if page != "trivial"}
        trivials = []
        for round_ in range(ROUNDS):  # side by side: each round measures the trivial view, then every page
            path, cookie = pages["trivial"]
            trivial, rate = ab(base + path, cookie, requests=requests, concurrency=concurrency)
            trivial = max(1, trivial)
            trivials.append(trivial)
            line = [f"trivial {trivial} ({rate:.0f}/s)"]
            for page in ratios:
                path, cookie = pages[page]
                p95, rate = ab(base + path, cookie, requests=requests, concurrency=concurrency)
                ratios[page].append(p95 / trivial)
                line.append(f"{page} {p95} ({rate:.0f}/s)")
            print(f"  round {round_ + 1}: p95 ms (requests/s): " + ", ".join(line), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        broker.close()
        shutil.rmtree(tmp, ignore_errors=True)
    medians = {page: statistics.median(values) for page, values in ratios.items()}
    print(f"  trivial view p95 median {statistics.median(trivials):.0f} ms; goal: every page at most {GOAL}× that")
    for page, ratio in medians.items():
        print(f"  {page:<18} {ratio:5.2f}×")
    return [*(f"P5_{page} {ratio:.2f}" for page, ratio in medians.items()), f"P5 {max(medians.values()):.2f}"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn processes (default 2 × cores + 1)")
    parser.add_argument("--threads", type=int, default=1, help="threads per process (gthread when above 1)")
    parser.add_argument("--pages", default="", help="comma-separated pages to measure (default: all)")
    args = parser.parse_args()
    for line in main(args.requests, args.concurrency, args.workers, args.threads, args.pages):
        print(line)
