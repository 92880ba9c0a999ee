"""Secrets as read-only files in a directory: a Kubernetes secret volume, one file per name."""

from __future__ import annotations

from pathlib import Path

from merge_assist.kit.settings import Settings
from merge_assist.secrets.errors import ProviderReadOnly, SecretStoreError
from merge_assist.secrets.names import SECRET_NAME, validate_name


def _strip_one_newline(value: str) -> str:
    # Files made with `echo` or an editor end with one newline that is not part of the secret;
    # only one is removed, so a value that really ends in whitespace keeps the rest.
    if value.endswith("\r\n"):
        return value[:-2]
    return value.removesuffix("\n")


class MountedSecretProvider:
    """Reads ``<directory>/<name>``; Kubernetes manages the files (and their rotation).

    Kubernetes keeps its bookkeeping in hidden entries (``..data``, ``..2024_…``) and makes each
    key a symbolic link into them; hidden entries are skipped and links are followed. Names
    cannot contain ``/`` or start with ``.``, so a name never leaves the directory.
    """

    kind = "mounted"
    writable = False

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def from_settings(cls, settings: Settings) -> MountedSecretProvider:
        """The provider for ``settings.secrets_mount_dir``."""
        return cls(settings.secrets_mount_dir)

    def _require_directory(self) -> None:
        if not self.directory.is_dir():
            raise SecretStoreError(
                f"The secrets directory {self.directory} does not exist; mount the secret "
                "volume there or set MERGE_ASSIST_SECRETS_MOUNT_DIR."
            )

    def get(self, name: str) -> str | None:
        """The content of ``<directory>/<name>`` without its trailing newline, or ``None``."""
        path = self.directory / validate_name(name)
        self._require_directory()
        if not path.is_file():
            return None
        try:
            return _strip_one_newline(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as error:
            raise SecretStoreError(f"The secret file {path} is not UTF-8 text.") from error
        except OSError as error:
            raise SecretStoreError(
                f"The secret file {path} cannot be read: {error.strerror}."
            ) from error

    def set(self, name: str, value: str) -> None:
        """Refuse: the files belong to the platform that mounts them."""
        validate_name(name)
        raise ProviderReadOnly(
            "The mounted secrets provider is read-only: change the Kubernetes secret "
            f"(or the files in {self.directory}) instead."
        )

    def delete(self, name: str) -> None:
        """Refuse: the files belong to the platform that mounts them."""
        self.set(name, "")

    def list_names(self) -> list[str]:
        """The names of the regular files in the directory (hidden entries skipped), sorted."""
        self._require_directory()
        return sorted(
            entry.name
            for entry in self.directory.iterdir()
            if SECRET_NAME.fullmatch(entry.name) and entry.is_file()
        )
