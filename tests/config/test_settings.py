"""Settings come from the environment and refuse malformed or unsafe values at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STRONG_KEY = "x7!Kq2#vL9@pR4$tW8^zN3&bM6*cF1(hJ5)dG0_sA-eY+uI=oT"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {"DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in inherited}
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("DATABASE_URL", "mysql://db/x", "scheme must be one of"),
        ("DATABASE_URL", "postgres:///nohost", "has no host"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//", "scheme must be one of"),
        ("LAB_MAX_WALL_SECONDS", "ten", "is not an integer"),
        ("DJANGO_ENV", "staging", "must be one of development, production"),
    ],
)
def test_malformed_environment_stops_the_start_with_a_clear_message(name: str, value: str, message: str) -> None:
    result = run_manage("check", **{name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = run_manage("check", DJANGO_ENV="production", ALLOWED_HOSTS="academy.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts() -> None:
    result = run_manage("check", DJANGO_ENV="production", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_passes_the_deployment_checklist_without_warnings() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="academy.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_check_deploy_does_warn_so_the_production_test_means_something() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
