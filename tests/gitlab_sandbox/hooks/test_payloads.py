"""Webhook payloads follow GitLab's documented JSON shapes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gitlab_sandbox.ci import PipelineRun, PipelineStatus
from gitlab_sandbox.ci.pipeline import CiJob
from gitlab_sandbox.hooks import (
    HookCommit,
    HookLabel,
    HookMergeRequest,
    HookNote,
    HookPipeline,
    HookProject,
    HookPush,
    HookUser,
    hook_builds,
    hook_pipeline,
    merge_request_event,
    note_event,
    pipeline_event,
    push_event,
)

WHEN = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
PROJECT = HookProject(
    id=3,
    name="Shop",
    path_with_namespace="acme/shop",
    web_url="http://gl.test/acme/shop",
    namespace="acme",
)
ALICE = HookUser(1, "Alice", "alice", "alice@example.com")
BOB = HookUser(2, "Bob", "bob")
COMMIT = HookCommit(
    id="a" * 40,
    message="Fix checkout\n\nDetails",
    timestamp=WHEN,
    url="http://gl.test/acme/shop/-/commit/" + "a" * 40,
    author_name="Alice",
    author_email="alice@example.com",
)
MR = HookMergeRequest(
    id=101,
    iid=4,
    title="Fix checkout",
    source_branch="fix",
    target_branch="main",
    source_project_id=3,
    target_project_id=3,
    author_id=1,
    url="http://gl.test/acme/shop/-/merge_requests/4",
    created_at=WHEN,
    updated_at=WHEN,
    assignees=(ALICE,),
    labels=("bug",),
    last_commit=COMMIT,
)


def test_merge_request_open_event_shape() -> None:
    payload = merge_request_event(PROJECT, ALICE, MR, "open")
    json.dumps(payload)  # serialisable as sent
    assert payload["object_kind"] == payload["event_type"] == "merge_request"
    attrs = payload["object_attributes"]
    assert attrs["action"] == "open"
    assert (attrs["iid"], attrs["state"], attrs["state_id"]) == (4, "opened", 1)
    assert attrs["assignee_ids"] == [1]
    assert attrs["assignee_id"] == 1
    assert attrs["created_at"] == "2026-03-01 12:30:05 UTC"
    assert attrs["last_commit"]["title"] == "Fix checkout"
    assert attrs["last_commit"]["timestamp"] == "2026-03-01T12:30:05+00:00"
    assert attrs["source"]["git_http_url"] == "http://gl.test/acme/shop.git"
    assert attrs["target"]["git_ssh_url"] == "git@gl.test:acme/shop.git"
    assert "oldrev" not in attrs
    assert payload["labels"][0]["title"] == "bug"
    assert payload["labels"][0]["id"] == HookLabel.named("bug", 3).id
    assert payload["changes"] == {}
    assert payload["user"]["username"] == "alice"
    assert payload["assignees"][0]["id"] == 1
    assert payload["reviewers"] == []
    assert payload["repository"]["homepage"] == PROJECT.web_url
    assert payload["project"]["path_with_namespace"] == "acme/shop"


def test_merge_request_update_reports_previous_and_current() -> None:
    later = WHEN + timedelta(minutes=5)
    updated = replace(
        MR,
        title="Draft: Fix checkout",
        draft=True,
        labels=("bug", "merge-queue"),
        assignees=(BOB,),
        reviewers=(ALICE,),
        updated_at=later,
    )
    payload = merge_request_event(PROJECT, BOB, updated, "update", previous=MR, oldrev="b" * 40)
    changes = payload["changes"]
    assert payload["object_attributes"]["oldrev"] == "b" * 40
    assert changes["title"] == {"previous": "Fix checkout", "current": "Draft: Fix checkout"}
    assert changes["draft"] == {"previous": False, "current": True}
    assert [x["title"] for x in changes["labels"]["current"]] == ["bug", "merge-queue"]
    assert [x["title"] for x in changes["labels"]["previous"]] == ["bug"]
    assert [u["username"] for u in changes["assignees"]["previous"]] == ["alice"]
    assert [u["username"] for u in changes["assignees"]["current"]] == ["bob"]
    assert changes["reviewers"]["previous"] == []
    assert changes["updated_at"]["current"] == "2026-03-01 12:35:05 UTC"
    assert "description" not in changes


def test_merge_and_close_change_the_state_id() -> None:
    merged = replace(MR, state="merged", merge_commit_sha="c" * 40)
    payload = merge_request_event(PROJECT, ALICE, merged, "merge", previous=MR)
    assert payload["object_attributes"]["state"] == "merged"
    assert payload["object_attributes"]["merge_commit_sha"] == "c" * 40
    assert payload["changes"]["state_id"] == {"previous": 1, "current": 3}
    for action in ("close", "reopen", "approved", "unapproved", "approval", "unapproval"):
        assert (
            merge_request_event(PROJECT, ALICE, MR, action)["object_attributes"]["action"] == action
        )
    with pytest.raises(ValueError, match="Unknown merge request action"):
        merge_request_event(PROJECT, ALICE, MR, "explode")


def test_pipeline_event_from_a_simulator_run() -> None:
    run = PipelineRun(
        9,
        "acme/shop",
        "a" * 40,
        "fix",
        status=PipelineStatus.failed,
        source="merge_request_event",
        created_at=WHEN,
        started_at=WHEN,
        finished_at=WHEN + timedelta(seconds=75.4),
        duration=75.4,
        queued_duration=0.0,
        jobs=[
            CiJob(1, 9, status=PipelineStatus.canceled, retried=True),
            CiJob(
                2, 9, status=PipelineStatus.failed, started_at=WHEN, failure_reason="script_failure"
            ),
        ],
    )
    pipeline = hook_pipeline(run, iid=2, url="http://gl.test/acme/shop/-/pipelines/9")
    payload = pipeline_event(
        PROJECT, ALICE, pipeline, commit=COMMIT, merge_request=MR, builds=hook_builds(run, ALICE)
    )
    json.dumps(payload)
    attrs = payload["object_attributes"]
    assert payload["object_kind"] == "pipeline"
    assert (attrs["id"], attrs["iid"], attrs["status"], attrs["detailed_status"]) == (
        9,
        2,
        "failed",
        "failed",
    )
    assert attrs["source"] == "merge_request_event"
    assert attrs["duration"] == 75
    assert attrs["stages"] == ["test"]
    assert attrs["finished_at"] == "2026-03-01 12:31:20 UTC"
    assert payload["merge_request"]["iid"] == 4
    assert payload["commit"]["id"] == "a" * 40
    assert [b["id"] for b in payload["builds"]] == [2]
    build = payload["builds"][0]
    assert (build["name"], build["stage"], build["failure_reason"]) == (
        "test",
        "test",
        "script_failure",
    )
    assert build["runner"]["description"] == "sandbox-runner"


def test_pipeline_event_without_merge_request() -> None:
    pipeline = HookPipeline(id=1, iid=1, ref="main", sha="d" * 40, status="running")
    payload = pipeline_event(PROJECT, ALICE, pipeline)
    assert payload["merge_request"] is None
    assert payload["builds"] == []
    assert payload["object_attributes"]["detailed_status"] == "running"


def test_note_event_on_a_merge_request() -> None:
    note = HookNote(
        id=55,
        note="LGTM",
        noteable_type="MergeRequest",
        author_id=2,
        project_id=3,
        noteable_id=101,
        created_at=WHEN,
        updated_at=WHEN,
        url="http://gl.test/acme/shop/-/merge_requests/4#note_55",
    )
    payload = note_event(PROJECT, BOB, note, merge_request=MR)
    json.dumps(payload)
    assert (payload["object_kind"], payload["event_type"], payload["project_id"]) == (
        "note",
        "note",
        3,
    )
    attrs = payload["object_attributes"]
    assert (attrs["note"], attrs["noteable_type"], attrs["action"]) == (
        "LGTM",
        "MergeRequest",
        "create",
    )
    assert payload["merge_request"]["iid"] == 4
    assert "action" not in payload["merge_request"]
    assert payload["user"]["email"] == "[REDACTED]"


def test_push_event_keeps_the_newest_twenty_commits() -> None:
    commits = tuple(
        replace(COMMIT, id=f"{n:040x}", added=("new.txt",), modified=("README.md",))
        for n in range(25)
    )
    push = HookPush(
        before="0" * 40,
        after=commits[-1].id,
        ref="refs/heads/main",
        ref_protected=True,
        commits=commits,
    )
    payload = push_event(PROJECT, ALICE, push)
    json.dumps(payload)
    assert (payload["object_kind"], payload["event_name"]) == ("push", "push")
    assert payload["total_commits_count"] == 25
    assert len(payload["commits"]) == 20
    assert payload["commits"][-1]["id"] == commits[-1].id
    assert payload["commits"][0]["id"] == commits[5].id
    assert payload["commits"][0]["added"] == ["new.txt"]
    assert payload["checkout_sha"] == commits[-1].id
    assert (payload["user_username"], payload["user_email"]) == ("alice", "alice@example.com")
    assert payload["ref_protected"] is True


def test_push_event_for_a_deleted_branch() -> None:
    push = HookPush(before="e" * 40, after="0" * 40, ref="refs/heads/fix")
    payload = push_event(PROJECT, ALICE, push)
    assert payload["checkout_sha"] is None
    assert payload["commits"] == []
    assert payload["total_commits_count"] == 0
