"""Pipeline statuses, skipped pipelines, filters and status codes as GitLab 17/18 has them.

Sources: ``Ci::HasStatus::AVAILABLE_STATUSES`` (``app/models/concerns/ci/has_status.rb``),
``lib/gitlab/ci/pipeline/chain/skip.rb`` (``[ci skip]``, ``ci.skip``), ``lib/api/ci/pipelines.rb``
(``values`` validation, ``POST .../pipeline`` 201, cancel) and ``lib/api/merge_requests.rb``
(``POST .../merge_requests/:iid/pipelines`` answers ``status :ok``).
"""

from __future__ import annotations

from collections.abc import Callable

import gitlab
import httpx

from gitlab_sandbox.ci.pipeline import PipelineStatus
from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from tests.gitlab_sandbox.api.conftest import scenario


def _http(sandbox: RunningSandbox, username: str) -> httpx.Client:
    return httpx.Client(
        base_url=sandbox.api_url, headers={"PRIVATE-TOKEN": sandbox.token_for(username)}
    )


def test_the_statuses_are_gitlabs() -> None:
    assert {status.value for status in PipelineStatus} == {
        "created",
        "waiting_for_resource",
        "preparing",
        "pending",
        "running",
        "success",
        "failed",
        "canceling",
        "canceled",
        "skipped",
        "manual",
        "scheduled",
    }


def test_a_status_or_scope_that_is_not_one_is_a_400(sandbox: RunningSandbox) -> None:
    with _http(sandbox, "alice") as http:
        for name in ("status", "scope"):
            refused = http.get("/projects/acme%2Fapp/pipelines", params={name: "green"})
            assert refused.status_code == 400
            assert refused.json() == {"error": f"{name} does not have a valid value"}
        for status in ("skipped", "manual", "canceling", "waiting_for_resource"):
            listed = http.get("/projects/acme%2Fapp/pipelines", params={"status": status})
            assert listed.status_code == 200
            assert listed.json() == []


def test_creating_pipelines_answers_201_for_a_project_200_for_an_mr(
    sandbox: RunningSandbox,
) -> None:
    with _http(sandbox, "alice") as http:
        project = http.post("/projects/acme%2Fapp/pipeline", json={"ref": "feature-a"})
        assert project.status_code == 201
        mr = http.post("/projects/acme%2Fapp/merge_requests/1/pipelines")
        assert mr.status_code == 200
        assert mr.json()["source"] == "merge_request_event"


def test_ci_skip_in_the_message_saves_a_skipped_pipeline(
    sandbox: RunningSandbox, client: Callable[[str], gitlab.Gitlab]
) -> None:
    project = client("alice").projects.get("acme/app")
    for message in ("Docs only [ci skip]", "Tidy [SKIP-CI]", "Real change"):
        commit = project.commits.create(
            {
                "branch": "feature-a",
                "commit_message": message,
                "actions": [
                    {"action": "create", "file_path": f"{len(message)}.txt", "content": "x"}
                ],
            }
        )
        [pipeline] = project.pipelines.list(sha=commit.id)
        assert (pipeline.status == "skipped") == ("Real" not in message), message
    skipped = project.pipelines.list(status="skipped")
    assert len(skipped) == 2
    assert all(p.ref == "feature-a" for p in skipped)


def test_cancel_of_a_running_pipeline_goes_through_canceling(
    sandbox: RunningSandbox, client: Callable[[str], gitlab.Gitlab]
) -> None:
    sandbox.set_clock_speed(0)
    project = client("alice").projects.get("acme/app")
    pipeline = project.pipelines.create({"ref": "feature-a"})
    sandbox.wait_until(lambda: project.pipelines.get(pipeline.id).status == "running")
    answer = project.pipelines.get(pipeline.id).cancel()
    assert answer["status"] == "canceling"
    assert project.pipelines.get(pipeline.id).status == "canceling"
    sandbox.advance_clock(3)
    sandbox.wait_until(lambda: project.pipelines.get(pipeline.id).status == "canceled")


def test_a_manual_job_waits_until_it_is_played_over_the_jobs_api() -> None:
    """A blocking manual job makes the pipeline ``manual`` (``doc/ci/jobs/job_control.md``,
    ``lib/gitlab/ci/status/composite.rb``); ``POST /projects/:id/jobs/:job_id/play``
    (``lib/api/ci/jobs.rb``) answers 200 with the job and runs it; a job that is not
    playable is ``400 Unplayable Job``."""
    ci = {"duration_seconds": [5, 10], "manual_marker": "sandbox-ci: manual"}
    with run_sandbox(scenario(ci=ci), clock_speed=0) as sandbox:
        project = gitlab.Gitlab(sandbox.url, private_token=sandbox.token_for("alice")).projects.get(
            "acme/app"
        )
        commit = project.commits.create(
            {
                "branch": "feature-a",
                "commit_message": "Deploy by hand",
                "actions": [
                    {
                        "action": "create",
                        "file_path": "deploy.sh",
                        "content": "# sandbox-ci: manual\n",
                    }
                ],
            }
        )
        [pipeline] = project.pipelines.list(sha=commit.id)
        sandbox.wait_until(lambda: project.pipelines.get(pipeline.id).status == "manual")
        [job] = project.pipelines.get(pipeline.id).jobs.list()
        assert job.status == "manual"
        assert [p.id for p in project.pipelines.list(status="manual")] == [pipeline.id]
        with _http(sandbox, "alice") as http:
            played = http.post(f"/projects/acme%2Fapp/jobs/{job.id}/play")
            assert played.status_code == 200
            assert played.json()["id"] == job.id
            again = http.post(f"/projects/acme%2Fapp/jobs/{job.id}/play")
            assert again.status_code == 400
            assert again.json() == {"message": "400 Unplayable Job"}
        sandbox.wait_until(lambda: project.pipelines.get(pipeline.id).status == "running")
        sandbox.advance_clock(10)
        sandbox.wait_until(lambda: project.pipelines.get(pipeline.id).status == "success")
