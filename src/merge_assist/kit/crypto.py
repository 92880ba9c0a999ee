"""Authenticated encryption for everything the product stores and must read back later.

A value is sealed into a text *envelope*::

    v1:<key version>:<salt>:<nonce>:<ciphertext + tag>      (parts in unpadded base64url)

- AES-256-GCM (``cryptography``) with a random 96-bit nonce per envelope.
- The AES key of each envelope is derived from a versioned master key with HKDF-SHA256 and a
  random 128-bit salt, and with the keyring's *purpose* in HKDF's ``info``: envelopes made for
  one purpose (the secrets file, GitLab tokens, ...) never open under another.
- The envelope header (format and key version) and the caller's ``associated_data`` (e.g. the
  record's name or id) are authenticated, so an envelope cannot be moved to another record
  or relabelled with another key version.
- A :class:`Keyring` holds several key versions: the current one encrypts, any listed one
  decrypts, and :meth:`Keyring.needs_rotation` finds envelopes to re-encrypt after a rotation.

Why HKDF and not scrypt: master keys here are high-entropy keys (32 random bytes, or the
product's secret key of at least 32 characters), not passwords. Stretching adds nothing
against guessing such keys, while scrypt at a safe cost (~50 ms and 16 MiB per call) on every
envelope would make reading a few dozen secrets or tokens take seconds. HKDF (RFC 5869) is the
standard extract-and-expand step for high-entropy input; the per-envelope salt gives every
envelope its own AES key, so random GCM nonces can never collide under one key in practice.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from merge_assist.kit.settings import Settings

ENVELOPE_FORMAT = "v1"
SALT_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
AES_KEY_BYTES = 32
MIN_MASTER_KEY_BYTES = 32
GENERATED_KEY_BYTES = 32

_VERSION = re.compile(r"[1-9][0-9]{0,8}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_PURPOSE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_ENVELOPE_SHAPE = "v1:<key version>:<salt>:<nonce>:<ciphertext>"


class DecryptionError(ValueError):
    """An envelope could not be opened (modified, wrong key or record, unknown version, garbled).

    The message never contains the envelope or any key material.
    """


@dataclass(frozen=True, repr=False)
class MasterKey:
    """One version of a master key; ``material`` must hold at least 32 bytes of entropy."""

    version: int
    material: bytes

    def __post_init__(self) -> None:
        if not 1 <= self.version < 10**9:
            raise ValueError(f"key versions are whole numbers from 1, not {self.version}")
        if len(self.material) < MIN_MASTER_KEY_BYTES:
            raise ValueError(
                f"key version {self.version} is too short: a master key needs at least "
                f"{MIN_MASTER_KEY_BYTES} bytes (use e.g. `openssl rand -base64 48`)"
            )

    def __repr__(self) -> str:
        return f"MasterKey(version={self.version}, material=<redacted>)"


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    # The stdlib decoder silently skips characters outside the alphabet; check them first.
    if not _B64URL.fullmatch(text):
        raise DecryptionError(f"not an encrypted envelope (expected {_ENVELOPE_SHAPE})")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as error:
        raise DecryptionError(f"not an encrypted envelope (expected {_ENVELOPE_SHAPE})") from error


@dataclass(frozen=True)
class _Envelope:
    key_version: int
    salt: bytes
    nonce: bytes
    sealed: bytes

    @property
    def header(self) -> bytes:
        return _header(self.key_version)


def _header(key_version: int) -> bytes:
    # Authenticated with the ciphertext, so the format and key version cannot be relabelled.
    return f"{ENVELOPE_FORMAT}:{key_version}:".encode("ascii")


def _parse(envelope: str) -> _Envelope:
    if not isinstance(envelope, str):
        raise DecryptionError(f"an envelope is text, not {type(envelope).__name__}")
    parts = envelope.strip().split(":")
    if len(parts) != 5 or parts[0] != ENVELOPE_FORMAT or not _VERSION.fullmatch(parts[1]):
        raise DecryptionError(f"not an encrypted envelope (expected {_ENVELOPE_SHAPE})")
    parsed = _Envelope(
        key_version=int(parts[1]),
        salt=_b64decode(parts[2]),
        nonce=_b64decode(parts[3]),
        sealed=_b64decode(parts[4]),
    )
    if (
        len(parsed.salt) != SALT_BYTES
        or len(parsed.nonce) != NONCE_BYTES
        or len(parsed.sealed) < TAG_BYTES
    ):
        raise DecryptionError("the envelope is truncated or garbled")
    return parsed


def envelope_key_version(envelope: str) -> int:
    """The key version an envelope was sealed with (raises :class:`DecryptionError` if garbled)."""
    return _parse(envelope).key_version


class Keyring:
    """Versioned master keys for one purpose: the newest (or chosen) version encrypts."""

    def __init__(
        self, keys: Iterable[MasterKey], *, purpose: str, current_version: int | None = None
    ) -> None:
        by_version: dict[int, MasterKey] = {}
        for key in keys:
            if key.version in by_version:
                raise ValueError(f"key version {key.version} is listed twice")
            by_version[key.version] = key
        if not by_version:
            raise ValueError("a keyring needs at least one key")
        if not _PURPOSE.fullmatch(purpose):
            raise ValueError(f"a keyring purpose is a short lower-case label, not {purpose!r}")
        current = max(by_version) if current_version is None else current_version
        if current not in by_version:
            raise ValueError(f"the current key version {current} is not in the keyring")
        self._keys = by_version
        self._current = current
        self.purpose = purpose

    @classmethod
    def generate(cls, *, purpose: str) -> Keyring:
        """A keyring with one fresh random key (version 1)."""
        return cls([MasterKey(1, secrets.token_bytes(GENERATED_KEY_BYTES))], purpose=purpose)

    @classmethod
    def from_secrets(
        cls, secrets_by_version: Mapping[int, str | bytes], *, purpose: str
    ) -> Keyring:
        """A keyring from text or byte secrets by version; the highest version encrypts."""
        return cls(
            (
                MasterKey(version, value.encode("utf-8") if isinstance(value, str) else value)
                for version, value in secrets_by_version.items()
            ),
            purpose=purpose,
        )

    @property
    def current_version(self) -> int:
        """The version new envelopes are sealed with."""
        return self._current

    @property
    def versions(self) -> tuple[int, ...]:
        """Every version this keyring can open, oldest first."""
        return tuple(sorted(self._keys))

    @property
    def keys(self) -> tuple[MasterKey, ...]:
        """The master keys, oldest first (for whoever persists the keyring)."""
        return tuple(self._keys[version] for version in self.versions)

    def with_new_key(self, material: bytes | None = None) -> Keyring:
        """A copy with one more version (random unless given) that becomes the current one."""
        new_key = MasterKey(
            max(self._keys) + 1, material or secrets.token_bytes(GENERATED_KEY_BYTES)
        )
        return Keyring([*self.keys, new_key], purpose=self.purpose)

    def without_old_keys(self) -> Keyring:
        """A copy holding only the current version."""
        return Keyring([self._keys[self._current]], purpose=self.purpose)

    def _aes(self, version: int, salt: bytes) -> AESGCM:
        info = f"merge-assist:{self.purpose}:{ENVELOPE_FORMAT}:{version}".encode("ascii")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=AES_KEY_BYTES, salt=salt, info=info)
        return AESGCM(hkdf.derive(self._keys[version].material))

    def encrypt(self, plaintext: bytes, *, associated_data: bytes = b"") -> str:
        """Seal ``plaintext`` with the current key, bound to ``associated_data``."""
        if not isinstance(plaintext, bytes | bytearray):
            raise TypeError("encrypt takes bytes; encode text first (e.g. value.encode())")
        salt = secrets.token_bytes(SALT_BYTES)
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aes(self._current, salt).encrypt(
            nonce, bytes(plaintext), _header(self._current) + associated_data
        )
        parts = (ENVELOPE_FORMAT, str(self._current), *map(_b64encode, (salt, nonce, sealed)))
        return ":".join(parts)

    def decrypt(self, envelope: str, *, associated_data: bytes = b"") -> bytes:
        """Open an envelope sealed by any version of this keyring for this ``associated_data``."""
        parsed = _parse(envelope)
        if parsed.key_version not in self._keys:
            held = ", ".join(str(version) for version in self.versions)
            raise DecryptionError(
                f"the envelope was sealed with key version {parsed.key_version}, "
                f"which this keyring does not hold (it holds {held})"
            )
        try:
            return self._aes(parsed.key_version, parsed.salt).decrypt(
                parsed.nonce, parsed.sealed, parsed.header + associated_data
            )
        except InvalidTag as error:
            raise DecryptionError(
                "the envelope does not authenticate: it was modified, or it was sealed with "
                "another key, for another purpose or for another record"
            ) from error

    def needs_rotation(self, envelope: str) -> bool:
        """Whether an envelope was sealed with a key version other than the current one."""
        return _parse(envelope).key_version != self._current

    def reencrypt(self, envelope: str, *, associated_data: bytes = b"") -> str:
        """Open an envelope and seal its content again with the current key."""
        plaintext = self.decrypt(envelope, associated_data=associated_data)
        return self.encrypt(plaintext, associated_data=associated_data)

    def __repr__(self) -> str:
        return (
            f"Keyring(purpose={self.purpose!r}, versions={self.versions}, "
            f"current_version={self._current})"
        )


def parse_versioned_keys(text: str) -> dict[int, str]:
    """Parse ``"2:new-key,1:old-key"`` into ``{2: "new-key", 1: "old-key"}``.

    Keys may contain ``:`` but not ``,``. Raises ``ValueError`` with a sentence, never echoing
    the keys.
    """
    result: dict[int, str] = {}
    for position, entry in enumerate(text.split(","), start=1):
        version_text, separator, key = entry.strip().partition(":")
        if not separator or not _VERSION.fullmatch(version_text) or not key:
            raise ValueError(
                f"entry {position} of the key list is not '<version>:<key>' "
                "(e.g. '2:<new key>,1:<old key>')"
            )
        version = int(version_text)
        if version in result:
            raise ValueError(f"key version {version} is listed twice")
        result[version] = key
    return result


JWT_SIGNING = "jwt-signing"
CSRF = "csrf"


def derive_key(secret: str | bytes, purpose: str) -> bytes:
    """A 32-byte key for one ``purpose`` derived from the product secret key (HKDF-SHA256,
    the purpose in ``info``), so signing tokens and checking CSRF never use the secret key
    itself nor each other's key. Encryption at rest derives its own keys per envelope
    (:class:`Keyring`, info ``merge-assist:<purpose>:v1:<version>``): those never collide
    with these (info ``merge-assist:derived:<purpose>``)."""
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"a key purpose is a short lower-case label, not {purpose!r}")
    material = secret.encode("utf-8") if isinstance(secret, str) else secret
    info = f"merge-assist:derived:{purpose}".encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=AES_KEY_BYTES, salt=None, info=info).derive(
        material
    )


def server_keyring(settings: Settings, *, purpose: str) -> Keyring:
    """The server's keyring for data encrypted at rest (e.g. ``purpose="gitlab-pat"``).

    From ``MERGE_ASSIST_ENCRYPTION_KEYS`` (``"2:<new>,1:<old>"``; the highest version
    encrypts) when set, otherwise version 1 is the product secret key. To rotate, set
    ``2:<new key>,1:<current secret key>``, re-encrypt what :meth:`Keyring.needs_rotation`
    flags, then drop version 1.
    """
    configured = settings.encryption_keys.get_secret_value() if settings.encryption_keys else ""
    if configured.strip():
        return Keyring.from_secrets(parse_versioned_keys(configured), purpose=purpose)
    return Keyring.from_secrets({1: settings.resolved_secret_key()}, purpose=purpose)
