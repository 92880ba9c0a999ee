from __future__ import annotations

import pytest

from merge_assist.secrets.env_provider import EnvSecretProvider, variable_for
from merge_assist.secrets.errors import InvalidSecretName, ProviderReadOnly


def test_reads_prefixed_upper_cased_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", "glpat-abc")
    provider = EnvSecretProvider()
    assert variable_for("gitlab-bot.token") == "MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN"
    assert provider.get("gitlab-bot.token") == "glpat-abc"
    assert provider.get("gitlab_bot_token") == "glpat-abc"
    assert provider.get("missing") is None
    assert "gitlab_bot_token" in provider.list_names()


def test_lists_only_its_own_variables() -> None:
    provider = EnvSecretProvider(
        {
            "MERGE_ASSIST_SECRET_WEBHOOK": "w",
            "MERGE_ASSIST_SECRET_EMPTY": "",
            "MERGE_ASSIST_SECRET_KEY": "the signing key",
            "MERGE_ASSIST_SECRETS_PROVIDER": "env",
            "HOME": "/root",
        }
    )
    assert provider.list_names() == ["webhook"]
    assert provider.get("empty") is None


def test_signing_key_is_not_a_secret_name() -> None:
    provider = EnvSecretProvider({"MERGE_ASSIST_SECRET_KEY": "the signing key"})
    with pytest.raises(InvalidSecretName, match="reserved"):
        provider.get("key")


def test_is_read_only_and_says_what_to_do() -> None:
    provider = EnvSecretProvider({})
    assert provider.writable is False
    with pytest.raises(ProviderReadOnly, match="MERGE_ASSIST_SECRET_BOT_TOKEN"):
        provider.set("bot-token", "value")
    with pytest.raises(ProviderReadOnly, match="read-only"):
        provider.delete("bot-token")


def test_invalid_names_are_refused() -> None:
    with pytest.raises(InvalidSecretName):
        EnvSecretProvider({}).get("../x")
