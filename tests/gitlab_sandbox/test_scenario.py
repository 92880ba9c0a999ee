"""Scenario files: loading, CI rules, users with tokens, projects, branches and MRs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gitlab_sandbox.scenario import ScenarioError, ci_rules, load_scenario
from gitlab_sandbox.testing import run_sandbox

YAML = """
seed: 7
ci:
  fail_marker: "BREAK-CI"
  duration_seconds: [1, 2]
  runner_capacity: 2
users:
  - username: ann
    admin: true
    tokens:
      - {name: fixed, value: glpat-fixed-value-000, scopes: [api]}
  - username: ben
projects:
  - path: grp/lib
    members: {ben: developer}
    labels: [bug, {name: ready, color: "#00ff00"}]
    settings: {merge_method: ff, approvals_before_merge: 1}
    files: {"lib.py": "x = 1\\n"}
    branches:
      topic: {files: {"topic.py": "t\\n"}, author: ben}
merge_requests:
  - project: grp/lib
    source_branch: topic
    title: Topic
    author: ben
    draft: true
    labels: [bug]
"""


def test_yaml_file_and_ci_rules(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(YAML)
    data = load_scenario(path)
    rules = ci_rules(data)
    assert (rules.fail_marker, rules.duration_seconds, rules.runner_capacity) == (
        "BREAK-CI",
        (1.0, 2.0),
        2,
    )


def test_bad_ci_section_is_explained() -> None:
    with pytest.raises(ScenarioError, match="runner_capacity"):
        ci_rules({"ci": {"runner_capacity": 0}})


def test_scenario_creates_everything() -> None:
    with run_sandbox(YAML) as sandbox:
        assert sandbox.token_for("ann") == "glpat-fixed-value-000"
        headers = {"PRIVATE-TOKEN": sandbox.token_for("ben")}
        project = httpx.get(f"{sandbox.api_url}/projects/grp%2Flib", headers=headers).json()
        assert project["merge_method"] == "ff"
        assert project["approvals_before_merge"] == 1
        mr = httpx.get(
            f"{sandbox.api_url}/projects/grp%2Flib/merge_requests/1", headers=headers
        ).json()
        assert mr["title"] == "Draft: Topic"
        assert mr["draft"] is True
        assert mr["author"]["username"] == "ben"
        labels = httpx.get(f"{sandbox.api_url}/projects/grp%2Flib/labels", headers=headers).json()
        assert [label["name"] for label in labels] == ["bug", "ready"]
        raw = httpx.get(
            f"{sandbox.api_url}/projects/grp%2Flib/repository/files/topic.py/raw",
            params={"ref": "topic"},
            headers=headers,
        )
        assert raw.text == "t\n"


def test_unknown_user_is_refused_with_a_reason() -> None:
    bad = {
        "users": [{"username": "a"}],
        "projects": [{"path": "g/p", "members": {"ghost": "developer"}}],
    }
    with pytest.raises(ScenarioError, match="unknown user 'ghost'"), run_sandbox(bad):
        pass
