from __future__ import annotations

import httpx
from fastapi import FastAPI

from merge_assist.kit.settings import Settings


async def test_config_without_gitlab(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/config")
    assert response.status_code == 200
    assert response.json() == {"gitlab_url": None, "version": "0.1.0"}


async def test_config_tells_the_gitlab_url_and_nothing_secret(
    app: FastAPI, settings: Settings, client: httpx.AsyncClient
) -> None:
    app.state.resources.settings = settings.model_copy(
        update={"gitlab_url": "https://gitlab.example.com/"}
    )
    body = (await client.get("/api/config")).json()
    assert body["gitlab_url"] == "https://gitlab.example.com"
    assert set(body) == {"gitlab_url", "version"}
    assert settings.resolved_secret_key() not in str(body)
