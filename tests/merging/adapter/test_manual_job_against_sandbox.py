"""A head pipeline waiting for a manual job, against the sandbox over HTTP.

GitLab holds a pipeline whose remaining job is a blocking manual one (``when: manual``,
``doc/ci/jobs/job_control.md``) in ``manual`` until someone plays it: the queue must not wait
for it silently. It says on the MR that someone must play the job, strikes nothing, lands the
other MRs, and lands this one once a person played the job and the pipeline passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.merging.adapter.gitlab_port import GitLabQueuePort
from merge_assist.merging.engine.actions import RecordHistory, Wait
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.decide import decide
from merge_assist.merging.engine.observations import ActionResult
from merge_assist.merging.engine.state import Phase, TargetQueueState
from tests.merging.adapter.driver import queue_scenario
from tests.merging.adapter.sandbox_queue import open_port

MANUAL_MARKER = "sandbox-ci: manual"
SINGLE = EngineConfig(strategy="single", max_rejections=1, poll_seconds=60)
API = "/projects/acme%2Fqueue"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """Two MRs; the first one's tree holds a blocking manual job."""
    scenario = queue_scenario(2, broken=frozenset(), conflicting=None)
    scenario["ci"]["manual_marker"] = MANUAL_MARKER
    first = scenario["projects"][0]["merge_requests"][0]
    first["files"]["deploy/approve.txt"] = f"{MANUAL_MARKER}\n"
    with run_sandbox(scenario) as running:
        yield running


def root_api(sandbox: RunningSandbox) -> httpx.Client:
    return httpx.Client(
        base_url=sandbox.api_url, headers={"PRIVATE-TOKEN": sandbox.token_for("root")}
    )


async def run_steps(
    port: GitLabQueuePort, sandbox: RunningSandbox, state: TargetQueueState, steps: int
) -> TargetQueueState:
    """``steps`` rounds of observe → decide → perform, simulated time passing in between."""
    results: tuple[ActionResult, ...] = ()
    for _ in range(steps):
        observed = (await port.observe(state)).model_copy(update={"results": results})
        decision = decide(state, observed, SINGLE, datetime.now(UTC))
        assert not [n for n in decision.notes if "internal error" in n], decision.notes
        state = TargetQueueState.from_json(decision.state.to_json())
        performed = [
            await port.perform(a)
            for a in decision.actions
            if not isinstance(a, Wait | RecordHistory)
        ]
        results = tuple(r for r in performed if r is not None)
        await asyncio.to_thread(sandbox.advance_clock, 30)
        await asyncio.sleep(0.05)
    return state


def play_the_manual_job(http: httpx.Client) -> bool:
    """What a person does in GitLab: play the manual job of MR 1's head pipeline."""
    head = http.get(f"{API}/merge_requests/1").json()["head_pipeline"]
    if head is None or head["status"] != "manual":
        return False
    (job,) = http.get(f"{API}/pipelines/{head['id']}/jobs").json()
    assert http.post(f"{API}/jobs/{job['id']}/play").status_code == 200
    return True


def notes_of(http: httpx.Client, iid: int) -> list[dict[str, Any]]:
    return list(http.get(f"{API}/merge_requests/{iid}/notes").json())


async def test_a_manual_job_holds_its_mr_with_a_reason_until_someone_plays_it(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with root_api(sandbox) as http:
        async with open_port(sandbox, tmp_path, SINGLE) as port:
            state = TargetQueueState.empty(port.project.id, "main")
            state = await run_steps(port, sandbox, state, 12)
            held = state.merge_request(1)
            assert held is not None
            assert (held.phase, held.strikes) == (Phase.NOT_READY, 0)
            assert any("waits for a manual job" in reason for reason in held.reasons)
            assert http.get(f"{API}/merge_requests/2").json()["state"] == "merged"
            assert http.get(f"{API}/merge_requests/1").json()["state"] == "opened"
            said = [n["body"] for n in notes_of(http, 1) if "manual job" in n["body"]]
            assert len(said) == 1
            assert "someone must play it in GitLab" in said[0]

            for _ in range(10):  # each new pipeline of the head (a rebase) waits for a person
                play_the_manual_job(http)
                state = await run_steps(port, sandbox, state, 4)
                if http.get(f"{API}/merge_requests/1").json()["state"] == "merged":
                    break
            assert http.get(f"{API}/merge_requests/1").json()["state"] == "merged"
            assert all("not ready" not in n["body"] for n in notes_of(http, 1))
