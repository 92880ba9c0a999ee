"""GitLab's asynchrony, the sandbox's default (option ``asynchronous``; issue 14, item 2).

Sources: ``app/services/merge_requests/mergeability/detailed_merge_status_service.rb``
(``preparing``, ``checking``, ``unchecked`` first), ``app/models/merge_request.rb``
(``check_mergeability(async: true)`` on a single GET; lists do not recheck,
``doc/api/merge_requests.md`` "Merge status"), ``app/workers/post_receive.rb`` and
``app/services/merge_requests/refresh_service.rb`` (the MR follows a push asynchronously).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from gitlab_sandbox.testing import RunningSandbox
from tests.gitlab_sandbox.workflows.conftest import GitClone, api, workflow_scenario


def _listed_status(sandbox: RunningSandbox, project_id: int) -> str:
    answer = httpx.get(
        f"{sandbox.api_url}/projects/{project_id}/merge_requests",
        headers={"PRIVATE-TOKEN": sandbox.token_for("dev")},
    )
    return str(answer.json()[0]["detailed_merge_status"])


def test_transient_statuses_lists_and_a_push_that_lands_a_moment_later(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    scenario = workflow_scenario(approvals_before_merge=1)
    sandbox = make_sandbox(scenario, clock_speed=0)
    project = api(sandbox, "dev").projects.get("team/svc")
    # The seeded MR: prepared a moment after its creation; then nobody asked for a check yet,
    # so lists say "unchecked" and the first GET asks for one.
    assert _listed_status(sandbox, project.id) == "preparing"
    sandbox.advance_clock(1.5)
    assert _listed_status(sandbox, project.id) == "unchecked"
    assert project.mergerequests.get(1).detailed_merge_status == "checking"  # the GET asked
    assert _listed_status(sandbox, project.id) == "checking"
    sandbox.advance_clock(3)
    assert project.mergerequests.get(1).detailed_merge_status == "not_approved"
    old_sha = project.mergerequests.get(1).sha

    work = clone(sandbox, "dev", "team/svc")
    work.git("checkout", "-q", "feature")
    new_sha = work.commit_file("later.txt", "l\n", "Later")
    work.git("push", "-q", "origin", "feature")
    assert project.mergerequests.get(1).sha == old_sha  # PostReceive has not run yet
    sandbox.advance_clock(1.5)
    sandbox.wait_until(lambda: _listed_status(sandbox, project.id) != "not_approved")
    # The refresh ran: the MR is unchecked again (and its approvals are being synced).
    assert _listed_status(sandbox, project.id) == "unchecked"
    assert project.mergerequests.get(1).sha == new_sha
    assert project.mergerequests.get(1).detailed_merge_status == "checking"
    sandbox.advance_clock(3)
    assert project.mergerequests.get(1).detailed_merge_status == "not_approved"
    assert project.mergerequests.get(1).head_pipeline["sha"] == new_sha


def test_a_new_mr_is_preparing_first(make_sandbox: Callable[..., RunningSandbox]) -> None:
    scenario = workflow_scenario()
    sandbox = make_sandbox(scenario, clock_speed=0)
    project = api(sandbox, "lead").projects.get("team/svc")
    project.branches.create({"branch": "other", "ref": "feature"})
    sandbox.advance_clock(1.5)  # the new branch's post-receive reactions run
    sandbox.wait_idle()
    created = project.mergerequests.create(
        {"source_branch": "other", "target_branch": "main", "title": "Other"}
    )
    assert created.detailed_merge_status == "preparing"
    sandbox.advance_clock(1.5)
    assert project.mergerequests.get(created.iid).detailed_merge_status == "checking"
    sandbox.advance_clock(3)
    assert project.mergerequests.get(created.iid).detailed_merge_status == "mergeable"


def test_the_option_is_on_by_default_and_can_be_turned_off(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    """On by default, as GitLab behaves; off (scenario ``asynchronous: false`` or ``PUT
    /-/sandbox/faults``) every GET recomputes and no MR stays in a transient status."""
    sandbox = make_sandbox(workflow_scenario(), clock_speed=0)
    assert sandbox.faults()["asynchronous"] is True
    assert _listed_status(sandbox, 1) == "preparing"
    assert sandbox.faults(asynchronous=False)["asynchronous"] is False
    assert _listed_status(sandbox, 1) == "mergeable"
    scenario = workflow_scenario()
    scenario["asynchronous"] = False
    synchronous = make_sandbox(scenario, clock_speed=0)
    assert _listed_status(synchronous, 1) == "mergeable"


def test_a_list_with_merge_status_recheck_asks_for_the_check(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    """``with_merge_status_recheck=true`` (``doc/api/merge_requests.md``): the listed MRs are
    checked asynchronously, for callers with at least the Developer role."""
    scenario = workflow_scenario()
    sandbox = make_sandbox(scenario, clock_speed=0)
    sandbox.advance_clock(1.5)  # past "preparing"
    listed = httpx.get(
        f"{sandbox.api_url}/projects/1/merge_requests",
        params={"with_merge_status_recheck": "true"},
        headers={"PRIVATE-TOKEN": sandbox.token_for("dev")},
    )
    assert listed.json()[0]["detailed_merge_status"] == "checking"
    sandbox.advance_clock(3)
    assert _listed_status(sandbox, 1) == "mergeable"
