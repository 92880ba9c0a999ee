from __future__ import annotations

import stat
from pathlib import Path

import pytest

from merge_assist.kit.settings import Environment, Settings


def test_generated_key_is_kept_owner_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    first = settings.resolved_secret_key()
    second = Settings(data_dir=tmp_path, _env_file=None).resolved_secret_key()  # type: ignore[call-arg]
    assert first == second
    assert len(first) >= 48
    mode = stat.S_IMODE((tmp_path / "secret.key").stat().st_mode)
    assert mode == 0o600


def test_production_refuses_generated_key(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        environment=Environment.production,
        _env_file=None,  # type: ignore[call-arg]
    )
    with pytest.raises(RuntimeError, match="MERGE_ASSIST_SECRET_KEY"):
        settings.resolved_secret_key()


def test_env_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MERGE_ASSIST_PORT", "9999")
    monkeypatch.setenv("MERGE_ASSIST_DATA_DIR", str(tmp_path))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.port == 9999
    assert settings.effective_database_url.endswith("merge-assist.sqlite3")
