"""The one-host stack (deploy/compose): parsed, its services run real commands of the one
image, start in the right order, and take their secrets from files made by make-secrets."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from merge_assist.kit.settings import Settings
from tests.deploy.conftest import COMPOSE, DEPLOY, is_cli_invocation

ROLES = {"migrate", "api", "listener", "worker", "watcher"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_the_stack_has_every_part(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == ROLES | {"postgres", "redis", "proxy"}
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["listener"].get("deploy", {}).get("replicas", 1) == 1
    assert services["watcher"].get("deploy", {}).get("replicas", 1) == 1


def test_every_product_service_runs_a_real_command_of_one_image(compose: dict[str, Any]) -> None:
    images = set()
    for name in ROLES:
        service = compose["services"][name]
        assert is_cli_invocation(service["command"]), (name, service["command"])
        images.add(service["image"])
    assert compose["services"]["migrate"]["command"] == ["db", "upgrade"]
    assert len(images) == 1


def test_migrations_run_first_and_once(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ROLES - {"migrate"}:
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name


def test_product_containers_are_locked_down(compose: dict[str, Any]) -> None:
    for name in ROLES:
        service = compose["services"][name]
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
        assert "/tmp" in service["tmpfs"]
        assert any(str(v).endswith(":/data") or v == "/data" for v in service["volumes"]), name


def test_secrets_come_from_files_and_no_secret_has_a_default(compose: dict[str, Any]) -> None:
    declared = compose["secrets"]
    assert all(set(entry) == {"file"} for entry in declared.values())
    text = COMPOSE.read_text()
    assert not re.search(r"(PASSWORD|TOKEN|SECRET_KEY|DATABASE_URL|REDIS_URL)\s*:\s*[^/\s]", text)
    fields = {f"MERGE_ASSIST_{name.upper()}" for name in Settings.model_fields}
    for name in ROLES:
        service = compose["services"][name]
        for variable, value in service["environment"].items():
            base = (
                variable.removesuffix("_FILE")
                if variable != "MERGE_ASSIST_SECRETS_FILE"
                else variable
            )
            assert base in fields, variable  # a real setting (the entry point reads *_FILE)
            if variable.endswith("_FILE") and variable != "MERGE_ASSIST_SECRETS_FILE":
                mounted = {s if isinstance(s, str) else s["source"] for s in service["secrets"]}
                assert Path(value).name in mounted, variable
        assert service["environment"]["MERGE_ASSIST_SECRETS_PROVIDER"] == "mounted"
    # The bot token lands where the `mounted` provider reads it.
    (bot,) = [s for s in compose["services"]["api"]["secrets"] if isinstance(s, dict)]
    mount_dir = compose["services"]["api"]["environment"]["MERGE_ASSIST_SECRETS_MOUNT_DIR"]
    assert bot["target"] == f"{mount_dir}/gitlab-bot-token"
    postgres = compose["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres-password"


def test_make_secrets_writes_every_file_the_stack_reads(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "compose"
    folder.mkdir()
    script = folder / "make-secrets"
    script.write_bytes((DEPLOY / "compose" / "make-secrets").read_bytes())
    script.chmod(0o755)
    first = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert "gitlab-bot-token" in first.stderr  # the one the operator writes
    secrets = folder / "secrets"
    made = {p.name for p in secrets.iterdir()}
    wanted = {Path(entry["file"]).name for entry in compose["secrets"].values()}
    assert wanted - made == {"gitlab-bot-token"}
    for path in secrets.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    database = urlsplit((secrets / "database-url").read_text())
    assert database.password == (secrets / "postgres-password").read_text()
    assert (database.hostname, database.path) == ("postgres", "/merge_assist")
    redis = urlsplit((secrets / "redis-url").read_text())
    assert (redis.hostname, redis.password) == ("redis", (secrets / "redis-password").read_text())
    settings = Settings(
        database_url=(secrets / "database-url").read_text(),
        secret_key=(secrets / "secret-key").read_text(),
        environment="production",
    )
    assert settings.resolved_secret_key() == (secrets / "secret-key").read_text()
    before = {p.name: p.read_text() for p in secrets.iterdir()}
    again = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    assert again.returncode == 0
    assert {p.name: p.read_text() for p in secrets.iterdir()} == before  # kept, not replaced


def test_the_proxy_sends_the_webhook_to_the_listener_and_the_rest_to_the_api(
    compose: dict[str, Any],
) -> None:
    config = (DEPLOY / "compose" / "nginx.conf").read_text()
    locations = dict(re.findall(r"location (?:= )?(\S+) \{\s*set \$\w+ http://(\w+):8080;", config))
    assert locations == {"/webhook/gitlab": "listener", "/api/ws/updates": "api", "/": "api"}
    assert "proxy_set_header Upgrade $http_upgrade;" in config
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in compose["services"]["proxy"]["volumes"]
    # The API believes X-Forwarded-For only from the proxy's network.
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    assert compose["services"]["api"]["environment"]["MERGE_ASSIST_TRUSTED_PROXIES"] == subnet
    assert os.path.basename(compose["services"]["proxy"]["image"]).startswith("nginx:1.")
