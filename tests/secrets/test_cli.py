from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from merge_assist.cli import app
from merge_assist.kit.crypto import envelope_key_version
from merge_assist.kit.settings import get_settings

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI's settings come from the environment: a file provider in a fresh data folder."""
    monkeypatch.chdir(tmp_path)  # no stray .env file
    for variable in ("MERGE_ASSIST_SECRETS_FILE", "MERGE_ASSIST_SECRET_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MERGE_ASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MERGE_ASSIST_SECRETS_PROVIDER", "file")
    monkeypatch.setenv("MERGE_ASSIST_SECRETS_MOUNT_DIR", str(tmp_path / "mount"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def secrets(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["secrets", *args], input=stdin)


def test_set_get_list_delete(data_dir: Path) -> None:
    assert secrets("set", "bot-token", stdin="glpat-secret\n").exit_code == 0
    assert secrets("set", "webhook", stdin="hook value").exit_code == 0
    got = secrets("get", "bot-token")
    assert (got.exit_code, got.stdout) == (0, "glpat-secret\n")
    listed = secrets("list")
    assert (listed.exit_code, listed.stdout) == (0, "bot-token\nwebhook\n")
    assert "glpat-secret" not in (data_dir / "secrets.json").read_text()
    assert secrets("delete", "bot-token").exit_code == 0
    missing = secrets("get", "bot-token")
    assert missing.exit_code == 1
    assert "There is no secret named bot-token" in missing.stderr


def test_value_is_never_an_argument(data_dir: Path) -> None:
    result = secrets("set", "bot-token", "glpat-in-argv")
    assert result.exit_code == 2
    assert not (data_dir / "secrets.json").exists()


def test_empty_value_is_refused(data_dir: Path) -> None:
    result = secrets("set", "bot-token", stdin="\n")
    assert result.exit_code == 1
    assert "empty" in result.stderr
    assert secrets("list").stdout == ""


def test_invalid_name_is_a_sentence(data_dir: Path) -> None:
    result = secrets("set", "../etc/passwd", stdin="x")
    assert result.exit_code == 1
    assert "not a valid secret name" in result.stderr


def test_rotate_and_drop_old(data_dir: Path) -> None:
    secrets("set", "bot-token", stdin="glpat-secret")
    rotated = secrets("rotate")
    assert rotated.exit_code == 0
    assert "key version 2" in rotated.stdout
    envelope = json.loads((data_dir / "secrets.json").read_text())["bot-token"]
    assert envelope_key_version(envelope) == 2
    dropped = secrets("rotate", "--drop-old")
    assert dropped.exit_code == 0
    assert "Dropped key version(s) 1, 2." in dropped.stdout
    keys = json.loads((data_dir / "secrets.keys").read_text())
    assert [record["version"] for record in keys] == [3]
    assert secrets("get", "bot-token").stdout == "glpat-secret\n"


def test_tampering_is_reported_without_a_traceback(data_dir: Path) -> None:
    secrets("set", "bot-token", stdin="glpat-secret")
    path = data_dir / "secrets.json"
    entries = json.loads(path.read_text())
    envelope = entries["bot-token"]  # a character whose bits all count (not the last one)
    entries["bot-token"] = envelope[:-5] + ("A" if envelope[-5] != "A" else "B") + envelope[-4:]
    path.write_text(json.dumps(entries))
    result = secrets("get", "bot-token")
    assert result.exit_code == 1
    assert "cannot be decrypted" in result.stderr
    assert "Traceback" not in result.output


def test_provider_option_overrides_the_setting(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERGE_ASSIST_SECRET_WEBHOOK", "from-env")
    get_settings.cache_clear()
    assert secrets("get", "webhook", "--provider", "env").stdout == "from-env\n"
    refused = secrets("set", "webhook", "--provider", "env", stdin="x")
    assert refused.exit_code == 1
    assert "read-only" in refused.stderr
    rotation = secrets("rotate", "--provider", "env")
    assert rotation.exit_code == 1
    assert "whoever sets the environment" in rotation.stdout
    unknown = secrets("list", "--provider", "vault")
    assert unknown.exit_code == 1
    assert "no secrets provider named 'vault'" in unknown.stderr


def test_mounted_provider_through_the_cli(data_dir: Path, tmp_path: Path) -> None:
    mount = tmp_path / "mount"
    mount.mkdir()
    (mount / "bot-token").write_text("glpat-mounted\n")
    assert secrets("get", "bot-token", "--provider", "mounted").stdout == "glpat-mounted\n"
    assert secrets("list", "--provider", "mounted").stdout == "bot-token\n"
    rotation = secrets("rotate", "--provider", "mounted")
    assert "Kubernetes secret" in rotation.stdout
