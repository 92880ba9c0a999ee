"""The local git backend on a real bare repository."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from pathlib import Path

import pytest

from merge_assist.vault.local_storage import LocalGitStorage
from merge_assist.vault.storage import (
    CommitAuthor,
    FileExists,
    StaleVersion,
    VaultStorage,
    VersionNotFound,
)

ALICE = CommitAuthor("Alice Archer", "alice@shop.example")


async def _git(storage: LocalGitStorage, *args: str) -> str:
    """Plain git on the storage's repository, to see what really landed."""
    result = await asyncio.to_thread(
        subprocess.run,
        ["git", "--git-dir", str(storage.repo_path), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.fixture
def storage(tmp_path: Path) -> LocalGitStorage:
    return LocalGitStorage(tmp_path / "vaults" / "default.git", folder="cnc")


async def test_is_a_vault_storage(storage: LocalGitStorage) -> None:
    assert isinstance(storage, VaultStorage)
    assert await storage.list_files() == []
    assert await storage.history("nothing.nc") == []


async def test_versions_are_commits_with_author_and_hash(
    storage: LocalGitStorage, tmp_path: Path
) -> None:
    v1 = await storage.write("a/b.nc", b"G0\n", message="Add", author=ALICE, base_version=None)
    v2 = await storage.write("a/b.nc", b"G1\n", message="Change", author=ALICE, base_version=v1.id)
    assert v2.content_sha256 == hashlib.sha256(b"G1\n").hexdigest()
    assert [v.id for v in await storage.history("a/b.nc")] == [v2.id, v1.id]
    assert await storage.read("a/b.nc", v1.id) == b"G0\n"
    assert await storage.read("a/b.nc") == b"G1\n"
    log = (await _git(storage, "log", "--format=%an <%ae>|%s", "main")).splitlines()
    assert log == [
        "Alice Archer <alice@shop.example>|Change",
        "Alice Archer <alice@shop.example>|Add",
    ]
    tree = (await _git(storage, "ls-tree", "-r", "--name-only", "main")).split()
    assert tree == ["cnc/a/b.nc"]


async def test_compare_and_swap(storage: LocalGitStorage) -> None:
    v1 = await storage.write("p.nc", b"1", message="m", author=ALICE, base_version=None)
    with pytest.raises(FileExists):
        await storage.write("p.nc", b"2", message="m", author=ALICE, base_version=None)
    await storage.write("p.nc", b"2", message="m", author=ALICE, base_version=v1.id)
    with pytest.raises(StaleVersion):
        await storage.write("p.nc", b"3", message="m", author=ALICE, base_version=v1.id)


async def test_concurrent_writes_from_one_base_have_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "shared.git"
    first = LocalGitStorage(path)
    v1 = await first.write("p.nc", b"base", message="m", author=ALICE, base_version=None)
    # Separate storage objects, as separate requests would have.
    writers = [LocalGitStorage(path) for _ in range(8)]
    results = await asyncio.gather(
        *(
            w.write("p.nc", f"v{i}".encode(), message=f"w{i}", author=ALICE, base_version=v1.id)
            for i, w in enumerate(writers)
        ),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    assert len(wins) == 1
    assert all(isinstance(r, StaleVersion) for r in results if isinstance(r, BaseException))
    assert len(await first.history("p.nc")) == 2


async def test_other_files_do_not_make_a_base_stale(storage: LocalGitStorage) -> None:
    a1 = await storage.write("a.nc", b"a", message="a", author=ALICE, base_version=None)
    await storage.write("b.nc", b"b", message="b", author=ALICE, base_version=None)
    a2 = await storage.write("a.nc", b"a2", message="a2", author=ALICE, base_version=a1.id)
    assert [f.path for f in await storage.list_files()] == ["a.nc", "b.nc"]
    assert {f.path: f.version for f in await storage.list_files()}["a.nc"] == a2.id


async def test_versions_must_be_shas_of_this_file(storage: LocalGitStorage) -> None:
    await storage.write("a.nc", b"a", message="a", author=ALICE, base_version=None)
    b1 = await storage.write("b.nc", b"b", message="b", author=ALICE, base_version=None)
    for bad in ("--output=/tmp/x", "main", "HEAD~1", "0" * 40):
        with pytest.raises(VersionNotFound):
            await storage.read("a.nc", bad)
    with pytest.raises(VersionNotFound):
        await storage.version("a.nc", b1.id)
