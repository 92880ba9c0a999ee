"""GitLab-token sign-in counts the attempt before GitLab is asked: parallel bad tokens from one
address get 429 beyond the limit, and a GitLab that cannot answer costs no attempt."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from merge_assist.kit.settings import Settings
from tests.auth.test_gitlab_login import ALICE, gitlab_sign_in, sandbox, settings

__all__ = ["sandbox", "settings"]  # the fixtures: the sandbox as GitLab


async def test_parallel_bad_tokens_from_one_address_get_429_beyond_the_limit(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    app.state.resources.settings = settings.model_copy(update={"login_max_failures_per_address": 3})
    answers = await asyncio.gather(
        *(gitlab_sign_in(client, f"sandboxpat-wrong-guess-{n:04d}") for n in range(12))
    )
    assert Counter(answer.status_code for answer in answers) == {401: 3, 429: 9}


async def test_a_gitlab_that_cannot_answer_costs_no_attempt(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    limited = settings.model_copy(update={"login_max_failures_per_address": 2})
    app.state.resources.settings = limited.model_copy(update={"gitlab_url": None})
    for _ in range(3):
        assert (await gitlab_sign_in(client, ALICE)).status_code == 503
    app.state.resources.settings = limited
    assert (await gitlab_sign_in(client, ALICE)).status_code == 200
