"""Pushes through the git CLI: MR updates, pipelines, CI verdicts, merged detection."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime

from gitlab_sandbox.testing import RunningSandbox
from tests.gitlab_sandbox.workflows.conftest import GitClone, api, workflow_scenario


def test_push_updates_mr_and_runs_a_pipeline(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    sandbox = make_sandbox(workflow_scenario())
    sandbox.wait_for_pipelines()
    work = clone(sandbox, "dev", "team/svc")
    work.git("checkout", "-q", "feature")
    head = work.commit_file("more.txt", "more\n", "More")
    work.git("push", "-q", "origin", "feature")
    project = api(sandbox, "dev").projects.get("team/svc")
    sandbox.catch_up()  # the MR follows the push a moment later (PostReceive)
    mr = project.mergerequests.get(1)
    assert mr.sha == head
    pipelines = sandbox.wait_for_pipelines()
    assert [p["status"] for p in pipelines if p["sha"] == head] == ["success"]
    assert project.mergerequests.get(1).head_pipeline["sha"] == head


def test_push_option_ci_skip_saves_a_skipped_pipeline(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    """``git push -o ci.skip``: GitLab saves the push pipeline as ``skipped``
    (``lib/gitlab/ci/pipeline/chain/skip.rb``, ``push_option_skips_ci?``)."""
    sandbox = make_sandbox(workflow_scenario())
    work = clone(sandbox, "dev", "team/svc")
    work.git("checkout", "-q", "feature")
    skipped = work.commit_file("quiet.txt", "q\n", "Quiet change")
    work.git("push", "-q", "-o", "ci.skip", "origin", "feature")
    tested = work.commit_file("loud.txt", "l\n", "Loud change")
    work.git("push", "-q", "origin", "feature")
    sandbox.catch_up()  # the push pipelines are created a moment after the pushes
    project = api(sandbox, "dev").projects.get("team/svc")
    assert [p.status for p in project.pipelines.list(sha=skipped)] == ["skipped"]
    assert [p.status for p in project.pipelines.list(sha=tested)] != ["skipped"]
    assert project.mergerequests.get(1).sha == tested


def test_fail_marker_fails_the_pipeline(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    sandbox = make_sandbox(workflow_scenario())
    work = clone(sandbox, "dev", "team/svc")
    work.git("checkout", "-q", "-b", "broken")
    head = work.commit_file("bad.py", "# sandbox-ci: fail\n", "Break CI")
    work.git("push", "-q", "origin", "broken")
    sandbox.catch_up()  # the push pipeline is created a moment after the push
    finished = {p["sha"]: p["status"] for p in sandbox.wait_for_pipelines()}
    assert finished[head] == "failed"
    project = api(sandbox, "dev").projects.get("team/svc")
    pipeline = project.pipelines.list(sha=head, get_all=True)[0]
    job = project.jobs.get(pipeline.jobs.list(get_all=True)[0].id)
    assert "sandbox-ci: fail" in job.trace().decode()


def test_runner_capacity_one_runs_pipelines_one_at_a_time(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    scenario = workflow_scenario()
    scenario["ci"]["runner_capacity"] = 1
    scenario["run_pipelines"] = False
    scenario["projects"][0]["merge_requests"] = []
    sandbox = make_sandbox(scenario)
    project = api(sandbox, "dev").projects.get("team/svc")
    for name in ("a", "b", "c"):
        project.branches.create({"branch": name, "ref": "main"})
    pipelines = sandbox.wait_for_pipelines()
    assert len(pipelines) == 3
    spans = []
    for summary in pipelines:
        full = project.pipelines.get(summary["id"])
        spans.append(
            (datetime.fromisoformat(full.started_at), datetime.fromisoformat(full.finished_at))
        )
    spans.sort()
    for (_, earlier_end), (later_start, _) in itertools.pairwise(spans):
        assert later_start >= earlier_end


def test_push_to_target_containing_the_head_marks_the_mr_merged(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    sandbox = make_sandbox(workflow_scenario())
    work = clone(sandbox, "lead", "team/svc")
    work.git("merge", "-q", "--ff-only", "origin/feature")
    work.git("push", "-q", "origin", "main")
    sandbox.catch_up()  # MergeRequests::RefreshService runs a moment after the push
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    # app/services/merge_requests/refresh_service.rb (post_merge_manually_merged): the pusher
    # merged it; after a fast-forward push the merge commit is the head itself.
    assert mr.state == "merged"
    assert mr.merge_commit_sha == work.rev("origin/feature")
    assert mr.merged_by["username"] == "lead"


def test_push_of_a_merge_commit_names_it_as_the_merge_commit(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    """Gitlab::BranchPushMergeCommitAnalyzer: a merge pushed by hand is the merge commit."""
    sandbox = make_sandbox(workflow_scenario())
    work = clone(sandbox, "lead", "team/svc")
    work.commit_file("main-only.txt", "m\n", "Main only")
    work.git("merge", "-q", "--no-ff", "-m", "Merge by hand", "origin/feature")
    work.git("push", "-q", "origin", "main")
    sandbox.catch_up()  # MergeRequests::RefreshService runs a moment after the push
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    assert mr.state == "merged"
    assert mr.merge_commit_sha == work.rev("HEAD")
    assert mr.merge_commit_sha != mr.sha
    assert mr.merged_by["username"] == "lead"


def test_protected_branch_refuses_developer_push(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    sandbox = make_sandbox(workflow_scenario())
    work = clone(sandbox, "dev", "team/svc")
    work.commit_file("x.txt", "x\n", "Direct to main")
    pushed = work.git("push", "origin", "main", check=False)
    assert pushed.returncode != 0
    assert "not allowed to push code to protected branches" in pushed.stderr


def test_mergeability_reads_checking_right_after_a_push(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    scenario = workflow_scenario()
    scenario["mergeability_check_seconds"] = 3600
    scenario["asynchronous"] = False  # the synchronous mode's re-check window
    sandbox = make_sandbox(scenario, clock_speed=1)
    sandbox.advance_clock(7200)
    project = api(sandbox, "dev").projects.get("team/svc")
    assert project.mergerequests.get(1).detailed_merge_status == "mergeable"
    work = clone(sandbox, "dev", "team/svc")
    work.git("checkout", "-q", "feature")
    work.commit_file("again.txt", "again\n", "Again")
    work.git("push", "-q", "origin", "feature")
    assert project.mergerequests.get(1).detailed_merge_status == "checking"
    sandbox.advance_clock(3601)
    assert project.mergerequests.get(1).detailed_merge_status == "mergeable"
