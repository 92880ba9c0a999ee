from __future__ import annotations

import os
from pathlib import Path

import pytest

from merge_assist.secrets.errors import InvalidSecretName, ProviderReadOnly, SecretStoreError
from merge_assist.secrets.mounted_provider import MountedSecretProvider


@pytest.fixture
def volume(tmp_path: Path) -> Path:
    """A directory laid out like a Kubernetes secret volume (keys are links into ..data)."""
    mount = tmp_path / "mount"
    version = mount / "..2024_01_01_00_00_00.000000001"
    version.mkdir(parents=True)
    (version / "gitlab-token").write_text("glpat-abc\n")
    (version / "webhook.secret").write_text("  spaced value \n\n")
    (version / "windows").write_bytes(b"crlf\r\n")
    (version / "raw").write_text("no newline")
    os.symlink(version.name, mount / "..data")
    for name in ("gitlab-token", "webhook.secret", "windows", "raw"):
        os.symlink(f"..data/{name}", mount / name)
    (mount / "subdir").mkdir()
    return mount


def test_reads_files_stripping_one_trailing_newline(volume: Path) -> None:
    provider = MountedSecretProvider(volume)
    assert provider.get("gitlab-token") == "glpat-abc"
    assert provider.get("webhook.secret") == "  spaced value \n"
    assert provider.get("windows") == "crlf"
    assert provider.get("raw") == "no newline"
    assert provider.get("missing") is None
    assert provider.get("subdir") is None


def test_lists_keys_but_not_kubernetes_bookkeeping(volume: Path) -> None:
    names = MountedSecretProvider(volume).list_names()
    assert names == ["gitlab-token", "raw", "webhook.secret", "windows"]


def test_traversal_is_impossible(volume: Path, tmp_path: Path) -> None:
    (tmp_path / "outside").write_text("not yours")
    provider = MountedSecretProvider(volume)
    for name in ("../outside", "..data", "/etc/passwd", ".."):
        with pytest.raises(InvalidSecretName):
            provider.get(name)


def test_is_read_only(volume: Path) -> None:
    provider = MountedSecretProvider(volume)
    assert provider.writable is False
    with pytest.raises(ProviderReadOnly, match="Kubernetes secret"):
        provider.set("gitlab-token", "new")
    with pytest.raises(ProviderReadOnly):
        provider.delete("gitlab-token")
    assert provider.get("gitlab-token") == "glpat-abc"


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    provider = MountedSecretProvider(tmp_path / "not-mounted")
    with pytest.raises(SecretStoreError, match="does not exist"):
        provider.list_names()
    with pytest.raises(SecretStoreError, match="MERGE_ASSIST_SECRETS_MOUNT_DIR"):
        provider.get("gitlab-token")


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"\xff\xfe")
    with pytest.raises(SecretStoreError, match="not UTF-8"):
        MountedSecretProvider(tmp_path).get("blob")
