"""The config file: private from its first byte, atomic, and a token only for the server that issued it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from academy_client.config import config_load, config_save, settings_resolve
from academy_client.errors import AcademyError, UsageError

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
def test_the_config_file_is_0600_in_a_0700_folder_whatever_the_umask(config_file: Path) -> None:
    old = os.umask(0)  # the most permissive umask: the modes must not depend on it
    try:
        config_save({"url": "http://x", "token": "secret"}, config_file)
    finally:
        os.umask(old)
    assert mode(config_file) == 0o600
    assert mode(config_file.parent) == 0o700
    assert config_load(config_file) == {"url": "http://x", "token": "secret"}


@posix_only
def test_rewriting_keeps_0600_and_leaves_no_temporary_file(config_file: Path) -> None:
    config_save({"url": "http://x", "token": "one"}, config_file)
    os.chmod(config_file, 0o644)  # someone loosened it
    config_save({"url": "http://x", "token": "two"}, config_file)
    assert mode(config_file) == 0o600
    assert [p.name for p in config_file.parent.iterdir()] == ["config.json"]


@posix_only
def test_the_mode_is_checked_after_writing(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fchmod", lambda fd, m: None)  # a file system that ignores modes
    monkeypatch.setattr(os, "open", lambda path, flags, m=0o777, _open=os.open: _open(path, flags, 0o644))
    with pytest.raises(AcademyError, match="not 600"):
        config_save({"token": "t"}, config_file)


@posix_only
def test_an_existing_folder_of_the_learners_is_left_as_it_is(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    config_save({"token": "t"}, tmp_path / "config.json")
    assert mode(tmp_path) == 0o755


@posix_only
def test_a_readable_config_is_warned_about(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_save({"token": "t"}, config_file)
    os.chmod(config_file, 0o644)
    config_load(config_file)
    assert "chmod 600" in capsys.readouterr().err


def test_a_damaged_config_says_what_to_do(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("{not json")
    with pytest.raises(UsageError, match="damaged"):
        config_load(config_file)


def test_url_from_the_option_then_the_environment_then_the_file(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_save({"url": "http://stored:8000", "token": "t"}, config_file)
    assert settings_resolve().url == "http://stored:8000"
    monkeypatch.setenv("ACADEMY_URL", "http://env:8000")
    assert settings_resolve(require_token=False).url == "http://env:8000"
    assert settings_resolve("http://option:8000/", require_token=False).url == "http://option:8000"


def test_the_stored_token_only_goes_to_the_server_that_issued_it(config_file: Path) -> None:
    config_save({"url": "http://stored:8000", "token": "t"}, config_file)
    assert settings_resolve("http://stored:8000/api/v1").token == "t"
    with pytest.raises(UsageError, match="not signed in to http://other:8000"):
        settings_resolve("http://other:8000")


def test_academy_token_in_the_environment_wins(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_save({"url": "http://stored:8000", "token": "t"}, config_file)
    monkeypatch.setenv("ACADEMY_TOKEN", "from-env")
    assert settings_resolve().token == "from-env"


def test_without_any_address_the_message_says_how_to_sign_in(config_file: Path) -> None:
    with pytest.raises(UsageError, match="academy login --url"):
        settings_resolve()
