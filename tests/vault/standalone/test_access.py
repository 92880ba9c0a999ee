"""A standalone vault needs its GitLab project and the user's own GitLab token: clear 4xx."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from merge_assist.kit.settings import Settings
from tests.conftest import MakeAccount
from tests.vault.standalone.instances import FILES


async def _answer(
    settings: Settings, engine: AsyncEngine, headers: dict[str, str], **update: object
) -> httpx.Response:
    from merge_assist.server.app import create_app

    app = create_app(settings.model_copy(update={"standalone": True, **update}), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(FILES, headers=headers)


async def test_an_unbound_instance_says_what_to_set(
    settings: Settings, engine: AsyncEngine, make_account: MakeAccount
) -> None:
    headers = await make_account("alice", "member")
    answer = await _answer(settings, engine, headers, gitlab_url="http://127.0.0.1:9")
    assert answer.status_code == 409
    assert answer.json()["code"] == "standalone_not_bound"
    assert "set MERGE_ASSIST_STANDALONE_PROJECT" in answer.json()["detail"]


async def test_a_user_without_a_gitlab_token_is_told_to_sign_in_with_one(
    settings: Settings, engine: AsyncEngine, make_account: MakeAccount
) -> None:
    headers = await make_account("alice", "member")
    answer = await _answer(
        settings,
        engine,
        headers,
        gitlab_url="http://127.0.0.1:9",
        standalone_project="shop/parts",
    )
    assert answer.status_code == 403
    assert "sign in with your GitLab personal access token" in answer.json()["detail"]
