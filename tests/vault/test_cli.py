"""``merge-assist vault create|list`` on a real database (and the GitLab sandbox)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.cli import app
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings, get_settings
from merge_assist.projects.models import Project
from tests.vault.test_gitlab_storage import PROJECT, SCENARIO


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(SCENARIO, seed=0) as running:
        yield running


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
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", sandbox.token_for("marge-bot"))
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def invoke(*args: str) -> Result:
    # In a thread: the command runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(CliRunner().invoke, app, ["vault", *args])


@pytest.mark.usefixtures("configured")
async def test_create_local_and_gitlab_vaults_then_list(
    sessions: async_sessionmaker[AsyncSession], sandbox: RunningSandbox
) -> None:
    empty = await invoke("list")
    assert empty.exit_code == 0, empty.output
    assert "No vaults yet" in empty.output

    local = await invoke("create", "shop", "--folder", "programs")
    assert local.exit_code == 0, local.output
    assert "Created vault 'shop'" in local.output
    assert "0 file(s) found" in local.output

    missing = await invoke("create", "cnc", "--project", PROJECT)
    assert missing.exit_code == 1
    assert "onboard it" in missing.output

    gitlab_project = sandbox.sandbox.store.project_by_ref(PROJECT)
    assert gitlab_project is not None
    async with unit_of_work(sessions) as session:
        session.add(
            Project(gitlab_project_id=gitlab_project.id, path_with_namespace=PROJECT, name="cnc")
        )
    bound = await invoke("create", "cnc", "--project", PROJECT, "--folder", "programs")
    assert bound.exit_code == 0, bound.output
    assert "1 file(s) found" in bound.output

    again = await invoke("create", "cnc")
    assert again.exit_code == 1
    assert "already a vault called 'cnc'" in again.output
    bad = await invoke("create", "Bad Name!")
    assert bad.exit_code == 1
    assert "lower-case" in bad.output

    listed = await invoke("list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert [line.split("\t")[1:3] for line in lines] == [["cnc", "gitlab"], ["shop", "local"]]
    assert lines[0].endswith("main\t/programs")


@pytest.mark.usefixtures("configured")
async def test_sync_records_the_files_of_the_folder(
    sessions: async_sessionmaker[AsyncSession], sandbox: RunningSandbox
) -> None:
    gitlab_project = sandbox.sandbox.store.project_by_ref(PROJECT)
    assert gitlab_project is not None
    async with unit_of_work(sessions) as session:
        session.add(
            Project(gitlab_project_id=gitlab_project.id, path_with_namespace=PROJECT, name="cnc")
        )
    created = await invoke(
        "create", "cnc", "--project", PROJECT, "--folder", "programs", "--no-sync"
    )
    assert created.exit_code == 0, created.output

    synced = await invoke("sync", "cnc")

    assert synced.exit_code == 0, synced.output
    # No terminal here: no progress bar, only the result.
    assert synced.output == (
        "Synced vault 'cnc': 1 file(s) found in the folder, 0 updated; 1 other file(s) left out.\n"
    )
    assert (await invoke("sync", "nope")).exit_code == 1
