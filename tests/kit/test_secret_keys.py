"""The product secret key: at least 32 bytes, and separate keys derived from it per purpose;
data encrypted before the derived keys came still reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from merge_assist.kit.crypto import CSRF, JWT_SIGNING, derive_key, server_keyring
from merge_assist.kit.settings import SECRET_KEY_FILE, Environment, Settings

SECRET = "s" * 48
# Sealed by the code before this change (seal_token of auth.gitlab_identities, user 7).
SEALED_BEFORE = (
    "v1:1:Nr00DpYM27CfBH_BTPR3ig:g0Uky-xNJYAvqeTw:"
    "5VcpTsMGDPbWLoE11QPVH5-br3jVV54qerr5khBNWa2GOb3cFN0_EsN318WJTIff"
)


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        _env_file=None,  # type: ignore[call-arg]
        **values,  # type: ignore[arg-type]
    )


def test_a_short_secret_key_is_refused_with_a_sentence(tmp_path: Path) -> None:
    settings = _settings(tmp_path, secret_key="short-secret-value-of-31-bytes!")
    with pytest.raises(RuntimeError, match=r"is 31 bytes long; it must have at least 32") as err:
        settings.resolved_secret_key()
    assert "short-secret-value" not in str(err.value)
    assert _settings(tmp_path, secret_key="k" * 32).resolved_secret_key() == "k" * 32


def test_a_short_key_file_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / SECRET_KEY_FILE).write_text("too-short\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="9 bytes long"):
        settings.resolved_secret_key()


async def test_the_api_refuses_to_start_with_a_short_key(tmp_path: Path) -> None:
    from merge_assist.server.app import create_app

    settings = _settings(
        tmp_path,
        secret_key="k" * 20,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'short.sqlite3'}",
    )
    app = create_app(settings)
    with pytest.raises(RuntimeError, match="at least 32"):
        async with app.router.lifespan_context(app):
            pass


def test_a_generated_key_is_long_enough(tmp_path: Path) -> None:
    assert len(_settings(tmp_path).resolved_secret_key().encode()) >= 32


def test_derived_keys_differ_from_each_other_and_from_the_secret() -> None:
    jwt_key, csrf_key = derive_key(SECRET, JWT_SIGNING), derive_key(SECRET, CSRF)
    assert len(jwt_key) == len(csrf_key) == 32
    assert jwt_key != csrf_key
    assert SECRET.encode() not in (jwt_key, csrf_key)
    assert derive_key(SECRET, JWT_SIGNING) == jwt_key  # the same every time
    assert derive_key("t" * 48, JWT_SIGNING) != jwt_key
    with pytest.raises(ValueError, match="purpose"):
        derive_key(SECRET, "Not A Label")


def test_data_encrypted_before_still_reads(tmp_path: Path) -> None:
    ring = server_keyring(_settings(tmp_path, secret_key=SECRET), purpose="gitlab-pat")
    plain = ring.decrypt(SEALED_BEFORE, associated_data=b"gitlab-identities:user:7")
    assert plain == b"glpat-sealed-before-derived-keys"
