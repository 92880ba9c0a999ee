"""An unmodified third-party merge bot, marge-bot from PyPI, merges MRs on the sandbox.

marge-bot lives in its own virtual environment (``scripts/marge-venv``); it talks to the
sandbox over real HTTP with its own python-gitlab and clones, rebases and pushes with the git
CLI. Each run is ``marge --cli`` (one MR per run, then exit), repeated as a cron job would,
until no open MR is assigned to it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gitlab
import pytest
from gitlab.v4.objects import Project, ProjectMergeRequest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
MARGE_BOT_VERSION = "1.4.0"
PROJECT = "team/svc"
RUN_TIMEOUT = 60.0  # real seconds one `marge --cli` run may take
TEST_BUDGET = 80.0  # real seconds for all the runs of one test


@pytest.fixture(scope="module")
def marge_executable() -> Path:
    """marge-bot's ``marge`` command, installed by ``scripts/marge-venv`` when missing."""
    try:
        done = subprocess.run(
            [str(REPO_ROOT / "scripts" / "marge-venv")],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "MARGE_BOT_VERSION": MARGE_BOT_VERSION},
        )
    except subprocess.TimeoutExpired:
        done = None
    if done is None or done.returncode != 0:
        reason = "installing marge-bot from PyPI failed (is PyPI reachable?): " + (
            done.stderr.strip()[-500:] if done else "timed out"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return Path(done.stdout.strip().splitlines()[-1])


def marge_scenario(
    merge_requests: list[dict[str, Any]], *, marge_is_admin: bool, ci_seconds: list[float]
) -> dict[str, Any]:
    """A project whose MRs are assigned to the bot user ``marge``; one approval required,
    approvals reset on push, CI must pass, fast-forward merges."""
    marge_scopes = ["api", "sudo"] if marge_is_admin else ["api"]
    return {
        "ci": {"duration_seconds": ci_seconds, "runner_capacity": 4, "flake_rate": 0.0},
        "users": [
            {"username": "root", "admin": True},
            {
                "username": "marge",
                "name": "Marge Bot",
                "bot": True,
                "admin": marge_is_admin,
                "tokens": [{"name": "marge-bot", "scopes": marge_scopes}],
            },
            {"username": "dev", "name": "Dev Eloper"},
            {"username": "lead"},
        ],
        "projects": [
            {
                "path": PROJECT,
                "owner": "root",
                "members": {"marge": "maintainer", "dev": "developer", "lead": "maintainer"},
                "protected_branches": [
                    {
                        "name": "main",
                        "push_access_level": "maintainer",
                        "merge_access_level": "developer",
                    }
                ],
                "settings": {
                    "merge_method": "ff",
                    "only_allow_merge_if_pipeline_succeeds": True,
                    "approvals_before_merge": 1,
                    "reset_approvals_on_push": True,
                },
                "files": {"README.md": "# svc\n"},
                "merge_requests": [
                    {"author": "dev", "assignees": ["marge"], **mr} for mr in merge_requests
                ],
            }
        ],
    }


def good_mr(name: str) -> dict[str, Any]:
    return {"source_branch": name, "title": f"Add {name}", "files": {f"{name}.txt": f"{name}\n"}}


@dataclass
class Marge:
    """Runs the unmodified ``marge`` command against a sandbox, as the user ``marge``."""

    executable: Path
    sandbox: RunningSandbox
    home: Path
    options: list[str]
    logs: list[str] = field(default_factory=list)

    def run_once(self) -> None:
        token_file = self.home / "marge-token"
        token_file.write_text(self.sandbox.token_for("marge") + "\n")
        token_file.chmod(0o600)
        done = subprocess.run(
            [
                str(self.executable),
                "--gitlab-url", self.sandbox.url,
                "--auth-token-file", str(token_file),
                "--use-https",  # marge then puts the token in its clone URL: its choice
                "--cli",
                "--ci-timeout", "60s",
                "--git-timeout", "30s",
                *self.options,
            ],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            env=self._environment(),
        )  # fmt: skip
        self.logs.append(f"--- marge exited with {done.returncode}\n{done.stderr[-4000:]}")
        assert done.returncode == 0, self.log()

    def _environment(self) -> dict[str, str]:
        # No MARGE_* settings or git configuration from the machine running the tests.
        kept = {k: v for k, v in os.environ.items() if not k.startswith(("MARGE_", "GIT_"))}
        return {
            **kept,
            "HOME": str(self.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }

    def log(self) -> str:
        return "\n".join(self.logs)


def open_and_assigned_to_marge(project: Project) -> list[ProjectMergeRequest]:
    return [
        mr
        for mr in project.mergerequests.list(state="opened", get_all=True)
        if "marge" in [assignee["username"] for assignee in mr.assignees]
    ]


def run_until_done(
    marge: Marge,
    project: Project,
    *,
    after_run: Callable[[], None] = lambda: None,
) -> None:
    """``marge --cli`` again and again (one MR each time) until no open MR is assigned to it."""
    deadline = time.monotonic() + TEST_BUDGET
    while open_and_assigned_to_marge(project):
        assert time.monotonic() < deadline, f"marge did not finish in time\n{marge.log()}"
        marge.run_once()
        after_run()


def notes_by(mr: ProjectMergeRequest, username: str) -> list[str]:
    """What ``username`` wrote on the MR, oldest first."""
    notes = sorted(mr.notes.list(get_all=True), key=lambda note: note.id)
    return [note.body for note in notes if note.author["username"] == username]


def main_history(project: Project) -> list[str]:
    return [commit.id for commit in project.commits.list(ref_name="main", get_all=True)]


def test_marge_rebases_locally_merges_the_good_mrs_and_explains_the_broken_one(
    marge_executable: Path, tmp_path: Path
) -> None:
    """marge's default mode: it rebases in its own clone, force-pushes over HTTP, re-approves
    as the approvers (Sudo) after its push reset the approvals, waits for CI and merges."""
    scenario = marge_scenario(
        [
            good_mr("one"),
            {
                "source_branch": "broken",
                "title": "Break the build",
                "files": {"broken.txt": "sandbox-ci: fail\n"},
            },
            good_mr("two"),
        ],
        marge_is_admin=True,
        ci_seconds=[20, 40],
    )
    with run_sandbox(scenario, clock_speed=30) as sandbox:
        lead = gitlab.Gitlab(sandbox.url, private_token=sandbox.token_for("lead"))
        project = lead.projects.get(PROJECT)
        for iid in (1, 2, 3):
            project.mergerequests.get(iid).approve()
        marge = Marge(marge_executable, sandbox, tmp_path, ["--impersonate-approvers"])

        run_until_done(marge, project)

        one, broken, two = (project.mergerequests.get(iid) for iid in (1, 2, 3))
        assert (one.state, broken.state, two.state) == ("merged", "opened", "merged"), marge.log()
        history = main_history(project)
        assert history[0] == two.sha  # fast-forward: main is the rebased head of !3
        assert one.sha in history
        assert broken.sha not in history
        # marge handed the broken MR back to its author and said why.
        assert [assignee["username"] for assignee in broken.assignees] == ["dev"]
        reasons = notes_by(broken, "marge")
        assert len(reasons) == 1
        assert reasons[0].startswith("This branch couldn't be merged: CI failed!")
        # Its push reset the approvals of !3; it restored them as the approver through Sudo.
        assert [a["user"]["username"] for a in two.approvals.get().approved_by] == ["lead"]
        main = sandbox.green_main()["projects"][0]
        assert main["green"] is True
        assert [(tip["sha"], tip["how"], tip["ci"]) for tip in main["tips"]] == [
            (one.sha, "merge", "passed"),
            (two.sha, "merge", "passed"),
        ]


def test_marge_rebases_through_the_api_and_approvals_survive_gitlabs_rebase(
    marge_executable: Path, tmp_path: Path
) -> None:
    """``--rebase-remotely``: marge rebases in its clone only to learn the SHA, asks GitLab to
    rebase (``PUT .../rebase``), polls ``rebase_in_progress`` and merges that exact SHA. GitLab
    keeps approvals across its own rebase, so no impersonation is needed.

    marge expects GitLab's rebase to produce the very SHA of its local rebase, which happens
    only when both commits carry the same committer second: the clock runs at real speed, and
    when the second turns between the two marge says "Someone pushed to branch", as it would on
    GitLab; a person re-assigns it and the next run finds the branch already rebased."""
    scenario = marge_scenario(
        [good_mr("one"), good_mr("two")], marge_is_admin=False, ci_seconds=[1, 2]
    )
    with run_sandbox(scenario, clock_speed=1) as sandbox:
        lead = gitlab.Gitlab(sandbox.url, private_token=sandbox.token_for("lead"))
        project = lead.projects.get(PROJECT)
        for iid in (1, 2):
            project.mergerequests.get(iid).approve()
        marge = Marge(marge_executable, sandbox, tmp_path, ["--rebase-remotely"])
        marge_id = lead.users.list(username="marge")[0].id

        def reassign_after_the_second_turned() -> None:
            mr = project.mergerequests.get(2)
            said = notes_by(mr, "marge")
            if mr.state == "opened" and said and "Someone pushed to branch" in said[-1]:
                mr.assignee_ids = [marge_id]
                mr.save()

        run_until_done(marge, project, after_run=reassign_after_the_second_turned)

        one, two = (project.mergerequests.get(iid) for iid in (1, 2))
        assert (one.state, two.state) == ("merged", "merged"), marge.log()
        assert main_history(project)[:2] == [two.sha, one.sha]
        rebased = project.commits.get(two.sha)
        assert rebased.parent_ids == [one.sha]
        assert (rebased.author_name, rebased.committer_name) == ("Dev Eloper", "Marge Bot")
        assert [a["user"]["username"] for a in two.approvals.get().approved_by] == ["lead"]
        calls = sandbox.stats()["calls"]["by_token_endpoint"]["pat:2 marge-bot (marge)"]
        assert calls["PUT /api/v4/projects/{project_id}/merge_requests/{iid}/rebase"] >= 2
        assert "POST /{path}.git/git-receive-pack" not in calls  # marge never pushed
        assert sandbox.green_main()["green"] is True
