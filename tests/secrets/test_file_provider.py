from __future__ import annotations

import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from merge_assist.kit.crypto import envelope_key_version
from merge_assist.kit.settings import Environment, Settings
from merge_assist.secrets.errors import InvalidSecretValue, SecretNotFound, SecretStoreError
from merge_assist.secrets.file_provider import FileSecretProvider

PLAINTEXT = "glpat-very-secret-value-1234"


@pytest.fixture
def store(tmp_path: Path) -> FileSecretProvider:
    return FileSecretProvider(
        tmp_path / "data" / "secrets.json", tmp_path / "data" / "secrets.keys"
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _entries(store: FileSecretProvider) -> dict[str, str]:
    entries: dict[str, str] = json.loads(store.secrets_path.read_text())
    return entries


def test_round_trip(store: FileSecretProvider) -> None:
    assert store.get("bot-token") is None
    assert store.list_names() == []
    store.set("bot-token", PLAINTEXT)
    store.set("webhook.secret", "w1")
    store.set("webhook.secret", "w2 ünïcode")
    assert store.get("bot-token") == PLAINTEXT
    assert store.get("webhook.secret") == "w2 ünïcode"
    assert store.list_names() == ["bot-token", "webhook.secret"]
    store.delete("bot-token")
    assert store.get("bot-token") is None
    assert store.list_names() == ["webhook.secret"]
    with pytest.raises(SecretNotFound, match="bot-token"):
        store.delete("bot-token")
    with pytest.raises(InvalidSecretValue):
        store.set("empty", "")


def test_plaintext_never_reaches_the_disk(store: FileSecretProvider) -> None:
    store.set("bot-token", PLAINTEXT)
    for path in store.secrets_path.parent.iterdir():
        assert PLAINTEXT.encode() not in path.read_bytes(), path
    assert _entries(store)["bot-token"].startswith("v1:1:")


def test_files_are_owner_only(store: FileSecretProvider) -> None:
    store.set("bot-token", PLAINTEXT)
    assert _mode(store.secrets_path) == 0o600
    assert _mode(store.keys_path) == 0o600
    assert _mode(store.secrets_path.parent) == 0o700
    keys = json.loads(store.keys_path.read_text())
    assert [record["version"] for record in keys] == [1]


@pytest.mark.parametrize("which", ["secrets_path", "keys_path"])
def test_files_readable_by_others_are_refused(store: FileSecretProvider, which: str) -> None:
    store.set("bot-token", PLAINTEXT)
    path: Path = getattr(store, which)
    path.chmod(0o644)
    with pytest.raises(SecretStoreError, match=r"chmod 600"):
        store.get("bot-token")


def test_modified_entry_is_detected(store: FileSecretProvider) -> None:
    store.set("bot-token", PLAINTEXT)
    entries = _entries(store)
    envelope = entries["bot-token"]
    # Not the last character: in unpadded base64 some of its bits may be unused, so changing
    # it can leave the bytes as they were (the test then failed about one run in sixteen).
    middle = envelope[-5]
    entries["bot-token"] = envelope[:-5] + ("A" if middle != "A" else "B") + envelope[-4:]
    store.secrets_path.write_text(json.dumps(entries))
    with pytest.raises(SecretStoreError, match=r"cannot be decrypted.*modified"):
        store.get("bot-token")


def test_entry_moved_to_another_name_is_detected(store: FileSecretProvider) -> None:
    store.set("bot-token", PLAINTEXT)
    store.set("webhook", "w")
    entries = _entries(store)
    entries["webhook"] = entries["bot-token"]
    store.secrets_path.write_text(json.dumps(entries))
    with pytest.raises(SecretStoreError, match=r"'webhook' .* cannot be decrypted"):
        store.get("webhook")


def test_garbled_files_are_clear_errors(store: FileSecretProvider) -> None:
    store.set("bot-token", PLAINTEXT)
    store.secrets_path.write_text("{not json")
    with pytest.raises(SecretStoreError, match="not valid JSON"):
        store.list_names()
    store.secrets_path.write_text('["a list"]')
    with pytest.raises(SecretStoreError, match="not a secrets file"):
        store.list_names()
    store.secrets_path.write_text(json.dumps({"bot-token": "v1:1:garbage"}))
    with pytest.raises(SecretStoreError, match="cannot be decrypted"):
        store.get("bot-token")
    store.keys_path.write_text('[{"version": 1, "key": "dG9vIHNob3J0"}]')
    with pytest.raises(SecretStoreError, match="not a valid keys file"):
        store.get("bot-token")


def test_lost_keys_file_is_never_silently_regenerated(store: FileSecretProvider) -> None:
    store.set("bot-token", PLAINTEXT)
    store.keys_path.unlink()
    with pytest.raises(SecretStoreError, match=r"keys file .* is missing"):
        store.get("bot-token")
    with pytest.raises(SecretStoreError, match="missing"):
        store.set("other", "value")
    assert not store.keys_path.exists()


def test_symlinked_file_is_refused(store: FileSecretProvider, tmp_path: Path) -> None:
    store.set("bot-token", PLAINTEXT)
    real = tmp_path / "elsewhere.json"
    store.secrets_path.rename(real)
    os.symlink(real, store.secrets_path)
    with pytest.raises(SecretStoreError, match="symbolic link"):
        store.list_names()


def test_rotation_reencrypts_and_drop_old_forgets_old_keys(store: FileSecretProvider) -> None:
    store.set("bot-token", PLAINTEXT)
    store.set("webhook", "w")
    before = _entries(store)

    result = store.rotate()
    assert (result.key_version, result.reencrypted, result.dropped_versions) == (2, 2, ())
    after = _entries(store)
    assert {envelope_key_version(e) for e in after.values()} == {2}
    assert after["bot-token"] != before["bot-token"]
    assert store.key_versions() == (1, 2)
    assert store.get("bot-token") == PLAINTEXT

    # Old envelopes (e.g. a restored backup) still open until the old keys are dropped.
    store.secrets_path.write_text(json.dumps(before))
    store.secrets_path.chmod(0o600)
    assert store.get("webhook") == "w"

    result = store.rotate(drop_old=True)
    assert (result.key_version, result.dropped_versions) == (3, (1, 2))
    assert store.key_versions() == (3,)
    assert {envelope_key_version(e) for e in _entries(store).values()} == {3}
    assert store.get("bot-token") == PLAINTEXT
    assert store.get("webhook") == "w"
    assert _mode(store.keys_path) == 0o600


def test_rotation_stops_on_a_damaged_entry_without_changing_anything(
    store: FileSecretProvider,
) -> None:
    store.set("bot-token", PLAINTEXT)
    entries = _entries(store)
    entries["bot-token"] = entries["bot-token"][:-2] + "AA"
    store.secrets_path.write_text(json.dumps(entries))
    keys_before = store.keys_path.read_bytes()
    with pytest.raises(SecretStoreError, match="cannot be decrypted"):
        store.rotate()
    assert store.keys_path.read_bytes() == keys_before


def test_concurrent_writers_keep_every_write(tmp_path: Path) -> None:
    paths = (tmp_path / "secrets.json", tmp_path / "secrets.keys")

    def write_many(writer: int) -> None:
        # Each writer has its own provider, hence its own lock descriptors, like a process.
        provider = FileSecretProvider(*paths)
        for index in range(5):
            provider.set(f"writer{writer}-{index}", f"value-{writer}-{index}")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(write_many, range(6)))

    provider = FileSecretProvider(*paths)
    assert len(provider.list_names()) == 30
    assert provider.get("writer3-4") == "value-3-4"
    assert len(json.loads(paths[1].read_text())) == 1  # one key generated, not one per writer


def test_from_settings_uses_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(
        environment=Environment.test,
        data_dir=tmp_path,
        _env_file=None,  # type: ignore[call-arg]
    )
    provider = FileSecretProvider.from_settings(settings)
    assert provider.secrets_path == tmp_path / "secrets.json"
    assert provider.keys_path == tmp_path / "secrets.keys"
    custom = settings.model_copy(update={"secrets_file": tmp_path / "elsewhere" / "s.json"})
    assert (
        FileSecretProvider.from_settings(custom).secrets_path == tmp_path / "elsewhere" / "s.json"
    )
