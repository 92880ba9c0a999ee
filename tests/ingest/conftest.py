"""A small body limit, so the 413 test needs only a few kilobytes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from merge_assist.kit.settings import Environment, Settings

BODY_LIMIT = 4096


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=database_url,
        allowed_hosts="testserver",  # the Host of the ASGI test clients
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        webhook_max_body_bytes=BODY_LIMIT,
        _env_file=None,  # type: ignore[call-arg]
    )
