"""Merged results pipelines, for projects that enable them (off by default).

Sources: ``doc/ci/pipelines/merged_results_pipelines.md`` (the pipeline runs on the merge of
the source into the target, ``refs/merge-requests/:iid/merge``), ``app/models/merge_request.rb``
(``diff_head_pipeline``: the newest of ``all_pipelines.for_sha_or_source_sha(diff_head_sha)``,
so a pipeline whose ``sha`` is not the MR's can be its head pipeline).
"""

from __future__ import annotations

from collections.abc import Callable

from gitlab_sandbox.testing import RunningSandbox
from tests.gitlab_sandbox.workflows.conftest import GitClone, api, workflow_scenario


def test_a_push_to_the_mr_runs_a_merged_results_pipeline_that_becomes_its_head(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    sandbox = make_sandbox(workflow_scenario(merge_pipelines_enabled=True))
    project = api(sandbox, "dev").projects.get("team/svc")
    assert project.merge_pipelines_enabled is True
    api(sandbox, "lead").projects.get("team/svc").commits.create(
        {
            "branch": "main",
            "commit_message": "Main moves on",
            "actions": [{"action": "create", "file_path": "main.txt", "content": "m\n"}],
        }
    )
    work = clone(sandbox, "dev", "team/svc")
    work.git("checkout", "-q", "feature")
    head = work.commit_file("more.txt", "more\n", "More")
    work.git("push", "-q", "origin", "feature")
    sandbox.wait_idle()

    mr = project.mergerequests.get(1)
    assert mr.sha == head
    pipeline = mr.head_pipeline
    assert pipeline["ref"] == "refs/merge-requests/1/merge"
    assert pipeline["source"] == "merge_request_event"
    assert pipeline["sha"] != head  # the merge commit GitLab made and tested
    work.git("fetch", "-q", "origin", "refs/merge-requests/1/merge:merged-result")
    assert work.rev("merged-result") == pipeline["sha"]
    assert set(work.parents("merged-result")) == {work.rev("origin/main"), head}
    listed = [p.ref for p in mr.pipelines.list()]
    assert "refs/merge-requests/1/merge" in listed
    # Asked for through the API, an MR pipeline is a merged results one too.
    # (The merge commit is made again, at another time: another sha, the same merge.)
    again = mr.pipelines.create()
    assert again.ref == "refs/merge-requests/1/merge"
    work.git("fetch", "-q", "origin", "+refs/merge-requests/1/merge:merged-again")
    assert work.rev("merged-again") == again.sha
    assert set(work.parents("merged-again")) == {work.rev("origin/main"), head}
    sandbox.wait_for_pipelines()
    assert project.mergerequests.get(1).head_pipeline["id"] == again.id


def test_without_the_setting_mr_pipelines_run_on_the_head(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    sandbox = make_sandbox(workflow_scenario())
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    pipeline = mr.pipelines.create()
    assert (pipeline.ref, pipeline.sha) == ("refs/merge-requests/1/head", mr.sha)


def test_a_newer_branch_pipeline_does_not_displace_the_merge_request_pipeline_as_head(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    """``app/finders/ci/pipelines_for_merge_request_finder.rb`` (``sort``): an MR's pipelines
    are ordered ``merge_request_event`` first, then newest, and ``diff_head_pipeline`` takes
    the first of them that tests the head; ``GET .../merge_requests/:iid/pipelines`` lists
    them in that order (``lib/api/merge_requests.rb``, ``all_pipelines``)."""
    sandbox = make_sandbox(workflow_scenario(merge_pipelines_enabled=True))
    project = api(sandbox, "dev").projects.get("team/svc")
    mr = project.mergerequests.get(1)
    merged = mr.pipelines.create()
    assert merged.ref == "refs/merge-requests/1/merge"
    branch = project.pipelines.create({"ref": "feature"})  # newer, on the MR's head itself
    assert (branch.sha, branch.source) == (mr.sha, "api")
    assert branch.id > merged.id
    head = project.mergerequests.get(1).head_pipeline
    assert (head["id"], head["sha"]) == (merged.id, merged.sha)
    listed = [p.id for p in mr.pipelines.list()]
    assert listed.index(merged.id) < listed.index(branch.id)
    assert listed[0] == merged.id


def test_opening_an_mr_runs_its_merged_results_pipeline(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    """``app/services/merge_requests/after_create_service.rb`` (``prepare_for_mergeability``:
    ``create_pipeline_for(merge_request, current_user)``): a new MR gets its merge request
    pipeline, a merged results one on a project that enables them."""
    sandbox = make_sandbox(workflow_scenario(merge_pipelines_enabled=True))
    project = api(sandbox, "dev").projects.get("team/svc")
    seeded = project.mergerequests.get(1).head_pipeline
    assert seeded["ref"] == "refs/merge-requests/1/merge"  # the scenario's MR opened likewise
    project.branches.create({"branch": "second", "ref": "main"})
    project.commits.create(
        {
            "branch": "second",
            "commit_message": "Second",
            "actions": [{"action": "create", "file_path": "second.txt", "content": "2\n"}],
        }
    )
    mr = project.mergerequests.create(
        {"source_branch": "second", "target_branch": "main", "title": "Second"}
    )
    head = project.mergerequests.get(mr.iid).head_pipeline
    assert (head["ref"], head["source"]) == (
        f"refs/merge-requests/{mr.iid}/merge",
        "merge_request_event",
    )
    assert head["sha"] != mr.sha


def test_without_the_setting_opening_an_mr_runs_no_merge_request_pipeline(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    sandbox = make_sandbox(workflow_scenario())
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    assert [p.ref for p in mr.pipelines.list()] == ["feature"]  # the branch pipeline only
