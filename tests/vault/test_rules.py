"""Reasons, messages, vault names, sizes, and the vault's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from merge_assist.kit.errors import PayloadTooLarge, Unprocessable
from merge_assist.kit.settings import Settings
from merge_assist.vault.names import parse_extensions
from merge_assist.vault.rules import check_size, clean_message, clean_reason, clean_vault_name


def test_reasons() -> None:
    assert clean_reason("  Fix pocket depth \n") == "Fix pocket depth"
    assert clean_reason("x" * 500) == "x" * 500
    for bad, words in (("", "Give a reason"), ("x" * 501, "at most 500"), ("a\x07", "control")):
        with pytest.raises(Unprocessable) as refused:
            clean_reason(bad)
        assert words in refused.value.message


def test_messages() -> None:
    assert clean_message(None, "Add a.nc") == "Add a.nc"
    assert clean_message("  ", "Add a.nc") == "Add a.nc"
    assert clean_message("Line one\n\nMore", "x") == "Line one\n\nMore"
    with pytest.raises(Unprocessable):
        clean_message("x" * 2001, "x")


def test_vault_names() -> None:
    assert clean_vault_name(" Shop-1 ") == "shop-1"
    for bad in ("", "-x", "a b", "x" * 65, "a/b"):
        with pytest.raises(Unprocessable):
            clean_vault_name(bad)


def test_sizes() -> None:
    check_size(10, 10)
    with pytest.raises(PayloadTooLarge) as refused:
        check_size(11, 10)
    assert refused.value.status_code == 413


def test_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert parse_extensions(defaults.vault_allowed_extensions) == {
        ".mcam",
        ".nc",
        ".tap",
        ".emcam",
        ".vnc",
    }
    assert defaults.vault_max_upload_bytes == 200 * 1024 * 1024
    assert defaults.effective_vault_dir == tmp_path / "vault"
    monkeypatch.setenv("MERGE_ASSIST_VAULT_ALLOWED_EXTENSIONS", "step,.STL")
    monkeypatch.setenv("MERGE_ASSIST_VAULT_DIR", str(tmp_path / "elsewhere"))
    configured = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert parse_extensions(configured.vault_allowed_extensions) == {".step", ".stl"}
    assert configured.effective_vault_dir == tmp_path / "elsewhere"
