"""Secrets in an encrypted local file, with its master keys in a separate owner-only file.

``secrets.json`` maps each name to a :mod:`merge_assist.kit.crypto` envelope sealed for that
name (an envelope copied to another name does not open). ``secrets.keys`` is a JSON list of
versioned random keys, generated on first use. Both files are 0600, replaced atomically, and
every change happens under an exclusive lock on ``secrets.json.lock``. A file that group or
others may read or write is refused (not just warned about), as ssh does with private keys.

Limit: each entry is authenticated, the file as a whole is not, so someone able to write the
file can delete entries or put back an older envelope of the same name (a rollback).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from merge_assist.kit.clock import utcnow
from merge_assist.kit.crypto import DecryptionError, Keyring, MasterKey
from merge_assist.kit.settings import Settings
from merge_assist.secrets.errors import SecretNotFound, SecretStoreError
from merge_assist.secrets.names import validate_name, validate_value
from merge_assist.secrets.private_files import locked, read_private, write_private

KEYRING_PURPOSE = "secrets-file"
SECRETS_FILE_NAME = "secrets.json"
KEYS_FILE_NAME = "secrets.keys"


@dataclass(frozen=True)
class RotationResult:
    """What a rotation did: the new key version, entries re-encrypted, versions dropped."""

    key_version: int
    reencrypted: int
    dropped_versions: tuple[int, ...]


class FileSecretProvider:
    """An encrypted JSON file of secrets; safe for several processes writing at once."""

    kind = "file"
    writable = True

    def __init__(self, secrets_path: Path, keys_path: Path) -> None:
        self.secrets_path = secrets_path
        self.keys_path = keys_path
        self._lock_path = secrets_path.with_name(secrets_path.name + ".lock")

    @classmethod
    def from_settings(cls, settings: Settings) -> FileSecretProvider:
        """``settings.secrets_file`` (or ``<data_dir>/secrets.json``), keys in the data folder."""
        secrets_path = settings.secrets_file or settings.data_dir / SECRETS_FILE_NAME
        return cls(secrets_path, settings.data_dir / KEYS_FILE_NAME)

    # -- the provider protocol -------------------------------------------------------------

    def get(self, name: str) -> str | None:
        """The decrypted value of ``name``, or ``None`` if there is none."""
        validate_name(name)
        with locked(self._lock_path, shared=True):
            envelope = self._read_entries().get(name)
            if envelope is None:
                return None
            return self._open(self._require_keyring(), name, envelope)

    def set(self, name: str, value: str) -> None:
        """Encrypt and store ``value`` under ``name`` (replacing any previous value)."""
        validate_name(name)
        validate_value(value)
        with locked(self._lock_path):
            entries = self._read_entries()
            keyring = self._load_or_create_keyring(entries)
            entries[name] = keyring.encrypt(value.encode("utf-8"), associated_data=_aad(name))
            self._write_entries(entries)

    def delete(self, name: str) -> None:
        """Remove ``name``; raises :class:`SecretNotFound` if it is not stored."""
        validate_name(name)
        with locked(self._lock_path):
            entries = self._read_entries()
            if entries.pop(name, None) is None:
                raise SecretNotFound(f"There is no secret named {name!r} in {self.secrets_path}.")
            self._write_entries(entries)

    def list_names(self) -> list[str]:
        """The stored names, sorted (nothing is decrypted)."""
        with locked(self._lock_path, shared=True):
            return sorted(self._read_entries())

    # -- rotation --------------------------------------------------------------------------

    def rotate(self, *, drop_old: bool = False) -> RotationResult:
        """Add a key version, re-encrypt every entry with it; with ``drop_old`` forget the others.

        Each step is its own atomic write, ordered so a crash at any point leaves every entry
        readable: new key saved, then entries re-encrypted, then old keys dropped. Entries are
        all opened before anything is written, so a damaged entry stops the rotation unchanged.
        """
        with locked(self._lock_path):
            entries = self._read_entries()
            keyring = self._load_or_create_keyring(entries)
            plaintexts = {name: self._open(keyring, name, env) for name, env in entries.items()}
            rotated = keyring.with_new_key()
            self._write_keyring(rotated)
            self._write_entries(
                {
                    name: rotated.encrypt(value.encode("utf-8"), associated_data=_aad(name))
                    for name, value in plaintexts.items()
                }
            )
            dropped: tuple[int, ...] = ()
            if drop_old:
                dropped = tuple(v for v in rotated.versions if v != rotated.current_version)
                self._write_keyring(rotated.without_old_keys())
            return RotationResult(rotated.current_version, len(entries), dropped)

    def key_versions(self) -> tuple[int, ...]:
        """The key versions in the keys file (empty before first use)."""
        with locked(self._lock_path, shared=True):
            keyring = self._read_keyring()
            return keyring.versions if keyring else ()

    # -- files -----------------------------------------------------------------------------

    def _open(self, keyring: Keyring, name: str, envelope: str) -> str:
        try:
            return keyring.decrypt(envelope, associated_data=_aad(name)).decode("utf-8")
        except (DecryptionError, UnicodeDecodeError) as error:
            raise SecretStoreError(
                f"The secret {name!r} in {self.secrets_path} cannot be decrypted ({error}): "
                f"the file was modified, or {self.keys_path} is not the keys file it was "
                "written with."
            ) from error

    def _read_entries(self) -> dict[str, str]:
        raw = read_private(self.secrets_path)
        if raw is None:
            return {}
        try:
            entries = json.loads(raw)
        except ValueError as error:
            raise SecretStoreError(f"{self.secrets_path} is not valid JSON.") from error
        if not isinstance(entries, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in entries.items()
        ):
            raise SecretStoreError(
                f"{self.secrets_path} is not a secrets file (expected a JSON object of names "
                "to encrypted values)."
            )
        return entries

    def _write_entries(self, entries: dict[str, str]) -> None:
        content = json.dumps(entries, indent=2, sort_keys=True) + "\n"
        write_private(self.secrets_path, content.encode("utf-8"))

    def _read_keyring(self) -> Keyring | None:
        raw = read_private(self.keys_path)
        if raw is None:
            return None
        try:
            records = json.loads(raw)
            keys = [_key_from_record(record) for record in records]
            return Keyring(keys, purpose=KEYRING_PURPOSE)
        except (ValueError, TypeError, KeyError, binascii.Error) as error:
            raise SecretStoreError(
                f"{self.keys_path} is not a valid keys file (expected a JSON list of "
                '{"version": n, "key": base64}).'
            ) from error

    def _require_keyring(self) -> Keyring:
        keyring = self._read_keyring()
        if keyring is None:
            raise SecretStoreError(
                f"{self.secrets_path} holds secrets but the keys file {self.keys_path} is "
                "missing; restore it from a backup (the secrets cannot be read without it)."
            )
        return keyring

    def _load_or_create_keyring(self, entries: dict[str, str]) -> Keyring:
        # Called under the exclusive lock. Never generate keys for a file that already holds
        # entries: they would be unreadable under new keys, and that hides a lost keys file.
        if entries:
            return self._require_keyring()
        keyring = self._read_keyring()
        if keyring is None:
            keyring = Keyring.generate(purpose=KEYRING_PURPOSE)
            self._write_keyring(keyring)
        return keyring

    def _write_keyring(self, keyring: Keyring) -> None:
        created = self._created_at()
        now = utcnow().isoformat()
        records = [
            {
                "version": key.version,
                "key": base64.b64encode(key.material).decode("ascii"),
                "created_at": created.get(key.version, now),
            }
            for key in keyring.keys
        ]
        write_private(self.keys_path, (json.dumps(records, indent=2) + "\n").encode("utf-8"))

    def _created_at(self) -> dict[int, str]:
        raw = read_private(self.keys_path)
        if raw is None:
            return {}
        return {record["version"]: record.get("created_at", "") for record in json.loads(raw)}


def _aad(name: str) -> bytes:
    # The name is authenticated with the value, so an envelope only opens under its own name.
    return name.encode("utf-8")


def _key_from_record(record: Any) -> MasterKey:
    if not isinstance(record, dict) or not isinstance(record["version"], int):
        raise ValueError("not a key record")
    return MasterKey(record["version"], base64.b64decode(record["key"], validate=True))
