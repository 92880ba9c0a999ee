"""Password hashing (argon2id), the password policy, and rehash-on-login."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from functools import cached_property, lru_cache

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from merge_assist.kit.errors import Unprocessable
from merge_assist.kit.settings import Environment, Settings

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

# "recommended" is argon2-cffi's own default (RFC 9106, low-memory variant).
PROFILES: dict[str, Parameters] = {
    "recommended": profiles.RFC_9106_LOW_MEMORY,
    "test": profiles.CHEAPEST,
}


def check_password_policy(password: str) -> None:
    """Refuse a password that is too short or too long, with a sentence saying why."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Unprocessable(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.")


def generate_password() -> str:
    """A random password that satisfies the policy (shown once to whoever asked for it)."""
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class Verification:
    """Outcome of checking a password: whether it matched, and a new hash when due."""

    ok: bool
    new_hash: str | None = None


class PasswordHashing:
    """argon2id with one parameter set; hashes made with other parameters are upgraded."""

    def __init__(self, parameters: Parameters) -> None:
        self._hasher = PasswordHasher.from_parameters(parameters)

    def hash(self, password: str) -> str:
        """Hash ``password`` with the current parameters (CPU-bound; see ``hash_async``)."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> Verification:
        """Check ``password``; when it matches a hash with old parameters, return a new hash."""
        try:
            self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verification(ok=False)
        if self._hasher.check_needs_rehash(stored_hash):
            return Verification(ok=True, new_hash=self._hasher.hash(password))
        return Verification(ok=True)

    def spend_verify_time(self) -> None:
        """Verify against a throw-away hash so an unknown user costs as much as a wrong password."""
        self.verify(self._dummy_hash, "not the password")

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(16))

    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    async def hash_async(self, password: str) -> str:
        """``hash`` in a worker thread."""
        return await asyncio.to_thread(self.hash, password)

    async def verify_async(self, stored_hash: str | None, password: str) -> Verification:
        """``verify`` in a worker thread; a missing hash spends the same time and fails."""
        if stored_hash is None:
            await asyncio.to_thread(self.spend_verify_time)
            return Verification(ok=False)
        return await asyncio.to_thread(self.verify, stored_hash, password)


@lru_cache(maxsize=4)
def _hashing_for_profile(profile: str) -> PasswordHashing:
    return PasswordHashing(PROFILES[profile])


def password_hashing(settings: Settings) -> PasswordHashing:
    """The hashing configured by ``settings``; the cheap test profile is refused in production."""
    cheap = settings.password_hash_profile == "test"  # noqa: S105 - a profile name
    if cheap and settings.environment is Environment.production:
        raise RuntimeError("password_hash_profile 'test' is for the test suite, not production.")
    return _hashing_for_profile(settings.password_hash_profile)
