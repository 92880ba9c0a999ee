"""Git smart HTTP end to end with the real git client over real HTTP."""

from __future__ import annotations

import gzip
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from gitlab_sandbox.git import ZERO_SHA, BareRepo, FileAction
from gitlab_sandbox.git.smart_http import RefUpdate
from tests.gitlab_sandbox.git.conftest import ANN, TOKEN, FakeAccess

GitCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def seeded(repo: BareRepo) -> str:
    return repo.commit_files("main", [FileAction("create", "README.md", b"hi\n")], "init", ANN).id


def _url(base: str, token: str = TOKEN, user: str = "oauth2") -> str:
    host = base.removeprefix("http://")
    return f"http://{user}:{token}@{host}/group/project.git"


def _commit_file(git_cli: GitCli, clone: Path, name: str, text: str) -> str:
    (clone / name).write_text(text)
    git_cli("add", name, cwd=clone)
    git_cli("commit", "-q", "-m", f"add {name}", cwd=clone)
    return git_cli("rev-parse", "HEAD", cwd=clone).stdout.strip()


def test_clone_push_fetch_round_trip(
    repo: BareRepo, seeded: str, git_server: str, git_access: FakeAccess, git_cli: GitCli,
    tmp_path: Path,
) -> None:  # fmt: skip
    git_cli("clone", "-q", _url(git_server), "clone")
    clone = tmp_path / "clone"
    assert (clone / "README.md").read_text() == "hi\n"

    pushed = _commit_file(git_cli, clone, "a.txt", "a\n")
    git_cli("push", "-q", "origin", "main", cwd=clone)
    assert repo.branches()["main"] == pushed
    assert repo.read_file("main", "a.txt") == b"a\n"
    assert git_access.pushes == [[RefUpdate("refs/heads/main", seeded, pushed)]]

    git_cli("push", "-q", "origin", "main:feature", cwd=clone)
    git_cli("push", "-q", "origin", "--delete", "feature", cwd=clone)
    assert git_access.pushes[1:] == [
        [RefUpdate("refs/heads/feature", ZERO_SHA, pushed)],
        [RefUpdate("refs/heads/feature", pushed, ZERO_SHA)],
    ]

    server_side = repo.commit_files("main", [FileAction("create", "b.txt", b"b")], "b", ANN).id
    git_cli("fetch", "-q", "origin", cwd=clone)
    assert git_cli("rev-parse", "origin/main", cwd=clone).stdout.strip() == server_side


def test_push_into_an_empty_repository(
    repo: BareRepo, git_server: str, git_access: FakeAccess, git_cli: GitCli, tmp_path: Path
) -> None:
    result = git_cli("clone", _url(git_server), "empty")
    assert "empty repository" in result.stderr
    clone = tmp_path / "empty"
    git_cli("checkout", "-q", "-b", "main", cwd=clone)
    first = _commit_file(git_cli, clone, "first.txt", "1\n")
    git_cli("push", "-q", "origin", "main", cwd=clone)
    assert repo.branches() == {"main": first}
    assert git_access.pushes == [[RefUpdate("refs/heads/main", ZERO_SHA, first)]]


def test_protocol_v0_clone_works(
    repo: BareRepo, seeded: str, git_server: str, git_cli: GitCli, tmp_path: Path
) -> None:
    git_cli("-c", "protocol.version=0", "clone", "-q", _url(git_server), "v0")
    assert (tmp_path / "v0" / "README.md").exists()


def test_refused_push_shows_reason_and_fails(
    repo: BareRepo, seeded: str, git_server: str, git_access: FakeAccess, git_cli: GitCli,
    tmp_path: Path,
) -> None:  # fmt: skip
    reason = "You are not allowed to push code to protected branches on this project."
    git_access.refuse_refs["refs/heads/main"] = reason
    git_cli("clone", "-q", _url(git_server), "clone")
    clone = tmp_path / "clone"
    _commit_file(git_cli, clone, "x.txt", "x\n")

    result = git_cli("push", "origin", "main", cwd=clone, check=False)

    assert result.returncode != 0
    assert f"remote: GitLab: {reason}" in result.stderr
    assert "[remote rejected] main -> main (pre-receive hook declined)" in result.stderr
    assert repo.branches()["main"] == seeded
    assert git_access.pushes == []


def test_wrong_token_is_refused_with_401(
    repo: BareRepo, seeded: str, git_server: str, git_cli: GitCli
) -> None:
    result = git_cli("clone", "-q", _url(git_server, token="wrong"), "clone", check=False)
    assert result.returncode != 0
    assert "Authentication failed" in result.stderr or "401" in result.stderr
    response = httpx.get(f"{git_server}/group/project.git/info/refs?service=git-upload-pack")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="GitLab"'


def test_unknown_project_leaks_nothing_to_anonymous_and_404s_for_users(
    seeded: str, git_server: str
) -> None:
    path = "/other/project.git/info/refs?service=git-upload-pack"
    assert httpx.get(git_server + path).status_code == 401
    known = httpx.get(git_server + path, auth=("oauth2", TOKEN))
    assert known.status_code == 404


def test_anonymous_read_of_public_project_but_no_anonymous_push(
    seeded: str, git_server: str, git_access: FakeAccess
) -> None:
    git_access.public = True
    base = f"{git_server}/group/project.git/info/refs"
    response = httpx.get(base, params={"service": "git-upload-pack"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-git-upload-pack-advertisement"
    assert response.headers["cache-control"].startswith("no-cache")
    assert response.content.startswith(b"001e# service=git-upload-pack\n0000")
    assert seeded.encode() in response.content
    assert httpx.get(base, params={"service": "git-receive-pack"}).status_code == 401


def test_receive_pack_advertisement_for_users(seeded: str, git_server: str) -> None:
    response = httpx.get(
        f"{git_server}/group/project.git/info/refs",
        params={"service": "git-receive-pack"},
        auth=("ann", TOKEN),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-git-receive-pack-advertisement"
    assert response.content.startswith(b"001f# service=git-receive-pack\n0000")
    assert b"report-status" in response.content


def test_gzip_upload_pack_request(seeded: str, git_server: str) -> None:
    request = f"0032want {seeded}\n".encode() + b"00000009done\n"
    response = httpx.post(
        f"{git_server}/group/project.git/git-upload-pack",
        content=gzip.compress(request),
        headers={
            "Content-Type": "application/x-git-upload-pack-request",
            "Content-Encoding": "gzip",
        },
        auth=("oauth2", TOKEN),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-git-upload-pack-result"
    assert response.content.startswith(b"0008NAK\n")
    assert b"PACK" in response.content


def test_bad_gzip_and_bad_commands_are_400(seeded: str, git_server: str) -> None:
    auth = ("oauth2", TOKEN)
    url = f"{git_server}/group/project.git/git-receive-pack"
    bad_gzip = httpx.post(url, content=b"nope", headers={"Content-Encoding": "gzip"}, auth=auth)
    assert bad_gzip.status_code == 400
    bad_commands = httpx.post(url, content=b"0009hello0000", auth=auth)
    assert bad_commands.status_code == 400
    assert "Bad push request" in bad_commands.text
