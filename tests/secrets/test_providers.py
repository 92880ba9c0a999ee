from __future__ import annotations

from pathlib import Path

import pytest

from merge_assist.kit.settings import Environment, Settings
from merge_assist.secrets.env_provider import EnvSecretProvider
from merge_assist.secrets.errors import UnknownProvider
from merge_assist.secrets.file_provider import FileSecretProvider
from merge_assist.secrets.mounted_provider import MountedSecretProvider
from merge_assist.secrets.providers import SecretProvider, provider_from_settings


def _settings(tmp_path: Path, provider: str) -> Settings:
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path,
        secrets_provider=provider,
        secrets_mount_dir=tmp_path / "mount",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.mark.parametrize(
    ("kind", "expected", "writable"),
    [
        ("env", EnvSecretProvider, False),
        ("file", FileSecretProvider, True),
        (" Mounted ", MountedSecretProvider, False),
    ],
)
def test_factory_builds_the_configured_provider(
    tmp_path: Path, kind: str, expected: type, writable: bool
) -> None:
    provider = provider_from_settings(_settings(tmp_path, kind))
    assert isinstance(provider, expected)
    assert isinstance(provider, SecretProvider)
    assert provider.writable is writable


def test_explicit_kind_overrides_the_setting(tmp_path: Path) -> None:
    provider = provider_from_settings(_settings(tmp_path, "env"), "file")
    assert isinstance(provider, FileSecretProvider)


def test_unknown_provider_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(UnknownProvider, match="env, file, aws, mounted"):
        provider_from_settings(_settings(tmp_path, "vault"))
