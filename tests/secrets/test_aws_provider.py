"""The AWS provider against a real local Secrets Manager (moto's threaded HTTP server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from merge_assist.kit.settings import Environment, Settings
from merge_assist.secrets.aws_provider import AwsSecretProvider
from merge_assist.secrets.errors import InvalidSecretName, SecretNotFound, SecretStoreError
from merge_assist.secrets.providers import provider_from_settings

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def settings(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """Settings pointing at an emptied moto server, with dummy credentials only."""
    httpx.post(f"{moto_url}/moto-api/reset").raise_for_status()
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path,
        secrets_provider="aws",
        aws_region=REGION,
        aws_endpoint_url=moto_url,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def provider(settings: Settings) -> AwsSecretProvider:
    built = provider_from_settings(settings)
    assert isinstance(built, AwsSecretProvider)
    return built


def _raw_client(settings: Settings) -> object:
    return boto3.client(
        "secretsmanager", region_name=REGION, endpoint_url=settings.aws_endpoint_url
    )


def test_round_trip(provider: AwsSecretProvider) -> None:
    assert provider.get("bot-token") is None
    provider.set("bot-token", "glpat-one")
    assert provider.get("bot-token") == "glpat-one"
    provider.set("bot-token", "glpat-two")  # put a new version over the existing secret
    assert provider.get("bot-token") == "glpat-two"
    provider.set("webhook.secret", "w")
    assert provider.list_names() == ["bot-token", "webhook.secret"]
    provider.delete("bot-token")
    assert provider.get("bot-token") is None
    assert provider.list_names() == ["webhook.secret"]
    with pytest.raises(SecretNotFound):
        provider.delete("bot-token")


def test_names_are_prefixed_in_aws(provider: AwsSecretProvider, settings: Settings) -> None:
    provider.set("bot-token", "glpat-one")
    client = _raw_client(settings)
    value = client.get_secret_value(SecretId="merge-assist/bot-token")  # type: ignore[attr-defined]
    assert value["SecretString"] == "glpat-one"


def test_set_after_delete_restores_the_secret(provider: AwsSecretProvider) -> None:
    provider.set("bot-token", "old")
    provider.delete("bot-token")
    provider.set("bot-token", "new")
    assert provider.get("bot-token") == "new"
    assert provider.list_names() == ["bot-token"]


def test_list_follows_pages_and_ignores_foreign_secrets(settings: Settings) -> None:
    client = _raw_client(settings)
    client.create_secret(Name="someone-else/token", SecretString="x")  # type: ignore[attr-defined]
    client.create_secret(Name="merge-assist-other", SecretString="x")  # type: ignore[attr-defined]
    provider = AwsSecretProvider(client, page_size=2)
    names = [f"secret-{index}" for index in range(7)]
    for name in names:
        provider.set(name, f"value of {name}")
    assert provider.list_names() == names


def test_invalid_name_never_reaches_aws(provider: AwsSecretProvider) -> None:
    with pytest.raises(InvalidSecretName):
        provider.set("../escape", "x")


def test_unreachable_endpoint_is_a_clear_error(settings: Settings) -> None:
    # A port that was just free and is closed now: the connection is refused at once.
    unreachable = settings.model_copy(update={"aws_endpoint_url": "http://127.0.0.1:9"})
    provider = AwsSecretProvider.from_settings(unreachable)
    with pytest.raises(SecretStoreError, match="could not be reached"):
        provider.get("bot-token")


def test_missing_region_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(SecretStoreError, match="MERGE_ASSIST_AWS_REGION"):
        AwsSecretProvider.from_settings(settings.model_copy(update={"aws_region": None}))
