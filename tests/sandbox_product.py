"""The product's settings when its GitLab is a running sandbox and its bot is marge-bot."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.kit.settings import Environment, Settings

BOT_TOKEN_VARIABLE = "MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN"


def sandbox_settings(
    database_url: str,
    tmp_path: Path,
    sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
    *,
    public_url: str,
) -> Settings:
    """Test settings whose GitLab is ``sandbox`` (no retries) and whose bot token is
    marge-bot's, read from the environment as in production."""
    monkeypatch.setenv(BOT_TOKEN_VARIABLE, sandbox.token_for("marge-bot"))
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=database_url,
        allowed_hosts="testserver",  # the Host of the ASGI test clients
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        gitlab_url=sandbox.url,
        gitlab_max_retries=0,
        public_url=public_url,
        _env_file=None,  # type: ignore[call-arg]
    )
