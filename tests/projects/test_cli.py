"""``merge-assist projects add|list`` against the GitLab sandbox and a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.cli import app
from merge_assist.kit.settings import Settings, get_settings
from merge_assist.projects import service
from tests.projects.conftest import PUBLIC_URL, sandbox_hooks


@pytest.fixture
def configured(
    settings: Settings,
    sandbox: RunningSandbox,
    sessions: async_sessionmaker[AsyncSession],  # the schema exists
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[None]:
    assert settings.database_url is not None
    monkeypatch.setenv("MERGE_ASSIST_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MERGE_ASSIST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MERGE_ASSIST_SECRET_KEY", settings.resolved_secret_key())
    monkeypatch.setenv("MERGE_ASSIST_GITLAB_URL", sandbox.url)
    monkeypatch.setenv("MERGE_ASSIST_GITLAB_MAX_RETRIES", "0")
    monkeypatch.setenv("MERGE_ASSIST_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def invoke(*args: str) -> Result:
    # In a thread: the command runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(CliRunner().invoke, app, ["projects", *args])


@pytest.mark.usefixtures("configured")
async def test_add_then_list(
    sandbox: RunningSandbox, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    empty = await invoke("list")
    assert empty.exit_code == 0, empty.output
    assert "No projects are onboarded yet." in empty.output

    added = await invoke(
        "add",
        "acme/webapp",
        "-b",
        "main",
        "-b",
        "release/1.0",
        "--strategy",
        "batch",
        "--parallel-tests",
        "2",
        "--set",
        "batch_size=7",
        "--set",
        "polling_interval_seconds=30",
    )
    assert added.exit_code == 0, added.output
    assert "Onboarded acme/webapp as project" in added.output
    hooks = sandbox_hooks(sandbox, "acme/webapp")
    assert len(hooks) == 1
    assert hooks[0].url == f"{PUBLIC_URL}/webhook/gitlab"

    listed = await invoke("list")
    assert listed.exit_code == 0
    assert "acme/webapp\tactive" in listed.output

    async with sessions() as session:
        (project,) = await service.all_projects(session, include_inactive=True)
        config = await service.get_config(session, project.id)
        assert await service.webhook_secret(session, settings, project.id) == hooks[0].token
    assert config.target_branches == ("main", "release/1.0")
    assert (config.strategy, config.parallel_tests) == ("batch", 2)
    assert (config.batch_size, config.polling_interval_seconds) == (7, 30)

    again = await invoke("add", "acme/webapp")
    assert again.exit_code == 1
    assert "onboarded already" in again.output


@pytest.mark.usefixtures("configured")
async def test_add_refusals(sandbox: RunningSandbox) -> None:
    unknown = await invoke("add", "nobody/nothing")
    assert unknown.exit_code == 1
    assert "bot user cannot see it" in unknown.output

    bad = await invoke("add", "not-a-path")
    assert bad.exit_code == 2
    assert "neither a project id nor a path" in bad.output

    too_many = await invoke("add", "acme/tools", "--parallel-tests", "21")
    assert too_many.exit_code == 1
    assert "Invalid configuration: parallel_tests:" in too_many.output

    not_a_pair = await invoke("add", "acme/tools", "--set", "batch_size")
    assert not_a_pair.exit_code == 2
    assert "is not KEY=VALUE" in not_a_pair.output

    unknown_key = await invoke("add", "acme/tools", "--set", "colour=blue")
    assert unknown_key.exit_code == 1
    assert "colour" in unknown_key.output

    no_hook = await invoke("add", "acme/tools", "--no-webhook")
    assert no_hook.exit_code == 0, no_hook.output
    assert "no webhook" in no_hook.output
    assert sandbox_hooks(sandbox, "acme/tools") == []


async def test_a_database_without_schema_is_explained(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MERGE_ASSIST_DATABASE_URL", database_url)
    monkeypatch.setenv("MERGE_ASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        result = await invoke("list")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "merge-assist db upgrade" in result.output


@pytest.mark.usefixtures("configured")
async def test_check_prints_each_line_and_exits_1_when_gitlab_cannot_reach_us(
    sandbox: RunningSandbox,
) -> None:
    project = sandbox.sandbox.store.project_by_ref("acme/webapp")
    assert project is not None
    project.settings.only_allow_merge_if_pipeline_succeeds = True
    added = await invoke("add", "acme/webapp")
    assert added.exit_code == 0, added.output

    checked = await invoke("check", "acme/webapp")

    assert checked.exit_code == 1, checked.output
    lines = checked.output.splitlines()
    assert lines[0] == "Checking acme/webapp as marge-bot:"
    assert any(line.split()[:3] == ["ok", "bot", "membership"] for line in lines)
    assert any(line.split()[:2] == ["ok", "webhook"] for line in lines)
    delivery = next(line for line in lines if "test delivery" in line)
    assert delivery.split()[0] == "failing"
    assert f"GitLab could not reach {PUBLIC_URL}/webhook/gitlab" in delivery
    assert any("fix: Make this server reachable from GitLab" in line for line in lines)
    assert lines[-1] == "1 failing (1 failing, 0 warnings)"


@pytest.mark.usefixtures("configured")
async def test_check_of_a_project_not_onboarded_says_what_to_do() -> None:
    checked = await invoke("check", "acme/tools")
    assert checked.exit_code == 0, checked.output  # nothing failing, one warning
    assert "warning  onboarded" in checked.output
    assert "merge-assist projects add PROJECT" in checked.output


@pytest.mark.usefixtures("configured")
async def test_add_several_goes_on_after_a_refusal_and_names_it() -> None:
    added = await invoke("add", "acme/webapp", "hidden/secret-project", "acme/tools")

    assert added.exit_code == 1, added.output
    assert "Onboarded acme/webapp as project" in added.output
    assert "Onboarded acme/tools as project" in added.output
    assert "Error: hidden/secret-project: GitLab does not know" in added.output
    assert "Onboarded 2 of 3 projects. Refused: hidden/secret-project." in added.output
    listed = await invoke("list")
    assert sorted(line.split("\t")[2] for line in listed.output.splitlines()) == [
        "acme/tools",
        "acme/webapp",
    ]
