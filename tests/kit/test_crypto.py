from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.kit.crypto import (
    DecryptionError,
    Keyring,
    MasterKey,
    envelope_key_version,
    parse_versioned_keys,
    server_keyring,
)
from merge_assist.kit.settings import Environment, Settings

KEY_A = b"a" * 32
KEY_B = b"b" * 32
# Built once: hypothesis forbids function-scoped fixtures in @given tests.
RING = Keyring([MasterKey(1, KEY_A)], purpose="test")


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path,
        _env_file=None,  # type: ignore[call-arg]
        **overrides,  # type: ignore[arg-type]
    )


def _flip_last_byte_of(part: int, envelope: str) -> str:
    parts = envelope.split(":")
    raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=" * (-len(parts[part]) % 4)))
    raw[-1] ^= 0x01
    parts[part] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return ":".join(parts)


@given(plaintext=st.binary(max_size=4096), associated_data=st.binary(max_size=256))
def test_round_trip(plaintext: bytes, associated_data: bytes) -> None:
    envelope = RING.encrypt(plaintext, associated_data=associated_data)
    assert RING.decrypt(envelope, associated_data=associated_data) == plaintext


@given(plaintext=st.binary(min_size=1, max_size=512))
def test_envelope_does_not_contain_plaintext_and_is_versioned(plaintext: bytes) -> None:
    envelope = RING.encrypt(plaintext)
    assert envelope.startswith("v1:1:")
    assert envelope_key_version(envelope) == 1
    assert base64.urlsafe_b64encode(plaintext).rstrip(b"=").decode() not in envelope.split(":")


@given(
    plaintext=st.binary(max_size=256),
    part=st.sampled_from([2, 3, 4]),
)
def test_any_modified_part_is_detected(plaintext: bytes, part: int) -> None:
    envelope = RING.encrypt(plaintext, associated_data=b"record")
    with pytest.raises(DecryptionError, match="does not authenticate"):
        RING.decrypt(_flip_last_byte_of(part, envelope), associated_data=b"record")


def test_same_plaintext_gives_different_envelopes() -> None:
    assert RING.encrypt(b"same") != RING.encrypt(b"same")


def test_envelope_cannot_move_to_another_record() -> None:
    envelope = RING.encrypt(b"token", associated_data=b"user:1")
    with pytest.raises(DecryptionError, match="another record"):
        RING.decrypt(envelope, associated_data=b"user:2")


def test_wrong_key_and_other_purpose_are_refused() -> None:
    envelope = RING.encrypt(b"token")
    with pytest.raises(DecryptionError):
        Keyring([MasterKey(1, KEY_B)], purpose="test").decrypt(envelope)
    with pytest.raises(DecryptionError):
        Keyring([MasterKey(1, KEY_A)], purpose="other").decrypt(envelope)


def test_relabelled_key_version_is_refused() -> None:
    ring = Keyring([MasterKey(1, KEY_A), MasterKey(2, KEY_A)], purpose="test")
    envelope = ring.encrypt(b"token")
    relabelled = envelope.replace("v1:2:", "v1:1:", 1)
    with pytest.raises(DecryptionError):
        ring.decrypt(relabelled)


def test_unknown_version_names_the_versions_held() -> None:
    newer = RING.with_new_key()
    envelope = newer.encrypt(b"token")
    with pytest.raises(DecryptionError, match="key version 2, which this keyring does not hold"):
        RING.decrypt(envelope)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "plain text",
        "v2:1:AAAA:AAAA:AAAA",
        "v1:0:AAAA:AAAA:AAAA",
        "v1:x:AAAA:AAAA:AAAA",
        "v1:1:AAAA:AAAA:AAAA",
        "v1:1:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAA:AA+A",
        "v1:1:a:b:c:d",
    ],
)
def test_garbled_envelopes_raise_decryption_error(garbage: str) -> None:
    with pytest.raises(DecryptionError):
        RING.decrypt(garbage)
    with pytest.raises(DecryptionError):
        RING.needs_rotation(garbage)


def test_rotation_flags_old_envelopes_and_reencrypts() -> None:
    old = RING.encrypt(b"token", associated_data=b"name")
    rotated_ring = RING.with_new_key()
    assert rotated_ring.current_version == 2
    assert rotated_ring.versions == (1, 2)
    assert rotated_ring.needs_rotation(old)
    fresh = rotated_ring.reencrypt(old, associated_data=b"name")
    assert envelope_key_version(fresh) == 2
    assert not rotated_ring.needs_rotation(fresh)
    only_new = rotated_ring.without_old_keys()
    assert only_new.versions == (2,)
    assert only_new.decrypt(fresh, associated_data=b"name") == b"token"
    with pytest.raises(DecryptionError):
        only_new.decrypt(old, associated_data=b"name")


def test_keys_are_validated_and_never_shown() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        MasterKey(1, b"short")
    with pytest.raises(ValueError, match="whole numbers"):
        MasterKey(0, KEY_A)
    with pytest.raises(ValueError, match="listed twice"):
        Keyring([MasterKey(1, KEY_A), MasterKey(1, KEY_B)], purpose="test")
    with pytest.raises(ValueError, match="purpose"):
        Keyring([MasterKey(1, KEY_A)], purpose="Not A Label")
    assert "aaaa" not in repr(MasterKey(1, KEY_A))
    assert "aaaa" not in repr(RING)


def test_encrypt_refuses_text() -> None:
    with pytest.raises(TypeError, match="bytes"):
        RING.encrypt("text")  # type: ignore[arg-type]


def test_parse_versioned_keys() -> None:
    assert parse_versioned_keys("2:new:with:colons, 1:old") == {2: "new:with:colons", 1: "old"}
    with pytest.raises(ValueError, match="entry 2"):
        parse_versioned_keys("1:abc,oops")
    with pytest.raises(ValueError, match="listed twice"):
        parse_versioned_keys("1:abc,1:def")


def test_server_keyring_defaults_to_the_secret_key(tmp_path: Path) -> None:
    secret = "s" * 48
    ring = server_keyring(_settings(tmp_path, secret_key=secret), purpose="gitlab-pat")
    assert ring.versions == (1,)
    same = Keyring.from_secrets({1: secret}, purpose="gitlab-pat")
    assert same.decrypt(
        ring.encrypt(b"glpat-x", associated_data=b"user:7"), associated_data=b"user:7"
    )


def test_server_keyring_rotation_with_encryption_keys(tmp_path: Path) -> None:
    old_secret, new_secret = "o" * 40, "n" * 40
    before = server_keyring(_settings(tmp_path, secret_key=old_secret), purpose="gitlab-pat")
    stored = before.encrypt(b"glpat-x", associated_data=b"user:7")
    after = server_keyring(
        _settings(
            tmp_path, secret_key=old_secret, encryption_keys=f"2:{new_secret},1:{old_secret}"
        ),
        purpose="gitlab-pat",
    )
    assert after.current_version == 2
    assert after.needs_rotation(stored)
    fresh = after.reencrypt(stored, associated_data=b"user:7")
    final = server_keyring(
        _settings(tmp_path, secret_key=old_secret, encryption_keys=f"2:{new_secret}"),
        purpose="gitlab-pat",
    )
    assert final.decrypt(fresh, associated_data=b"user:7") == b"glpat-x"
