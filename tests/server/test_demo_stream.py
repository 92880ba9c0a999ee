"""The demo's MR stream opens real MRs for the bot in the sandbox, over HTTP."""

from __future__ import annotations

import httpx

from gitlab_sandbox.testing import run_sandbox
from merge_assist.server.demo_stream import BREAK_EVERY, MergeRequestStream, stream_merge_request
from merge_assist.server.demo_world import BOT, BREAKS_CI, PROJECT, demo_scenario


def test_stream_numbers_give_distinct_branches_and_some_break_ci() -> None:
    mrs = [stream_merge_request(n) for n in range(11, 11 + 2 * BREAK_EVERY)]
    assert len({mr["source_branch"] for mr in mrs}) == len(mrs)
    breaking = [mr for mr in mrs if any(BREAKS_CI in c for c in mr["files"].values())]
    assert len(breaking) == 2
    assert all(mr["assignees"] == [BOT] for mr in mrs)


def test_stream_opens_merge_requests_assigned_to_the_bot() -> None:
    world = demo_scenario("bot-token-for-the-stream-test", {"alice": "glpat-alice-stream-test"})
    with run_sandbox(world) as sandbox:
        stream = MergeRequestStream(sandbox.url, sandbox.admin_token, interval=0.05, limit=3)
        stream.start()
        sandbox.wait_until(lambda: stream.opened == 3, timeout=30, what="three streamed MRs")
        stream.stop()
        answer = httpx.get(
            f"{sandbox.api_url}/projects/{PROJECT.replace('/', '%2F')}/merge_requests",
            params={"state": "opened", "per_page": 100},
            headers={"PRIVATE-TOKEN": "glpat-alice-stream-test"},
        )
    assert answer.status_code == 200
    streamed = [mr for mr in answer.json() if mr["source_branch"].startswith("stream/")]
    assert len(streamed) == 3
    assert all(BOT in [a["username"] for a in mr["assignees"]] for mr in streamed)
