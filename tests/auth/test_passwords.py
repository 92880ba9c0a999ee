from __future__ import annotations

import pytest
from argon2 import Parameters, profiles

from merge_assist.auth.passwords import (
    PROFILES,
    PasswordHashing,
    check_password_policy,
    generate_password,
    password_hashing,
)
from merge_assist.kit.errors import Unprocessable
from merge_assist.kit.settings import Environment, Settings

CHEAP = profiles.CHEAPEST
CHEAP_BUT_SLOWER = Parameters(
    type=CHEAP.type,
    version=CHEAP.version,
    salt_len=CHEAP.salt_len,
    hash_len=CHEAP.hash_len,
    time_cost=CHEAP.time_cost + 1,
    memory_cost=CHEAP.memory_cost,
    parallelism=CHEAP.parallelism,
)


def test_hash_verifies_only_the_right_password() -> None:
    hashing = PasswordHashing(CHEAP)
    stored = hashing.hash("a long enough password")
    assert stored.startswith("$argon2id$")
    assert "a long enough password" not in stored
    assert hashing.verify(stored, "a long enough password").ok
    assert not hashing.verify(stored, "a long enough passwore").ok


def test_hashes_are_salted() -> None:
    hashing = PasswordHashing(CHEAP)
    assert hashing.hash("same password here") != hashing.hash("same password here")


def test_garbage_hash_is_a_failed_verification() -> None:
    assert not PasswordHashing(CHEAP).verify("not-a-hash", "whatever password").ok


def test_current_parameters_need_no_rehash() -> None:
    hashing = PasswordHashing(CHEAP)
    check = hashing.verify(hashing.hash("twelve chars ok"), "twelve chars ok")
    assert check.ok
    assert check.new_hash is None


def test_changed_parameters_rehash_on_success() -> None:
    old = PasswordHashing(CHEAP).hash("twelve chars ok")
    check = PasswordHashing(CHEAP_BUT_SLOWER).verify(old, "twelve chars ok")
    assert check.ok
    assert check.new_hash is not None
    assert f"t={CHEAP_BUT_SLOWER.time_cost}" in check.new_hash
    assert (
        PasswordHashing(CHEAP_BUT_SLOWER).verify(check.new_hash, "twelve chars ok").new_hash is None
    )


def test_wrong_password_never_rehashes() -> None:
    old = PasswordHashing(CHEAP).hash("twelve chars ok")
    check = PasswordHashing(CHEAP_BUT_SLOWER).verify(old, "twelve chars no")
    assert check == check.__class__(ok=False, new_hash=None)


async def test_missing_hash_fails_after_spending_a_verification() -> None:
    hashing = PasswordHashing(CHEAP)
    assert not (await hashing.verify_async(None, "any password at all")).ok
    stored = await hashing.hash_async("any password at all")
    assert (await hashing.verify_async(stored, "any password at all")).ok


@pytest.mark.parametrize("length", [12, 100, 256])
def test_policy_accepts_12_to_256_characters(length: int) -> None:
    check_password_policy("x" * length)


@pytest.mark.parametrize(("length", "word"), [(0, "least"), (11, "least"), (257, "most")])
def test_policy_refuses_with_a_sentence(length: int, word: str) -> None:
    with pytest.raises(Unprocessable, match=f"at {word}"):
        check_password_policy("x" * length)


def test_generated_passwords_pass_the_policy_and_differ() -> None:
    first, second = generate_password(), generate_password()
    check_password_policy(first)
    assert first != second


def test_recommended_profile_is_the_library_default() -> None:
    assert PROFILES["recommended"] == profiles.RFC_9106_LOW_MEMORY
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    assert default.password_hash_profile == "recommended"


def test_production_refuses_the_test_profile() -> None:
    settings = Settings(
        environment=Environment.production,
        password_hash_profile="test",
        _env_file=None,  # type: ignore[call-arg]
    )
    with pytest.raises(RuntimeError, match="test suite"):
        password_hashing(settings)
