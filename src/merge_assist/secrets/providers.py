"""Where product secrets live: one protocol, four providers, chosen by ``secrets_provider``.

=========  ====================================================  ===========
provider   backend                                               writable
=========  ====================================================  ===========
env        ``MERGE_ASSIST_SECRET_<NAME>`` variables               no
file       encrypted ``secrets.json`` + ``secrets.keys``          yes
aws        AWS Secrets Manager, ``merge-assist/<name>``           yes
mounted    one file per name in a directory (Kubernetes)          no
=========  ====================================================  ===========
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from merge_assist.kit.settings import Settings
from merge_assist.secrets.aws_provider import AwsSecretProvider
from merge_assist.secrets.env_provider import EnvSecretProvider
from merge_assist.secrets.errors import UnknownProvider
from merge_assist.secrets.file_provider import FileSecretProvider
from merge_assist.secrets.mounted_provider import MountedSecretProvider


@runtime_checkable
class SecretProvider(Protocol):
    """A store of named text secrets; names follow :data:`names.SECRET_NAME`."""

    kind: str
    writable: bool

    def get(self, name: str) -> str | None:
        """The value of ``name``, or ``None`` if there is none."""
        ...

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name``; read-only providers raise ``ProviderReadOnly``."""
        ...

    def delete(self, name: str) -> None:
        """Remove ``name``; ``SecretNotFound`` if absent, ``ProviderReadOnly`` if read-only."""
        ...

    def list_names(self) -> list[str]:
        """The names stored, sorted."""
        ...


PROVIDERS: dict[str, Callable[[Settings], SecretProvider]] = {
    "env": lambda _settings: EnvSecretProvider(),
    "file": FileSecretProvider.from_settings,
    "aws": AwsSecretProvider.from_settings,
    "mounted": MountedSecretProvider.from_settings,
}


def provider_from_settings(settings: Settings, kind: str | None = None) -> SecretProvider:
    """The provider named by ``kind`` or ``settings.secrets_provider`` (env|file|aws|mounted)."""
    chosen = (kind or settings.secrets_provider).strip().lower()
    factory = PROVIDERS.get(chosen)
    if factory is None:
        raise UnknownProvider(
            f"There is no secrets provider named {chosen!r}; choose one of "
            f"{', '.join(PROVIDERS)} (MERGE_ASSIST_SECRETS_PROVIDER)."
        )
    return factory(settings)
