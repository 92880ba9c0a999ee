"""Where a standalone instance keeps its data: the user data folder, never the unpack folder."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from merge_assist.kit.settings import Settings
from merge_assist.standalone.paths import (
    LOOPBACK,
    UnsafeDataFolder,
    standalone_data_dir,
    standalone_settings,
    unpack_folder,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MERGE_ASSIST_DATA_DIR", "MERGE_ASSIST_SECRET_KEY", "MERGE_ASSIST_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def test_the_default_is_the_user_data_folder(tmp_path: Path) -> None:
    folder = standalone_data_dir(Settings(), unpacked_into=tmp_path / "_MEI1234")
    assert folder == (tmp_path / "xdg" / "merge-assist").resolve()


def test_a_data_folder_inside_the_unpack_folder_is_refused(tmp_path: Path) -> None:
    unpack = tmp_path / "_MEI1234"
    inside = Settings(data_dir=unpack / "data")
    with pytest.raises(UnsafeDataFolder, match="deleted when the program exits"):
        standalone_data_dir(inside, unpacked_into=unpack)
    with pytest.raises(UnsafeDataFolder):
        standalone_data_dir(Settings(data_dir=unpack), unpacked_into=unpack)
    beside = Settings(data_dir=tmp_path / "_MEI1234-data")  # a prefix, not a parent
    assert standalone_data_dir(beside, unpacked_into=unpack) == (tmp_path / "_MEI1234-data")


def test_a_simulated_one_file_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert unpack_folder() is None
    unpack = tmp_path / "_MEI999"
    monkeypatch.setattr(sys, "_MEIPASS", str(unpack), raising=False)
    assert unpack_folder() == unpack
    with pytest.raises(UnsafeDataFolder):
        standalone_settings(Settings(data_dir=unpack / "merge-assist"))
    assert not (unpack / "merge-assist").exists()
    settings = standalone_settings(Settings())
    assert settings.data_dir == (tmp_path / "xdg" / "merge-assist").resolve()
    assert not settings.data_dir.is_relative_to(unpack)


def test_standalone_settings_keep_everything_in_the_data_folder(tmp_path: Path) -> None:
    public = Settings(host="0.0.0.0")  # noqa: S104 - standalone must override it
    settings = standalone_settings(public, unpacked_into=None)
    folder = (tmp_path / "xdg" / "merge-assist").resolve()
    assert settings.host == LOOPBACK
    assert settings.data_dir == folder
    assert (
        settings.effective_database_url == f"sqlite+aiosqlite:///{folder / 'merge-assist.sqlite3'}"
    )
    key_file = folder / "secret.key"
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == key_file.read_text().strip()
    assert len(settings.secret_key.get_secret_value()) >= 48
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    again = standalone_settings(Settings(), unpacked_into=None)
    assert again.secret_key == settings.secret_key  # generated once, then reused


def test_a_configured_secret_key_is_kept_and_no_file_written(tmp_path: Path) -> None:
    given = SecretStr("k" * 64)
    settings = standalone_settings(Settings(secret_key=given, data_dir=tmp_path / "d"))
    assert settings.secret_key == given
    assert not (tmp_path / "d" / "secret.key").exists()
