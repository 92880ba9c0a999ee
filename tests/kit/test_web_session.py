"""The request's session commits before the response starts (``kit.web.Session``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from merge_assist.kit.db import create_sessionmaker
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources, Session


async def test_a_change_is_committed_before_the_answer_starts(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE web_session_probe (note VARCHAR(20))"))
    app = FastAPI()
    app.state.resources = AppResources(
        settings=settings, engine=engine, sessions=create_sessionmaker(engine)
    )

    @app.post("/notes")
    async def add_note(session: Session) -> dict[str, str]:
        await session.execute(text("INSERT INTO web_session_probe (note) VALUES ('kept')"))
        return {"status": "written"}

    seen_at_start: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            async with engine.connect() as conn:
                count = await conn.scalar(text("SELECT count(*) FROM web_session_probe"))
            seen_at_start.append(int(count or 0))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": "/notes",
        "raw_path": b"/notes",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "scheme": "http",
        "root_path": "",
    }
    await app(scope, receive, send)
    assert seen_at_start == [1]
